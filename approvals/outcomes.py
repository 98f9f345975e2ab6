"""Outcomes in words: what became of a suspension, and of an execution.

One presenter for every page and the API: "Approved by manager: enjoy",
"Rejected by manager: not this week", "Expired", "Auto-approved", "Cancelled by
admin", "Answered by manager", "Approved by ann, bob" (a quorum), "Withdrawn by
employee: no longer needed"; and the trail's hand-overs, "Delegated by ann to bob:
on leave". The selectors fetch what the sentences need for a whole page of rows
in a fixed number of queries, whatever the number of rows.
"""

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import (
    Case,
    IntegerField,
    JSONField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from approvals.answers import APPROVING
from approvals.models import Answer
from flows import screens, secrets
from flows.models import Execution, ExecutionEvent, SuspensionToken, TaskRun
from flows.tasks.approval import APPROVED, Approval

S = SuspensionToken.State
APPROVAL_TYPES = (Approval.name, *Approval.aliases)
# Words by kind: the sentence's first word, and the clause the banner uses.
WORDS = {
    "approved": "Approved",
    "rejected": "Rejected",
    "denied": "Denied",
    "expired": "Expired",
    "auto": "Auto-approved",
    "cancelled": "Cancelled",
    "answered": "Answered",
    "reviewed": "Reviewed",
    "resumed": "Resumed",
    "withdrawn": "Withdrawn",
}
STOPPING = {"rejected", "denied", "expired", "withdrawn"}
# An execution that ended in one of these states because a decision stopped it.
ENDINGS = {
    Execution.State.CANCELLED: "Cancelled",
    Execution.State.FAILED: "Failed",
    Execution.State.KILLED: "Killed",
    Execution.State.WARNING: "Warning",
}
STOPPED_RUNS = {
    TaskRun.State.CANCELLED,
    TaskRun.State.FAILED,
    TaskRun.State.KILLED,
    TaskRun.State.WARNING,
}
SCREEN_KINDS = {
    SuspensionToken.Screen.FORM: "answered",
    SuspensionToken.Screen.REVIEW: "reviewed",
    SuspensionToken.Screen.RESUME: "resumed",
}


@dataclass(frozen=True)
class Verdict:
    """One decision: its kind, who made it, their comment, and where it was made."""

    kind: str
    by: tuple[str, ...] = ()
    comment: str = ""
    task_run_id: object = None
    at: object = field(default=None, compare=False)

    def __str__(self) -> str:
        return self.sentence

    @property
    def sentence(self) -> str:
        """ "Rejected by manager: not this week"."""
        return WORDS[self.kind] + self._rest()

    @property
    def clause(self) -> str:
        """The sentence inside another: "rejected by manager: not this week"."""
        if self.kind == "expired":
            return "expired without an answer"
        return WORDS[self.kind].lower() + self._rest()

    @property
    def stops(self) -> bool:
        """A rejection, denial or expiry: the kind of decision that can end a flow."""
        return self.kind in STOPPING

    def _rest(self) -> str:
        by = f" by {', '.join(self.by)}" if self.by else ""
        comment = f": {self.comment}" if self.comment else ""
        return by + comment


def of_token(
    token: SuspensionToken,
    answers: Iterable[Answer] = (),
    withdrawal: Verdict | None = None,
) -> Verdict | None:
    """What became of a token (None while it waits); `answers` name a quorum,
    `withdrawal` is its execution's (withdrawals()): what cancelled it."""
    where = {"task_run_id": token.task_run_id, "at": token.resolved_at}
    if token.state == S.EXPIRED:
        return Verdict("expired", **where)
    by = (token.resolved_by_name,) if token.resolved_by_name else ()
    if token.state == S.CANCELLED and withdrawal is not None:
        return Verdict("withdrawn", withdrawal.by, withdrawal.comment, **where)
    if token.state == S.CANCELLED:
        return Verdict("cancelled", by, **where)
    if token.state != S.RESUMED:
        return None
    response = token.response if isinstance(token.response, dict) else {}
    comment = str(secrets.mask(response.get("comment")) or "").strip()
    kind = SCREEN_KINDS.get(token.screen, "approved")
    if kind == "approved" and response.get("decision") == screens.DECISIONS[1]:
        denied = token.options.get("kind") == "approval"
        return Verdict("denied" if denied else "rejected", by, comment, **where)
    if token.approvals_required > 1:
        names = [a.user.get_username() for a in answers if a.decision in APPROVING]
        if len(names) > 1:  # several people: their comments are in the answers
            by, comment = tuple(names), ""
    return Verdict(kind, by, comment, **where)


def of_run(run: TaskRun) -> Verdict | None:
    """An Approval run that `autoApprove` decided without a pause: "Auto-approved"."""
    outputs = run.outputs if isinstance(run.outputs, dict) else {}
    if (
        run.task_type in APPROVAL_TYPES
        and outputs.get("auto") is True
        and outputs.get("decision") == APPROVED
    ):
        return Verdict("auto", task_run_id=run.pk, at=run.started_at)
    return None


def latest(verdicts: Iterable[Verdict | None]) -> Verdict | None:
    """The most recent decision among these; a cancel only when nothing else.

    A reject that ends the execution cancels its other waits a moment later:
    the reject, not those cancels, is what became of the execution.
    """
    made = [v for v in verdicts if v is not None and v.at is not None]
    return max(made, key=lambda v: (v.kind != "cancelled", v.at), default=None)


def ending(execution: Execution, verdict: Verdict | None, runs) -> str:
    """ "Cancelled — rejected by manager: …" when that decision ended the execution.

    `runs` maps task run ids to their state: the decision's own run must have
    stopped (cancelled, failed, killed, warned), not gone on to something else.
    """
    state_word = ENDINGS.get(execution.state)
    if verdict is None or not verdict.stops or state_word is None:
        return ""
    if runs.get(verdict.task_run_id) not in STOPPED_RUNS:
        return ""
    return f"{state_word} — {verdict.clause}"


# -- selectors: the rows a page of outcomes needs, in a fixed number of queries --

CANCELS_LAST = Case(
    When(state=S.CANCELLED, then=Value(1)),
    default=Value(0),
    output_field=IntegerField(),
).asc()


def of_tokens(tokens: Iterable[SuspensionToken]) -> list[tuple]:
    """(token, verdict) for each token; one more query when a quorum approved, and
    one when a token was cancelled (by a withdrawal?)."""
    tokens = list(tokens)
    cancelled = {t.execution_id for t in tokens if t.state == S.CANCELLED}
    withdrawn = withdrawals(cancelled) if cancelled else {}
    quorum = [t.pk for t in tokens if t.approvals_required > 1 and t.state == S.RESUMED]
    answers: dict = {}
    if quorum:
        approving = Answer.objects.filter(token_id__in=quorum, decision__in=APPROVING)
        for answer in approving.select_related("user").order_by("answered_at", "pk"):
            answers.setdefault(answer.token_id, []).append(answer)
    return [
        (t, of_token(t, answers.get(t.pk, ()), withdrawn.get(t.execution_id)))
        for t in tokens
    ]


def withdrawals(execution_ids: Iterable) -> dict:
    """{execution id: Verdict("withdrawn", by, reason)} for those withdrawn: their
    ending event says so (approvals.withdrawal)."""
    events = ExecutionEvent.objects.filter(
        execution_id__in=list(execution_ids),
        subject=ExecutionEvent.Subject.EXECUTION,
        data__has_key="withdrawn",
    ).only("execution_id", "actor_name", "at", "data")
    return {event.execution_id: _withdrawn(event) for event in events}


def _withdrawn(event: ExecutionEvent) -> Verdict:
    reason = str((event.data or {}).get("reason") or "").strip()
    return Verdict("withdrawn", (event.actor_name,), reason, at=event.at)


def of_event(event: ExecutionEvent) -> str:
    """A trail event in words when it is a hand-over or a withdrawal, else ""."""
    data = event.data if isinstance(event.data, dict) else {}
    if data.get("event") == "delegated":
        note = str(data.get("note") or "").strip()
        said = f": {note}" if note else ""
        return f"Delegated by {data.get('from')} to {data.get('to')}{said}"
    if data.get("withdrawn"):
        return _withdrawn(event).sentence
    return ""


def with_latest(executions: QuerySet[Execution]) -> QuerySet[Execution]:
    """Executions with what their latest decision needs, in the same query.

    `decided` is the latest resolved token (a cancel only when nothing else was
    resolved) as a small JSON object; `auto_at` the latest auto-approval.
    """
    newest = (
        SuspensionToken.objects.filter(execution=OuterRef("pk"))
        .exclude(state=S.WAITING)
        .order_by(CANCELS_LAST, "-resolved_at", "-pk")
        .values(
            decided=JSONObject(
                id="id",
                execution_id="execution_id",
                task_run_id="task_run_id",
                state="state",
                screen="screen",
                approvals_required="approvals_required",
                resolved_at="resolved_at",
                resolved_by_name="resolved_by_name",
                options="options",
                response="response",
            )
        )[:1]
    )
    autos = (
        TaskRun.objects.filter(
            execution=OuterRef("pk"), task_type__in=APPROVAL_TYPES, outputs__auto=True
        )
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    return executions.annotate(
        decided=Subquery(newest, output_field=JSONField()), auto_at=Subquery(autos)
    )


def attach_latest(executions: Iterable[Execution]) -> list[Execution]:
    """Give each execution of `with_latest` its `outcome` (a Verdict or None).

    No query beyond the rows' own, but one when a quorum approved one of them.
    """
    executions = list(executions)
    tokens = [_token(e.decided) for e in executions if e.decided]
    verdicts = {token.execution_id: v for token, v in of_tokens(tokens)}
    for execution in executions:
        auto = Verdict("auto", at=execution.auto_at) if execution.auto_at else None
        execution.outcome = latest([verdicts.get(execution.pk), auto])
    return executions


def _token(decided: dict) -> SuspensionToken:
    """An unsaved token holding the fields `of_token` reads, from `decided`."""
    return SuspensionToken(
        id=uuid.UUID(str(decided["id"])),
        execution_id=uuid.UUID(str(decided["execution_id"])),
        task_run_id=uuid.UUID(str(decided["task_run_id"])),
        state=decided["state"],
        screen=decided["screen"],
        approvals_required=decided["approvals_required"],
        resolved_at=_moment(decided["resolved_at"]),
        resolved_by_name=decided["resolved_by_name"] or "",
        options=_json(decided["options"]) or {},
        response=_json(decided["response"]),
    )


def _json(value):
    """A JSON column inside the JSON object: nested on PostgreSQL, text on SQLite."""
    return json.loads(value) if isinstance(value, str) else value


def _moment(value) -> datetime | None:
    """A datetime read back from JSON: ISO text, naive (SQLite) meaning UTC."""
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment
