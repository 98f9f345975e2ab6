"""Running executions: start, advance step by step, suspend, finish, cancel."""

from flows import inputs, steps
from flows.engine.heartbeat import heartbeat
from flows.engine.transitions import (
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
from flows.models import Execution, Flow, SuspensionToken, TaskRun, TokenAssignee
from flows.tasks.base import Done, SleepUntil, Suspend

MAX_STEPS_PER_CALL = 200


def start_execution(
    flow: Flow, data: dict | None = None, *, actor=None, labels=None
) -> Execution:
    """Validate the inputs against the flow's latest revision and queue a new run.

    Raises inputs.InputValidationError naming each bad input.
    """
    revision = flow.revisions.get(revision=flow.latest_revision)
    definitions = inputs.parse_definitions(revision.definition.get("inputs") or [])
    values = inputs.validate(definitions, data or {})
    with atomic():
        execution = Execution.objects.create(
            tenant_id=flow.tenant_id,
            flow=flow,
            revision=revision,
            inputs=values,
            labels={**(revision.definition.get("labels") or {}), **(labels or {})},
            created_by=actor,
            lease_until=now() + lease(),
        )
        audit(
            execution.pk,
            Execution,
            execution.pk,
            "",
            E.CREATED,
            actor=actor,
            data={"inputs": values},
        )
        enqueue(execution.pk)
    return execution


def advance(execution_id) -> None:
    """Run the execution's steps until it pauses, sleeps, ends or another worker has it.

    Safe to call twice at once and to call again after a crash: each step is claimed
    under the execution's row lock, and its result is recorded only by the attempt
    that claimed it. Tasks that do no I/O run inside that transaction; the others
    (HTTP, shell) run between two transactions, holding no lock.
    """
    step, outcome = None, None
    for _ in range(MAX_STEPS_PER_CALL):
        with atomic():
            execution = lock_execution(execution_id)
            if execution is None:
                return
            step = _settle_and_claim(execution, step, outcome)
        if step is None:
            return
        with heartbeat(execution_id, step.task_run_id, step.attempt):
            outcome = steps.run_step(step)
    with atomic():  # a very long flow yields the worker, then goes on
        execution = lock_execution(execution_id)
        if execution is not None and _record(execution, step, outcome):
            enqueue(execution_id)


def lock_execution(execution_id) -> Execution | None:
    return (
        Execution.objects.select_for_update(of=("self",))
        .select_related("revision", "flow")
        .filter(pk=execution_id)
        .first()
    )


def _settle_and_claim(execution, step, outcome) -> steps.Step | None:
    """Record the last outcome, run inline tasks; return the next step to run."""
    if step is not None and not _record(execution, step, outcome):
        return None
    runs = {run.path: run for run in execution.task_runs.all()}
    for _ in range(MAX_STEPS_PER_CALL):
        step = _claim_next(execution, runs)
        if step is None:
            return None
        if not steps.runs_inline(step):
            Execution.objects.filter(pk=execution.pk).update(
                lease_until=step.lease_until
            )
            return step
        if not _record(execution, step, steps.run_step(step)):
            return None
    enqueue(execution.pk)  # a very long flow yields the worker, then goes on
    return None


def _claim_next(execution: Execution, runs: dict[str, TaskRun]) -> steps.Step | None:
    """Start (or retake) the next task, or finish the execution; None if no step."""
    moment = now()
    if execution.state == E.CREATED:
        move(
            Execution,
            execution.pk,
            execution.pk,
            E.CREATED,
            E.RUNNING,
            started_at=moment,
        )
        execution.state, execution.started_at = E.RUNNING, moment
    if execution.state != E.RUNNING:
        Execution.objects.filter(pk=execution.pk).update(lease_until=None)
        return None
    found = steps.find_next(execution.revision.definition["tasks"], runs, moment)
    if found.kind == "done":
        _finish(execution, runs)
        return None
    run = _start_task_run(execution, found, moment) if found.kind != "wait" else None
    if run is None:
        return None
    runs[run.path] = run
    return steps.Step(
        execution_id=execution.pk,
        task_run_id=run.pk,
        attempt=run.attempt,
        task=found.task,
        variables=steps.build_variables(execution, runs),
        started_at=run.started_at,
        lease_until=run.lease_until,
        run=run,
    )


def _start_task_run(execution, found: steps.Next, moment) -> TaskRun | None:
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
            lease_until=moment + lease(),
        )
        audit(execution.pk, TaskRun, run.pk, "", T.RUNNING, data={"attempt": 1})
        return run
    run, attempt = found.run, found.run.attempt + 1
    retaken = TaskRun.objects.filter(
        pk=run.pk, state=T.RUNNING, attempt=run.attempt
    ).update(attempt=attempt, lease_until=moment + lease(), started_at=moment)
    if not retaken:
        return None
    data = {"attempt": attempt, "reason": "lease expired"}
    audit(execution.pk, TaskRun, run.pk, T.RUNNING, T.RUNNING, data=data)
    run.attempt, run.started_at, run.lease_until = attempt, moment, moment + lease()
    return run


def _finish(execution: Execution, runs: dict[str, TaskRun]) -> None:
    warned = any(run.state == T.WARNING for run in runs.values())
    target = E.WARNING if warned else E.SUCCESS
    move(
        Execution,
        execution.pk,
        execution.pk,
        E.RUNNING,
        target,
        ended_at=now(),
        lease_until=None,
    )


def _record(execution: Execution, step: steps.Step, outcome: steps.Outcome) -> bool:
    """Record a step's outcome; True when the execution should go on.

    Every write is conditional on the attempt that ran it: a step retaken by a
    later attempt after its lease ran out is recorded by that attempt only.
    """
    if execution.state != E.RUNNING:
        return False  # cancelled or failed while the step ran
    pk, ex, owner = step.task_run_id, execution.pk, {"attempt": step.attempt}
    if isinstance(outcome, Done):
        target = T.WARNING if outcome.warning else T.SUCCESS
        moved = move(
            TaskRun,
            pk,
            ex,
            T.RUNNING,
            target,
            where=owner,
            outputs=outcome.outputs,
            logs=outcome.logs,
            ended_at=now(),
            lease_until=None,
        )
        if moved:  # the next claim in this transaction reads the run from memory
            step.run.state, step.run.outputs = target, outcome.outputs
        return moved
    if isinstance(outcome, SleepUntil):
        TaskRun.objects.filter(pk=pk, state=T.RUNNING, **owner).update(
            wake_at=outcome.wake_at, lease_until=None
        )
        Execution.objects.filter(pk=ex).update(lease_until=None)
        return False
    if isinstance(outcome, Suspend):
        _suspend(execution, step, outcome)
        return False
    if move(
        TaskRun,
        pk,
        ex,
        T.RUNNING,
        T.FAILED,
        where=owner,
        error=outcome.error,
        ended_at=now(),
        lease_until=None,
    ):
        move(
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
    if not move(
        TaskRun,
        step.task_run_id,
        execution.pk,
        T.RUNNING,
        T.PAUSED,
        where={"attempt": step.attempt},
        logs=pause.logs,
        lease_until=None,
    ):
        return
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
    names = dict.fromkeys(pause.assignees)
    TokenAssignee.objects.bulk_create(TokenAssignee(token=token, name=n) for n in names)
    deadline = pause.expires_at.isoformat() if pause.expires_at else None
    audit(
        execution.pk,
        SuspensionToken,
        token.pk,
        "",
        S.WAITING,
        data={"expires_at": deadline},
    )
    move(
        Execution,
        execution.pk,
        execution.pk,
        E.RUNNING,
        E.PAUSED,
        lease_until=None,
        data={"token": str(token.pk)},
    )


def cancel(execution_id, *, actor=None, channel: str = "admin") -> bool:
    """Cancel an unfinished execution with its waiting tokens and open task runs."""
    with atomic():
        execution = lock_execution(execution_id)
        if execution is None or execution.state in Execution.TERMINAL:
            return False
        moment = now()
        for token in execution.tokens.filter(state=S.WAITING):
            move(
                SuspensionToken,
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
        for run in execution.task_runs.filter(state__in=(T.RUNNING, T.PAUSED)):
            move(
                TaskRun,
                run.pk,
                execution.pk,
                run.state,
                T.CANCELLED,
                ended_at=moment,
                lease_until=None,
                wake_at=None,
            )
        return move(
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
