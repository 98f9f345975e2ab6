"""Pause: suspend the execution and wait for a person, a channel or a deadline."""

from flows import inputs, reaching
from flows.durations import parse_duration
from flows.tasks.base import Property, StepContext, Suspend, TaskError, TaskType

SCREENS = ("approval", "form", "review")
BEHAVIORS = ("RESUME", "WARN", "FAIL", "CANCEL")
REJECT_BEHAVIORS = ("CONTINUE", "WARN", "FAIL", "CANCEL")
COMMENT_RULES = ("NEVER", "ALWAYS", "ON_DENY", "ON_APPROVE")

# Who may answer, shared by Pause and Approval (Signoff's additions to Kestra).
PEOPLE_PROPERTIES = {
    "message": Property("template"),
    "assignees": Property("assignees"),
    "approvals": Property("int"),
    "allowSelfApproval": Property("bool"),
    "notify": Property("notify"),
    "remind": Property("remind"),
    "escalate": Property("escalate"),
}
# `assignees: {users: [...], groups: [...]}`: two namespaces, never one, so a
# user who happens to be called like a group is not that group.
ASSIGNEE_KINDS = ("users", "groups")
MAX_NAME_LENGTH = 150  # Django's user and group names


def parse_assignees(value) -> dict[str, list[str]]:
    """`{users: [...], groups: [...]}` with both keys; ValueError says what is wrong.

    The old list form is refused: `[managers]` does not say whether managers is a
    user or a group, and guessing is how a user named like a group answered for it.
    """
    if value == []:  # nobody named: open to every member, as with no key at all
        value = {}
    if isinstance(value, list):
        names = ", ".join(str(name) for name in value)
        raise ValueError(
            "'assignees' must say which names are users and which are groups: "
            f"write assignees: {{groups: [{names}]}} or {{users: [{names}]}} "
            f"(or both keys), not a list"
        )
    if not isinstance(value, dict):
        raise ValueError(
            "'assignees' must be a mapping with 'users' and/or 'groups', "
            f"e.g. {{groups: [managers]}}, not {value!r}"
        )
    unknown = [str(key) for key in value if key not in ASSIGNEE_KINDS]
    if unknown:
        raise ValueError(
            f"unknown key '{unknown[0]}' in 'assignees' (expected users, groups)"
        )
    return {kind: _names(kind, value.get(kind)) for kind in ASSIGNEE_KINDS}


def _names(kind: str, names) -> list[str]:
    if names is None:
        return []
    noun = kind[:-1]
    if not isinstance(names, list):
        raise ValueError(f"'assignees.{kind}' must be a list of {noun} names")
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(
                f"'assignees.{kind}' must list {noun} names as text, not {name!r}"
            )
        if len(name) > MAX_NAME_LENGTH and "{{" not in name:
            raise ValueError(
                f"'assignees.{kind}': {name[:20]!r}... is longer than "
                f"{MAX_NAME_LENGTH} characters, so no {noun} has that name"
            )
    return names


def render_assignees(ctx: StepContext, assignees) -> dict[str, list[str]]:
    """Each (templated) name rendered; a name rendered empty fails the task run
    rather than leaving the pause open to everyone."""
    try:
        assignees = parse_assignees(assignees or {})
    except ValueError as exc:  # a list stored before assignees had kinds
        raise TaskError(str(exc)) from exc
    rendered = {}
    for kind, names in assignees.items():
        done = [str(ctx.render(name)).strip() for name in names]
        for raw, name in zip(names, done, strict=True):
            if not name or len(name) > MAX_NAME_LENGTH:
                size = "empty" if not name else f"{len(name)} characters long"
                raise TaskError(f"'assignees.{kind}' entry {raw!r} rendered {size}")
        rendered[kind] = list(dict.fromkeys(done))
    return rendered


def check_people(task: dict) -> list[str]:
    problems = []
    if task.get("approvals") is not None and task["approvals"] < 1:
        problems.append("'approvals' must be at least 1")
    if task.get("escalate") and not any((task.get("assignees") or {}).values()):
        # Adding approvers to a pause open to everyone would close it to the rest.
        problems.append(
            "'escalate' needs 'assignees': a pause without them is open to every "
            "member already"
        )
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
    options = {**options, **reach(ctx, task)}
    return Suspend(
        screen=screen,
        schema=schema,
        message=str(ctx.render(task.get("message", ""))),
        assignees=render_assignees(ctx, task.get("assignees")),
        approvals_required=int(task.get("approvals") or 1),
        allow_self_approval=bool(task.get("allowSelfApproval", False)),
        behavior=behavior,
        expires_at=expires_at,
        options=options,
    )


def reach(ctx: StepContext, task: dict) -> dict:
    """The token's `notify`, `remindSeconds` and `escalate` options, rendered."""
    try:
        notify = reaching.parse_notify(task.get("notify"))
        if isinstance(notify["slack"], str):
            notify["slack"] = str(ctx.render(notify["slack"])).strip()
        found = {"notify": notify}
        if task.get("remind"):
            every = reaching.parse_remind(str(ctx.render(task["remind"])))
            found["remindSeconds"] = reaching.interval_seconds(every, "remind")
        if task.get("escalate"):
            escalate = reaching.parse_escalate(task["escalate"])
            after = str(ctx.render(escalate["after"]))
            found["escalate"] = {
                "afterSeconds": reaching.interval_seconds(after, "escalate.after"),
                "to": render_assignees(ctx, escalate["to"]),
            }
    except ValueError as exc:
        raise TaskError(str(exc)) from exc
    return found


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
