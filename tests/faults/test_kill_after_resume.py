"""On Redis a wake-up popped by a worker that dies is gone: the lease the resume
set lapses and the sweeper (recover_lost) sends it again."""

import os
import signal
import time

import pytest
import redis
from django_q.conf import Conf

from flows import engine
from flows.models import Execution, SuspensionToken, TaskRun
from tests.api_support import client_for, resume_url
from tests.faults.support import seconds_since
from tests.worker_support import REDIS_URL, group_is_gone, wait_until

pytestmark = [
    pytest.mark.faults,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

FLOW = """
id: approve_then_go
namespace: acme.faults
tasks:
  - id: wait
    type: Pause
  - id: after
    type: Return
    format: done
"""


@pytest.mark.parametrize("clusters", ["redis"], indirect=True)
def test_a_wakeup_lost_at_a_kill_9_right_after_a_202_runs_within_10_s(
    clusters, make_flow, user, record_property
):
    first = clusters()
    execution = engine.start_execution(make_flow(FLOW), {})
    token = wait_until(
        lambda: SuspensionToken.objects.filter(
            execution=execution, state=SuspensionToken.State.WAITING
        ).first(),
        30,
    )
    # Frozen, so it cannot run the continuation before the kill. Redis pops the
    # wake-up for the frozen pusher if it sits in BLPOP; if not, the list is
    # emptied below, as such a pusher leaves it: the wake-up is lost either way.
    os.killpg(first.pid, signal.SIGSTOP)
    response = client_for(user).post(resume_url(token.pk), {}, format="json")
    assert response.status_code == 202
    os.killpg(first.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    wait_until(lambda: group_is_gone(first), 10)
    redis.Redis.from_url(REDIS_URL).delete(f"django_q:{Conf.CLUSTER_NAME}:q")
    assert not TaskRun.objects.filter(execution=execution, task_id="after").exists()

    clusters()
    wait_until(
        lambda: TaskRun.objects.filter(execution=execution, task_id="after").exists(),
        10,
        interval=0.1,
    )
    recovery = seconds_since(killed_at)
    record_property("lost_wakeup_redis_continued_seconds", recovery)
    print(f"\nredis: the wake-up lost at kill -9 was sent again, {recovery} s")
    execution.refresh_from_db()
    wait_until(lambda: Execution.objects.get(pk=execution.pk).state == "SUCCESS", 10)
    run = TaskRun.objects.get(execution=execution, task_id="after")
    assert run.attempt == 1 and run.outputs == {"value": "done"}
