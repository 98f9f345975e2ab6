"""A real qcluster and a flow paused with a step in flight: it finishes, the next
step waits for the resume."""

import time
import uuid

import pytest

from flows import engine
from flows.models import Execution, TaskRun
from tests.worker_support import wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TWO_CALLS = """
id: calls
namespace: acme.holds
tasks:
  - id: first
    type: Request
    uri: "{first}"
  - id: second
    type: Request
    uri: "{second}"
"""


def run_of(execution, task_id) -> TaskRun | None:
    return TaskRun.objects.filter(execution=execution, task_id=task_id).first()


def test_a_step_in_flight_finishes_and_the_next_waits_for_resume(
    clusters, make_flow, slow_server
):
    clusters()
    tag = uuid.uuid4().hex[:6]
    first, second = f"/first-{tag}/3", f"/second-{tag}/0"
    flow = make_flow(
        TWO_CALLS.format(first=slow_server.url(first), second=slow_server.url(second))
    )
    execution = engine.start_execution(flow, {})
    wait_until(lambda: slow_server.count(first) == 1, 30)  # in flight
    engine.pause_flow(flow.pk)
    done = wait_until(lambda: run_of(execution, "first").state == "SUCCESS", 20)
    assert done
    time.sleep(2)  # time enough for a worker to start the next step, if it would
    assert slow_server.count(second) == 0 and run_of(execution, "second") is None
    execution.refresh_from_db()
    assert execution.state == Execution.State.RUNNING and execution.hold == "flow"
    engine.resume_flow(flow.pk)
    wait_until(lambda: slow_server.count(second) == 1, 20)
    execution.refresh_from_db()
    ended = wait_until(
        lambda: Execution.objects.get(pk=execution.pk).state in Execution.TERMINAL, 20
    )
    assert ended
    execution.refresh_from_db()
    assert execution.state == Execution.State.SUCCESS
