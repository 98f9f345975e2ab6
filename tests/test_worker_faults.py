"""A real qcluster killed or stopped mid-step: the step is retaken, the worker exits.

Each test runs on the test database (SQLite or PostgreSQL) with each broker. The
step is an HTTP Request to a slow server in this process, so the test knows when
it is running and how many times it was sent.
"""

import os
import signal
import time
import uuid

import pytest

from flows import engine
from flows.models import Execution, ExecutionEvent, TaskRun
from tests.worker_support import (
    group_is_gone,
    wait_until,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SLOW_STEP = """
id: slow
namespace: acme.faults
tasks:
  - id: call
    type: Request
    uri: "{url}"
  - id: after
    type: Return
    format: "{{{{ outputs.call.body }}}}"
"""


def start_slow_step(make_flow, slow_server, seconds: float):
    path = f"/call-{uuid.uuid4().hex[:6]}/{seconds}"
    flow = make_flow(SLOW_STEP.format(url=slow_server.url(path)))
    return engine.start_execution(flow, {}), path


def call_run(execution) -> TaskRun | None:
    return TaskRun.objects.filter(execution=execution, task_id="call").first()


def finished(execution) -> Execution | None:
    execution.refresh_from_db()
    return execution if execution.state in Execution.TERMINAL else None


def test_a_killed_workers_step_is_retaken_within_10_seconds(
    clusters, make_flow, slow_server, record_property
):
    first = clusters()
    execution, path = start_slow_step(make_flow, slow_server, 60)
    wait_until(lambda: slow_server.count(path) == 1, 30)  # the step is running
    os.killpg(first.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    clusters()
    wait_until(lambda: call_run(execution).attempt == 2, 10)
    recovery = time.monotonic() - killed_at
    record_property(f"recovery_seconds_{clusters.broker}", round(recovery, 2))
    print(f"\n{clusters.broker}: step retaken {recovery:.2f} s after kill -9")

    assert wait_until(lambda: finished(execution), 20).state == Execution.State.SUCCESS
    assert slow_server.count(path) == 2
    run = call_run(execution)
    assert run.attempt == 2 and run.outputs["body"] == "done"
    retake = ExecutionEvent.objects.get(subject_id=str(run.pk), data__attempt=2)
    assert retake.data["reason"] == "worker lost" and run.losses == 1


def test_a_slow_healthy_step_longer_than_its_lease_runs_once(
    clusters, make_flow, slow_server
):
    # Two workers, so a wrongly expired lease would have one free to retake it.
    clusters(SIGNOFF_STEP_LEASE_SECONDS="2", SIGNOFF_WORKERS="2")
    execution, path = start_slow_step(make_flow, slow_server, 8)
    done = wait_until(lambda: finished(execution), 40, interval=0.2)

    assert done.state == Execution.State.SUCCESS
    assert slow_server.count(path) == 1
    run = call_run(execution)
    assert run.attempt == 1
    assert (run.ended_at - run.started_at).total_seconds() >= 8


def test_sigterm_to_the_group_ends_an_idle_cluster_within_10_seconds(
    clusters, make_flow, slow_server
):
    cluster = clusters()
    execution, path = start_slow_step(make_flow, slow_server, 0)
    wait_until(lambda: finished(execution), 30)  # the workers are up, now idle
    os.killpg(cluster.pid, signal.SIGTERM)
    wait_until(lambda: group_is_gone(cluster), 10)
    assert cluster.returncode == 0


def test_sigterm_to_the_group_ends_every_process_and_the_step_is_retaken(
    clusters, make_flow, slow_server
):
    first = clusters()
    execution, path = start_slow_step(make_flow, slow_server, 60)
    wait_until(lambda: slow_server.count(path) == 1, 30)
    os.killpg(first.pid, signal.SIGTERM)  # what systemd and docker send
    wait_until(lambda: group_is_gone(first), 10)
    assert first.returncode == 0
    assert call_run(execution).state == TaskRun.State.RUNNING  # left to be retaken

    clusters()
    assert wait_until(lambda: finished(execution), 20).state == Execution.State.SUCCESS
    assert call_run(execution).attempt == 2


def test_sigterm_to_the_master_alone_stops_a_busy_cluster_within_10_seconds(
    clusters, make_flow, slow_server
):
    first = clusters(SIGNOFF_WORKER_STOP_SECONDS="2")
    execution, path = start_slow_step(make_flow, slow_server, 60)
    wait_until(lambda: slow_server.count(path) == 1, 30)
    first.send_signal(signal.SIGTERM)  # the workers get nothing: the master asks
    stopped = time.monotonic()
    wait_until(lambda: group_is_gone(first), 10)
    # The busy worker was killed after the grace period, not waited for.
    assert time.monotonic() - stopped >= 2
    assert call_run(execution).state == TaskRun.State.RUNNING
