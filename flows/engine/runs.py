"""Running executions: start, walk the task tree step by step, end, cancel.

advance() locks the execution row, asks flows.walker what comes next and applies
it. Tasks that do no I/O (flowables, Return, Log, Pause, Sleep, Fail) run inside
that transaction, in slices bounded in time so the lock is never held long; one
task with I/O (HTTP, shell) is claimed and run between two transactions, and when
more are ready another wake-up is queued so other workers take them at once.
"""

import time

from django.conf import settings

from flows import inputs, retry, steps, templating, walker
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
    lock_execution,
    move,
    now,
)
from flows.models import Execution, Flow, SuspensionToken, TaskRun, TokenAssignee
from flows.tasks import get_task_type
from flows.tasks.base import Done, SleepUntil, StepContext, Suspend, TaskError
from flows.tasks.flowable import is_truthy

MAX_STEPS_PER_CALL = 200
SLICE_SECONDS = 0.2
MAX_ACTIONS_PER_SLICE = 500


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
    """Walk the execution until it pauses, sleeps, ends or another worker has it.

    Safe to call twice at once and again after a crash: every step is claimed under
    the execution's row lock, and its result is recorded only by the attempt that
    claimed it.
    """
    step, outcome = None, None
    for _ in range(MAX_STEPS_PER_CALL):
        with atomic():
            execution = lock_execution(execution_id)
            if execution is None:
                return
            if step is not None:
                _record(execution, step, outcome)
            step = _walk(execution)
        if step is None:
            return
        with heartbeat(step.task_run_id, step.attempt):
            outcome = steps.run_step(step)
    with atomic():  # a very long flow yields the worker, then goes on
        execution = lock_execution(execution_id)
        if execution is not None:
            _record(execution, step, outcome)
            enqueue(execution_id)


def _walk(execution: Execution) -> steps.Step | None:
    """Apply what the walker says, inline, for one slice; return a step to run."""
    if execution.state == E.CREATED:
        moment = now()
        move(
            Execution,
            execution.pk,
            execution.pk,
            E.CREATED,
            E.RUNNING,
            started_at=moment,
        )
        execution.state, execution.started_at = E.RUNNING, moment
    runs = {run.path: run for run in execution.task_runs.all()}
    claimed, more = None, False
    deadline = time.monotonic() + SLICE_SECONDS
    for _ in range(MAX_ACTIONS_PER_SLICE):
        if execution.state != E.RUNNING:
            return None
        walk = walker.Walk(execution.revision.definition, runs, now(), execution.ending)
        actions = walk.flow()
        if actions and isinstance(actions[0], walker.Finish):
            _finish(execution, actions[0].state)
            return None
        progressed = False
        for action in actions:
            if _is_inline(action):
                ending = execution.ending
                _apply(execution, runs, action)
                progressed = True
                if execution.state != E.RUNNING or execution.ending != ending:
                    break  # ended early: walk again from the new state
            elif claimed is None:
                claimed = _claim(execution, runs, action)
                progressed = True
            else:
                more = True  # ready too: another worker takes it
        if not progressed:
            break
        if time.monotonic() > deadline:
            more = True
            break
    else:
        more = True
    if more:
        _wake_later(execution)
    elif claimed is not None:
        # The claimed step's own lease, renewed by its heartbeat, covers it now.
        Execution.objects.filter(pk=execution.pk).update(lease_until=None)
    elif execution.state == E.RUNNING:
        _park(execution, walk)
    return claimed


def _is_inline(action) -> bool:
    if isinstance(action, walker.Settle | walker.Finish):
        return True
    return steps.runs_inline(action.task)


def _park(execution: Execution, walk: walker.Walk) -> None:
    """Nothing to do now: wait for people (PAUSED) or for machines (RUNNING)."""
    if walk.people and not walk.machines:
        move(
            Execution, execution.pk, execution.pk, E.RUNNING, E.PAUSED, lease_until=None
        )
        execution.state = E.PAUSED
    else:
        Execution.objects.filter(pk=execution.pk).update(lease_until=None)


def _wake_later(execution: Execution) -> None:
    Execution.objects.filter(pk=execution.pk).update(lease_until=now() + lease())
    enqueue(execution.pk)


# -- applying the walker's actions ---------------------------------------------


def _apply(execution, runs, action) -> None:
    """Apply one inline action: start or retry a task, or settle a flowable."""
    if isinstance(action, walker.Settle):
        _settle(execution, runs, action)
        return
    step = _claim(execution, runs, action)
    if step is None:
        return
    if get_task_type(step.task["type"]).flowable:
        _begin_flowable(execution, step)
    else:
        _record(execution, step, steps.run_step(step))


def _claim(execution, runs, action) -> steps.Step | None:
    """Make the action's run RUNNING for a new attempt; None if skipped or taken."""
    moment = now()
    if isinstance(action, walker.Start):
        run = _start_run(execution, runs, action, moment)
    elif isinstance(action, walker.Retake):
        run = _retake(execution, action.task, action.run, moment)
    else:
        run = _next_attempt(execution, action.run, moment)
    if run is None or run.state != T.RUNNING:
        return None
    return _step(execution, runs, action.task, run)


def _step(execution, runs, task, run) -> steps.Step:
    return steps.Step(
        execution_id=execution.pk,
        task_run_id=run.pk,
        attempt=run.attempt,
        task=task,
        variables=steps.build_variables(execution, runs),
        started_at=run.started_at,
        lease_until=run.lease_until,
        run=run,
        loop=tuple(run.loop),
    )


def _start_run(execution, runs, action: walker.Start, moment) -> TaskRun:
    task = action.task
    state, error = T.RUNNING, ""
    if "runIf" in task:
        variables = steps.step_variables(
            _step(execution, runs, task, _draft(action, moment))
        )
        try:
            state = (
                T.RUNNING
                if is_truthy(templating.render(task["runIf"], variables))
                else T.SKIPPED
            )
        except templating.RenderError as exc:
            state, error = T.FAILED, str(exc)
    flowable = get_task_type(task["type"]).flowable
    run = TaskRun.objects.create(
        execution=execution,
        parent=action.parent,
        path=action.path,
        branch=action.branch,
        loop=list(action.loop),
        task_id=task["id"],
        task_type=task["type"],
        state=state,
        attempt=1,
        started_at=moment,
        ended_at=None if state == T.RUNNING else moment,
        lease_until=moment + lease() if state == T.RUNNING and not flowable else None,
        error=error,
    )
    data = {"attempt": 1, **({"error": error} if error else {})}
    audit(execution.pk, TaskRun, run.pk, "", state, data=data)
    runs[run.path] = run
    return run


def _draft(action: walker.Start, moment) -> TaskRun:
    """An unsaved run, so `runIf` sees the task run's variables before it exists."""
    return TaskRun(
        path=action.path,
        task_id=action.task["id"],
        attempt=1,
        started_at=moment,
        loop=list(action.loop),
    )


def _retake(execution, task, run: TaskRun, moment) -> TaskRun | None:
    """A new attempt of a step whose worker stopped renewing its lease."""
    losses = run.losses + 1
    if losses >= settings.SIGNOFF_MAX_ATTEMPTS:
        error = f"worker lost {losses} times"
        moved = move(
            TaskRun,
            run.pk,
            execution.pk,
            T.RUNNING,
            T.FAILED,
            where={"attempt": run.attempt},
            error=error,
            losses=losses,
            ended_at=moment,
            lease_until=None,
            data={"error": error},
        )
        if moved:
            run.state, run.error, run.losses = T.FAILED, error, losses
        return None
    attempt = run.attempt + 1
    if not move(
        TaskRun,
        run.pk,
        execution.pk,
        T.RUNNING,
        T.RUNNING,
        where={"attempt": run.attempt},
        attempt=attempt,
        losses=losses,
        lease_until=moment + lease(),
        data={"attempt": attempt, "reason": "worker lost"},
    ):
        return None
    run.attempt, run.losses = attempt, losses
    run.lease_until = moment + lease()
    return run


def _next_attempt(execution, run: TaskRun, moment) -> TaskRun | None:
    """The next attempt of a failed task whose retry interval has passed."""
    attempt = run.attempt + 1
    if not move(
        TaskRun,
        run.pk,
        execution.pk,
        T.RETRYING,
        T.RUNNING,
        where={"attempt": run.attempt},
        attempt=attempt,
        wake_at=None,
        lease_until=moment + lease(),
        data={"attempt": attempt, "reason": "retry"},
    ):
        return None
    run.state, run.attempt, run.wake_at = T.RUNNING, attempt, None
    run.lease_until = moment + lease()
    return run


def _begin_flowable(execution, step: steps.Step) -> None:
    """Let a flowable decide what it runs (condition, value, values) or suspend."""
    task_type = get_task_type(step.task["type"])
    variables = steps.step_variables(step)
    ctx = StepContext(
        execution_id=step.execution_id,
        task=step.task,
        variables=variables,
        started_at=step.started_at,
        render=lambda value: templating.render(value, variables),
    )
    try:
        begun = task_type.begin(ctx)
    except (TaskError, templating.RenderError, ValueError) as exc:
        _record(execution, step, steps.Failure(str(exc)))
        return
    if isinstance(begun, Suspend):
        _suspend(execution, step, begun)
        return
    TaskRun.objects.filter(pk=step.task_run_id).update(outputs=begun)
    step.run.outputs = begun


def _settle(execution, runs, action: walker.Settle) -> None:
    run = action.run
    data = {"error": action.error} if action.error else None
    if not move(
        TaskRun,
        run.pk,
        execution.pk,
        run.state,
        action.state,
        error=action.error,
        ended_at=now(),
        data=data,
    ):
        return
    run.state, run.error = action.state, action.error
    if action.ending:
        end_early(execution, action.ending, reason=action.error)
        runs.clear()
        runs.update({r.path: r for r in execution.task_runs.all()})


# -- recording a step's outcome ------------------------------------------------


def _record(execution: Execution, step: steps.Step, outcome: steps.Outcome) -> None:
    """Record a step's outcome, conditional on the attempt that ran it.

    A step retaken by a later attempt after its lease ran out is recorded by that
    attempt only; nothing is recorded once the execution stopped running.
    """
    if execution.state != E.RUNNING:
        return
    run, owner = step.run, {"attempt": step.attempt}
    policy = step.task.get("retry")
    if isinstance(outcome, Done):
        warned = outcome.warning or retry.warns(policy, step.attempt)
        target = walker.tolerated(step.task, T.WARNING if warned else T.SUCCESS)
        if move(
            TaskRun,
            run.pk,
            execution.pk,
            T.RUNNING,
            target,
            where=owner,
            outputs=outcome.outputs,
            logs=outcome.logs,
            ended_at=now(),
            lease_until=None,
        ):
            run.state, run.outputs = target, outcome.outputs
    elif isinstance(outcome, SleepUntil):
        if TaskRun.objects.filter(pk=run.pk, state=T.RUNNING, **owner).update(
            wake_at=outcome.wake_at, lease_until=None
        ):
            run.wake_at = outcome.wake_at
    elif isinstance(outcome, Suspend):
        _suspend(execution, step, outcome)
    else:
        _fail(execution, step, outcome.error, policy)


def _fail(execution, step: steps.Step, error: str, policy) -> None:
    """A failed attempt: retry later, end WARNING (allowFailure) or FAILED."""
    run, moment = step.run, now()
    owner = {"attempt": step.attempt}
    wait = retry.next_wait(policy, step.attempt, run.started_at, moment)
    if wait is not None:
        if move(
            TaskRun,
            run.pk,
            execution.pk,
            T.RUNNING,
            T.RETRYING,
            where=owner,
            error=error,
            wake_at=moment + wait,
            lease_until=None,
            data={"error": error, "attempt": step.attempt},
        ):
            run.state, run.error, run.wake_at = T.RETRYING, error, moment + wait
        return
    target = walker.tolerated(step.task, T.FAILED)
    if move(
        TaskRun,
        run.pk,
        execution.pk,
        T.RUNNING,
        target,
        where=owner,
        error=error,
        ended_at=moment,
        lease_until=None,
        data={"error": error},
    ):
        run.state, run.error = target, error


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
    step.run.state = T.PAUSED
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
        options=pause.options,
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
        data={"expires_at": deadline, "path": step.run.path},
    )
    if pause.options.get("kind") == "approval":
        outputs = {"due": deadline, "url": _screen_url(token.pk)}
        TaskRun.objects.filter(pk=step.task_run_id).update(outputs=outputs)
        step.run.outputs = outputs


def _screen_url(token_id) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        path = reverse("approvals:answer", args=[token_id])
    except NoReverseMatch:
        return ""
    return settings.SIGNOFF_BASE_URL.rstrip("/") + path


def _finish(execution: Execution, target: str) -> None:
    move(
        Execution,
        execution.pk,
        execution.pk,
        E.RUNNING,
        target,
        ended_at=now(),
        lease_until=None,
    )
    execution.state = target


# -- ending early: cancel, or an Approval's CANCEL / SUCCEED / KILL ------------


def cancel(execution_id, *, actor=None, channel: str = "admin") -> bool:
    """Cancel an unfinished execution: its waits end, its `finally` tasks run."""
    with atomic():
        execution = lock_execution(execution_id)
        if execution is None or execution.state in Execution.TERMINAL:
            return False
        if execution.ending:
            return False  # already ending; its finally tasks are running
        end_early(execution, E.CANCELLED, actor=actor, channel=channel)
        return True


def end_early(execution, target: str, *, actor=None, channel="", reason="") -> None:
    """Close every open wait and step; end now, or once `finally` ran.

    The caller holds the execution's row lock. KILL ends at once, as Kestra's
    kill does; the other ends let the flow's `finally` tasks run first.
    """
    moment = now()
    closed = {"resolved_at": moment, "resolved_by": actor}
    for token in execution.tokens.filter(state=S.WAITING):
        move(
            SuspensionToken,
            token.pk,
            execution.pk,
            S.WAITING,
            S.CANCELLED,
            actor=actor,
            channel=channel,
            resolved_by_name=actor_name(actor),
            **closed,
        )
    run_target = T.KILLED if target == E.KILLED else T.CANCELLED
    for run in execution.task_runs.filter(state__in=TaskRun.OPEN):
        move(
            TaskRun,
            run.pk,
            execution.pk,
            run.state,
            run_target,
            ended_at=moment,
            lease_until=None,
            wake_at=None,
        )
    data = {"reason": reason} if reason else None
    definition = execution.revision.definition
    if target == E.KILLED or not definition.get("finally"):
        move(
            Execution,
            execution.pk,
            execution.pk,
            execution.state,
            target,
            actor=actor,
            channel=channel,
            ended_at=moment,
            lease_until=None,
            data=data,
        )
        execution.state = target
        return
    Execution.objects.filter(pk=execution.pk).update(ending=target)
    audit(
        execution.pk,
        Execution,
        execution.pk,
        execution.state,
        execution.state,
        actor=actor,
        channel=channel,
        data={"ending": target, **(data or {})},
    )
    execution.ending = target
    if execution.state == E.PAUSED:
        move(Execution, execution.pk, execution.pk, E.PAUSED, E.RUNNING, actor=actor)
        execution.state = E.RUNNING
    _wake_later(execution)
