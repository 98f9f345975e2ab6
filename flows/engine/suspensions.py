"""Suspensions: answering a token, its deadline, Sleep wake-ups, lost executions.

A resume and an expiry both consume the token with one conditional UPDATE on
state WAITING (plus the deadline's side), so exactly one of them ever wins.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Q

from flows import screens
from flows.engine.errors import AlreadyConsumed, Expired, NotFound
from flows.engine.transitions import (
    SYSTEM_ACTOR,
    E,
    S,
    T,
    actor_name,
    atomic,
    audit,
    enqueue,
    lease,
    move,
    now,
)
from flows.models import Execution, SuspensionToken, TaskRun

Behavior = SuspensionToken.Behavior


def waiting_token_for(execution_id) -> SuspensionToken:
    """The execution's latest suspension (the API accepts an execution id too)."""
    token = (
        SuspensionToken.objects.filter(execution_id=execution_id)
        .order_by("-created_at")
        .first()
    )
    if token is None:
        raise NotFound(f"no suspension for execution {execution_id}")
    return token


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
    values = screens.validate_response(token.screen, token.schema, data)
    return consume(token, values, actor=actor, channel=channel)


def consume(
    token: SuspensionToken,
    values: dict,
    *,
    actor=None,
    channel: str = "api",
    extra_outputs: dict | None = None,
) -> SuspensionToken:
    """Consume a waiting token with already validated values and schedule the rest."""
    moment = now()
    answered = {
        "resolved_at": moment,
        "resolved_by": actor,
        "resolved_by_name": actor_name(actor),
        "channel": channel,
        "response": values,
    }
    with atomic():
        open_rows = SuspensionToken.objects.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=moment)
        )
        claimed = open_rows.filter(pk=token.pk, state=S.WAITING).update(
            state=S.RESUMED, **answered
        )
        if claimed == 1:
            audit(
                token.execution_id,
                SuspensionToken,
                token.pk,
                S.WAITING,
                S.RESUMED,
                actor=actor,
                channel=channel,
                data={"response": values},
            )
            outputs = {
                **pause_outputs(values, actor_name(actor), moment),
                **(extra_outputs or {}),
            }
            _continue(token, T.SUCCESS, outputs, actor=actor, channel=channel)
    if claimed != 1:
        # Raised after the block, so a caller's own transaction stays usable.
        check_open(SuspensionToken.objects.get(pk=token.pk), moment)
        raise AlreadyConsumed(token)  # unreachable unless the row changed twice
    token.state = S.RESUMED
    for field, value in answered.items():
        setattr(token, field, value)
    return token


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


def _continue(token, task_state, outputs, *, actor=None, channel="") -> None:
    ex, moment = token.execution_id, now()
    move(
        TaskRun,
        token.task_run_id,
        ex,
        T.PAUSED,
        task_state,
        outputs=outputs,
        ended_at=moment,
    )
    move(
        Execution,
        ex,
        ex,
        E.PAUSED,
        E.RUNNING,
        actor=actor,
        channel=channel,
        lease_until=moment + lease(),
    )
    enqueue(ex)


def expire(token_id, moment: datetime | None = None) -> bool:
    """Apply a due deadline's behavior; False if the token was answered first."""
    moment = moment or now()
    with atomic():
        claimed = SuspensionToken.objects.filter(
            pk=token_id, state=S.WAITING, expires_at__lte=moment
        ).update(
            state=S.EXPIRED,
            resolved_at=moment,
            resolved_by_name=SYSTEM_ACTOR,
            channel="timeout",
        )
        if claimed != 1:
            return False
        token = SuspensionToken.objects.get(pk=token_id)
        ex, behavior = token.execution_id, token.behavior
        audit(
            ex,
            SuspensionToken,
            token.pk,
            S.WAITING,
            S.EXPIRED,
            channel="timeout",
            data={"behavior": behavior},
        )
        if behavior in (Behavior.RESUME, Behavior.WARN):
            values = screens.timeout_response(token.screen, token.schema)
            outputs = pause_outputs(values, SYSTEM_ACTOR, moment)
            target = T.SUCCESS if behavior == Behavior.RESUME else T.WARNING
            _continue(token, target, outputs, channel="timeout")
            return True
        task_state, state = (
            (T.FAILED, E.FAILED)
            if behavior == Behavior.FAIL
            else (T.CANCELLED, E.CANCELLED)
        )
        error = "pause expired" if behavior == Behavior.FAIL else ""
        move(
            TaskRun,
            token.task_run_id,
            ex,
            T.PAUSED,
            task_state,
            error=error,
            ended_at=moment,
        )
        move(Execution, ex, ex, E.PAUSED, state, channel="timeout", ended_at=moment)
    return True


def expire_due(moment: datetime | None = None, limit: int = 500) -> int:
    """Expire every waiting token whose deadline has passed; returns how many."""
    moment = moment or now()
    due = SuspensionToken.objects.filter(state=S.WAITING, expires_at__lte=moment)
    return sum(expire(pk, moment) for pk in due.values_list("pk", flat=True)[:limit])


def wake(task_run_id, moment: datetime | None = None) -> bool:
    """End a due Sleep and wake its execution; False if it was not due or taken."""
    moment = moment or now()
    with atomic():
        run = TaskRun.objects.filter(
            pk=task_run_id, state=T.RUNNING, wake_at__lte=moment
        ).first()
        if run is None or not move(
            TaskRun,
            run.pk,
            run.execution_id,
            T.RUNNING,
            T.SUCCESS,
            wake_at=None,
            ended_at=moment,
        ):
            return False
        Execution.objects.filter(pk=run.execution_id, state=E.RUNNING).update(
            lease_until=moment + lease()
        )
        enqueue(run.execution_id)
    return True


def wake_due(moment: datetime | None = None, limit: int = 500) -> int:
    """Wake every Sleep that is due; returns how many."""
    moment = moment or now()
    due = TaskRun.objects.filter(state=T.RUNNING, wake_at__lte=moment)
    return sum(wake(pk, moment) for pk in due.values_list("pk", flat=True)[:limit])


def recover_lost(moment: datetime | None = None, limit: int = 500) -> int:
    """Re-enqueue executions whose worker or wake-up message was lost (lease passed)."""
    moment = moment or now()
    lost = Execution.objects.filter(
        state__in=(E.CREATED, E.RUNNING), lease_until__lt=moment
    )
    recovered = 0
    for pk, lease_until in lost.values_list("pk", "lease_until")[:limit]:
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
        TaskRun.objects.filter(state=T.RUNNING, wake_at__isnull=False)
        .order_by("wake_at")
        .values_list("wake_at", flat=True)
        .first()
    )
    return min((d for d in (token, wake_at) if d), default=None)
