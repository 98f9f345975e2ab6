"""One step of an execution: its variables, and running its task.

Nothing here writes a state; flows.engine records what a step returns, and
flows.walker says which step comes next.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flows import secrets, templating, timeouts
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
    loop: tuple = ()
    # The plaintext of every secret the variables hold: scrubbed from what it writes.
    secrets: frozenset = frozenset()


@dataclass
class Failure:
    error: str


Outcome = Done | Suspend | SleepUntil | Failure


def runs_inline(task: dict) -> bool:
    """Tasks without I/O run inside the claiming transaction (one commit per batch)."""
    task_type = get_task_type(task["type"])
    return task_type is not None and task_type.runs_inline


def build_variables(
    execution: Execution, runs: dict[str, TaskRun], known: set | None = None
) -> dict:
    """The names expressions may use, except task/taskrun (set per step).

    The only place secrets are decrypted: tasks read SECRET inputs and answers in
    clear; `known` collects their plaintexts.
    """
    definition = execution.revision.definition
    flow = execution.flow
    return {
        "inputs": secrets.reveal(execution.inputs, known),
        "outputs": secrets.reveal(outputs_of(runs.values()), known),
        "flow": {
            "id": flow.flow_id,
            "namespace": flow.namespace,
            "revision": execution.revision.revision,
        },
        "execution": {"id": str(execution.id), "startDate": _iso(execution.started_at)},
        "labels": execution.labels,
        "vars": definition.get("variables") or {},
    }


def outputs_of(runs) -> dict:
    """`outputs.<id>` of finished runs; inside a ForEach, `outputs.<id>[value]...`.

    A flowable still running shows what it decided (an Approval's decision), so
    its branches can read it.
    """
    outputs: dict = {}
    for run in runs:
        open_flowable = run.state in (TaskRun.State.RUNNING, TaskRun.State.PAUSED)
        if run.state not in TaskRun.DONE and not (open_flowable and run.outputs):
            continue
        if not run.loop:
            outputs[run.task_id] = run.outputs
            continue
        node = outputs.setdefault(run.task_id, {})
        for value in run.loop[:-1]:
            node = node.setdefault(value, {})
        node[run.loop[-1]] = run.outputs
    return outputs


def step_variables(step: Step) -> dict:
    """The execution's variables plus this task's and task run's own."""
    task, loop = step.task, list(step.loop)
    taskrun = {
        "id": str(step.task_run_id),
        "startDate": _iso(step.started_at),
        # Kestra counts the attempts before this one: 0 on the first.
        "attemptsCount": step.attempt - 1,
    }
    variables = {
        **step.variables,
        "task": {"id": task["id"], "type": task["type"]},
        "taskrun": taskrun,
    }
    if loop:
        taskrun["value"] = loop[-1]
        variables["parents"] = [{"taskrun": {"value": v}} for v in reversed(loop[:-1])]
        if len(loop) > 1:
            variables["parent"] = variables["parents"][0]
    return variables


def run_step(step: Step) -> Outcome:
    """Run the step's task outside any transaction; every failure becomes Failure."""
    task = step.task
    variables = step_variables(step)
    ctx = StepContext(
        execution_id=step.execution_id,
        task=task,
        variables=variables,
        started_at=step.started_at,
        render=lambda value: templating.render(value, variables),
        task_path=step.run.path if step.run else task["id"],
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
