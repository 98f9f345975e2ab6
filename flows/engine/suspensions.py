"""Suspensions: answering a token, its deadline, Sleep and retry wake-ups, lost steps.

Every writer here locks the execution row first, then moves the token with one
conditional UPDATE on state WAITING (plus the deadline's side), so exactly one of
an answer, a deadline and a cancel ever wins, and none of them deadlocks another.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet

from flows import screens, secrets
from flows.engine.endings import end_early
from flows.engine.errors import (
    AlreadyConsumed,
    Expired,
    NotFound,
    Reassigned,
    SeveralWaiting,
)
from flows.engine.transitions import (
    SYSTEM_ACTOR,
    E,
    S,
    T,
    actor_name,
    atomic,
    audit,
    enqueue,
    hold_row,
    lease,
    lock_execution,
    move,
    move_execution,
    now,
    wake_later,
)
from flows.models import Execution, SuspensionToken, TaskRun
from flows.tasks import approval

REJECTED = screens.DECISIONS[1]


def token_for(identifier, tokens=None) -> SuspensionToken:
    """The token with this id, else the one waiting token of this execution.

    With several waiting (Parallel, ForEach) it raises SeveralWaiting listing them;
    with none it returns the execution's latest token (so a late answer gets its
    409 or 410), and raises NotFound when there is no token at all.
    """
    tokens = SuspensionToken.objects if tokens is None else tokens
    # The usual cases in one lookup: a token id, or an execution's one waiting.
    this_one = Q(pk=identifier) | Q(execution_id=identifier, state=S.WAITING)
    found = list(tokens.filter(this_one).order_by()[:2])
    for token in found:
        if str(token.pk) == str(identifier):
            return token
    if len(found) == 1:
        return found[0]
    if found:  # several wait: name them all, oldest first
        waiting = (
            tokens.filter(execution_id=identifier, state=S.WAITING)
            .select_related("task_run")
            .order_by("created_at")
        )
        raise SeveralWaiting(identifier, list(waiting))
    latest = tokens.filter(execution_id=identifier).order_by("-created_at").first()
    if latest is None:
        raise NotFound(f"no suspension for {identifier}")
    return latest


def check_open(token: SuspensionToken, moment: datetime | None = None) -> None:
    """Raise AlreadyConsumed or Expired unless the token can still be answered."""
    moment = moment or now()
    if token.state not in (S.WAITING, S.EXPIRED):
        raise AlreadyConsumed(token)
    if token.state == S.EXPIRED or (token.expires_at and token.expires_at <= moment):
        raise Expired(token)


def resume(
    token: SuspensionToken, data: dict | None, *, actor=None, channel: str = "api"
) -> SuspensionToken:
    """Validate the answer, consume the token (one conditional UPDATE), continue.

    Raises AlreadyConsumed (409), Expired (410) or inputs.InputValidationError (400).
    """
    check_open(token)
    values = screens.validate_response(
        token.screen, token.schema, data, options=token.options
    )
    return consume(token, values, actor=actor, channel=channel)


def consume(
    token: SuspensionToken,
    values: dict,
    *,
    actor=None,
    channel: str = "api",
    extra_outputs: dict | None = None,
    answer: dict | None = None,
    where: Q | None = None,
    locked: bool = False,
) -> SuspensionToken:
    """Consume a waiting token with already validated values and act on the answer.

    `where` is a further condition on the token row, checked in the same UPDATE
    (the answerer still assigned: a delegation that took the lock first wins, and
    the answer is refused with Reassigned instead of landing on a changed token).
    `locked`: the caller's transaction already holds the execution row's lock,
    taken when it fetched `token.execution` (see locking()), so it is not taken
    again; the token's own state is still decided by the conditional UPDATE.

    Values from screens.validate_response come sealed; plain SECRET ones are sealed
    here, so no caller stores one in clear. `answer` (who decided what, having
    been shown what) goes into the RESUMED event: the answer that settles a token
    is that event, not a second one.
    """
    values = screens.seal_response(token.screen, token.schema, values)
    moment = now()
    answered = {
        "resolved_at": moment,
        "resolved_by": actor,
        "resolved_by_name": actor_name(actor),
        "response": values,
    }
    with atomic():
        # Its move, lease and chain head go in as one UPDATE (hold_row).
        if locked:
            execution = token.execution
            hold_row(execution)
        else:
            execution = lock_execution(token.execution_id, full=False, hold=True)
        claimed = execution is not None and move(
            SuspensionToken,
            token.pk,
            token.execution_id,
            S.WAITING,
            S.RESUMED,
            where=(Q(expires_at__isnull=True) | Q(expires_at__gt=moment))
            & (where or Q()),
            actor=actor,
            channel=channel,
            data={"response": values, **({"answer": answer} if answer else {})},
            **answered,
        )
        if claimed:
            by = actor_name(actor)
            outputs = {
                **answer_outputs(token, values, by, moment),
                **(extra_outputs or {}),
            }
            outcome = _answer_outcome(token, values, by)
            _act_on(execution, token, outputs, outcome, actor=actor, channel=channel)
    if not claimed:
        # Raised after the block, so a caller's own transaction stays usable.
        fresh = SuspensionToken.objects.get(pk=token.pk)
        check_open(fresh, moment)
        if where is not None:
            raise Reassigned(fresh)
        raise AlreadyConsumed(token)  # unreachable unless the row changed twice
    token.state, token.channel = S.RESUMED, channel
    for field, value in answered.items():
        setattr(token, field, value)
    return token


def locking(tokens: QuerySet) -> QuerySet:
    """Tokens fetched with their execution, whose row they lock: the engine's
    first lock, taken by the lookup of a caller that answers one in the same
    transaction (consume(locked=True)) instead of by a query of its own."""
    return tokens.select_related("execution").select_for_update(of=("execution",))


def note_waiting(
    token: SuspensionToken, *, actor=None, channel: str = "", data: dict
) -> None:
    """An event on the trail of a token that stays waiting: an answer towards its
    quorum, a reminder sent. Locks the execution row (a no-op for a caller that
    already holds it), so the event links on where the chain really ends."""
    with atomic():
        if lock_execution(token.execution_id, full=False) is None:
            raise NotFound(f"no execution {token.execution_id}")
        audit(
            token.execution_id,
            SuspensionToken,
            token.pk,
            S.WAITING,
            S.WAITING,
            actor=actor,
            channel=channel,
            data=data,
        )


def answer_outputs(token, values: dict, by: str, moment: datetime) -> dict:
    """`outputs.<task>` once answered: a Pause's, or an Approval's decision."""
    if token.options.get("kind") == "approval":
        decision = values.get("decision")
        return _approval_outputs(
            token,
            approval.DENIED if decision == REJECTED else approval.APPROVED,
            by,
            moment,
            values,
        )
    return pause_outputs(values, by, moment)


def pause_outputs(values: dict, by: str, moment: datetime) -> dict:
    """`outputs.<pause>`: onResume values, who resumed it and when."""
    outputs = {
        "onResume": values,
        "resumed": {"by": by, "on": moment.isoformat(), "to": E.RUNNING},
    }
    for key in ("decision", "comment"):
        if key in values:
            outputs[key] = values[key]
    return outputs


def _approval_outputs(token, decision, by, moment, values) -> dict:
    fields = {k: v for k, v in values.items() if k not in ("decision", "comment")}
    return {
        "decision": decision,
        "auto": False,
        "by": by,
        "on": moment.isoformat(),
        "comment": values.get("comment"),
        "inputs": fields,
        "due": token.expires_at.isoformat() if token.expires_at else None,
        "url": (token.task_run.outputs or {}).get("url") if token.task_run_id else None,
    }


def _answer_outcome(token, values: dict, by: str):
    """How the paused task ends: a Pause's Reject follows its rejectBehavior."""
    if token.options.get("kind") == "approval":
        return None  # the Approval run goes on to its branch and settles later
    if token.screen == SuspensionToken.Screen.APPROVAL and (
        values.get("decision") == REJECTED
    ):
        comment = (
            f": {secrets.mask(values['comment'])}" if values.get("comment") else ""
        )
        behavior = token.options.get("rejectBehavior", "CANCEL")
        return approval.settlement(behavior, T.SUCCESS, f"rejected by {by}{comment}")
    return approval.settlement("CONTINUE", T.SUCCESS, "")


def _act_on(
    execution, token, outputs: dict, outcome, *, actor=None, channel=""
) -> None:
    """End (or, for an Approval, resume) the paused task run; wake the execution."""
    if outcome is None:
        target, error, ending = T.RUNNING, "", ""
    else:
        target, error, ending = outcome.state, outcome.error, outcome.ending
    moved = move(
        TaskRun,
        token.task_run_id,
        execution.pk,
        T.PAUSED,
        target,
        outputs=outputs,
        error=error,
        ended_at=None if target == T.RUNNING else now(),
        data={"error": error} if error else None,
    )
    if not moved:
        return
    if ending:
        end_early(execution, ending, actor=actor, channel=channel, reason=error)
        return
    if execution.state == E.PAUSED:
        move_execution(execution, E.RUNNING, actor=actor, channel=channel)
    wake_later(execution.pk)


def expire(token_id, moment: datetime | None = None) -> bool:
    """Apply a due deadline's behavior; False if the token was answered first."""
    moment = moment or now()
    with atomic():
        token = (
            SuspensionToken.objects.select_related("task_run")
            .filter(pk=token_id)
            .first()
        )
        if token is None:
            return False
        execution = lock_execution(token.execution_id, full=False)
        if execution is None or not move(
            SuspensionToken,
            token.pk,
            token.execution_id,
            S.WAITING,
            S.EXPIRED,
            where={"expires_at__lte": moment},
            channel="timeout",
            data={"behavior": token.behavior},
            resolved_at=moment,
            resolved_by_name=SYSTEM_ACTOR,
        ):
            return False
        token.state, token.channel = S.EXPIRED, "timeout"
        if token.options.get("kind") == "approval":
            outputs = _approval_outputs(
                token, approval.EXPIRED, SYSTEM_ACTOR, moment, {}
            )
            _act_on(execution, token, outputs, None, channel="timeout")
            return True
        values = screens.timeout_response(token.screen, token.schema)
        outputs = pause_outputs(values, SYSTEM_ACTOR, moment)
        outcome = approval.settlement(token.behavior, T.SUCCESS, "pause expired")
        _act_on(execution, token, outputs, outcome, channel="timeout")
    return True


def expire_due(moment: datetime | None = None, limit: int = 500) -> int:
    """Expire every waiting token whose deadline has passed; returns how many."""
    moment = moment or now()
    due = SuspensionToken.objects.filter(state=S.WAITING, expires_at__lte=moment)
    # Earliest first, in the order of the waiting-deadline index: a backlog is
    # read `limit` rows at a time, never sorted whole.
    due = due.order_by("expires_at").values_list("pk", flat=True)[:limit]
    return sum(expire(pk, moment) for pk in due)


def wake(task_run_id, moment: datetime | None = None) -> bool:
    """End a due Sleep, or release a due retry, and wake its execution."""
    moment = moment or now()
    with atomic():
        run = TaskRun.objects.filter(pk=task_run_id, wake_at__lte=moment).first()
        if run is None:
            return False
        execution = lock_execution(run.execution_id, full=False)
        if execution is None:
            return False
        if run.state == T.RETRYING:
            woken = TaskRun.objects.filter(
                pk=run.pk, state=T.RETRYING, attempt=run.attempt, wake_at__lte=moment
            ).update(wake_at=None)
        else:
            woken = move(
                TaskRun,
                run.pk,
                run.execution_id,
                T.RUNNING,
                T.SUCCESS,
                where={"wake_at__lte": moment},
                wake_at=None,
                ended_at=moment,
            )
        if not woken:
            return False
        Execution.objects.filter(pk=run.execution_id, state=E.RUNNING).update(
            lease_until=moment + lease()
        )
        enqueue(run.execution_id)
    return True


def wake_due(moment: datetime | None = None, limit: int = 500) -> int:
    """Wake every Sleep and retry that is due; returns how many."""
    moment = moment or now()
    due = TaskRun.objects.filter(state__in=(T.RUNNING, T.RETRYING), wake_at__lte=moment)
    due = due.order_by("wake_at").values_list("pk", flat=True)[:limit]
    return sum(wake(pk, moment) for pk in due)


def recover_lost(moment: datetime | None = None, limit: int = 500) -> int:
    """Re-enqueue executions whose worker or wake-up message was lost (lease passed)."""
    moment = moment or now()
    lost = Execution.objects.filter(
        state__in=(E.CREATED, E.RUNNING), lease_until__lt=moment
    )
    recovered = 0
    lost = lost.order_by("lease_until").values_list("pk", "lease_until")[:limit]
    for pk, lease_until in lost:
        with transaction.atomic():
            # Only one sweeper re-enqueues a given lapse: the lease is the condition.
            if Execution.objects.filter(pk=pk, lease_until=lease_until).update(
                lease_until=moment + lease()
            ):
                enqueue(pk)
                recovered += 1
    return recovered


def next_due() -> datetime | None:
    """The earliest pending deadline or wake-up, so the sweeper can sleep until then."""
    token = (
        SuspensionToken.objects.filter(state=S.WAITING, expires_at__isnull=False)
        .order_by("expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )
    wake_at = (
        TaskRun.objects.filter(state__in=(T.RUNNING, T.RETRYING), wake_at__isnull=False)
        .order_by("wake_at")
        .values_list("wake_at", flat=True)
        .first()
    )
    return min((d for d in (token, wake_at) if d), default=None)
