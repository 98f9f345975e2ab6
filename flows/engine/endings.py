"""Ending early: a cancel, or an Approval's CANCEL / SUCCEED / KILL, or a Reject."""

from flows.engine.transitions import (
    E,
    S,
    T,
    actor_name,
    atomic,
    lock_execution,
    move,
    move_execution,
    move_run,
    note,
    now,
    wake_later,
)
from flows.models import Execution, TaskRun


def cancel(
    execution_id, *, actor=None, channel: str = "admin", data: dict | None = None
) -> bool:
    """Cancel an unfinished execution: its waits end, its `finally` tasks run.

    `data` goes into the event that ends it (a withdrawal says so and why)."""
    with atomic():
        execution = lock_execution(execution_id)
        if execution is None or execution.state in Execution.TERMINAL:
            return False
        if execution.ending:
            return False  # already ending; its finally tasks are running
        end_early(execution, E.CANCELLED, actor=actor, channel=channel, data=data)
        return True


def end_early(
    execution, target: str, *, actor=None, channel="", reason="", data=None
) -> None:
    """Close every open wait and step; end now, or once `finally` ran.

    The caller holds the execution's row lock. KILL ends at once, as Kestra's
    kill does; the other ends let the flow's `finally` tasks run first.
    """
    moment = now()
    for token in execution.tokens.filter(state=S.WAITING):
        move(
            type(token),
            token.pk,
            execution.pk,
            S.WAITING,
            S.CANCELLED,
            actor=actor,
            channel=channel,
            resolved_at=moment,
            resolved_by=actor,
            resolved_by_name=actor_name(actor),
        )
    run_target = T.KILLED if target == E.KILLED else T.CANCELLED
    for run in execution.task_runs.filter(state__in=TaskRun.OPEN):
        move_run(
            execution, run, run_target, ended_at=moment, lease_until=None, wake_at=None
        )
    data = {**({"reason": reason} if reason else {}), **(data or {})} or None
    # A QUEUED execution never started: it has no `finally` to run.
    if (
        target == E.KILLED
        or execution.state == E.QUEUED
        or not execution.revision.definition.get("finally")
    ):
        move_execution(
            execution,
            target,
            actor=actor,
            channel=channel,
            data=data,
            ended_at=moment,
            lease_until=None,
        )
        return
    Execution.objects.filter(pk=execution.pk).update(ending=target)
    note(
        execution, actor=actor, channel=channel, data={"ending": target, **(data or {})}
    )
    execution.ending = target
    if execution.state == E.PAUSED:
        move_execution(execution, E.RUNNING, actor=actor, channel=channel)
    wake_later(execution.pk)
