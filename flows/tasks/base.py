"""What every task type is: its properties (checked at load) and its run()."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Properties Kestra accepts on every task; Signoff accepts and ignores the rest.
COMMON_PROPERTIES = {
    "id",
    "type",
    "description",
    "disabled",
    "timeout",
    "retry",
    "allowFailure",
    "allowWarning",
    "logLevel",
    "logToFile",
    "workerGroup",
    "runIf",
}


@dataclass(frozen=True)
class Property:
    """One property a task type accepts; `kind` drives load-time checks.

    kinds: string, template (a string that may hold {{ }}), duration, bool, int,
    enum (with choices), list, map, any, inputs (input definitions), task (one
    nested runnable task), tasks (a list of nested tasks), cases (a mapping of
    values to task lists), retry (Kestra's retry policy), assignees (users and groups).
    """

    kind: str = "any"
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass
class StepContext:
    """Everything a task run may read; `render` applies the sandboxed templating."""

    execution_id: str
    task: dict
    variables: dict
    started_at: datetime
    render: Any  # Callable[[Any], Any]: renders strings, lists and maps recursively
    settings: Any = None
    task_path: str = ""  # the task run's path in the tree (`each.2.ask`)


@dataclass
class Done:
    outputs: dict = field(default_factory=dict)
    warning: bool = False
    logs: list = field(default_factory=list)


@dataclass
class Suspend:
    """Stop the execution and wait for a person (or a deadline)."""

    screen: str
    schema: list
    message: str = ""
    assignees: dict = field(default_factory=dict)  # {"users": [...], "groups": [...]}
    approvals_required: int = 1
    allow_self_approval: bool = False
    behavior: str = "RESUME"
    expires_at: datetime | None = None
    logs: list = field(default_factory=list)
    options: dict = field(default_factory=dict)


@dataclass
class SleepUntil:
    wake_at: datetime


@dataclass(frozen=True)
class Lane:
    """Children that run one after another; a flowable's lanes run side by side.

    Each child's path is `prefix + child id`; `loop` holds the ForEach values the
    lane is inside, outermost first.
    """

    prefix: str
    branch: str
    tasks: list
    loop: tuple = ()


@dataclass(frozen=True)
class Settlement:
    """How a flowable run ends: its state, an error, and the execution's end if any."""

    state: str
    error: str = ""
    ending: str = ""  # an Execution state: the execution ends so once `finally` ran


class TaskError(Exception):
    """A task run failed with a message the user should see."""


class TaskType:
    """Base for task types: name, aliases, properties, extra checks and run()."""

    name: str = ""
    aliases: tuple[str, ...] = ()
    # True for tasks that only compute (no network, process or file I/O): the
    # engine runs them inside the transaction that claims them.
    runs_inline: bool = False
    # Flowable tasks hold other tasks (flows/tasks/flowable.py); the walker asks
    # them for their lanes of children and how their run settles.
    flowable: bool = False
    properties: dict[str, Property] = {}

    def check(self, task: dict) -> list[str]:
        """Checks beyond the property kinds; returns problems as sentences."""
        return []

    def run(self, ctx: StepContext) -> Done | Suspend | SleepUntil:
        raise NotImplementedError

    def preludes(self, task: dict) -> list[tuple[str, dict]]:
        """(branch, task) pairs that run just before this task (a Pause's onPause)."""
        return []
