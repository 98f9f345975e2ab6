"""Heartbeats: a running step keeps its short lease; a dead worker's step is retaken.

A step that runs outside the transaction (HTTP, shell) owns its task run until
`lease_until`. While it runs, a daemon thread renews that lease every third of it,
so a slow healthy step is never retaken, and a killed worker's step lapses within
one lease. The sweeper then wakes the execution and the next worker retakes it.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import close_old_connections, connection, transaction
from django.db.models import Q

from flows.engine.transitions import E, T, enqueue, lease, now
from flows.models import Execution, TaskRun

logger = logging.getLogger(__name__)


@contextmanager
def heartbeat(task_run_id, attempt: int) -> Iterator[None]:
    """Renew the step's lease until the block exits (then no renewal is in flight)."""
    if connection.in_atomic_block:
        # The claim is not committed (tests run steps inside their transaction):
        # another connection could neither see the row nor wait for its lock.
        yield
        return
    stop = threading.Event()
    thread = threading.Thread(
        target=_renew_until,
        args=(stop, task_run_id, attempt),
        name=f"signoff-heartbeat-{task_run_id}",
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()  # so the outcome is recorded after the last renewal
        # The step may have run for minutes, long enough for the server to cut this
        # idle connection: replace it now, or the outcome cannot be recorded and
        # the step is run again once its lease lapses.
        close_old_connections()


def _renew_until(stop: threading.Event, task_run_id, attempt) -> None:
    """Runs in its own thread, hence on its own database connection."""
    try:
        while not stop.wait(lease().total_seconds() / 3):
            try:
                if not renew(task_run_id, attempt):
                    return  # finished, cancelled or retaken by a later attempt
            except Exception:  # a failed renewal is retried on the next beat
                logger.exception("heartbeat of task run %s failed", task_run_id)
    finally:
        connection.close()


def renew(task_run_id, attempt: int) -> bool:
    """Extend the lease of this attempt of a running step; False if it is not ours.

    Only the task run's row: the execution's lease stands for its queued wake-up,
    and steps of other lanes may run (or be lost) beside this one. One autocommit
    UPDATE, so the heartbeat never waits on a worker holding the execution lock.
    """
    return bool(
        TaskRun.objects.filter(
            pk=task_run_id, state=T.RUNNING, attempt=attempt, wake_at__isnull=True
        ).update(lease_until=now() + lease())
    )


def recover_stalled(moment: datetime | None = None, limit: int = 500) -> int:
    """Wake executions whose running step's lease lapsed (its worker died)."""
    moment = moment or now()
    stalled = (
        TaskRun.objects.filter(
            state=T.RUNNING,
            wake_at__isnull=True,
            lease_until__lt=moment,
            execution__state=E.RUNNING,
        )
        .order_by()
        .values_list("execution_id", flat=True)
        .distinct()[:limit]
    )
    lapsed = Q(lease_until__isnull=True) | Q(lease_until__lt=moment)
    recovered = 0
    for execution_id in stalled:
        with transaction.atomic():
            # The execution's lease says whether this lapse was already sent a
            # wake-up (by recover_lost or another sweeper): one wake-up per lapse.
            if Execution.objects.filter(
                lapsed, pk=execution_id, state=E.RUNNING
            ).update(lease_until=moment + lease()):
                enqueue(execution_id)
                recovered += 1
    return recovered
