"""Races decided by the database: many resumes, and resume against the deadline.

Real threads, each with its own connection: on PostgreSQL row locks decide, on
SQLite the IMMEDIATE transactions serialise the writers; one winner either way.
"""

from datetime import timedelta

import pytest

from flows import engine
from flows.models import ExecutionEvent, SuspensionToken, TaskRun
from tests.dbutil import in_threads
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

FLOW = """
id: race
namespace: acme.race
tasks:
  - id: wait
    type: Pause
    pauseDuration: PT1H
    behavior: FAIL
    onResume:
      - id: note
        type: STRING
        required: false
  - id: after
    type: Return
    format: "{{ outputs.wait.onResume.note }}"
"""


def paused_token(make_flow, tenant) -> SuspensionToken:
    execution = engine.start_execution(make_flow(FLOW, into=tenant), {})
    return SuspensionToken.objects.get(execution=execution)


def test_twenty_resumes_of_one_token_have_exactly_one_winner(make_flow, tenant):
    token = paused_token(make_flow, tenant)
    users = [UserFactory(username=f"racer{i}") for i in range(20)]

    def answer(i):
        return engine.resume(
            SuspensionToken.objects.get(pk=token.pk), {"note": f"n{i}"}, actor=users[i]
        )

    results = in_threads(20, answer)
    winners = [r for r in results if isinstance(r, SuspensionToken)]
    losers = [r for r in results if isinstance(r, engine.AlreadyConsumed)]
    assert len(winners) == 1 and len(losers) == 19
    token.refresh_from_db()
    after = TaskRun.objects.filter(execution_id=token.execution_id, task_id="after")
    assert after.count() == 1
    assert after.get().outputs["value"] == token.response["note"]
    resumed = ExecutionEvent.objects.filter(subject="token", to_state="RESUMED")
    assert resumed.count() == 1


def test_resume_racing_the_deadline_has_one_winner_and_stays_won(make_flow, tenant):
    user = UserFactory(username="approver")
    for _ in range(8):
        token = paused_token(make_flow, tenant)
        deadline = token.expires_at

        def contend(i, token=token, deadline=deadline):
            if i % 2:
                return engine.expire(token.pk, deadline + timedelta(seconds=1))
            return engine.resume(token, {"note": "manual"}, actor=user)

        results = in_threads(4, contend)
        token.refresh_from_db()
        resumed = [r for r in results if isinstance(r, SuspensionToken)]
        expired = [r for r in results if r is True]
        assert len(resumed) + len(expired) == 1
        pause = TaskRun.objects.get(execution_id=token.execution_id, task_id="wait")
        if resumed:
            assert token.state == "RESUMED" and pause.state == "SUCCESS"
            assert not engine.expire(token.pk, deadline + timedelta(hours=1))
        else:
            assert token.state == "EXPIRED" and pause.state == "FAILED"
