"""Races for one token: 50 HTTP resumes under a real gunicorn, and a resume against
its deadline 100 times over. Exactly one wins each, and continues once."""

import threading
from collections import Counter
from datetime import timedelta

import httpx
import pytest

from approvals.models import ApiToken
from flows import engine
from flows.models import Execution, ExecutionEvent, SuspensionToken, TaskRun
from tests.api_support import resume_url
from tests.dbutil import in_threads
from tests.worker_support import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

FLOW = """
id: race
namespace: acme.faults
tasks:
  - id: wait
    type: Pause
    pauseDuration: PT1H
    behavior: FAIL
  - id: after
    type: Return
    format: "{{ outputs.wait.resumed.by }}"
"""
RESUMERS = 50
ROUNDS = 100


def waiting_token(execution) -> SuspensionToken | None:
    return SuspensionToken.objects.filter(
        execution=execution, state=SuspensionToken.State.WAITING
    ).first()


def post_together(url: str, key: str, count: int) -> Counter:
    """`count` clients, each on its own connection, POST at the same moment."""
    barrier, statuses, lock = threading.Barrier(count), Counter(), threading.Lock()

    def post():
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}) as client:
            barrier.wait()
            status = client.post(url, json={}, timeout=30).status_code
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=post) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


@pytest.mark.worker
def test_50_concurrent_http_resumes_of_one_token_one_202_one_continuation(
    clusters, gunicorn, make_flow, user
):
    clusters()
    execution = engine.start_execution(make_flow(FLOW), {})
    token = wait_until(lambda: waiting_token(execution), 30)
    _, key = ApiToken.issue(user)
    server = gunicorn(workers=4)

    statuses = post_together(server.url + resume_url(token.pk), key, RESUMERS)

    assert statuses == {202: 1, 409: RESUMERS - 1}
    done = wait_until(
        lambda: Execution.objects.filter(pk=execution.pk, state="SUCCESS").first(), 20
    )
    after = TaskRun.objects.get(execution=done, task_id="after")
    assert after.attempt == 1 and after.outputs == {"value": "alice"}
    resumed = ExecutionEvent.objects.filter(
        execution=done, subject="token", to_state="RESUMED"
    )
    assert resumed.count() == 1


def test_a_resume_racing_its_deadline_has_one_outcome_in_each_of_100_rounds(
    make_flow, user, record_property
):
    flow = make_flow(FLOW)
    wins = Counter()
    for _ in range(ROUNDS):
        token = waiting_token(engine.start_execution(flow, {}))
        deadline = engine.now() + timedelta(milliseconds=20)
        SuspensionToken.objects.filter(pk=token.pk).update(expires_at=deadline)
        token.expires_at = deadline

        def contend(i, token=token, deadline=deadline):
            if i:  # the sweeper, once the deadline is due
                return engine.expire(token.pk, deadline)
            return engine.resume(token, {}, actor=user)

        resumed, expired = in_threads(2, contend)
        token.refresh_from_db()
        pause = TaskRun.objects.get(execution_id=token.execution_id, task_id="wait")
        execution = Execution.objects.get(pk=token.execution_id)
        if isinstance(resumed, SuspensionToken):
            assert expired is False
            assert token.state == "RESUMED" and pause.state == "SUCCESS"
            assert execution.state == "SUCCESS"
            wins["resume"] += 1
        else:
            assert isinstance(resumed, engine.Expired | engine.AlreadyConsumed)
            assert expired is True
            assert token.state == "EXPIRED" and pause.state == "FAILED"
            assert execution.state == "FAILED"
            wins["deadline"] += 1
        endings = ExecutionEvent.objects.filter(
            subject="token", subject_id=str(token.pk), from_state="WAITING"
        )
        assert endings.count() == 1
        continued = TaskRun.objects.filter(
            execution_id=token.execution_id, task_id="after"
        )
        assert continued.count() == (1 if token.state == "RESUMED" else 0)
    print(f"\n{ROUNDS} rounds of a resume racing its deadline: {dict(wins)}")
    record_property("deadline_race_wins", dict(wins))
    assert sum(wins.values()) == ROUNDS
