"""Hand-overs racing answers, each other and withdrawals, in real threads.

The execution's row lock decides: one wins, the other is refused (409, or 403
when it only looked after the winner had committed), and an answered token never
has changed assignees. On SQLite the IMMEDIATE transactions serialise the writers.
"""

import time

import pytest
from django.contrib.auth.models import Group

from approvals import access, answers, delegation, withdrawal
from approvals.models import Answer
from flows import engine, loader
from flows.models import Execution, ExecutionEvent, SuspensionToken
from tests.dbutil import in_threads
from tests.factories import UserFactory
from tests.handoff_support import ASSIGNED, LEAVE

pytestmark = [pytest.mark.django_db(transaction=True)]
ROUNDS = 6
LOST = (engine.Reassigned, engine.AlreadyConsumed, access.Denied)


@pytest.fixture
def crowd(tenant):
    people = {
        name: UserFactory(username=name, tenants=[tenant])
        for name in ["emp", "ann", "bob", "carol", "mia"]
    }
    Group.objects.get_or_create(name="managers")[0].user_set.add(people["mia"])
    flow = loader.load_flow(tenant, LEAVE.format(pause=_indented(ASSIGNED))).flow
    return people, flow


def _indented(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.strip().splitlines())


def _start(flow, people) -> SuspensionToken:
    execution = engine.start_execution(flow, {"days": 3}, actor=people["emp"])
    return _token(execution.pk)


def _token(execution_id) -> SuspensionToken:
    return SuspensionToken.objects.select_related("execution", "tenant").get(
        execution_id=execution_id
    )


def test_a_hand_over_racing_the_answer_never_changes_an_answered_token(crowd):
    people, flow = crowd
    seen = set()
    for round_ in range(ROUNDS):
        token = _start(flow, people)

        def race(i, token=token, lag=0.004 * (round_ % 3)):
            mine = _token(token.execution_id)
            if i == 0:
                return delegation.delegate(people["ann"], mine, "bob", channel="api")
            answers.check_can_answer(people["ann"], mine)
            time.sleep(lag)  # lets the hand-over get ahead in some rounds
            return answers.answer(
                people["ann"], mine, {"decision": "Approved"}, channel="api"
            )

        handed, answered = in_threads(2, race)
        token = _token(token.execution_id)
        delegated = ExecutionEvent.objects.filter(
            execution_id=token.execution_id, data__event="delegated"
        )
        if isinstance(handed, delegation.Handed):
            assert isinstance(answered, LOST), answered
            assert token.state == SuspensionToken.State.WAITING
            assert token.assignees["users"] == ["bob"]
            assert not Answer.objects.filter(token=token).exists()
            seen.add("delegated")
        else:
            assert isinstance(handed, LOST), handed
            assert isinstance(answered, answers.Outcome), answered
            assert token.state == SuspensionToken.State.RESUMED
            assert token.assignees["users"] == ["ann"]  # unchanged
            assert not delegated.exists()
            seen.add("answered")
    assert seen


def test_two_hand_overs_of_one_assignment_have_one_winner(crowd):
    people, flow = crowd
    for _ in range(ROUNDS):
        token = _start(flow, people)

        def race(i, token=token):
            to = ["bob", "carol"][i]
            mine = _token(token.execution_id)
            return delegation.delegate(people["ann"], mine, to, channel="api")

        results = in_threads(2, race)
        won = [r for r in results if isinstance(r, delegation.Handed)]
        lost = [r for r in results if isinstance(r, LOST)]
        assert len(won) == 1 and len(lost) == 1, results
        token = _token(token.execution_id)
        assert token.assignees["users"] == [won[0].to]
        delegated = ExecutionEvent.objects.filter(
            execution_id=token.execution_id, data__event="delegated"
        )
        assert delegated.count() == 1


def test_a_withdrawal_racing_the_answer_has_one_winner(crowd):
    people, flow = crowd
    for _ in range(ROUNDS):
        token = _start(flow, people)

        def race(i, token=token):
            mine = _token(token.execution_id)
            if i == 0:
                return withdrawal.withdraw(
                    people["emp"], mine.execution, "changed my mind", channel="api"
                )
            return answers.answer(
                people["ann"], mine, {"decision": "Approved"}, channel="api"
            )

        withdrawn, answered = in_threads(2, race)
        token = _token(token.execution_id)
        execution = Execution.objects.get(pk=token.execution_id)
        if withdrawn is None:  # the withdrawal won
            assert isinstance(answered, engine.AlreadyConsumed), answered
            assert token.state == SuspensionToken.State.CANCELLED
            assert execution.state == Execution.State.CANCELLED
        else:
            assert isinstance(withdrawn, engine.HoldConflict), withdrawn
            assert isinstance(answered, answers.Outcome), answered
            assert token.state == SuspensionToken.State.RESUMED
            assert execution.state == Execution.State.SUCCESS
