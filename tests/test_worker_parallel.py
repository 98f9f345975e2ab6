"""Parallel lanes run at the same time on a real qcluster with several workers."""

import time
import uuid

import pytest

from flows import engine
from flows.models import Execution, TaskRun
from tests.worker_support import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TWO_CALLS = """
id: fan_out
namespace: acme.workers
tasks:
  - id: both
    type: Parallel
    tasks:
      - id: left
        type: Request
        uri: "{left}"
      - id: right
        type: Request
        uri: "{right}"
  - id: joined
    type: Return
    format: "{{{{ outputs.left.body }}}}+{{{{ outputs.right.body }}}}"
"""
STEP_SECONDS = 3


def test_parallel_http_steps_run_at_once_on_two_workers(
    clusters, make_flow, slow_server
):
    clusters(SIGNOFF_WORKERS="2")
    tag = uuid.uuid4().hex[:6]
    left, right = (f"/{side}-{tag}/{STEP_SECONDS}" for side in ("left", "right"))
    source = TWO_CALLS.format(left=slow_server.url(left), right=slow_server.url(right))
    execution = engine.start_execution(make_flow(source), {})
    wait_until(lambda: slow_server.count(left) + slow_server.count(right) >= 1, 30)
    first_sent = time.monotonic()
    # One after the other, the second call would start STEP_SECONDS later.
    wait_until(lambda: slow_server.count(left) == slow_server.count(right) == 1, 10)
    assert time.monotonic() - first_sent < STEP_SECONDS - 1

    def finished():
        execution.refresh_from_db()
        return execution.state in Execution.TERMINAL

    wait_until(finished, 30)
    assert execution.state == Execution.State.SUCCESS
    joined = TaskRun.objects.get(execution=execution, task_id="joined")
    assert joined.outputs == {"value": "done+done"}
    attempts = TaskRun.objects.filter(execution=execution).values_list(
        "attempt", flat=True
    )
    assert set(attempts) == {1}
