"""The sweeper: applies due deadlines and wake-ups, and recovers lost steps.

django-q2 looks at Schedules only every ~30 s and its Redis broker drops a task
whose worker dies, so the engine does not rely on either. A sweeper thread runs in
every qcluster worker process (started on django-q2's post_spawn signal): each pass
uses the same conditional UPDATEs as a resume, so any number of them may run at once.
"""

import logging
import os
import threading

from django.conf import settings
from django.db import close_old_connections

from flows import engine

logger = logging.getLogger(__name__)


def sweep_once() -> dict:
    """One pass: expire due pauses, wake due sleeps, re-enqueue lost executions."""
    moment = engine.now()
    return {
        "expired": engine.expire_due(moment),
        "woken": engine.wake_due(moment),
        "recovered": engine.recover_lost(moment),
    }


def seconds_until_next_pass() -> float:
    """Sleep the interval, or less when a deadline falls due sooner."""
    interval = settings.SIGNOFF_SWEEP_INTERVAL
    due = engine.next_due()
    if due is None:
        return interval
    return max(0.05, min(interval, (due - engine.now()).total_seconds() + 0.01))


def run_forever(stop: threading.Event) -> None:
    """Sweep until `stop` is set; an error in one pass never ends the loop."""
    while not stop.is_set():
        pause = settings.SIGNOFF_SWEEP_INTERVAL
        try:
            close_old_connections()
            sweep_once()
            pause = seconds_until_next_pass()
        except Exception:
            logger.exception("sweeper pass failed")
        stop.wait(pause)


def start_thread() -> threading.Thread:
    thread = threading.Thread(
        target=run_forever,
        args=(threading.Event(),),
        name="signoff-sweeper",
        daemon=True,
    )
    thread.start()
    return thread


_started_in_pid: int | None = None


def _on_worker_spawn(sender, proc_name, **kwargs) -> None:
    """One sweeper per worker process; none when django-q2 runs tasks inline (sync)."""
    global _started_in_pid
    from django_q.conf import Conf

    if (
        Conf.SYNC
        or not settings.SIGNOFF_SWEEPER_IN_WORKERS
        or _started_in_pid == os.getpid()
    ):
        return
    _started_in_pid = os.getpid()
    start_thread()


def connect_to_worker_spawn() -> None:
    from django_q.signals import post_spawn

    post_spawn.connect(_on_worker_spawn, dispatch_uid="signoff-sweeper")
