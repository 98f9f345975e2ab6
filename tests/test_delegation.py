"""Delegation: who may hand a waiting request on, to whom, and what it changes."""

import pytest
from django.test import Client

from approvals import access, answers, delegation, outcomes
from approvals.models import Answer
from flows import engine
from flows.models import ExecutionEvent, SuspensionToken, TokenAssignee

QUORUM = """
approvals: 2
assignees:
  users: [ann, bob]
  groups: [managers]
"""


def rows(token) -> set[tuple[str, str]]:
    return set(TokenAssignee.objects.filter(token=token).values_list("kind", "name"))


def inbox(user) -> set:
    return set(access.answerable_tokens(user).values_list("pk", flat=True))


def refused_field(call) -> tuple[str, str]:
    with pytest.raises(delegation.Refused) as caught:
        call()
    return caught.value.field, str(caught.value)


def test_a_user_assignee_is_replaced_by_the_delegate(leave, people):
    token = leave()
    handed = delegation.delegate(people["ann"], token, "bob", "on leave", channel="web")
    assert rows(token) == {("user", "bob"), ("group", "managers")}
    assert handed.token.assignees == {"users": ["bob"], "groups": ["managers"]}
    assert handed.still_assigned is False
    assert token.pk in inbox(people["bob"])
    assert token.pk not in inbox(people["ann"])


def test_the_trail_names_who_handed_it_to_whom_and_why(leave, people):
    token = leave()
    delegation.delegate(people["ann"], token, "bob", "on leave", channel="api")
    event = ExecutionEvent.objects.filter(data__event="delegated").get()
    assert (event.actor_name, event.channel) == ("ann", "api")
    assert event.data["from"] == "ann" and event.data["to"] == "bob"
    assert event.data["removed"] == {"users": ["ann"], "groups": []}
    assert outcomes.of_event(event) == "Delegated by ann to bob: on leave"


def test_one_matched_through_a_group_adds_the_delegate_and_the_group_stays(
    leave, people
):
    token = leave()
    handed = delegation.delegate(people["mia"], token, "carol", channel="web")
    assert rows(token) == {("user", "ann"), ("user", "carol"), ("group", "managers")}
    assert handed.still_assigned is True
    assert token.pk in inbox(people["mia"])  # still a manager
    assert token.pk in inbox(people["carol"])


def test_the_delegate_can_answer_and_the_delegator_gets_403_not_404(leave, people):
    token = leave()
    delegation.delegate(people["ann"], token, "bob", channel="web")
    token.refresh_from_db()
    # Still sees the execution (a former assignee) ...
    assert access.visible_executions(people["ann"]).filter(pk=token.execution_id)
    # ... but may not answer it any more.
    with pytest.raises(access.Denied, match="bob"):
        answers.check_can_answer(people["ann"], token)
    outcome = answers.answer(
        people["bob"], token, {"decision": "Approved"}, channel="web"
    )
    assert outcome.resumed and outcome.answer.user == people["bob"]


def test_a_late_answer_of_the_delegator_on_the_screen_is_a_403(leave, people):
    token = leave()
    delegation.delegate(people["ann"], token, "bob", channel="web")
    client = Client()
    client.force_login(people["ann"])
    page = client.get(f"/approvals/{token.pk}/")
    assert page.status_code == 403
    assert "Only bob or members of managers may answer this." in page.content.decode()
    execution_page = client.get(f"/executions/{token.execution_id}/")
    assert execution_page.status_code == 200
    assert "Delegated by ann to bob" in execution_page.content.decode()


@pytest.mark.parametrize(
    ("to", "message"),
    [
        ("", "Name the member to hand it to."),
        ("nobody", "No active member of this tenant is called “nobody”."),
        ("gus", "No active member of this tenant is called “gus”."),  # globex
        ("ivy", "No active member of this tenant is called “ivy”."),  # inactive
        ("ann", "You cannot hand it to yourself."),
        ("emp", "emp started this execution, so they may not approve it."),
        ("mia", "mia may already answer it."),
    ],
)
def test_each_refused_delegate_names_the_to_field(leave, people, to, message):
    token = leave()
    field, said = refused_field(
        lambda: delegation.delegate(people["ann"], token, to, channel="web")
    )
    assert (field, said) == ("to", message)
    assert rows(token) == {("user", "ann"), ("group", "managers")}
    assert not ExecutionEvent.objects.filter(data__event="delegated").exists()


def test_the_requester_may_be_the_delegate_when_self_approval_is_allowed(leave, people):
    token = leave(ASSIGNED_SELF)
    delegation.delegate(people["ann"], token, "emp", channel="web")
    assert ("user", "emp") in rows(token)


ASSIGNED_SELF = """
allowSelfApproval: true
assignees:
  users: [ann]
"""


def test_one_who_already_answered_a_quorum_is_no_delegate(leave, people):
    token = leave(QUORUM)
    answers.answer(people["bob"], token, {"decision": "Approved"}, channel="web")
    field, said = refused_field(
        lambda: delegation.delegate(people["ann"], token, "bob", channel="web")
    )
    assert (field, said) == ("to", "bob already answered it.")


def test_one_who_already_answered_may_not_hand_it_on(leave, people):
    token = leave(QUORUM)
    answers.answer(people["bob"], token, {"decision": "Approved"}, channel="web")
    with pytest.raises(access.Denied, match="already answered"):
        delegation.delegate(people["bob"], token, "carol", channel="web")


def test_a_quorum_delegate_takes_the_delegators_place(leave, people):
    token = leave(QUORUM)
    delegation.delegate(people["ann"], token, "carol", channel="web")
    answers.answer(people["bob"], token, {"decision": "Approved"}, channel="web")
    outcome = answers.answer(
        people["carol"], token, {"decision": "Approved"}, channel="web"
    )
    assert outcome.resumed and outcome.approvals == 2
    token = SuspensionToken.objects.select_related("execution").get(pk=token.pk)
    with pytest.raises(engine.AlreadyConsumed):
        delegation.delegate(people["mia"], token, "bob", channel="web")


@pytest.mark.parametrize(
    ("who", "refusal"),
    [("bob", access.Invisible), ("gus", access.Denied), ("carol", access.Invisible)],
)
def test_only_an_assignee_may_hand_it_on(leave, people, who, refusal):
    token = leave()
    with pytest.raises(refusal):
        delegation.delegate(people[who], token, "carol", channel="web")
    assert rows(token) == {("user", "ann"), ("group", "managers")}


def test_the_requester_may_not_pick_their_own_approver(leave, people):
    token = leave(ASSIGNED_REQUESTER)
    with pytest.raises(access.Denied, match="started this execution"):
        delegation.delegate(people["emp"], token, "carol", channel="web")


ASSIGNED_REQUESTER = """
assignees:
  users: [emp, ann]
"""


def test_a_pause_open_to_everyone_has_no_one_to_hand_it_from(leave, people):
    token = leave("")
    with pytest.raises(access.Denied, match="Every member may answer"):
        delegation.delegate(people["ann"], token, "bob", channel="web")
    assert rows(token) == set()


def test_an_answered_token_cannot_be_handed_on(leave, people, run_on_commit):
    token = leave()
    run_on_commit(
        answers.answer, people["ann"], token, {"decision": "Approved"}, channel="web"
    )
    token = SuspensionToken.objects.get(pk=token.pk)
    with pytest.raises(engine.AlreadyConsumed):
        delegation.delegate(people["mia"], token, "bob", channel="web")
    assert rows(token) == {("user", "ann"), ("group", "managers")}


def test_an_answer_checked_before_a_hand_over_is_refused_after_it(leave, people):
    """The answer's permission was checked, then a delegation took the lock: the
    conditional UPDATE finds ann no longer assigned and refuses (409)."""
    token = leave()
    answers.check_can_answer(people["ann"], token)
    delegation.delegate(people["ann"], token, "bob", channel="web")
    with pytest.raises(engine.Reassigned):
        answers.answer(people["ann"], token, {"decision": "Approved"}, channel="web")
    token.refresh_from_db()
    assert token.state == SuspensionToken.State.WAITING
    assert not Answer.objects.filter(token=token).exists()


def test_a_quorum_answer_checked_before_a_hand_over_is_refused_after_it(leave, people):
    token = leave(QUORUM)
    delegation.delegate(people["ann"], token, "carol", channel="web")
    with pytest.raises(engine.Reassigned):
        answers.answer(people["ann"], token, {"decision": "Approved"}, channel="web")
    assert not Answer.objects.filter(token=token).exists()


def test_a_hand_over_that_lost_the_lock_to_another_is_a_409(leave, people, monkeypatch):
    """ann's second hand-over passed its checks before her first one committed:
    under the lock she is no longer assigned, so it is refused (409)."""
    token = leave()
    delegation.delegate(people["ann"], token, "bob", channel="web")
    monkeypatch.setattr(delegation, "check_may_delegate", lambda user, token: None)
    with pytest.raises(engine.Reassigned):
        delegation.delegate(people["ann"], token, "carol", channel="web")
    assert rows(token) == {("user", "bob"), ("group", "managers")}
    assert ExecutionEvent.objects.filter(data__event="delegated").count() == 1
