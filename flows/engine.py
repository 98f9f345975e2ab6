"""The engine: the only code that writes execution, task run and token states.

    Execution   CREATED ─▶ RUNNING ─▶ PAUSED ─▶ RUNNING ─▶ … ─▶ SUCCESS | WARNING
                   │          │          │                        FAILED | CANCELLED
                   └──────────┴──────────┴─▶ FAILED | CANCELLED
    Task run    RUNNING ─▶ SUCCESS | WARNING | FAILED
                RUNNING ─▶ PAUSED ─▶ SUCCESS | WARNING | FAILED | CANCELLED
    Token       WAITING ─▶ RESUMED | EXPIRED | CANCELLED

Every move is a conditional UPDATE on the expected source state (its row count says
whether it happened) and writes an ExecutionEvent. Worker-side code locks the
execution row first; a resume or an expiry decides its winner on the token row
alone, so two answers, or an answer and the deadline, never both take effect.
The queue only wakes workers: the rows are the truth, and flows.sweeper re-enqueues
whatever lost its worker or its wake-up message.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from flows import inputs, screens, steps
from flows.models import (
    Execution,
    ExecutionEvent,
    Flow,
    SuspensionToken,
    TaskRun,
    TokenAssignee,
)
from flows.tasks.base import Done, SleepUntil, Suspend

logger = logging.getLogger(__name__)

E = Execution.State
T = TaskRun.State
S = SuspensionToken.State

MOVES = {
    Execution: {
        E.CREATED: {E.RUNNING, E.QUEUED, E.FAILED, E.CANCELLED},
        E.QUEUED: {E.RUNNING, E.CANCELLED},
        E.RUNNING: {E.PAUSED, E.SUCCESS, E.WARNING, E.FAILED, E.CANCELLED},
        E.PAUSED: {E.RUNNING, E.FAILED, E.CANCELLED},
    },
    TaskRun: {
        T.CREATED: {T.RUNNING},
        T.RUNNING: {T.RUNNING, T.PAUSED, T.SUCCESS, T.WARNING, T.FAILED, T.CANCELLED},
        T.PAUSED: {T.SUCCESS, T.WARNING, T.FAILED, T.CANCELLED},
    },
    SuspensionToken: {S.WAITING: {S.RESUMED, S.EXPIRED, S.CANCELLED}},
}
SUBJECTS = {
    Execution: ExecutionEvent.Subject.EXECUTION,
    TaskRun: ExecutionEvent.Subject.TASK_RUN,
    SuspensionToken: ExecutionEvent.Subject.TOKEN,
}
MAX_STEPS_PER_CALL = 200
SYSTEM_ACTOR = "system"


class EngineError(Exception):
    """A refused operation; API and views map each subclass to a status code."""


class NotFound(EngineError):
    pass


class AlreadyConsumed(EngineError):
    def __init__(self, token: SuspensionToken):
        super().__init__(f"suspension {token.pk} was already {token.state.lower()}")
        self.token = token


class Expired(EngineError):
    def __init__(self, token: SuspensionToken):
        super().__init__(
            f"suspension {token.pk} expired at {token.expires_at.isoformat()}"
        )
        self.token = token


class IllegalMove(EngineError):
    pass


def now() -> datetime:
    """The engine's clock; tests patch this one function."""
    return timezone.now()


def _lease() -> timedelta:
    return timedelta(seconds=settings.SIGNOFF_STEP_LEASE_SECONDS)


# ---------------------------------------------------------------- transitions


def _move(
    model,
    pk,
    execution_id,
    source,
    target,
    *,
    actor=None,
    channel="",
    data=None,
    **fields,
) -> bool:
    """Move one row from `source` to `target` if it is still in `source`; audit it."""
    if target not in MOVES[model].get(source, set()):
        raise IllegalMove(f"{model.__name__} cannot move from {source} to {target}")
    moved = model.objects.filter(pk=pk, state=source).update(state=target, **fields)
    if moved:
        ExecutionEvent.objects.create(
            execution_id=execution_id,
            subject=SUBJECTS[model],
            subject_id=str(pk),
            from_state=source,
            to_state=target,
            actor=actor,
            actor_name=_actor_name(actor),
            channel=channel,
            at=now(),
            data=data or {},
        )
    return bool(moved)


def _actor_name(actor) -> str:
    return actor.get_username() if actor is not None else SYSTEM_ACTOR


def _enqueue(execution_id) -> None:
    """Wake a worker for this execution once the current transaction commits."""
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task("flows.worker.advance", str(execution_id)))


# ---------------------------------------------------------------- start


def start_execution(
    flow: Flow, data: dict | None = None, *, actor=None, labels=None
) -> Execution:
    """Validate the inputs against the flow's latest revision and queue a new run.

    Raises inputs.InputValidationError naming each bad input.
    """
    revision = flow.revisions.get(revision=flow.latest_revision)
    definitions = inputs.parse_definitions(revision.definition.get("inputs") or [])
    values = inputs.validate(definitions, data or {})
    with transaction.atomic():
        execution = Execution.objects.create(
            tenant_id=flow.tenant_id,
            flow=flow,
            revision=revision,
            inputs=values,
            labels={**(revision.definition.get("labels") or {}), **(labels or {})},
            created_by=actor,
            lease_until=now() + _lease(),
        )
        ExecutionEvent.objects.create(
            execution=execution,
            subject=ExecutionEvent.Subject.EXECUTION,
            subject_id=str(execution.pk),
            to_state=E.CREATED,
            actor=actor,
            actor_name=_actor_name(actor),
            at=now(),
            data={"inputs": values},
        )
        _enqueue(execution.pk)
    return execution


# ---------------------------------------------------------------- advance


def advance(execution_id) -> None:
    """Run the execution's steps until it pauses, sleeps, ends or another worker has it.

    Safe to call twice at once and to call again after a crash: each step is claimed
    under the execution's row lock, and its result is recorded only by the attempt
    that claimed it. Tasks that do no I/O run inside that transaction; the others
    (HTTP, shell) run between two transactions, holding no lock.
    """
    step, outcome = None, None
    for _ in range(MAX_STEPS_PER_CALL):
        with transaction.atomic():
            execution = _lock_execution(execution_id)
            if execution is None:
                return
            step = _settle_and_claim(execution, step, outcome)
        if step is None:
            return
        outcome = steps.run_step(step)
    with transaction.atomic():  # a long flow yields the worker, then goes on
        execution = _lock_execution(execution_id)
        if execution is not None and _record(execution, step, outcome):
            _enqueue(execution_id)


def _settle_and_claim(execution, step, outcome) -> steps.Step | None:
    """Record the last outcome, run inline tasks; return the next step to run."""
    for _ in range(MAX_STEPS_PER_CALL):
        if step is not None and not _record(execution, step, outcome):
            return None
        step = _claim_next(execution)
        if step is None or not steps.runs_inline(step):
            return step
        outcome = steps.run_step(step)
    if _record(execution, step, outcome):
        _enqueue(execution.pk)  # a very long flow yields the worker, then goes on
    return None


def _lock_execution(execution_id) -> Execution | None:
    return (
        Execution.objects.select_for_update(of=("self",))
        .select_related("revision", "flow")
        .filter(pk=execution_id)
        .first()
    )


def _claim_next(execution: Execution) -> steps.Step | None:
    """Start (or retake) the next task, or finish the execution; None if no step."""
    moment = now()
    if execution.state == E.CREATED:
        _move(
            Execution,
            execution.pk,
            execution.pk,
            E.CREATED,
            E.RUNNING,
            started_at=moment,
        )
        execution.state, execution.started_at = E.RUNNING, moment
    if execution.state != E.RUNNING:
        _release(execution)
        return None
    runs = {run.path: run for run in execution.task_runs.all()}
    found = steps.find_next(execution.revision.definition["tasks"], runs, moment)
    if found.kind == "done":
        _finish(execution, runs)
        return None
    if found.kind == "wait":
        return None
    lease_until = moment + _lease()
    run = _start_task_run(execution, found, moment, lease_until)
    if run is None:
        return None
    runs[run.path] = run
    Execution.objects.filter(pk=execution.pk).update(lease_until=lease_until)
    return steps.Step(
        execution_id=execution.pk,
        task_run_id=run.pk,
        attempt=run.attempt,
        task=found.task,
        variables=steps.build_variables(execution, runs),
        started_at=run.started_at,
    )


def _start_task_run(
    execution, found: steps.Next, moment, lease_until
) -> TaskRun | None:
    if found.kind == "start":
        run = TaskRun.objects.create(
            execution=execution,
            path=found.path,
            branch=found.branch,
            task_id=found.task["id"],
            task_type=found.task["type"],
            state=T.RUNNING,
            attempt=1,
            started_at=moment,
            lease_until=lease_until,
        )
        _audit(execution.pk, TaskRun, run.pk, "", T.RUNNING, {"attempt": 1})
        return run
    run = found.run
    retaken = TaskRun.objects.filter(
        pk=run.pk, state=T.RUNNING, attempt=run.attempt
    ).update(attempt=run.attempt + 1, lease_until=lease_until, started_at=moment)
    if not retaken:
        return None
    _audit(
        execution.pk,
        TaskRun,
        run.pk,
        T.RUNNING,
        T.RUNNING,
        {"attempt": run.attempt + 1, "reason": "lease expired"},
    )
    run.attempt, run.started_at = run.attempt + 1, moment
    return run


def _audit(execution_id, model, pk, source, target, data=None) -> None:
    ExecutionEvent.objects.create(
        execution_id=execution_id,
        subject=SUBJECTS[model],
        subject_id=str(pk),
        from_state=source,
        to_state=target,
        actor_name=SYSTEM_ACTOR,
        at=now(),
        data=data or {},
    )


def _release(execution: Execution) -> None:
    Execution.objects.filter(pk=execution.pk).update(lease_until=None)


def _finish(execution: Execution, runs: dict[str, TaskRun]) -> None:
    warned = any(run.state == T.WARNING for run in runs.values())
    target = E.WARNING if warned else E.SUCCESS
    _move(
        Execution,
        execution.pk,
        execution.pk,
        E.RUNNING,
        target,
        ended_at=now(),
        lease_until=None,
    )


def _record(execution: Execution, step: steps.Step, outcome: steps.Outcome) -> bool:
    """Record a step's outcome; True when the execution should go on."""
    if execution.state != E.RUNNING:
        return False  # cancelled or failed while the step ran
    current = TaskRun.objects.filter(
        pk=step.task_run_id, state=T.RUNNING, attempt=step.attempt
    )
    if not current.exists():
        return False  # a later attempt owns this step now
    pk, ex = step.task_run_id, execution.pk
    if isinstance(outcome, Done):
        target = T.WARNING if outcome.warning else T.SUCCESS
        return _move(
            TaskRun,
            pk,
            ex,
            T.RUNNING,
            target,
            outputs=outcome.outputs,
            logs=outcome.logs,
            ended_at=now(),
            lease_until=None,
        )
    if isinstance(outcome, SleepUntil):
        current.update(wake_at=outcome.wake_at, lease_until=None)
        _release(execution)
        return False
    if isinstance(outcome, Suspend):
        _suspend(execution, step, outcome)
        return False
    _move(
        TaskRun,
        pk,
        ex,
        T.RUNNING,
        T.FAILED,
        error=outcome.error,
        ended_at=now(),
        lease_until=None,
    )
    _move(
        Execution,
        ex,
        ex,
        E.RUNNING,
        E.FAILED,
        ended_at=now(),
        lease_until=None,
        data={"error": outcome.error},
    )
    return False


def _suspend(execution: Execution, step: steps.Step, pause: Suspend) -> None:
    _move(
        TaskRun,
        step.task_run_id,
        execution.pk,
        T.RUNNING,
        T.PAUSED,
        logs=pause.logs,
        lease_until=None,
    )
    token = SuspensionToken.objects.create(
        tenant_id=execution.tenant_id,
        execution=execution,
        task_run_id=step.task_run_id,
        screen=pause.screen,
        schema=pause.schema,
        message=pause.message,
        assignees=pause.assignees,
        approvals_required=pause.approvals_required,
        allow_self_approval=pause.allow_self_approval,
        behavior=pause.behavior,
        expires_at=pause.expires_at,
    )
    TokenAssignee.objects.bulk_create(
        [
            TokenAssignee(token=token, name=name)
            for name in dict.fromkeys(pause.assignees)
        ]
    )
    data = {"expires_at": pause.expires_at.isoformat() if pause.expires_at else None}
    _audit(execution.pk, SuspensionToken, token.pk, "", S.WAITING, data)
    _move(
        Execution,
        execution.pk,
        execution.pk,
        E.RUNNING,
        E.PAUSED,
        lease_until=None,
        data={"token": str(token.pk)},
    )


# ---------------------------------------------------------------- resume and timeouts


def waiting_token_for(execution_id) -> SuspensionToken:
    """The execution's one waiting token (the API accepts an execution id too)."""
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
    if token.state != S.WAITING and token.state != S.EXPIRED:
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


@transaction.atomic
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
    claimed = (
        SuspensionToken.objects.filter(pk=token.pk, state=S.WAITING)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=moment))
        .update(
            state=S.RESUMED,
            resolved_at=moment,
            resolved_by=actor,
            resolved_by_name=_actor_name(actor),
            channel=channel,
            response=values,
        )
    )
    if claimed != 1:
        check_open(SuspensionToken.objects.get(pk=token.pk), moment)
        raise AlreadyConsumed(token)  # unreachable unless the row changed twice
    _audit_token(token, S.RESUMED, actor, channel, {"response": values})
    outputs = {
        **_pause_outputs(values, _actor_name(actor), moment),
        **(extra_outputs or {}),
    }
    _continue_after_pause(token, T.SUCCESS, outputs, actor=actor, channel=channel)
    token.refresh_from_db()
    return token


def _audit_token(token, target, actor, channel, data) -> None:
    ExecutionEvent.objects.create(
        execution_id=token.execution_id,
        subject=ExecutionEvent.Subject.TOKEN,
        subject_id=str(token.pk),
        from_state=S.WAITING,
        to_state=target,
        actor=actor,
        actor_name=_actor_name(actor),
        channel=channel,
        at=now(),
        data=data,
    )


def _pause_outputs(values: dict, by: str, moment: datetime) -> dict:
    outputs = {
        "onResume": values,
        "resumed": {"by": by, "on": moment.isoformat(), "to": E.RUNNING},
    }
    for key in ("decision", "comment"):
        if key in values:
            outputs[key] = values[key]
    return outputs


def _continue_after_pause(
    token, task_state, outputs, *, actor=None, channel=""
) -> None:
    ex = token.execution_id
    _move(
        TaskRun,
        token.task_run_id,
        ex,
        T.PAUSED,
        task_state,
        outputs=outputs,
        ended_at=now(),
    )
    _move(
        Execution,
        ex,
        ex,
        E.PAUSED,
        E.RUNNING,
        actor=actor,
        channel=channel,
        lease_until=now() + _lease(),
    )
    _enqueue(ex)


@transaction.atomic
def expire(token_id, moment: datetime | None = None) -> bool:
    """Apply a due deadline's behavior; False if the token was answered first."""
    moment = moment or now()
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
    _audit_token(token, S.EXPIRED, None, "timeout", {"behavior": token.behavior})
    ex, behavior = token.execution_id, token.behavior
    if behavior in (SuspensionToken.Behavior.RESUME, SuspensionToken.Behavior.WARN):
        values = screens.timeout_response(token.screen, token.schema)
        outputs = _pause_outputs(values, SYSTEM_ACTOR, moment)
        target = T.SUCCESS if behavior == SuspensionToken.Behavior.RESUME else T.WARNING
        _continue_after_pause(token, target, outputs, channel="timeout")
    elif behavior == SuspensionToken.Behavior.FAIL:
        _move(
            TaskRun,
            token.task_run_id,
            ex,
            T.PAUSED,
            T.FAILED,
            error="pause expired",
            ended_at=moment,
        )
        _move(Execution, ex, ex, E.PAUSED, E.FAILED, channel="timeout", ended_at=moment)
    else:
        _move(TaskRun, token.task_run_id, ex, T.PAUSED, T.CANCELLED, ended_at=moment)
        _move(
            Execution, ex, ex, E.PAUSED, E.CANCELLED, channel="timeout", ended_at=moment
        )
    return True


def expire_due(moment: datetime | None = None, limit: int = 500) -> int:
    """Expire every waiting token whose deadline has passed; returns how many."""
    moment = moment or now()
    due = SuspensionToken.objects.filter(state=S.WAITING, expires_at__lte=moment)
    return sum(expire(pk, moment) for pk in due.values_list("pk", flat=True)[:limit])


@transaction.atomic
def wake(task_run_id, moment: datetime | None = None) -> bool:
    """End a due Sleep and wake its execution; False if it was not due or taken."""
    moment = moment or now()
    run = TaskRun.objects.filter(
        pk=task_run_id, state=T.RUNNING, wake_at__lte=moment
    ).first()
    if run is None:
        return False
    if not _move(
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
        lease_until=moment + _lease()
    )
    _enqueue(run.execution_id)
    return True


def wake_due(moment: datetime | None = None, limit: int = 500) -> int:
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
                lease_until=moment + _lease()
            ):
                _enqueue(pk)
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


# ---------------------------------------------------------------- cancel


@transaction.atomic
def cancel(execution_id, *, actor=None, channel: str = "admin") -> bool:
    """Cancel an unfinished execution with its waiting tokens and open task runs."""
    execution = _lock_execution(execution_id)
    if execution is None or execution.state in Execution.TERMINAL:
        return False
    moment = now()
    for token in execution.tokens.filter(state=S.WAITING):
        if SuspensionToken.objects.filter(pk=token.pk, state=S.WAITING).update(
            state=S.CANCELLED,
            resolved_at=moment,
            resolved_by=actor,
            resolved_by_name=_actor_name(actor),
            channel=channel,
        ):
            _audit_token(token, S.CANCELLED, actor, channel, {})
    for run in execution.task_runs.filter(state__in=(T.RUNNING, T.PAUSED)):
        _move(
            TaskRun,
            run.pk,
            execution.pk,
            run.state,
            T.CANCELLED,
            ended_at=moment,
            lease_until=None,
            wake_at=None,
        )
    return _move(
        Execution,
        execution.pk,
        execution.pk,
        execution.state,
        E.CANCELLED,
        actor=actor,
        channel=channel,
        ended_at=moment,
        lease_until=None,
    )
