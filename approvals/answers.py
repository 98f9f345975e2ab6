"""Answering a suspension: one person's answer, quorum, and the resume it triggers.

Both the screens and the API call `answer()`; it returns once the answer is stored
and, when it completes the quorum (or rejects), the token is consumed through
flows.engine. A single-approver token is decided by the engine's conditional UPDATE
alone; a quorum locks the execution, then the token (the engine's lock order), so
concurrent approvers are counted one at a time and the execution resumes once.

Every answer is an event of the audit trail: the one that settles the token is
the token's RESUMED event (engine.consume), an answer that leaves it waiting (a
partial quorum) is a WAITING -> WAITING event (engine.note_waiting).
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from approvals import access, context
from approvals.models import Answer
from flows import engine, screens
from flows.models import Execution, SuspensionToken

APPROVING = (Answer.Decision.APPROVED, Answer.Decision.SUBMITTED)


class AlreadyAnswered(engine.EngineError):
    """This person already answered this suspension (409)."""


@dataclass
class Outcome:
    answer: Answer
    resumed: bool
    approvals: int
    required: int


def check_can_answer(user, token: SuspensionToken) -> None:
    """Every refusal in the order the API reports them: 403 tenant, 404 not one the
    user may see, 409, 410, 403 not theirs to answer."""
    access.check_tenant(user, token)
    access.check_visible(user, token)
    engine.check_open(token)
    access.check_may_answer(user, token)


def validate(token: SuspensionToken, data) -> dict:
    """Typed answer values or inputs.InputValidationError naming each bad field."""
    return screens.validate_response(
        token.screen, token.schema, data, options=token.options
    )


def answer(
    user,
    token: SuspensionToken,
    values: dict,
    *,
    channel: str,
    shown: dict | None = None,
    locked: bool = False,
) -> Outcome:
    """Store a validated answer; resume the execution if it settles the pause.

    `shown`: the context the answerer was shown (context.approval_context when
    not given). `locked`: the caller's transaction fetched `token.execution`
    with its row lock (engine.locking), so the engine need not lock it again.
    """
    # Validated values come sealed; sealing again keeps them so, and seals plain ones.
    values = screens.seal_response(token.screen, token.schema, values)
    decision = _decision(token, values)
    if shown is None:
        shown = context.approval_context(token)
    if token.approvals_required <= 1:
        return _settle_at_once(user, token, values, decision, channel, shown, locked)
    # A quorum token may already hold this person's answer: even a rejection goes
    # through the locked path, where a second answer is refused with 409.
    return _count_towards_quorum(user, token, values, decision, channel, shown)


def _decision(token, values) -> str:
    if token.screen == SuspensionToken.Screen.APPROVAL:
        return values.get("decision") or Answer.Decision.APPROVED
    return Answer.Decision.SUBMITTED


def _settle_at_once(user, token, values, decision, channel, shown, locked) -> Outcome:
    # The engine's conditional UPDATE picks the winner; only the winner's answer
    # is then saved, so no lock is needed on this path. A caller that holds the
    # lock has its own transaction, which a refusal rolls back whole: no
    # savepoint for it; anyone else's stays usable after a refusal.
    answer = _new_answer(user, token, values, decision, channel, shown)
    with transaction.atomic(savepoint=not locked):
        engine.consume(
            token,
            values,
            actor=user,
            channel=channel,
            extra_outputs=_summary([answer]),
            answer=_event_data(answer, int(decision in APPROVING), 1),
            # Still assigned, in the same UPDATE: a delegation that locked the
            # execution first leaves the answer refused, not landed on a
            # changed token.
            where=access.entitled(user),
            locked=locked,
        )
        answer.save(force_insert=True)
    return Outcome(answer, resumed=True, approvals=1, required=token.approvals_required)


@transaction.atomic
def _count_towards_quorum(user, token, values, decision, channel, shown) -> Outcome:
    Execution.objects.select_for_update().filter(pk=token.execution_id).first()
    token = SuspensionToken.objects.select_for_update().get(pk=token.pk)
    engine.check_open(token)
    if not SuspensionToken.objects.filter(access.entitled(user), pk=token.pk).exists():
        raise engine.Reassigned(token)  # handed on while this answer waited
    answer = _record(user, token, values, decision, channel, shown)
    given = list(token.answers.select_related("user"))
    approvals = sum(a.decision in APPROVING for a in given)
    rejected = decision == Answer.Decision.REJECTED
    resumed = rejected or approvals >= token.approvals_required
    event = _event_data(answer, approvals, token.approvals_required)
    if resumed:
        extra = _summary(given)
        engine.consume(
            token,
            values,
            actor=user,
            channel=channel,
            extra_outputs=extra,
            answer=event,
        )
    else:
        engine.note_waiting(token, actor=user, channel=channel, data={"answer": event})
    return Outcome(answer, resumed, approvals, token.approvals_required)


def _new_answer(user, token, values, decision, channel, shown) -> Answer:
    return Answer(
        token=token,
        user=user,
        decision=decision,
        values=values,
        channel=channel,
        answered_at=timezone.now(),
        shown_message=token.message,
        shown_context=shown,
        shown_hash=context.fingerprint(shown),
    )


def _record(user, token, values, decision, channel, shown) -> Answer:
    answer = _new_answer(user, token, values, decision, channel, shown)
    try:
        with transaction.atomic():
            answer.save(force_insert=True)
    except IntegrityError as exc:
        raise AlreadyAnswered(f"{user.get_username()} already answered this") from exc
    return answer


def _event_data(answer: Answer, approvals: int, required: int) -> dict:
    """The answer as the audit trail keeps it: who, what, how, and what they saw."""
    return {
        "by": answer.user.get_username(),
        "decision": answer.decision,
        "channel": answer.channel,
        "shown_hash": answer.shown_hash,
        "approvals": approvals,
        "required": required,
    }


def _summary(answers: list[Answer]) -> dict:
    return {
        "answers": [
            {
                "by": a.user.get_username(),
                "on": a.answered_at.isoformat(),
                "decision": a.decision,
                "comment": a.values.get("comment"),
            }
            for a in answers
        ]
    }
