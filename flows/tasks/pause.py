"""Pause: suspend the execution and wait for a person, a channel or a deadline."""

from flows import inputs
from flows.durations import parse_duration
from flows.tasks.base import Property, StepContext, Suspend, TaskError, TaskType

SCREENS = ("approval", "form", "review")
BEHAVIORS = ("RESUME", "WARN", "FAIL", "CANCEL")


class Pause(TaskType):
    runs_inline = True
    name = "io.kestra.plugin.core.flow.Pause"
    aliases = ("Pause", "io.kestra.core.tasks.flows.Pause")
    properties = {
        "pauseDuration": Property("duration"),
        "delay": Property("duration"),  # deprecated Kestra name of pauseDuration
        "behavior": Property("enum", choices=BEHAVIORS),
        "onResume": Property("inputs"),
        "onPause": Property("task"),
        "screen": Property("enum", choices=SCREENS),
        "message": Property("template"),
        "assignees": Property("list"),
        "approvals": Property("int"),
        "allowSelfApproval": Property("bool"),
    }

    def check(self, task: dict) -> list[str]:
        problems = []
        if task.get("approvals") is not None and task["approvals"] < 1:
            problems.append("'approvals' must be at least 1")
        assignees = task.get("assignees") or []
        if not all(isinstance(name, str) and name for name in assignees):
            problems.append("'assignees' must be a list of user or group names")
        return problems

    def run(self, ctx: StepContext) -> Suspend:
        task = ctx.task
        schema = task.get("onResume") or []
        duration_text = (
            task.get("pauseDuration") or task.get("delay") or task.get("timeout")
        )
        expires_at = None
        if duration_text:
            try:
                expires_at = ctx.started_at + parse_duration(
                    str(ctx.render(duration_text))
                )
            except ValueError as exc:
                raise TaskError(str(exc)) from exc
        inputs.parse_definitions(schema, where="onResume input")
        return Suspend(
            screen=task.get("screen") or ("form" if schema else "resume"),
            schema=schema,
            message=str(ctx.render(task.get("message", ""))),
            assignees=[str(name) for name in ctx.render(task.get("assignees") or [])],
            approvals_required=int(task.get("approvals") or 1),
            allow_self_approval=bool(task.get("allowSelfApproval", False)),
            behavior=task.get("behavior", "RESUME"),
            expires_at=expires_at,
        )
