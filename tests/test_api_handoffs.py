"""POST /api/suspensions/{id}/delegate and /api/executions/{id}/withdraw."""

import uuid
from datetime import timedelta

import pytest

from approvals import answers, delegation
from flows import engine
from flows.models import Execution, SuspensionToken
from tests.api_support import client_for


def delegate_url(token) -> str:
    return f"/api/suspensions/{token.pk}/delegate"


def withdraw_url(token) -> str:
    return f"/api/executions/{token.execution_id}/withdraw"


def test_delegating_answers_200_with_the_new_assignees(leave, people, post):
    token = leave()
    reply = post(client_for(people["ann"]), delegate_url(token), {"to": "bob"})
    assert reply.status_code == 200
    assert reply.json() == {
        "tokenId": str(token.pk),
        "executionId": str(token.execution_id),
        "state": "WAITING",
        "assignees": {"users": ["bob"], "groups": ["managers"]},
        "delegatedTo": "bob",
        "stillAssigned": False,
    }
    mine = client_for(people["bob"]).get("/api/suspensions?assigned=me").json()
    assert [item["tokenId"] for item in mine["results"]] == [str(token.pk)]


def test_the_delegate_answers_and_the_delegator_gets_403(leave, people, post):
    token = leave()
    ann = client_for(people["ann"])
    post(ann, delegate_url(token), {"to": "bob", "note": "on leave"})
    late = post(ann, f"/api/executions/{token.pk}/resume", {"decision": "Approved"})
    assert late.status_code == 403
    assert "bob" in late.json()["detail"]
    bob = client_for(people["bob"])
    done = post(bob, f"/api/executions/{token.pk}/resume", {"decision": "Approved"})
    assert done.status_code == 202
    status = ann.get(f"/api/executions/{token.execution_id}/status").json()
    assert status["outcome"] == "Approved by bob"


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"to": "nobody"}, "to", "No active member"),
        ({"to": "gus"}, "to", "No active member"),
        ({"to": "ann"}, "to", "yourself"),
        ({"to": "emp"}, "to", "emp started this execution"),
        ({}, "to", "Name the member"),
        ({"to": "bob", "note": "x" * 1001}, "note", "at most 1000"),
        ({"to": "bob\x00"}, "to", "Null characters are not allowed."),
    ],
)
def test_bad_delegations_are_400_naming_the_field(
    leave, people, post, body, field, says
):
    token = leave()
    reply = post(client_for(people["ann"]), delegate_url(token), body)
    assert reply.status_code == 400
    assert says in " ".join(reply.json()["errors"][field])
    assert SuspensionToken.objects.get(pk=token.pk).assignees["users"] == ["ann"]


def test_a_body_that_is_not_an_object_is_400(leave, people, post):
    token = leave()
    reply = post(client_for(people["ann"]), delegate_url(token), ["bob"])
    assert reply.status_code == 400
    assert reply.json()["errors"] == {"__all__": ["Send a JSON object."]}


def test_delegation_refusals_have_their_codes(leave, people, post, run_on_commit):
    token = leave()
    assert (
        post(client_for(people["gus"]), delegate_url(token), {"to": "bob"}).status_code
        == 403
    )
    assert (
        post(
            client_for(people["bob"]), delegate_url(token), {"to": "carol"}
        ).status_code
        == 404
    )
    missing = f"/api/suspensions/{uuid.uuid4()}/delegate"
    assert post(client_for(people["ann"]), missing, {"to": "bob"}).status_code == 404
    assert (
        post(client_for(people["ann"]), "/api/suspensions/x/delegate", {}).status_code
        == 404
    )
    run_on_commit(
        answers.answer, people["mia"], token, {"decision": "Approved"}, channel="api"
    )
    consumed = post(client_for(people["ann"]), delegate_url(token), {"to": "bob"})
    assert consumed.status_code == 409
    assert consumed.json()["state"] == "RESUMED"


def test_delegating_past_the_deadline_is_410(leave, people, post, monkeypatch):
    token = leave("pauseDuration: PT1H\nassignees:\n  users: [ann]\n")
    later = engine.now() + timedelta(hours=2)
    monkeypatch.setattr(engine, "now", lambda: later)
    reply = post(client_for(people["ann"]), delegate_url(token), {"to": "bob"})
    assert reply.status_code == 410
    assert "expiredAt" in reply.json()


def test_a_hand_over_that_lost_the_lock_is_409(leave, people, post, monkeypatch):
    token = leave()
    post(client_for(people["ann"]), delegate_url(token), {"to": "bob"})
    monkeypatch.setattr(delegation, "check_may_delegate", lambda user, token: None)
    reply = post(client_for(people["ann"]), delegate_url(token), {"to": "carol"})
    assert reply.status_code == 409
    assert "handed to bob" in reply.json()["detail"]


def test_withdrawing_answers_202_with_the_outcome(leave, people, post):
    token = leave()
    reply = post(
        client_for(people["emp"]), withdraw_url(token), {"reason": "no longer needed"}
    )
    assert reply.status_code == 202
    body = reply.json()
    assert body["outcome"] == "Withdrawn by emp: no longer needed"
    assert body["state"] == Execution.State.RUNNING  # its `finally` runs first
    status = client_for(people["emp"]).get(
        f"/api/executions/{token.execution_id}/status"
    )
    assert status.json()["state"] == Execution.State.CANCELLED
    assert status.json()["outcome"] == "Withdrawn by emp: no longer needed"
    assert status.json()["pauses"][0]["outcome"] == "Withdrawn by emp: no longer needed"
    late = post(
        client_for(people["ann"]),
        f"/api/executions/{token.pk}/resume",
        {"decision": "Approved"},
    )
    assert late.status_code == 409


def test_withdraw_refusals_have_their_codes(leave, people, post):
    token = leave()
    assert post(client_for(people["ann"]), withdraw_url(token), {}).status_code == 403
    assert post(client_for(people["gus"]), withdraw_url(token), {}).status_code == 403
    assert post(client_for(people["bob"]), withdraw_url(token), {}).status_code == 404
    missing = f"/api/executions/{uuid.uuid4()}/withdraw"
    assert post(client_for(people["emp"]), missing, {}).status_code == 404
    long = post(client_for(people["emp"]), withdraw_url(token), {"reason": "x" * 1001})
    assert long.status_code == 400 and "reason" in long.json()["errors"]
    assert post(client_for(people["emp"]), withdraw_url(token), {}).status_code == 202
    again = post(client_for(people["emp"]), withdraw_url(token), {})
    assert again.status_code == 409
    assert again.json()["state"] == "CANCELLED" and again.json()["by"] == "emp"
