"""Running executions: start, walk the task tree step by step, end, cancel.

advance() locks the execution row, asks flows.walker what comes next and applies
it. Tasks that do no I/O (flowables, Return, Log, Pause, Sleep, Fail) run inside
that transaction, in slices bounded in time so the lock is never held long; one
task with I/O (HTTP, shell) is claimed and run between two transactions, and when
more are ready another wake-up is queued so other workers take them at once.
"""

import time

from django.conf import settings

from flows import inputs, secrets, steps, templating, walker
from flows.engine import endings, holds, recording
from flows.engine.heartbeat import heartbeat
from flows.engine.transitions import (
    E,
    T,
    atomic,
    audit,
    enqueue,
    enqueue_each,
    lease,
    lock_execution,
    move_execution,
    move_run,
    now,
    track,
    wake_later,
)
from flows.models import Execution, Flow, TaskRun
from flows.tasks import get_task_type
from flows.tasks.base import StepContext, Suspend, TaskError
from flows.tasks.flowable import is_truthy

MAX_STEPS_PER_CALL = 200
SLICE_SECONDS = 0.2
MAX_ACTIONS_PER_SLICE = 500
# Executions started together that one wake-up walks, one after the other.
START_BATCH = 20


def start_execution(
    flow: Flow, data: dict | None = None, *, actor=None, labels=None
) -> Execution:
    """Validate the inputs against the flow's latest revision and queue a new run.

    While the flow is paused the execution is QUEUED until the flow is resumed.

    Raises inputs.InputValidationError naming each bad input, or its subclass
    secrets.KeyMissing when the flow holds a SECRET input and there is no key.
    """
    return start_executions(flow, [data], actor=actor, labels=labels)[0]


def start_executions(
    flow: Flow, many: list[dict | None], *, actor=None, labels=None
) -> list[Execution]:
    """Start one execution per inputs of `many`, at once: all or none.

    Every inputs are validated before any execution exists; they are created in
    one transaction, and one wake-up walks up to START_BATCH of them in turn, so
    a burst costs the queue a message per batch rather than per execution.
    """
    revision = flow.revisions.get(revision=flow.latest_revision)
    secrets.require_key(revision.definition)
    definitions = inputs.parse_definitions(revision.definition.get("inputs") or [])
    sealed = [
        secrets.seal(definitions, inputs.validate(definitions, data or {}))
        for data in many
    ]
    holds.check_startable(flow)
    paused = Flow.objects.filter(pk=flow.pk, is_paused=True).exists()
    labels = {**(revision.definition.get("labels") or {}), **(labels or {})}
    with atomic():
        executions = Execution.objects.bulk_create(
            Execution(
                tenant_id=flow.tenant_id,
                flow=flow,
                revision=revision,
                inputs=values,
                labels=labels,
                created_by=actor,
                lease_until=None if paused else now() + lease(),
                hold=Execution.Hold.FLOW if paused else "",
            )
            for values in sealed
        )
        for execution in executions:
            track(execution)  # a new row: its chain starts here, nobody else sees it
            audit(
                execution.pk,
                Execution,
                execution.pk,
                "",
                E.CREATED,
                actor=actor,
                data={"inputs": execution.inputs},
            )
            if paused:  # holds.resume_flow starts it
                move_execution(execution, E.QUEUED, data={"reason": "flow paused"})
        if not paused:
            ids = [execution.pk for execution in executions]
            for first in range(0, len(ids), START_BATCH):
                batch = ids[first : first + START_BATCH]
                if len(batch) == 1:
                    enqueue(batch[0])
                else:
                    enqueue_each(batch)
    return executions


def advance(execution_id) -> None:
    """Walk the execution until it pauses, sleeps, ends or another worker has it.

    Safe to call twice at once and again after a crash: every step is claimed under
    the execution's row lock, and its result is recorded only by the attempt that
    claimed it.
    """
    step, outcome = None, None
    for _ in range(MAX_STEPS_PER_CALL):
        with atomic():
            execution = lock_execution(execution_id, hold=True)
            if execution is None:
                return
            if step is not None:
                recording.record(execution, step, outcome)
            step = _walk(execution)
        if step is None:
            return
        with heartbeat(step.task_run_id, step.attempt):
            outcome = steps.run_step(step)
    with atomic():  # a very long flow yields the worker, then goes on
        execution = lock_execution(execution_id, hold=True)
        if execution is not None:
            recording.record(execution, step, outcome)
            enqueue(execution_id)


def _walk(execution: Execution) -> steps.Step | None:
    """Apply what the walker says, inline, for one slice; return a step to run."""
    held = holds.holding(execution)
    if execution.state == E.CREATED:
        if held:
            move_execution(execution, E.QUEUED, lease_until=None)
            return None
        move_execution(execution, E.RUNNING, started_at=now())
        runs = {}  # a run is made only by a walk, and this is the first
    else:
        runs = {run.path: run for run in execution.task_runs.all()}
    claimed, more, holding = None, False, False
    deadline = time.monotonic() + SLICE_SECONDS
    for _ in range(MAX_ACTIONS_PER_SLICE):
        if execution.state != E.RUNNING:
            return None
        walk = walker.Walk(execution.revision.definition, runs, now(), execution.ending)
        actions = walk.flow()
        if held:  # steps in flight settle; none starts, retries or is retaken
            kept = [a for a in actions if isinstance(a, walker.Settle | walker.Finish)]
            holding, actions = len(kept) < len(actions), kept
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
        wake_later(execution.pk)
    elif claimed is not None:
        # The claimed step's own lease, renewed by its heartbeat, covers it now.
        Execution.objects.filter(pk=execution.pk).update(lease_until=None)
    elif holding:  # RUNNING with no lease: holds.resume wakes it
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
        move_execution(execution, E.PAUSED, lease_until=None)
    else:
        Execution.objects.filter(pk=execution.pk).update(lease_until=None)


# -- applying the walker's actions ---------------------------------------------


def _apply(execution, runs, action) -> None:
    """Apply one inline action: start or retry a task, or settle a flowable."""
    if isinstance(action, walker.Settle):
        _settle(execution, runs, action)
        return
    flowable = get_task_type(action.task["type"]).flowable
    step = _claim(execution, runs, action, unwritten=not flowable)
    if step is None:
        return
    if flowable:
        _begin_flowable(execution, step)
        return
    recording.record(execution, step, steps.run_step(step))
    if step.run._state.adding:  # recorded nothing (cannot happen while RUNNING)
        step.run.save(force_insert=True)


def _claim(execution, runs, action, *, unwritten=False) -> steps.Step | None:
    """Make the action's run RUNNING for a new attempt; None if skipped or taken.

    `unwritten`: a new run of a task that runs inline, in this transaction, is
    written once, by recording its outcome (no one else can see it before that).
    """
    moment = now()
    if isinstance(action, walker.Start):
        run = _start_run(execution, runs, action, moment, unwritten)
    elif isinstance(action, walker.Retake):
        run = _retake(execution, action.task, action.run, moment)
    else:  # a retry whose interval has passed
        run = _new_attempt(execution, action.run, moment, "retry", wake_at=None)
    if run is None or run.state != T.RUNNING:
        return None
    return _step(execution, runs, action.task, run)


def _step(execution, runs, task, run) -> steps.Step:
    known: set[str] = set()
    return steps.Step(
        execution_id=execution.pk,
        task_run_id=run.pk,
        attempt=run.attempt,
        task=task,
        variables=steps.build_variables(execution, runs, known),
        secrets=frozenset(known),
        started_at=run.started_at,
        lease_until=run.lease_until,
        run=run,
        loop=tuple(run.loop),
    )


def _start_run(
    execution, runs, action: walker.Start, moment, unwritten=False
) -> TaskRun:
    task = action.task
    state, error = T.RUNNING, ""
    if "runIf" in task:
        draft = _step(execution, runs, task, _draft(action, moment))
        variables = steps.step_variables(draft)
        try:
            state = (
                T.RUNNING
                if is_truthy(templating.render(task["runIf"], variables))
                else T.SKIPPED
            )
        except templating.RenderError as exc:
            state, error = T.FAILED, secrets.scrub(str(exc), draft.secrets)
    flowable = get_task_type(task["type"]).flowable
    run = TaskRun(
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
    if not (unwritten and state == T.RUNNING):
        run.save(force_insert=True)
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
        move_run(
            execution,
            run,
            T.FAILED,
            owner=run.attempt,
            data={"error": error},
            error=error,
            losses=losses,
            ended_at=moment,
            lease_until=None,
        )
        return None
    return _new_attempt(execution, run, moment, "worker lost", losses=losses)


def _new_attempt(execution, run: TaskRun, moment, reason: str, **fields):
    """The run's next attempt, RUNNING under a fresh lease; None if another took it."""
    attempt = run.attempt + 1
    moved = move_run(
        execution,
        run,
        T.RUNNING,
        owner=run.attempt,
        data={"attempt": attempt, "reason": reason},
        attempt=attempt,
        lease_until=moment + lease(),
        **fields,
    )
    return run if moved else None


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
        recording.record(execution, step, steps.Failure(str(exc)))
        return
    if isinstance(begun, Suspend):
        recording.suspend(execution, step, begun)
        return
    begun = secrets.seal_derived(begun, step.secrets)
    TaskRun.objects.filter(pk=step.task_run_id).update(outputs=begun)
    step.run.outputs = begun


def _settle(execution, runs, action: walker.Settle) -> None:
    data = {"error": action.error} if action.error else None
    if not move_run(
        execution,
        action.run,
        action.state,
        data=data,
        error=action.error,
        ended_at=now(),
    ):
        return
    if action.ending:
        endings.end_early(execution, action.ending, reason=action.error)
        runs.clear()
        runs.update({r.path: r for r in execution.task_runs.all()})


def _finish(execution: Execution, target: str) -> None:
    move_execution(execution, target, ended_at=now(), lease_until=None)
