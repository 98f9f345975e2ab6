"""Reminders and escalation of waiting tokens, on the sweeper's clock.

A token whose task says `remind` or `escalate` gets a FollowUp row when it starts
waiting. Each sweeper pass takes the due ones; a conditional UPDATE of the due
column (from the moment read to the next one) decides which sweeper does it, so
many workers, or two passes for one moment, remind once per interval and
escalate once. The reminder goes to the assignees who have not answered (in a
quorum, who approved is not reminded); the escalation adds its approvers through
flows.engine.assignees.change and tells them. Both are events on the trail.
"""

from datetime import timedelta

from django.db import transaction

from approvals import notifications
from approvals.models import FollowUp
from flows import engine
from flows.engine import assignees
from flows.models import SuspensionToken

S = SuspensionToken.State


def schedule(token: SuspensionToken) -> None:
    """The pause hook: when to remind and escalate (none past the deadline)."""
    options = token.options or {}
    every = options.get("remindSeconds")
    escalate = options.get("escalate") or {}
    if not every and not escalate:
        return
    moment = engine.now()
    FollowUp.objects.create(
        token=token,
        remind_at=_before_deadline(token, moment + timedelta(seconds=every))
        if every
        else None,
        escalate_at=_before_deadline(
            token, moment + timedelta(seconds=escalate["afterSeconds"])
        )
        if escalate
        else None,
    )


def _before_deadline(token, when):
    return None if token.expires_at and when >= token.expires_at else when


def sweep(moment=None, limit: int = 200) -> int:
    """Send the due reminders and escalations; how many."""
    moment = moment or engine.now()
    waiting = FollowUp.objects.filter(token__state=S.WAITING)
    done = 0
    for pk, due in waiting.filter(escalate_at__lte=moment).values_list(
        "pk", "escalate_at"
    )[:limit]:
        done += escalate(pk, due, moment)
    for pk, due in waiting.filter(remind_at__lte=moment).values_list("pk", "remind_at")[
        :limit
    ]:
        done += remind(pk, due, moment)
    return done


def next_due():
    waiting = FollowUp.objects.filter(token__state=S.WAITING)
    dates = [
        waiting.filter(**{f"{column}__isnull": False})
        .order_by(column)
        .values_list(column, flat=True)
        .first()
        for column in ("remind_at", "escalate_at")
    ]
    return min((d for d in dates if d), default=None)


def remind(token_id, due, moment) -> bool:
    """One reminder, if this caller claims it: the claim moves `remind_at` on."""
    token = SuspensionToken.objects.select_related("execution").get(pk=token_id)
    every = timedelta(seconds=token.options["remindSeconds"])
    upcoming = due + every
    while upcoming <= moment:  # a sweeper that was down skips the missed ones
        upcoming += every
    with transaction.atomic():
        engine.lock_execution(token.execution_id, full=False)
        if not FollowUp.objects.filter(pk=token_id, remind_at=due).update(
            remind_at=_before_deadline(token, upcoming)
        ):
            return False
        token.refresh_from_db(fields=["state", "assignees"])
        if token.state != S.WAITING:
            return False
        people = notifications.recipients(token)
        notifications.tell(token, people, reason="reminder")
        _event(token, "reminded", told=[p.get_username() for p in people])
    return True


def escalate(token_id, due, moment) -> bool:
    """The escalation, if this caller claims it: add its approvers, tell them."""
    token = SuspensionToken.objects.select_related("execution").get(pk=token_id)
    to = token.options["escalate"]["to"]
    with transaction.atomic():
        engine.lock_execution(token.execution_id, full=False)
        if not FollowUp.objects.filter(pk=token_id, escalate_at=due).update(
            escalate_at=None
        ):
            return False
        before = {p.pk for p in notifications.recipients(token)}
        try:
            token = assignees.change(
                token_id, event="escalated", add=to, channel="timeout"
            )
        except engine.EngineError:  # answered or expired meanwhile: nothing to do
            return False
        token.execution = SuspensionToken.objects.get(pk=token_id).execution
        added = [p for p in notifications.recipients(token) if p.pk not in before]
        notifications.tell(token, added, reason="escalated")
    return True


def _event(token, name: str, **data) -> None:
    engine.note_waiting(token, channel="timeout", data={"event": name, **data})
