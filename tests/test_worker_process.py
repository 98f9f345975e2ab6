"""A real `qcluster` subprocess: flows run to a pause, resume, and meet deadlines."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django_q.conf import Conf

from flows import engine
from flows.models import Execution, SuspensionToken
from tests.dbutil import database_url
from tests.worker_support import REDIS_URL, redis_is_up

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


@pytest.fixture(params=["orm", "redis"])
def qcluster(request, tmp_path, monkeypatch):
    """Start `manage.py qcluster` on the test database, with each broker."""
    queue = f"signoff-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "SIGNOFF_SYNC_WORKER": "0",
        "SIGNOFF_SWEEP_INTERVAL": "0.2",
        "SIGNOFF_WORKERS": "1",
        "SIGNOFF_QUEUE_NAME": queue,
    }
    monkeypatch.setattr(Conf, "SYNC", False)  # enqueue for real
    monkeypatch.setattr(Conf, "CLUSTER_NAME", queue)
    monkeypatch.setattr(Conf, "PREFIX", queue)  # also the signing salt
    if request.param == "redis":
        if not redis_is_up():
            pytest.skip(f"needs Redis at {REDIS_URL} (redis-server)")
        env["SIGNOFF_REDIS_URL"] = REDIS_URL
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "REDIS", REDIS_URL)
    log = open(tmp_path / "qcluster.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield process
    # Graceful shutdown is django-q2's business and takes ~20 s; kill the group.
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=20)
    log.close()


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
