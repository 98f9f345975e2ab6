"""Return, Log, Fail and Sleep: the core tasks that need no outside world."""

from django.utils import timezone

from flows.durations import parse_duration
from flows.tasks.base import (
    Done,
    Property,
    SleepUntil,
    StepContext,
    TaskError,
    TaskType,
)

LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")


class Return(TaskType):
    runs_inline = True
    name = "io.kestra.plugin.core.debug.Return"
    aliases = ("Return", "io.kestra.core.tasks.debugs.Return")
    properties = {"format": Property("template")}

    def run(self, ctx: StepContext) -> Done:
        value = ctx.render(ctx.task.get("format", ""))
        return Done(outputs={"value": value})


class Log(TaskType):
    runs_inline = True
    name = "io.kestra.plugin.core.log.Log"
    aliases = ("Log", "io.kestra.core.tasks.log.Log")
    properties = {
        "message": Property("any", required=True),
        "level": Property("enum", choices=LOG_LEVELS),
    }

    def run(self, ctx: StepContext) -> Done:
        messages = ctx.render(ctx.task["message"])
        if not isinstance(messages, list):
            messages = [messages]
        level = ctx.task.get("level", "INFO")
        at = timezone.now().isoformat()
        logs = [{"level": level, "message": str(m), "at": at} for m in messages]
        return Done(logs=logs)


class Fail(TaskType):
    runs_inline = True
    name = "io.kestra.plugin.core.execution.Fail"
    aliases = ("Fail", "io.kestra.core.tasks.executions.Fail")
    properties = {"errorMessage": Property("template")}

    def run(self, ctx: StepContext) -> Done:
        raise TaskError(ctx.render(ctx.task.get("errorMessage", "Task failure")))


class Sleep(TaskType):
    """Waits without holding a worker: the sweeper wakes the task run when due."""

    runs_inline = True
    name = "io.kestra.plugin.core.flow.Sleep"
    aliases = ("Sleep", "io.kestra.core.tasks.flows.Sleep")
    properties = {"duration": Property("duration", required=True)}

    def run(self, ctx: StepContext) -> SleepUntil:
        duration = parse_duration(str(ctx.render(ctx.task["duration"])))
        return SleepUntil(wake_at=ctx.started_at + duration)
