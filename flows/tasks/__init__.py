"""The task registry: every accepted type name (full Kestra names and aliases)."""

from flows.tasks.approval import Approval
from flows.tasks.base import TaskType
from flows.tasks.core import Fail, Log, Return, Sleep
from flows.tasks.execution import Resume
from flows.tasks.flowable import ForEach, If, Parallel, Sequential, Switch
from flows.tasks.http import Request, SlackIncomingWebhook
from flows.tasks.pause import Pause
from flows.tasks.shell import Commands

_ALL: tuple[TaskType, ...] = (
    Return(),
    Log(),
    Fail(),
    Sleep(),
    Pause(),
    Request(),
    SlackIncomingWebhook(),
    Commands(),
    If(),
    Switch(),
    Sequential(),
    Parallel(),
    ForEach(),
    Approval(),
    Resume(),
)

TASK_TYPES: dict[str, TaskType] = {
    name: task_type
    for task_type in _ALL
    for name in (task_type.name, *task_type.aliases)
}


def get_task_type(type_name: str) -> TaskType | None:
    """The task type for a full name or alias, or None."""
    return TASK_TYPES.get(type_name)
