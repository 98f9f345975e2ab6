"""A task's `timeout` (ISO 8601), enforced on the tasks that run outside a transaction.

The task runs in a daemon thread and the step waits at most that long. Past it the
step fails and the thread is abandoned: outbound HTTP and shell processes are given
the same bound (see `limit`), so it ends by itself soon after. Inline tasks (Return,
Pause, Sleep...) are not bounded here; Pause reads its own `timeout` as a deadline.
"""

import threading
from datetime import timedelta

from django.db import connections

from flows.durations import parse_duration
from flows.tasks.base import TaskError


def task_timeout(task: dict) -> timedelta | None:
    """The task's `timeout`, or None; the loader already checked its format."""
    value = task.get("timeout")
    return parse_duration(value) if value else None


def limit(task: dict, default: float) -> float:
    """The smaller of the task's timeout and a setting's, in seconds."""
    timeout = task_timeout(task)
    return default if timeout is None else min(default, timeout.total_seconds())


def run_task(task_type, ctx):
    """Run the task; raise TaskError when it outlives its `timeout`."""
    timeout = None if task_type.runs_inline else task_timeout(ctx.task)
    if timeout is None:
        return task_type.run(ctx)
    outcome: dict = {}
    finished = threading.Event()

    def run():
        try:
            outcome["result"] = task_type.run(ctx)
        except BaseException as exc:  # re-raised in the step's own thread
            outcome["error"] = exc
        finally:
            connections.close_all()  # this thread's own, if the task opened any
            finished.set()

    threading.Thread(target=run, name=f"task-{ctx.task['id']}", daemon=True).start()
    if not finished.wait(timeout.total_seconds()):
        raise TaskError(f"timed out after {ctx.task['timeout']}")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
