"""Pause: suspend the execution and wait for a person, a channel or a deadline."""

from flows import inputs
from flows.durations import parse_duration
from flows.tasks.base import Property, StepContext, Suspend, TaskError, TaskType

SCREENS = ("approval", "form", "review")
BEHAVIORS = ("RESUME", "WARN", "FAIL", "CANCEL")
REJECT_BEHAVIORS = ("CONTINUE", "WARN", "FAIL", "CANCEL")
COMMENT_RULES = ("NEVER", "ALWAYS", "ON_DENY", "ON_APPROVE")

# Who may answer, shared by Pause and Approval (Signoff's additions to Kestra).
PEOPLE_PROPERTIES = {
    "message": Property("template"),
    "assignees": Property("list"),
    "approvals": Property("int"),
    "allowSelfApproval": Property("bool"),
}


def check_people(task: dict) -> list[str]:
    problems = []
    if task.get("approvals") is not None and task["approvals"] < 1:
        problems.append("'approvals' must be at least 1")
    assignees = task.get("assignees") or []
    if not all(isinstance(name, str) and name for name in assignees):
        problems.append("'assignees' must be a list of user or group names")
    return problems


def suspend(
    ctx: StepContext, *, screen: str, schema: list, deadline, behavior: str, options
) -> Suspend:
    """The Suspend for a Pause or an Approval: deadline, people, rendered message."""
    task = ctx.task
    expires_at = None
    if deadline:
        try:
            expires_at = ctx.started_at + parse_duration(str(ctx.render(deadline)))
        except ValueError as exc:
            raise TaskError(str(exc)) from exc
    inputs.parse_definitions(schema, where="onResume input")
    return Suspend(
        screen=screen,
        schema=schema,
        message=str(ctx.render(task.get("message", ""))),
        assignees=[str(name) for name in ctx.render(task.get("assignees") or [])],
        approvals_required=int(task.get("approvals") or 1),
        allow_self_approval=bool(task.get("allowSelfApproval", False)),
        behavior=behavior,
        expires_at=expires_at,
        options=options,
    )


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
        "rejectBehavior": Property("enum", choices=REJECT_BEHAVIORS),
        "commentRequired": Property("enum", choices=COMMENT_RULES),
        **PEOPLE_PROPERTIES,
    }

    def check(self, task: dict) -> list[str]:
        problems = check_people(task)
        for key in ("rejectBehavior", "commentRequired"):
            if key in task and task.get("screen") != "approval":
                problems.append(f"'{key}' needs 'screen: approval'")
        return problems

    def preludes(self, task: dict) -> list[tuple[str, dict]]:
        on_pause = task.get("onPause")
        return [("onPause", on_pause)] if on_pause else []

    def run(self, ctx: StepContext) -> Suspend:
        task = ctx.task
        schema = task.get("onResume") or []
        options = {"kind": "pause"}
        if task.get("screen") == "approval":
            options["rejectBehavior"] = task.get("rejectBehavior", "CANCEL")
            options["commentRequired"] = task.get("commentRequired", "NEVER")
        return suspend(
            ctx,
            screen=task.get("screen") or ("form" if schema else "resume"),
            schema=schema,
            deadline=task.get("pauseDuration")
            or task.get("delay")
            or task.get("timeout"),
            behavior=task.get("behavior", "RESUME"),
            options=options,
        )
