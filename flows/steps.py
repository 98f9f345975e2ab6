"""One step of an execution: which task comes next, its variables, and running it.

Nothing here writes a state; flows.engine records what a step returns.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flows import templating, timeouts
from flows.models import Execution, TaskRun
from flows.tasks import get_task_type
from flows.tasks.base import Done, SleepUntil, StepContext, Suspend, TaskError

logger = logging.getLogger(__name__)


@dataclass
class Step:
    execution_id: Any
    task_run_id: Any
    attempt: int
    task: dict
    variables: dict
    started_at: datetime
    lease_until: datetime | None = None
    run: TaskRun | None = None


@dataclass
class Failure:
    error: str


Outcome = Done | Suspend | SleepUntil | Failure


@dataclass
class Next:
    """What the task tree says: start `task` at `path`, wait, or all is done."""

    kind: str  # "start" | "retake" | "wait" | "done"
    task: dict | None = None
    path: str = ""
    run: TaskRun | None = None
    branch: str = ""


def _in_order(tasks: list[dict]):
    """(path, branch, task) in run order; a Pause's onPause task runs just before it."""
    for task in tasks:
        if task.get("disabled"):
            continue
        on_pause = task.get("onPause")
        if on_pause and not on_pause.get("disabled"):
            yield f"{task['id']}.onPause.{on_pause['id']}", "onPause", on_pause
        yield task["id"], "", task


def find_next(tasks: list[dict], runs: dict[str, TaskRun], now: datetime) -> Next:
    """Walk the task tree in order and say what happens next."""
    for path, branch, task in _in_order(tasks):
        run = runs.get(path)
        if run is None:
            return Next("start", task, path, branch=branch)
        if run.state in TaskRun.DONE:
            continue
        running = run.state == TaskRun.State.RUNNING and run.wake_at is None
        if running and (run.lease_until is None or run.lease_until < now):
            return Next("retake", task, path, run)
        return Next("wait")
    return Next("done")


def runs_inline(step: Step) -> bool:
    """Tasks without I/O run inside the claiming transaction (one commit per batch)."""
    task_type = get_task_type(step.task["type"])
    return task_type is not None and task_type.runs_inline


def build_variables(execution: Execution, runs: dict[str, TaskRun]) -> dict:
    """The names expressions may use, except task/taskrun (set per step)."""
    definition = execution.revision.definition
    flow = execution.flow
    return {
        "inputs": execution.inputs,
        "outputs": {
            run.task_id: run.outputs
            for run in runs.values()
            if run.state in TaskRun.DONE
        },
        "flow": {
            "id": flow.flow_id,
            "namespace": flow.namespace,
            "revision": execution.revision.revision,
        },
        "execution": {"id": str(execution.id), "startDate": _iso(execution.started_at)},
        "labels": execution.labels,
        "vars": definition.get("variables") or {},
    }


def run_step(step: Step) -> Outcome:
    """Run the step's task outside any transaction; every failure becomes Failure."""
    task = step.task
    variables = {
        **step.variables,
        "task": {"id": task["id"], "type": task["type"]},
        "taskrun": {
            "id": str(step.task_run_id),
            "startDate": _iso(step.started_at),
            "attemptsCount": step.attempt,
        },
    }
    ctx = StepContext(
        execution_id=step.execution_id,
        task=task,
        variables=variables,
        started_at=step.started_at,
        render=lambda value: templating.render(value, variables),
    )
    task_type = get_task_type(task["type"])
    if task_type is None:
        return Failure(f"unknown task type {task['type']!r}")
    try:
        return timeouts.run_task(task_type, ctx)  # bounded by the task's `timeout`
    except (TaskError, templating.RenderError, ValueError) as exc:
        return Failure(str(exc))
    except Exception as exc:  # a bug in a task must fail the run, not the worker
        logger.exception(
            "task %s of execution %s crashed", task["id"], step.execution_id
        )
        return Failure(f"{type(exc).__name__}: {exc}")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
