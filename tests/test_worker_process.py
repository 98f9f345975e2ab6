"""A real `qcluster` subprocess: flows run to a pause, resume, and meet deadlines."""

import time
from pathlib import Path

import pytest
from django.conf import settings

from flows import engine
from flows.models import Execution, SuspensionToken

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

EXAMPLES = Path(settings.BASE_DIR) / "flows" / "examples"

WAIT_FOR_PERSON = """
id: person
namespace: acme.worker
tasks:
  - id: before
    type: Return
    format: ready
  - id: wait
    type: Pause
    onResume:
      - id: ok
        type: BOOLEAN
  - id: after
    type: Return
    format: "ok={{ outputs.wait.onResume.ok }}"
"""


@pytest.fixture
def qcluster(clusters):
    """One qcluster on the test database, with each broker (see `clusters`)."""
    return clusters(SIGNOFF_SWEEP_INTERVAL="0.2")


def wait_for_state(execution, states, seconds=30.0) -> Execution:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        execution.refresh_from_db()
        if execution.state in states:
            return execution
        time.sleep(0.1)
    raise AssertionError(f"execution stayed {execution.state}, wanted {states}")


def test_flow_runs_to_its_pause_resumes_and_finishes(qcluster, make_flow, user):
    execution = engine.start_execution(make_flow(WAIT_FOR_PERSON), {})
    wait_for_state(execution, {"PAUSED"})
    token = SuspensionToken.objects.get(execution=execution)
    engine.resume(token, {"ok": True}, actor=user, channel="test")
    wait_for_state(execution, {"SUCCESS", "FAILED"})
    assert execution.state == "SUCCESS"
    assert execution.task_runs.get(task_id="after").outputs == {"value": "ok=True"}


def test_pause_warn_example_ends_warning_on_its_own(qcluster, make_flow):
    source = (EXAMPLES / "pause_warn.yaml").read_text().replace("PT5M", "PT1S")
    execution = engine.start_execution(make_flow(source), {})
    started = time.monotonic()
    wait_for_state(execution, {"WARNING", "SUCCESS", "FAILED"}, seconds=20)
    assert execution.state == "WARNING"
    assert time.monotonic() - started < 10
    runs = {r.task_id: r for r in execution.task_runs.all()}
    assert runs["pause"].state == "WARNING"
    assert runs["post_resume"].outputs["value"].startswith("post_resume started on ")


def test_executions_started_at_once_all_reach_their_pause(qcluster, make_flow):
    flow = make_flow(WAIT_FOR_PERSON)
    executions = engine.start_executions(flow, [{}] * 45)  # three wake-ups
    deadline = time.monotonic() + 30
    paused = Execution.objects.filter(flow=flow, state="PAUSED")
    while paused.count() < len(executions) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert paused.count() == len(executions)
    assert SuspensionToken.objects.filter(execution__flow=flow).count() == 45
