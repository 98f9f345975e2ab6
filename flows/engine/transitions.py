"""The engine's write primitives: legal moves, the audit trail, leases, wake-ups.

Every move is a conditional UPDATE on the expected source state; its row count says
whether it happened, and only then is an ExecutionEvent written. Events written
inside `atomic()` are inserted together, in one statement, before the commit, and
chained there (flows.trail): each links to the execution's last event, whose seq
and hash the execution row keeps. Every writer holds that row's lock
(lock_execution) when its events go in, so no two batches link to one event.
"""

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from flows import secrets, trail
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


@dataclass
class _Batch:
    """The events of one engine transaction, and where each execution's chain is."""

    events: list[ExecutionEvent] = field(default_factory=list)
    heads: dict = field(default_factory=dict)  # execution id -> (seq, hash)
    # execution id -> (the locked Execution, the fields its row gets at the end)
    held: dict = field(default_factory=dict)


_pending: ContextVar[_Batch | None] = ContextVar("pending_events", default=None)


@contextmanager
def atomic() -> Iterator[None]:
    """transaction.atomic whose audit events go in with one INSERT at the end.

    Nested in a caller's transaction it adds no savepoint: an engine refusal
    propagates and rolls the whole unit back, which is what every caller wants.
    """
    with transaction.atomic(savepoint=False):
        if _pending.get() is not None:
            yield  # an outer engine transaction writes them
            return
        batch = _Batch()
        reset = _pending.set(batch)
        try:
            yield
        finally:
            _pending.reset(reset)
        _write(batch)


def _write(batch: _Batch) -> None:
    """Chain the batch's events on to each execution's trail and insert them;
    each execution row gets its new chain head (and its held fields) in one UPDATE."""
    chains: dict = {}
    for event in batch.events:
        chains.setdefault(event.execution_id, []).append(event)
    heads = {}
    for execution_id, events in chains.items():
        seq, head = batch.heads.get(execution_id) or _locked_head(execution_id)
        heads[execution_id] = (seq, *trail.link(events, seq, head))
    if batch.events:
        ExecutionEvent.objects.bulk_create(batch.events)
    for execution_id in {**heads, **batch.held}:
        fields = dict(batch.held.get(execution_id, (None, {}))[1])
        rows = Execution.objects.filter(pk=execution_id)
        if execution_id in heads:
            seq, last_seq, last_hash = heads[execution_id]
            fields.update(last_event_seq=last_seq, last_event_hash=last_hash)
            # Conditional on the seq linked from: a writer without the lock would
            # fail here (and on the unique seq) rather than fork the chain.
            rows = rows.filter(last_event_seq=seq)
        if fields and not rows.update(**fields) and execution_id in heads:
            raise RuntimeError(f"audit trail of {execution_id} moved under this write")


def _locked_head(execution_id) -> tuple[int, str]:
    """The chain's end for a writer that did not lock the execution itself."""
    row = (
        Execution.objects.select_for_update(of=("self",))
        .filter(pk=execution_id)
        .values_list("last_event_seq", "last_event_hash")
        .first()
    )
    return row or (0, "")


def track(execution: Execution) -> None:
    """Note where the execution's chain ends; the caller holds (or made) its row."""
    batch = _pending.get()
    if batch is not None:
        batch.heads.setdefault(
            execution.pk, (execution.last_event_seq, execution.last_event_hash)
        )


def hold_row(execution: Execution) -> None:
    """Write this execution's own moves and lease with its chain head, in one
    UPDATE as the batch ends, rather than an UPDATE each.

    The caller holds the row's lock (lock_execution, or a select_for_update of
    its own in this transaction), so the state read under it is the row's state
    until the commit: a move is decided on it in memory, as the conditional
    UPDATE would decide it. Nothing in the batch may read the row back. A row an
    earlier writer of the batch tracks (a worker's step resuming its own pause)
    is left to that writer's own UPDATEs.
    """
    batch = _pending.get()
    if batch is None:
        raise RuntimeError("hold_row() outside engine.atomic()")
    if execution.pk in batch.heads:
        return
    track(execution)
    batch.held[execution.pk] = (execution, {})


def _held(model, pk) -> tuple[Execution, dict] | None:
    batch = _pending.get()
    if model is not Execution or batch is None:
        return None
    return batch.held.get(pk)


def audit(
    execution_id, model, pk, source, target, *, actor=None, channel="", data=None
) -> None:
    """Queue one event of the trail; it is chained and written at the commit.

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
    batch = _pending.get()
    if batch is not None:
        batch.events.append(event)
        return
    with atomic():
        _pending.get().events.append(event)


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
    held = _held(model, pk)
    if held is not None:
        if where:
            raise IllegalMove("a held execution moves on its locked state alone")
        execution, pending = held
        if execution.state != source:
            return False
        execution.state = target
        pending.update(state=target, **fields)
    else:
        rows = model.objects.filter(pk=pk, state=source)
        if where:
            rows = rows.filter(where) if isinstance(where, Q) else rows.filter(**where)
        if not rows.update(state=target, **fields):
            return False
    audit(
        execution_id, model, pk, source, target, actor=actor, channel=channel, data=data
    )
    return True


def note(execution: Execution, *, actor=None, channel="", data=None) -> None:
    """An event on the execution's trail that changes no state (a hold, an end
    requested): from and to are the state it stays in."""
    state = execution.state
    audit(
        execution.pk,
        Execution,
        execution.pk,
        state,
        state,
        actor=actor,
        channel=channel,
        data=data,
    )


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
    held = _held(Execution, execution_id)
    if held is not None:
        held[1]["lease_until"] = now() + lease()
    else:
        Execution.objects.filter(pk=execution_id).update(lease_until=now() + lease())
    enqueue(execution_id)


def lock_execution(
    execution_id, *, full: bool = True, hold: bool = False
) -> Execution | None:
    """Lock the execution row: every engine writer takes this lock first.

    One lock order everywhere (execution, then its tokens and task runs) means a
    cancel, a resume and a deadline on one execution queue up instead of
    deadlocking. `full=False` fetches only what a resume needs; `hold`: its own
    writes go in as one UPDATE at the end (hold_row).
    """
    rows = Execution.objects.select_for_update(of=("self",)).filter(pk=execution_id)
    if full:
        rows = rows.select_related("revision", "flow")
    else:
        rows = rows.only(
            "pk",
            "state",
            "ending",
            "revision_id",
            "tenant_id",
            "last_event_seq",
            "last_event_hash",
        )
    execution = rows.first()
    if execution is not None and hold:
        hold_row(execution)
    elif execution is not None:
        track(execution)  # read under the lock: where this write's events link on
    return execution


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
    _send("flows.worker.advance", str(execution_id))


def enqueue_each(execution_ids: list) -> None:
    """One wake-up for several executions (started together), walked in turn."""
    _send("flows.worker.advance_each", [str(pk) for pk in execution_ids])


def _send(func: str, *args) -> None:
    from django_q.conf import Conf
    from django_q.tasks import async_task

    broker = _broker((Conf.ORM, repr(Conf.REDIS), Conf.CLUSTER_NAME))

    def send():
        async_task(func, *args, broker=broker)

    if Conf.ORM and not Conf.SYNC:
        send()
    else:
        transaction.on_commit(send)


@functools.lru_cache(maxsize=4)
def _broker(queue_settings: tuple):
    """One broker per process and queue settings. Left to itself django-q2 makes
    one per task, and with Redis that is a new connection pool, so a new TCP
    connection for every wake-up (redis-py's pool is safe across a fork)."""
    from django_q.brokers import get_broker

    return get_broker()
