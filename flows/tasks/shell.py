"""Shell Commands (runner PROCESS), only when SIGNOFF_SHELL_TASKS_ENABLED is set."""

import os
import subprocess

from django.conf import settings
from django.utils import timezone

from flows import timeouts
from flows.tasks.base import Done, Property, StepContext, TaskError, TaskType


class Commands(TaskType):
    name = "io.kestra.plugin.scripts.shell.Commands"
    aliases = ("Commands", "io.kestra.core.tasks.scripts.Bash")
    properties = {
        "commands": Property("list", required=True),
        "runner": Property("enum", choices=("PROCESS",)),
        "taskRunner": Property("map"),
        "env": Property("map"),
        "interpreter": Property("list"),
        "beforeCommands": Property("list"),
        "warningOnStdErr": Property("bool"),
    }

    def check(self, task: dict) -> list[str]:
        problems = []
        if not settings.SIGNOFF_SHELL_TASKS_ENABLED:
            problems.append(
                "shell tasks are disabled on this server; "
                "set SIGNOFF_SHELL_TASKS_ENABLED=true to allow them"
            )
        runner_type = str((task.get("taskRunner") or {}).get("type", ""))
        if runner_type and not runner_type.endswith("Process"):
            problems.append(
                f"task runner '{runner_type}' is not supported; use Process"
            )
        return problems

    def run(self, ctx: StepContext) -> Done:
        lines = ctx.render(
            (ctx.task.get("beforeCommands") or []) + ctx.task["commands"]
        )
        interpreter = ctx.task.get("interpreter") or ["/bin/sh", "-c"]
        env = {
            **os.environ,
            **{k: str(v) for k, v in ctx.render(ctx.task.get("env") or {}).items()},
        }
        try:
            result = subprocess.run(
                [*interpreter, "set -e\n" + "\n".join(map(str, lines))],
                capture_output=True,
                text=True,
                env=env,
                timeout=timeouts.limit(
                    ctx.task, settings.SIGNOFF_SHELL_TIMEOUT_SECONDS
                ),
            )
        except subprocess.TimeoutExpired as exc:
            raise TaskError(f"commands timed out after {exc.timeout} s") from exc
        at = timezone.now().isoformat()
        logs = [
            {"level": "INFO", "message": line, "at": at}
            for line in result.stdout.splitlines()
        ]
        logs += [
            {"level": "WARN", "message": line, "at": at}
            for line in result.stderr.splitlines()
        ]
        if result.returncode != 0:
            raise TaskError(
                f"commands exited with code {result.returncode}: {result.stderr[-500:]}"
            )
        warning = bool(result.stderr) and ctx.task.get("warningOnStdErr", True)
        return Done(outputs={"exitCode": result.returncode}, logs=logs, warning=warning)
