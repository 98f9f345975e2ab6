"""Kestra's Approval task: the approval screen with branches for each decision.

The run waits (PAUSED) for its token while `onWait` runs; the answer, or the
deadline, is stored in its outputs as APPROVED, DENIED or EXPIRED; `onApprove` or
`onDeny` then runs, and the run settles by `approveBehavior`, `denyBehavior` or
`expireBehavior`.
"""

from flows import secrets
from flows.tasks.base import Lane, Property, Settlement, StepContext
from flows.tasks.flowable import Flowable, _lane, is_truthy
from flows.tasks.pause import COMMENT_RULES, PEOPLE_PROPERTIES, check_people, suspend

BEHAVIORS = ("CONTINUE", "WARN", "FAIL", "SUCCEED", "CANCEL", "KILL")
APPROVED, DENIED, EXPIRED = "APPROVED", "DENIED", "EXPIRED"
BRANCHES = {APPROVED: "onApprove", DENIED: "onDeny"}


def settlement(behavior: str, state: str, error: str) -> Settlement:
    """What a behavior does to the task run and the execution.

    CONTINUE (and a Pause's RESUME) goes on; WARN goes on with a warning; FAIL fails
    the task (its `errors` handlers run); SUCCEED, CANCEL and KILL end the
    execution in that state once its `finally` tasks ran (KILL runs none).
    """
    if behavior in ("CONTINUE", "RESUME"):
        return Settlement(state)
    if behavior == "WARN":
        return Settlement("WARNING", error=error)
    if behavior == "FAIL":
        return Settlement("FAILED", error=error)
    ending = {"SUCCEED": "SUCCESS", "CANCEL": "CANCELLED", "KILL": "KILLED"}[behavior]
    task_state = "SUCCESS" if ending == "SUCCESS" else ending
    return Settlement(task_state, error=error, ending=ending)


class Approval(Flowable):
    name = "io.kestra.plugin.core.flow.Approval"
    aliases = ("Approval",)
    properties = {
        "inputs": Property("inputs"),
        "decisions": Property("any"),
        "commentRequired": Property("enum", choices=COMMENT_RULES),
        "autoApprove": Property("template"),
        "approveBehavior": Property("enum", choices=BEHAVIORS),
        "denyBehavior": Property("enum", choices=BEHAVIORS),
        "expireBehavior": Property("enum", choices=BEHAVIORS),
        "onWait": Property("tasks"),
        "onApprove": Property("tasks"),
        "onDeny": Property("tasks"),
        **PEOPLE_PROPERTIES,
        **Flowable.handlers,
    }

    def check(self, task: dict) -> list[str]:
        problems = check_people(task)
        if "decisions" in task and decision_labels(task) is None:
            problems.append(
                "'decisions' must be two button labels: a list [approve, deny] "
                "or a mapping with 'approve' and 'deny'"
            )
        return problems

    def begin(self, ctx: StepContext):
        task = ctx.task
        if "autoApprove" in task and is_truthy(ctx.render(task["autoApprove"])):
            return {
                "decision": APPROVED,
                "auto": True,
                "by": "system",
                "on": ctx.started_at.isoformat(),
                "comment": None,
                "inputs": {},
                "due": None,
                "url": None,
            }
        return suspend(
            ctx,
            screen="approval",
            schema=task.get("inputs") or [],
            deadline=task.get("timeout"),
            behavior=task.get("expireBehavior", "CANCEL"),
            options={
                "kind": "approval",
                "decisions": decision_labels(task),
                "commentRequired": task.get("commentRequired", "NEVER"),
                # For the screen to say what a denial does; the run settles by it.
                "denyBehavior": task.get("denyBehavior", "CANCEL"),
            },
        )

    def lanes(self, task, run) -> list[Lane]:
        auto = run.outputs.get("auto")
        lanes = [] if auto else [_lane(run, "onWait", task.get("onWait"))]
        branch = BRANCHES.get(run.outputs.get("decision"))
        if branch:
            lanes.append(_lane(run, branch, task.get(branch)))
        return lanes

    def concurrency(self, task) -> int:
        return 0

    def waiting(self, run) -> bool:
        return "decision" not in run.outputs

    def settle(self, task, run, state) -> Settlement:
        if state == "FAILED":
            return Settlement("FAILED", error="a task of the approval failed")
        decision = run.outputs.get("decision")
        key = {APPROVED: "approveBehavior", DENIED: "denyBehavior"}.get(
            decision, "expireBehavior"
        )
        default = "CONTINUE" if decision == APPROVED else "CANCEL"
        return settlement(task.get(key, default), state, describe(run.outputs))


def decision_labels(task: dict) -> list[str] | None:
    """[approve label, deny label], or None when `decisions` is malformed."""
    value = task.get("decisions")
    if value is None:
        return ["Approve", "Deny"]
    if isinstance(value, dict) and set(value) == {"approve", "deny"}:
        value = [value["approve"], value["deny"]]
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(label, str) and label.strip() for label in value)
        and value[0] != value[1]
    ):
        return [label.strip() for label in value]
    return None


def describe(outputs: dict) -> str:
    """The decision in words: "denied by manager: not this week"."""
    decision = outputs.get("decision")
    if decision == EXPIRED:
        return "the approval expired"
    words = "approved" if decision == APPROVED else "denied"
    comment = outputs.get("comment")
    comment = f": {secrets.mask(comment)}" if comment else ""
    return f"{words} by {outputs.get('by') or 'someone'}{comment}"
