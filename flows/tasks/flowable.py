"""Flowable tasks: If, Switch, Sequential, Parallel and ForEach hold other tasks.

Each type is data plus small functions: `begin` decides once, when its run starts,
what it will run (the If's condition, the Switch's value, the ForEach's values) and
stores that in the run's outputs; `lanes` turns the stored choice into lanes of
children; `settle` says how the run ends once its children settled. The walker
(flows/walker.py) knows no type by name.
"""

import json

from flows.tasks.base import (
    Lane,
    Property,
    Settlement,
    StepContext,
    TaskError,
    TaskType,
)

# Kestra's TruthUtils: these rendered values are false, anything else is true.
FALSE_TEXTS = {"", "false", "0", "-0", "none", "null"}
BRANCH_LENGTH = 50  # TaskRun.branch


def is_truthy(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in FALSE_TEXTS


class Flowable(TaskType):
    runs_inline = True
    flowable = True
    handlers = {"errors": Property("tasks"), "finally": Property("tasks")}

    def begin(self, ctx: StepContext):
        """The run's outputs, decided once when it starts; raises TaskError."""
        return {}

    def lanes(self, task: dict, run) -> list[Lane]:
        raise NotImplementedError

    def concurrency(self, task: dict) -> int:
        """How many lanes may run at once; 0 means all of them."""
        return 1

    def waiting(self, run) -> bool:
        """True while the run waits for something other than its children."""
        return False

    def settle(self, task: dict, run, state: str) -> Settlement:
        return Settlement(state)


def _lane(run, branch: str, tasks, segment: str | None = None) -> Lane:
    segment = branch if segment is None else segment
    prefix = f"{run.path}.{segment}." if segment else f"{run.path}."
    return Lane(prefix, branch[:BRANCH_LENGTH], list(tasks or []), tuple(run.loop))


class If(Flowable):
    name = "io.kestra.plugin.core.flow.If"
    aliases = ("If", "io.kestra.core.tasks.flows.If")
    properties = {
        "condition": Property("template", required=True),
        "then": Property("tasks", required=True),
        "else": Property("tasks"),
        **Flowable.handlers,
    }

    def begin(self, ctx: StepContext) -> dict:
        rendered = ctx.render(ctx.task["condition"])
        return {"condition": str(rendered), "result": is_truthy(rendered)}

    def lanes(self, task, run) -> list[Lane]:
        branch = "then" if run.outputs.get("result") else "else"
        return [_lane(run, branch, task.get(branch))]


class Switch(Flowable):
    name = "io.kestra.plugin.core.flow.Switch"
    aliases = ("Switch", "io.kestra.core.tasks.flows.Switch")
    properties = {
        "value": Property("template", required=True),
        "cases": Property("cases"),
        "defaults": Property("tasks"),
        **Flowable.handlers,
    }

    def check(self, task: dict) -> list[str]:
        if not task.get("cases") and not task.get("defaults"):
            return ["a Switch needs 'cases', 'defaults' or both"]
        return []

    def begin(self, ctx: StepContext) -> dict:
        value = str(ctx.render(ctx.task["value"]))
        return {"value": value, "defaults": value not in (ctx.task.get("cases") or {})}

    def lanes(self, task, run) -> list[Lane]:
        value = run.outputs.get("value", "")
        if run.outputs.get("defaults"):
            return [_lane(run, "defaults", task.get("defaults"))]
        return [_lane(run, value, task["cases"][value])]


class Sequential(Flowable):
    name = "io.kestra.plugin.core.flow.Sequential"
    aliases = ("Sequential", "io.kestra.core.tasks.flows.Sequential")
    properties = {"tasks": Property("tasks", required=True), **Flowable.handlers}

    def lanes(self, task, run) -> list[Lane]:
        return [_lane(run, "tasks", task["tasks"], segment="")]


class Parallel(Flowable):
    """Every child is a lane of its own: they run at once, on any worker."""

    name = "io.kestra.plugin.core.flow.Parallel"
    aliases = ("Parallel", "io.kestra.core.tasks.flows.Parallel")
    properties = {
        "tasks": Property("tasks", required=True),
        "concurrent": Property("int"),
        **Flowable.handlers,
    }

    def check(self, task: dict) -> list[str]:
        if task.get("concurrent", 0) < 0:
            return ["'concurrent' must be 0 (no limit) or more"]
        return []

    def lanes(self, task, run) -> list[Lane]:
        return [_lane(run, "tasks", [child], segment="") for child in task["tasks"]]

    def concurrency(self, task) -> int:
        return task.get("concurrent", 0)


class ForEach(Flowable):
    """One lane per value, `concurrencyLimit` at a time (Kestra's default: 1)."""

    name = "io.kestra.plugin.core.flow.ForEach"
    aliases = ("ForEach", "io.kestra.core.tasks.flows.ForEach")
    properties = {
        "values": Property("any", required=True),
        "tasks": Property("tasks", required=True),
        "concurrencyLimit": Property("int"),
        **Flowable.handlers,
    }

    def check(self, task: dict) -> list[str]:
        problems = []
        if task.get("concurrencyLimit", 1) < 0:
            problems.append("'concurrencyLimit' must be 0 (no limit) or more")
        if not isinstance(task["values"], str | list):
            problems.append("'values' must be a list or an expression giving one")
        return problems

    def begin(self, ctx: StepContext) -> dict:
        values = ctx.render(ctx.task["values"])
        if isinstance(values, str):
            try:
                values = json.loads(values)
            except ValueError:
                raise TaskError(
                    f"'values' must give a JSON list, not {values[:100]!r}"
                ) from None
        if not isinstance(values, list):
            raise TaskError(f"'values' must give a list, not {type(values).__name__}")
        # Kestra hands each value to its iteration as text (objects as JSON).
        return {"values": [_as_text(value) for value in values]}

    def lanes(self, task, run) -> list[Lane]:
        parent_loop = tuple(run.loop)
        return [
            Lane(f"{run.path}.{i}.", str(i), task["tasks"], (*parent_loop, value))
            for i, value in enumerate(run.outputs.get("values", []))
        ]

    def concurrency(self, task) -> int:
        return task.get("concurrencyLimit", 1)


def _as_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
