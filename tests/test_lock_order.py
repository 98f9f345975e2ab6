"""One lock order: a cancel, a resume and an expiry racing on one execution.

Every engine writer locks the execution row first, then the token or task run; a
writer that took them the other way round would deadlock another on PostgreSQL
("deadlock detected"). Real threads, each with its own connection.
"""

from datetime import timedelta

import pytest
from django.db import connection

from flows import engine
from flows.models import Execution, ExecutionEvent, SuspensionToken
from tests.dbutil import in_threads

pytestmark = [pytest.mark.django_db(transaction=True)]

FLOW = """
id: lock_order
namespace: acme.race
tasks:
  - id: wait
    type: Pause
    pauseDuration: PT1H
    behavior: FAIL
  - id: after
    type: Return
    format: done
"""
ROUNDS = 50
# Which single outcome each winner leaves behind.
OUTCOMES = {
    SuspensionToken.State.RESUMED: Execution.State.SUCCESS,
    SuspensionToken.State.CANCELLED: Execution.State.CANCELLED,
    SuspensionToken.State.EXPIRED: Execution.State.FAILED,
}


def race(i: int, token: SuspensionToken):
    """Racer i: 0 answers the token, 1 cancels its execution, 2 applies its deadline."""
    if i == 0:
        return engine.resume(SuspensionToken.objects.get(pk=token.pk), {})
    if i == 1:
        return engine.cancel(token.execution_id)
    return engine.expire(token.pk, token.expires_at + timedelta(seconds=1))


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row-lock deadlocks only show on PostgreSQL (SQLite serialises writers)",
)
def test_cancel_resume_and_expiry_race_without_deadlock(make_flow, tenant):
    flow = make_flow(FLOW, into=tenant)
    winners = set()
    for _ in range(ROUNDS):
        execution = engine.start_execution(flow, {})
        token = SuspensionToken.objects.get(execution=execution)
        results = in_threads(3, lambda i, t=token: race(i, t))
        failures = [
            r
            for r in results
            if isinstance(r, Exception) and not isinstance(r, engine.EngineError)
        ]
        assert failures == []  # a deadlock would show up here as an error
        token.refresh_from_db()
        execution.refresh_from_db()
        cancelled = results[1] is True
        # The token has one outcome; a cancel may still end the execution after
        # an answer or the deadline won the token, while it was still running.
        if cancelled:
            assert execution.state == Execution.State.CANCELLED
        else:
            assert execution.state == OUTCOMES[token.state]
        token_moves = ExecutionEvent.objects.filter(
            subject_id=str(token.pk), from_state=SuspensionToken.State.WAITING
        )
        assert token_moves.count() == 1
        ends = ExecutionEvent.objects.filter(
            subject_id=str(execution.pk), to_state__in=Execution.TERMINAL
        )
        assert ends.count() == 1
        winners.add(token.state)
    assert winners  # at least one kind of winner; usually all three over 50 rounds
