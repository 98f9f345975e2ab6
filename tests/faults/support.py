"""What the fault tests share: long flows, a real gunicorn, cutting connections."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter

import httpx
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from flows import trail
from flows.models import Execution, ExecutionEvent, TaskRun
from tests.dbutil import database_url
from tests.worker_support import REDIS_URL, group_is_gone, wait_until

STEPS = 100


def long_flow_source(flow_id: str = "long", steps: int = STEPS) -> str:
    """`steps` inline steps, Return and Log in turn: no I/O, all in transactions."""
    lines = [f"id: {flow_id}", "namespace: acme.faults", "tasks:"]
    for number in range(steps):
        if number % 2:
            lines += [f"  - id: log{number}", "    type: Log", f"    message: {number}"]
        else:
            lines += [
                f"  - id: step{number}",
                "    type: Return",
                f'    format: "{number}"',
            ]
    return "\n".join(lines) + "\n"


def unfinished(executions) -> list:
    ids = [e.pk for e in executions]
    return list(
        Execution.objects.filter(pk__in=ids)
        .exclude(state__in=Execution.TERMINAL)
        .values_list("pk", flat=True)
    )


def task_run_counts(executions) -> Counter:
    ids = [e.pk for e in executions]
    rows = TaskRun.objects.filter(execution_id__in=ids).values_list(
        "execution_id", flat=True
    )
    return Counter(rows)


def assert_each_step_done_once(executions, steps: int) -> Counter:
    """Every execution SUCCESS with `steps` runs, each attempt 1 or a recorded
    retake (attempt 2 with its "worker lost" event), and an unbroken trail.
    Returns how many runs had each attempt number."""
    ids = [e.pk for e in executions]
    states = Counter(
        Execution.objects.filter(pk__in=ids).values_list("state", flat=True)
    )
    assert states == {Execution.State.SUCCESS: len(ids)}
    runs = TaskRun.objects.filter(execution_id__in=ids)
    assert runs.count() == steps * len(ids)
    assert set(runs.values_list("state", flat=True)) == {TaskRun.State.SUCCESS}
    attempts = Counter(runs.values_list("attempt", flat=True))
    assert set(attempts) <= {1, 2}, attempts
    for run in runs.filter(attempt=2):
        retake = ExecutionEvent.objects.get(subject_id=str(run.pk), data__attempt=2)
        assert retake.data["reason"] == "worker lost"
    # One ending per run on the trail: no step recorded twice.
    endings = Counter(
        ExecutionEvent.objects.filter(
            execution_id__in=ids, subject="task_run", to_state="SUCCESS"
        ).values_list("subject_id", flat=True)
    )
    assert set(endings.values()) == {1} and len(endings) == runs.count()
    report = trail.verify(Execution.objects.filter(pk__in=ids))
    assert report.executions == len(ids) and not report.broken, report.broken
    return attempts


def queued_wakeups() -> set[str]:
    """Executions with a wake-up in the broker that a live worker can still take
    (on the ORM broker, rows a dead cluster claimed stay locked for `retry`)."""
    if Conf.ORM:
        payloads = OrmQ.objects.filter(
            key=Conf.CLUSTER_NAME, lock__lte=timezone.now()
        ).values_list("payload", flat=True)
    else:
        queue = f"django_q:{Conf.CLUSTER_NAME}:q"
        payloads = redis.Redis.from_url(REDIS_URL).lrange(queue, 0, -1)
    return {str(SignedPackage.loads(payload)["args"][0]) for payload in payloads}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """config.wsgi under gunicorn (sync workers, as in production) on the test
    database, enqueueing on the test's queue and broker (the clusters fixture's)."""

    def __init__(self, log_path, workers: int = 4):
        self.port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "SIGNOFF_QUEUE_NAME": Conf.CLUSTER_NAME,
            "SIGNOFF_SYNC_WORKER": "0",
        }
        if Conf.ORM is None and Conf.REDIS:
            env["SIGNOFF_REDIS_URL"] = Conf.REDIS
        with open(log_path, "a") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "config.wsgi:application",
                    f"--workers={workers}",
                    f"--bind=127.0.0.1:{self.port}",
                    "--backlog=2048",
                    "--log-level=warning",
                ],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.url = f"http://127.0.0.1:{self.port}"
        wait_until(self._answers, 30, interval=0.2)

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/schema/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if not group_is_gone(self.process):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)


def cut_connections() -> int:
    """pg_terminate_backend every other connection to THIS test database only
    (the machine's server is shared); returns how many were cut."""
    name = connection.settings_dict["NAME"]
    assert name.startswith("test_"), name  # never a database that is not ours
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))"
            " FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        return cursor.fetchone()[0]


def seconds_since(start: float) -> float:
    return round(time.monotonic() - start, 2)
