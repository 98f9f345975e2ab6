"""The sweeper: applies due deadlines and wake-ups, and recovers lost steps.

django-q2 looks at Schedules only every ~30 s and its Redis broker drops a task
whose worker dies, so the engine does not rely on either. A sweeper thread runs in
every qcluster worker process (started on django-q2's post_spawn signal), but only
the one holding the cluster's SweeperLease row sweeps; the others renew nothing and
take over when the holder stops renewing (a dead worker, a lost machine). Each pass
uses the same conditional UPDATEs as a resume, so a brief overlap while a lease
changes hands (or between machines whose clocks disagree) is harmless.
"""

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta
from multiprocessing import util

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from flows import callbacks, engine, hooks
from flows.engine import heartbeat
from flows.engine.transitions import lease
from flows.models import SweeperLease

LEASE_NAME = "sweeper"

logger = logging.getLogger(__name__)


def sweep_once() -> dict:
    """One pass: expire due pauses, wake due sleeps, re-enqueue lost executions,
    queue due approval-request callbacks, then the human side's sweeps
    (notifications, reminders, escalations: flows.hooks)."""
    moment = engine.now()
    return {
        "expired": engine.expire_due(moment),
        "woken": engine.wake_due(moment),
        "recovered": 0 if backlogged() else engine.recover_lost(moment),
        "stalled": heartbeat.recover_stalled(moment),
        "callbacks": callbacks.enqueue_due(moment),
        **hooks.sweep(moment),
    }


# Redis: wake-ups waiting in the queue, untaken, past which a lapsed execution
# lease means the workers are behind, not that its wake-up was lost.
BACKLOG = 100

_broker = None


def backlogged() -> bool:
    """Whether the queue is behind: then a lease that lapsed may belong to a
    wake-up still waiting in it, and re-sending those would only lengthen it (each
    lapse again every lease). Lost ones are re-sent once it has caught up.

    ORM broker: its oldest untaken wake-up has waited longer than a step lease.
    Redis (no timestamps): it holds BACKLOG wake-ups or more.
    """
    global _broker
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.models import OrmQ

    if not Conf.ORM:
        if _broker is None:
            _broker = get_broker()
        return _broker.queue_size() >= BACKLOG
    queued_at = timezone.now()  # django-q2's clock, which stamped the rows
    untaken = OrmQ.objects.using(Conf.ORM).filter(
        key=Conf.CLUSTER_NAME, lock__lte=queued_at
    )
    oldest = untaken.order_by("lock").values_list("lock", flat=True).first()
    return oldest is not None and oldest < queued_at - lease()


def hold_lease(holder: str, moment: datetime | None = None) -> bool:
    """Take or renew the cluster's sweeper lease; True while `holder` has it.

    One conditional UPDATE (free, or already ours) decides, on SQLite and
    PostgreSQL alike; the very first pass creates the row, and a concurrent
    creator loses on the primary key.
    """
    moment = moment or engine.now()
    until = moment + timedelta(seconds=settings.SIGNOFF_SWEEPER_LEASE_SECONDS)
    free_or_ours = Q(expires_at__lt=moment) | Q(holder=holder)
    if SweeperLease.objects.filter(free_or_ours, name=LEASE_NAME).update(
        holder=holder, expires_at=until
    ):
        return True
    _, created = SweeperLease.objects.get_or_create(
        name=LEASE_NAME, defaults={"holder": holder, "expires_at": until}
    )
    return created


def release_lease(holder: str) -> None:
    """Let a standby take over at its next pass (a worker that stops cleanly)."""
    SweeperLease.objects.filter(name=LEASE_NAME, holder=holder).update(
        expires_at=engine.now() - timedelta(seconds=1)
    )


def run_pass(holder: str) -> float:
    """Sweep if this holder leads; return how long to wait before the next pass."""
    if not hold_lease(holder):
        return settings.SIGNOFF_SWEEP_INTERVAL
    sweep_once()
    return seconds_until_next_pass()


def seconds_until_next_pass() -> float:
    """Sleep the interval, or less when a deadline falls due sooner."""
    interval = settings.SIGNOFF_SWEEP_INTERVAL
    candidates = (engine.next_due(), callbacks.next_due(), hooks.next_due())
    due = min((d for d in candidates if d), default=None)
    if due is None:
        return interval
    return max(0.05, min(interval, (due - engine.now()).total_seconds() + 0.01))


def new_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_forever(stop: threading.Event, holder: str | None = None) -> None:
    """Sweep (when leading) until `stop` is set; an error never ends the loop."""
    holder = holder or new_holder()
    while not stop.is_set():
        pause = settings.SIGNOFF_SWEEP_INTERVAL
        try:
            close_old_connections()
            pause = run_pass(holder)
        except Exception:
            logger.exception("sweeper pass failed")
        stop.wait(pause)


def start_thread() -> tuple[threading.Thread, threading.Event, str]:
    stop, holder = threading.Event(), new_holder()
    thread = threading.Thread(
        target=run_forever,
        args=(stop, holder),
        name="signoff-sweeper",
        daemon=True,
    )
    thread.start()
    return thread, stop, holder


def _stop_at_exit(thread: threading.Thread, stop: threading.Event, holder: str):
    """A worker django-q2 recycles hands the lease on instead of letting it lapse."""
    stop.set()
    thread.join(timeout=2)
    try:
        release_lease(holder)
    except Exception:
        logger.exception("could not release the sweeper lease")


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
    # multiprocessing runs its finalizers when a worker process ends normally.
    util.Finalize(None, _stop_at_exit, args=start_thread(), exitpriority=10)


def connect_to_worker_spawn() -> None:
    from django_q.signals import post_spawn

    post_spawn.connect(_on_worker_spawn, dispatch_uid="signoff-sweeper")
