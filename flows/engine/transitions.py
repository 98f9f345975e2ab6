"""The engine's write primitives: legal moves, the audit trail, leases, wake-ups.

Every move is a conditional UPDATE on the expected source state; its row count says
whether it happened, and only then is an ExecutionEvent written. Events written
inside `atomic()` are inserted together, in one statement, before the commit.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from flows import secrets
from flows.engine.errors import IllegalMove
from flows.models import Execution, ExecutionEvent, SuspensionToken, TaskRun

E = Execution.State
T = TaskRun.State
S = SuspensionToken.State

ENDS = {E.SUCCESS, E.WARNING, E.FAILED, E.CANCELLED, E.KILLED}
MOVES = {
    Execution: {
        E.CREATED: {E.RUNNING, E.QUEUED, E.FAILED, E.CANCELLED, E.KILLED},
        E.QUEUED: {E.RUNNING, E.CANCELLED, E.KILLED},
        E.RUNNING: {E.PAUSED} | ENDS,
        E.PAUSED: {E.RUNNING} | ENDS,
    },
    TaskRun: {
        T.CREATED: {T.RUNNING, T.CANCELLED, T.KILLED},
        # RUNNING -> RUNNING is a retake: a new attempt after a lost worker.
        T.RUNNING: {
            T.RUNNING,
            T.PAUSED,
            T.RETRYING,
            T.SUCCESS,
            T.WARNING,
            T.FAILED,
            T.CANCELLED,
            T.KILLED,
        },
        # PAUSED -> RUNNING: an Approval got its decision and runs its branch.
        T.PAUSED: {T.RUNNING, T.SUCCESS, T.WARNING, T.FAILED, T.CANCELLED, T.KILLED},
        T.RETRYING: {T.RUNNING, T.FAILED, T.CANCELLED, T.KILLED},
    },
    SuspensionToken: {S.WAITING: {S.RESUMED, S.EXPIRED, S.CANCELLED}},
}
SUBJECTS = {
    Execution: ExecutionEvent.Subject.EXECUTION,
    TaskRun: ExecutionEvent.Subject.TASK_RUN,
    SuspensionToken: ExecutionEvent.Subject.TOKEN,
}
SYSTEM_ACTOR = "system"


def now() -> datetime:
    """The engine's clock, looked up on the package so tests patch one name."""
    from flows import engine

    return engine.now()


_pending_events: ContextVar[list | None] = ContextVar("pending_events", default=None)


@contextmanager
def atomic() -> Iterator[None]:
    """transaction.atomic whose audit events go in with one INSERT at the end.

    Nested in a caller's transaction it adds no savepoint: an engine refusal
    propagates and rolls the whole unit back, which is what every caller wants.
    """
    with transaction.atomic(savepoint=False):
        if _pending_events.get() is not None:
            yield  # an outer engine transaction writes them
            return
        events: list[ExecutionEvent] = []
        reset = _pending_events.set(events)
        try:
            yield
        finally:
            _pending_events.reset(reset)
        ExecutionEvent.objects.bulk_create(events)


def audit(
    execution_id, model, pk, source, target, *, actor=None, channel="", data=None
) -> None:
    """Write (or queue, inside atomic()) one event of the trail.

    Secrets are kept as ******: the trail records that a secret was given, never
    the secret, so no key is ever needed to read (or verify) it.
    """
    event = ExecutionEvent(
        execution_id=execution_id,
        subject=SUBJECTS[model],
        subject_id=str(pk),
        from_state=source,
        to_state=target,
        actor=actor,
        actor_name=actor_name(actor),
        channel=channel,
        at=now(),
        data=secrets.mask(data or {}),
    )
    pending = _pending_events.get()
    if pending is None:
        event.save()
    else:
        pending.append(event)


def move(
    model,
    pk,
    execution_id,
    source,
    target,
    *,
    actor=None,
    channel="",
    data=None,
    where=None,
    **fields,
) -> bool:
    """Move one row from `source` to `target` if it is still there; audit it.

    `where` adds conditions, a dict or a Q (the attempt that owns a task run, a
    token's deadline not passed yet).
    """
    if target not in MOVES[model].get(source, set()):
        raise IllegalMove(f"{model.__name__} cannot move from {source} to {target}")
    if model is SuspensionToken:  # a token keeps the channel it was answered by
        fields.setdefault("channel", channel)
    rows = model.objects.filter(pk=pk, state=source)
    if where:
        rows = rows.filter(where) if isinstance(where, Q) else rows.filter(**where)
    if not rows.update(state=target, **fields):
        return False
    audit(
        execution_id, model, pk, source, target, actor=actor, channel=channel, data=data
    )
    return True


def move_run(
    execution,
    run: TaskRun,
    target,
    *,
    owner=None,
    actor=None,
    channel="",
    data=None,
    **fields,
) -> bool:
    """Move a task run on from its state in memory, and mirror the move there.

    With `owner`, only that attempt's run moves: a step retaken after its lease
    ran out is recorded by the attempt that retook it, never by the lost one.
    """
    where = {"attempt": owner} if owner is not None else None
    if not move(
        TaskRun,
        run.pk,
        execution.pk,
        run.state,
        target,
        where=where,
        actor=actor,
        channel=channel,
        data=data,
        **fields,
    ):
        return False
    run.state = target
    for name, value in fields.items():
        setattr(run, name, value)
    return True


def move_execution(
    execution: Execution, target, *, actor=None, channel="", data=None, **fields
) -> bool:
    """Move an execution on from its state in memory, and mirror the move there."""
    if not move(
        Execution,
        execution.pk,
        execution.pk,
        execution.state,
        target,
        actor=actor,
        channel=channel,
        data=data,
        **fields,
    ):
        return False
    execution.state = target
    for name, value in fields.items():
        setattr(execution, name, value)
    return True


def wake_later(execution_id) -> None:
    """Queue another walk of the execution, with the lease that covers the wake-up."""
    Execution.objects.filter(pk=execution_id).update(lease_until=now() + lease())
    enqueue(execution_id)


def lock_execution(execution_id, *, full: bool = True) -> Execution | None:
    """Lock the execution row: every engine writer takes this lock first.

    One lock order everywhere (execution, then its tokens and task runs) means a
    cancel, a resume and a deadline on one execution queue up instead of
    deadlocking. `full=False` fetches only what a resume needs.
    """
    rows = Execution.objects.select_for_update(of=("self",)).filter(pk=execution_id)
    if full:
        rows = rows.select_related("revision", "flow")
    else:
        rows = rows.only("pk", "state", "ending", "revision_id", "tenant_id")
    return rows.first()


def actor_name(actor) -> str:
    return actor.get_username() if actor is not None else SYSTEM_ACTOR


def lease() -> timedelta:
    return timedelta(seconds=settings.SIGNOFF_STEP_LEASE_SECONDS)


def enqueue(execution_id) -> None:
    """Wake a worker for this execution once the current transaction commits.

    With the ORM broker the queue row is written in the same transaction, an
    outbox: it commits with the state change or not at all, at no extra commit.
    Redis (and django-q2's inline sync mode) are sent after the commit.
    """
    from django_q.conf import Conf
    from django_q.tasks import async_task

    def send():
        async_task("flows.worker.advance", str(execution_id))

    if Conf.ORM and not Conf.SYNC:
        send()
    else:
        transaction.on_commit(send)
