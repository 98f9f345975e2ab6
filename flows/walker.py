"""Walking a flow's task tree: what to start, retake or settle next.

Pure: it reads the definition and the execution's task runs and writes nothing;
flows.engine applies the actions it returns, then walks again. A task's path is
its parent's path, a branch segment and its id (`route.then.paid`, `each.2.ask`);
top-level tasks are their bare id. Flowable types say which lanes of children they
have and how their run settles (flows/tasks/flowable.py); the walker knows no type
by name.

A block of tasks runs in order and stops at the first failure; a failed flowable
runs its `errors` tasks and stays FAILED (as in Kestra) unless `allowFailure`;
`finally` tasks run after the body and the handlers, whatever happened.
"""

from dataclasses import dataclass, field
from datetime import datetime

from flows.models import TaskRun
from flows.tasks import get_task_type

T = TaskRun.State
ACTIVE = "ACTIVE"  # something started, runs, sleeps or waits: look again later
PENDING = "PENDING"  # a lane not started yet (concurrency limit or a failure)
SETTLED_AS = {
    T.SUCCESS: T.SUCCESS,
    T.SKIPPED: T.SUCCESS,
    T.WARNING: T.WARNING,
    T.FAILED: T.FAILED,
    T.CANCELLED: T.FAILED,
    T.KILLED: T.FAILED,
}


@dataclass
class Start:
    task: dict
    path: str
    parent: TaskRun | None
    branch: str
    loop: tuple


@dataclass
class Retake:
    """A runnable task whose worker stopped renewing its lease (lost)."""

    task: dict
    run: TaskRun


@dataclass
class Retry:
    """A failed task whose retry interval has passed."""

    task: dict
    run: TaskRun


@dataclass
class Settle:
    task: dict
    run: TaskRun
    state: str
    error: str = ""
    ending: str = ""


@dataclass
class Finish:
    state: str


Action = Start | Retake | Retry | Settle | Finish


@dataclass
class Walk:
    definition: dict
    runs: dict[str, TaskRun]
    now: datetime
    ending: str = ""
    actions: list = field(default_factory=list)
    # What the execution waits for when there is nothing to do.
    people: bool = False
    machines: bool = False

    def flow(self) -> list[Action]:
        """Walk the whole flow; returns the actions (none: it only waits)."""
        definition = self.definition
        if self.ending:  # cancelled or ended early: only `finally` still runs
            if self.handlers(definition, "finally") != ACTIVE:
                self.actions.append(Finish(self.ending))
            return self.actions
        state = self.block(definition["tasks"], "", None, "", ())
        if state == ACTIVE:
            return self.actions
        if state == T.FAILED and self.handlers(definition, "errors") == ACTIVE:
            return self.actions
        closing = self.handlers(definition, "finally")
        if closing != ACTIVE:
            self.actions.append(Finish(combine([state, closing])))
        return self.actions

    def handlers(self, definition: dict, kind: str) -> str:
        """The flow's own `errors` or `finally` tasks, at paths `errors.<id>`."""
        return self.block(definition.get(kind), f"{kind}.", None, kind, ())

    def block(self, tasks, prefix: str, parent, branch: str, loop: tuple) -> str:
        """Tasks one after another: ACTIVE, or how the block ended."""
        states = []
        for task in tasks or []:
            if task.get("disabled"):
                continue
            path = prefix + task["id"]
            task_type = get_task_type(task["type"])
            for prelude_branch, prelude in task_type.preludes(task):
                if prelude.get("disabled"):
                    continue
                prelude_path = f"{path}.{prelude_branch}.{prelude['id']}"
                state = self.task(prelude, prelude_path, parent, prelude_branch, loop)
                if state in (ACTIVE, T.FAILED):
                    return state
            state = self.task(task, path, parent, branch, loop)
            if state in (ACTIVE, T.FAILED):
                return state
            states.append(state)
        return combine(states)

    def task(self, task, path: str, parent, branch: str, loop: tuple) -> str:
        run = self.runs.get(path)
        if run is None:
            self.actions.append(Start(task, path, parent, branch, loop))
            return ACTIVE
        if run.state in SETTLED_AS:
            return SETTLED_AS[run.state]
        task_type = get_task_type(task["type"])
        if task_type.flowable:
            return self.flowable(task_type, task, run)
        self.runnable(task, run)
        return ACTIVE

    def runnable(self, task, run: TaskRun) -> None:
        if run.state == T.PAUSED:
            self.people = True
            return
        self.machines = True
        if run.state == T.RETRYING and (run.wake_at is None or run.wake_at <= self.now):
            self.actions.append(Retry(task, run))
        elif (
            run.state == T.RUNNING
            and run.wake_at is None
            and (run.lease_until is None or run.lease_until < self.now)
        ):
            self.actions.append(Retake(task, run))

    def flowable(self, kind, task, run: TaskRun) -> str:
        body = self.lanes(kind.lanes(task, run), kind.concurrency(task), run)
        if kind.waiting(run):
            self.people = True
            return ACTIVE
        if body == ACTIVE:
            return ACTIVE
        if body == T.FAILED and task.get("errors"):
            handled = self.block(
                task["errors"], f"{run.path}.errors.", run, "errors", tuple(run.loop)
            )
            if handled == ACTIVE:
                return ACTIVE
        closing = self.block(
            task.get("finally"), f"{run.path}.finally.", run, "finally", tuple(run.loop)
        )
        if closing == ACTIVE:
            return ACTIVE
        outcome = kind.settle(task, run, combine([body, closing]))
        state, error = outcome.state, outcome.error
        state = tolerated(task, state)
        self.actions.append(Settle(task, run, state, error, outcome.ending))
        return ACTIVE

    def lanes(self, lanes, limit: int, parent: TaskRun) -> str:
        """Lanes side by side, at most `limit` at once; none starts after a failure."""
        states, running = [], 0
        for lane in lanes:
            started = any(lane.prefix + t["id"] in self.runs for t in lane.tasks)
            if not started and (T.FAILED in states or (limit and running >= limit)):
                states.append(PENDING)
                continue
            state = self.block(lane.tasks, lane.prefix, parent, lane.branch, lane.loop)
            running += state == ACTIVE
            states.append(state)
        # A lane is only left PENDING beside a failed one, so combine() says FAILED.
        return ACTIVE if ACTIVE in states else combine(states)


def tolerated(task: dict, state: str) -> str:
    """`allowFailure` turns a failure into a warning, `allowWarning` a warning into
    a success (Kestra's task properties)."""
    if state == T.FAILED and task.get("allowFailure"):
        state = T.WARNING
    if state == T.WARNING and task.get("allowWarning"):
        state = T.SUCCESS
    return state


def combine(states) -> str:
    """FAILED if any failed, else WARNING if any warned, else SUCCESS."""
    if T.FAILED in states:
        return T.FAILED
    if T.WARNING in states:
        return T.WARNING
    return T.SUCCESS
