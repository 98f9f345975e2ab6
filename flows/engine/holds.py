"""Holds: a whole flow or one execution paused, resumed, cancelled.

One column says an execution is held, `Execution.hold` ("flow" or "execution"),
and it is the one thing the walk checks (holding()): while set, steps in flight
finish and settle, but no step starts, retries or is retaken. A held execution
stays in its state (RUNNING with no lease, or PAUSED while people are asked);
one that had not started yet is QUEUED. Deadlines are absolute: a Sleep or a
Pause that falls due during a hold ends at its time, and what follows it waits.

Lock order: the flow row, then each execution (lock_execution), then its rows.
A flow-level change writes a FlowEvent and an event on each execution it holds,
releases or cancels, so every execution's own trail says why it stopped.
"""

from django.db import transaction
from django.db.models import Q, QuerySet

from flows.engine.endings import cancel
from flows.engine.errors import HoldConflict, NotFound
from flows.engine.transitions import (
    E,
    actor_name,
    atomic,
    lock_execution,
    move_execution,
    note,
    now,
    wake_later,
)
from flows.models import Execution, ExecutionEvent, Flow, FlowEvent

H = Execution.Hold
ENDED = Execution.TERMINAL
ACTIVE, PAUSED, CANCELLED = "active", "paused", "cancelled"


def flow_state(flow: Flow) -> str:
    if flow.cancelled_at:
        return CANCELLED
    return PAUSED if flow.is_paused else ACTIVE


def check_startable(flow: Flow) -> None:
    """Raise HoldConflict (409) if the flow was cancelled: it starts nothing."""
    if flow.cancelled_at:
        raise HoldConflict("flow", CANCELLED, CANCELLED_DETAIL)


CANCELLED_DETAIL = (
    "The flow was cancelled; load a new revision of it to start executions again."
)


def unfinished(flow: Flow) -> QuerySet[Execution]:
    return flow.executions.exclude(state__in=Execution.TERMINAL)


def holding(execution: Execution) -> bool:
    """Whether the walk may start no step now; the caller holds the row lock.

    An execution its flow's pause did not reach (started as the pause committed)
    is held here, at its next walk. An ending execution's `finally` tasks run.
    """
    if execution.ending:
        return False
    if not execution.hold and execution.flow.is_paused:
        _set_hold(execution, H.FLOW)
    return bool(execution.hold)


def pause_flow(flow_id, *, actor=None, channel: str = "api") -> int:
    """Pause the flow: no execution of it starts a new step until resume_flow."""
    with transaction.atomic(), atomic():  # a refusal rolls back to here
        flow = _lock_flow(flow_id)
        check_startable(flow)
        if flow.is_paused:
            raise HoldConflict("flow", PAUSED, "The flow is already paused.")
        Flow.objects.filter(pk=flow.pk).update(is_paused=True)
        flow.is_paused = True
        held = 0
        for pk in unfinished(flow).filter(hold="").values_list("pk", flat=True):
            execution = lock_execution(pk)
            if execution and not execution.hold and execution.state not in ENDED:
                _set_hold(execution, H.FLOW, actor=actor, channel=channel)
                held += 1
        _flow_event(flow, FlowEvent.Action.PAUSE, held, actor, channel)
        return held


def resume_flow(flow_id, *, actor=None, channel: str = "api") -> int:
    """Resume the flow: every execution its pause held (or queued) goes on."""
    with transaction.atomic(), atomic():
        flow = _lock_flow(flow_id)
        check_startable(flow)
        if not flow.is_paused:
            raise HoldConflict("flow", ACTIVE, "The flow is not paused.")
        Flow.objects.filter(pk=flow.pk).update(is_paused=False)
        flow.is_paused = False
        released = 0
        for pk in unfinished(flow).filter(hold=H.FLOW).values_list("pk", flat=True):
            execution = lock_execution(pk)
            if execution and execution.hold == H.FLOW:
                _release(execution, actor=actor, channel=channel)
                released += 1
        _flow_event(flow, FlowEvent.Action.RESUME, released, actor, channel)
        return released


def cancel_flow(flow_id, *, actor=None, channel: str = "api") -> int:
    """Cancel the flow: every unfinished execution ends CANCELLED and none starts
    until a new revision is loaded (the workflow-pause document's "permanently
    stop")."""
    with transaction.atomic(), atomic():
        flow = _lock_flow(flow_id)
        check_startable(flow)
        Flow.objects.filter(pk=flow.pk).update(cancelled_at=now(), is_paused=False)
        flow.cancelled_at, flow.is_paused = now(), False
        pks = list(unfinished(flow).filter(ending="").values_list("pk", flat=True))
        cancelled = sum(_cancel_one(pk, actor, channel) for pk in pks)
        _flow_event(flow, FlowEvent.Action.CANCEL, cancelled, actor, channel)
        return cancelled


def pause_execution(execution_id, *, actor=None, channel: str = "api") -> None:
    """Hold one execution: its steps in flight finish, no new one starts."""
    with transaction.atomic(), atomic():
        execution = _lock_open(execution_id)
        if execution.hold == H.EXECUTION:
            raise HoldConflict(
                "execution", execution.state, "The execution is already paused."
            )
        _set_hold(execution, H.EXECUTION, actor=actor, channel=channel)


def unpause_execution(execution_id, *, actor=None, channel: str = "api") -> None:
    """Lift one execution's own hold; it goes on unless its flow is paused."""
    with transaction.atomic(), atomic():
        execution = _lock_open(execution_id)
        if execution.hold != H.EXECUTION:
            detail = (
                "The execution is held because its flow is paused; resume the flow."
                if execution.hold == H.FLOW
                else "The execution is not paused."
            )
            raise HoldConflict("execution", execution.state, detail)
        if execution.flow.is_paused:
            _set_hold(execution, H.FLOW, actor=actor, channel=channel)
        else:
            _release(execution, actor=actor, channel=channel)


def cancel_execution(
    execution_id, *, actor=None, channel: str = "api", data: dict | None = None
) -> None:
    """Cancel one execution (engine.cancel), refusing one already ended or ending;
    `data` goes into its ending event (a withdrawal's reason)."""
    with transaction.atomic(), atomic():
        execution = lock_execution(execution_id)
        if execution is None:
            raise NotFound(execution_id)
        if execution.state in ENDED or execution.ending:
            raise _ended(execution)
        _cancel_one(execution_id, actor, channel, data)


def _cancel_one(execution_id, actor, channel, data=None) -> bool:
    # A cancel lifts the hold first so the flow's `finally` tasks can run.
    execution = lock_execution(execution_id)
    if execution is None or execution.state in ENDED or execution.ending:
        return False
    if execution.hold:
        Execution.objects.filter(pk=execution.pk).update(hold="")
    return cancel(execution_id, actor=actor, channel=channel, data=data)


def _lock_flow(flow_id) -> Flow:
    flow = Flow.objects.select_for_update().filter(pk=flow_id).first()
    if flow is None:
        raise NotFound(flow_id)
    return flow


def _lock_open(execution_id) -> Execution:
    execution = lock_execution(execution_id)
    if execution is None:
        raise NotFound(execution_id)
    if execution.state in ENDED or execution.ending:
        raise _ended(execution)
    return execution


def _ended(execution: Execution) -> HoldConflict:
    """The refusal for an ended (or ending) execution, naming who cancelled it."""
    state = execution.ending or execution.state
    if state != E.CANCELLED:
        return HoldConflict("execution", state, f"The execution has ended: {state}.")
    event = (
        ExecutionEvent.objects.filter(
            Q(to_state=E.CANCELLED) | Q(data__ending=E.CANCELLED),
            execution_id=execution.pk,
            subject=ExecutionEvent.Subject.EXECUTION,
        )
        .order_by("seq")
        .first()
    )
    by = event.actor_name if event else ""
    detail = f"The execution was cancelled by {by}." if by else "It was cancelled."
    return HoldConflict("execution", state, detail, by=by)


def _set_hold(execution: Execution, hold: str, *, actor=None, channel="") -> None:
    was = execution.hold
    Execution.objects.filter(pk=execution.pk).update(hold=hold, lease_until=None)
    execution.hold = hold
    data = {"hold": hold, **({"was": was} if was else {})}
    note(execution, actor=actor, channel=channel, data=data)


def _release(execution: Execution, *, actor=None, channel="") -> None:
    """Clear the hold and wake the execution; a QUEUED one starts now."""
    was = execution.hold
    Execution.objects.filter(pk=execution.pk).update(hold="")
    execution.hold = ""
    data = {"hold": "", "was": was}
    if execution.state == E.QUEUED:
        move_execution(
            execution,
            E.RUNNING,
            actor=actor,
            channel=channel,
            data=data,
            started_at=now(),
        )
    else:
        note(execution, actor=actor, channel=channel, data=data)
    if execution.state in (E.RUNNING, E.CREATED):
        wake_later(execution.pk)


def _flow_event(flow: Flow, action: str, count: int, actor, channel: str) -> None:
    FlowEvent.objects.create(
        flow=flow,
        action=action,
        actor=actor,
        actor_name=actor_name(actor),
        channel=channel,
        at=now(),
        executions=count,
    )
