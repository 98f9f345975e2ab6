"""The resume API end to end: answers, screens, quorum, idempotent retries."""

import pytest
from rest_framework.test import APIClient

from approvals.models import Answer, IdempotentReply
from flows.models import Execution, SuspensionToken, TaskRun
from tests.api_support import (
    APPROVAL,
    REVIEW,
    TWO_PAUSES,
    client_for,
    resume_url,
    runs,
)
from tests.factories import TenantFactory, UserFactory

E, T, S = Execution.State, TaskRun.State, SuspensionToken.State


def test_answer_is_accepted_and_the_execution_continues(api, user, pause, post):
    token = pause()
    response = post(api, resume_url(token.pk), {"reason": "fine", "budget": 5})
    assert response.status_code == 202
    assert response.json() == {
        "executionId": str(token.execution_id),
        "status": "Resuming",
    }
    assert response["Location"] == f"/api/executions/{token.execution_id}/status"
    token.refresh_from_db()
    assert token.state == S.RESUMED and token.channel == "api"
    assert token.resolved_by == user
    task_runs = runs(token.execution_id)
    assert task_runs["wait"].state == T.SUCCESS
    assert task_runs["wait"].outputs["onResume"] == {"reason": "fine", "budget": 5}
    assert task_runs["after"].outputs == {"value": "fine by alice"}
    assert Execution.objects.get(pk=token.execution_id).state == E.SUCCESS
    answer = Answer.objects.get(token=token)
    assert (answer.user, answer.channel, answer.decision) == (user, "api", "Submitted")
    assert answer.values == {"reason": "fine", "budget": 5}


def test_execution_id_works_in_place_of_the_token_id(api, pause, post):
    token = pause()
    response = post(api, resume_url(token.execution_id), {"reason": "ok"})
    assert response.status_code == 202
    token.refresh_from_db()
    assert token.state == S.RESUMED
    assert Execution.objects.get(pk=token.execution_id).state == E.SUCCESS


def test_execution_id_answers_its_waiting_pause_not_an_earlier_one(api, pause, post):
    first = pause(TWO_PAUSES)
    assert post(api, resume_url(first.execution_id), {}).status_code == 202
    second = SuspensionToken.objects.get(execution=first.execution, state=S.WAITING)
    assert runs(first.execution_id)["second"].state == T.PAUSED
    assert post(api, resume_url(first.execution_id), {}).status_code == 202
    second.refresh_from_db()
    assert second.state == S.RESUMED
    assert Execution.objects.get(pk=first.execution_id).state == E.SUCCESS
    # Nothing left to answer: the execution's latest token reports why.
    again = post(api, resume_url(first.execution_id), {})
    assert again.status_code == 409 and again.json()["state"] == S.RESUMED


def test_a_retry_with_the_same_idempotency_key_gets_the_first_reply(api, pause, post):
    token = pause()
    data = {"reason": "fine"}
    first = post(api, resume_url(token.pk), data, **{"Idempotency-Key": "k-1"})
    retry = post(api, resume_url(token.pk), data, **{"Idempotency-Key": "k-1"})
    assert first.status_code == retry.status_code == 202
    assert retry.json() == first.json()
    assert retry["Location"] == first["Location"]
    assert retry["Idempotent-Replayed"] == "true"
    assert Answer.objects.filter(token=token).count() == 1
    assert IdempotentReply.objects.get(key="k-1").token_id == token.pk
    by_execution = post(
        api, resume_url(token.execution_id), data, **{"Idempotency-Key": "k-1"}
    )
    assert by_execution.status_code == 202


def test_a_retry_without_a_key_is_409(api, pause, post):
    token = pause()
    assert post(api, resume_url(token.pk), {"reason": "a"}).status_code == 202
    retry = post(api, resume_url(token.pk), {"reason": "a"})
    assert retry.status_code == 409
    assert Answer.objects.filter(token=token).count() == 1


def test_keys_belong_to_their_user(api, tenant, pause, post):
    token = pause(APPROVAL)
    bob = client_for(UserFactory(username="bob", tenants=[tenant]))
    key = {"Idempotency-Key": "shared"}
    data = {"decision": "Approved"}
    assert post(api, resume_url(token.pk), data, **key).json()["status"] == "Waiting"
    second = post(bob, resume_url(token.pk), data, **key)
    assert second.json()["status"] == "Resuming"
    assert Answer.objects.filter(token=token).count() == 2


def test_a_failed_answer_stores_no_reply(api, pause, post):
    token = pause()
    bad = post(api, resume_url(token.pk), {"budget": -1}, **{"Idempotency-Key": "x"})
    assert bad.status_code == 400
    assert not IdempotentReply.objects.exists()
    good = post(api, resume_url(token.pk), {"reason": "ok"}, **{"Idempotency-Key": "x"})
    assert good.status_code == 202


def test_quorum_waits_for_the_second_approver(api, tenant, pause, post):
    token = pause(APPROVAL)
    bob = client_for(UserFactory(username="bob", tenants=[tenant]))
    first = post(api, resume_url(token.pk), {"decision": "Approved"})
    assert first.status_code == 202
    assert first.json() == {
        "executionId": str(token.execution_id),
        "status": "Waiting",
        "approvals": 1,
        "required": 2,
    }
    assert runs(token.execution_id)["sign"].state == T.PAUSED
    second = post(bob, resume_url(token.pk), {"decision": "Approved"})
    assert second.status_code == 202 and second.json()["status"] == "Resuming"
    task_runs = runs(token.execution_id)
    assert task_runs["sign"].outputs["decision"] == "Approved"
    assert [a["by"] for a in task_runs["sign"].outputs["answers"]] == ["alice", "bob"]
    assert Execution.objects.get(pk=token.execution_id).state == E.SUCCESS


def test_the_same_approver_twice_is_409(api, pause, post):
    token = pause(APPROVAL)
    assert post(api, resume_url(token.pk), {"decision": "Approved"}).status_code == 202
    again = post(api, resume_url(token.pk), {"decision": "Approved"})
    assert again.status_code == 409
    assert "already answered" in again.json()["detail"]
    assert Answer.objects.filter(token=token).count() == 1


def test_a_rejection_ends_the_pause_at_once(api, pause, post):
    token = pause(APPROVAL)  # needs two approvals, but one rejection settles it
    data = {"decision": "Rejected", "comment": "no"}
    response = post(api, resume_url(token.pk), data)
    assert response.status_code == 202 and response.json()["status"] == "Resuming"
    task_runs = runs(token.execution_id)
    assert task_runs["sign"].outputs["decision"] == "Rejected"
    assert task_runs["sign"].outputs["comment"] == "no"
    assert task_runs["sign"].state == "CANCELLED"  # rejectBehavior's default
    assert "after" not in task_runs
    assert Execution.objects.get(pk=token.execution_id).state == E.CANCELLED
    assert Answer.objects.get(token=token).decision == "Rejected"


def test_status_says_the_outcome_of_the_execution_and_of_each_pause(api, pause, post):
    token = pause(APPROVAL)
    waiting = api.get(f"/api/executions/{token.execution_id}/status").json()
    assert waiting["outcome"] is None and waiting["pause"]["tokenId"] == str(token.pk)
    assert [(p["state"], p["outcome"]) for p in waiting["pauses"]] == [
        ("WAITING", None)
    ]
    data = {"decision": "Rejected", "comment": "not this week"}
    post(api, resume_url(token.pk), data)
    body = api.get(f"/api/executions/{token.execution_id}/status").json()
    assert body["state"] == E.CANCELLED and body["pause"] is None
    assert body["outcome"] == "Rejected by alice: not this week"
    assert body["pauses"] == [
        {
            "tokenId": str(token.pk),
            "path": "sign",
            "screen": "approval",
            "state": "RESUMED",
            "outcome": "Rejected by alice: not this week",
            "resolvedBy": "alice",
            "resolvedAt": body["pauses"][0]["resolvedAt"],
        }
    ]


def test_status_outcome_of_a_quorum_and_of_two_pauses(api, tenant, pause, post):
    bob = client_for(UserFactory(username="bob", tenants=[tenant]))
    token = pause(APPROVAL)
    post(api, resume_url(token.pk), {"decision": "Approved"})
    post(bob, resume_url(token.pk), {"decision": "Approved", "comment": "fine"})
    body = api.get(f"/api/executions/{token.execution_id}/status").json()
    assert body["outcome"] == "Approved by alice, bob"
    twice = pause(TWO_PAUSES)
    post(api, resume_url(twice.execution_id), {})
    body = api.get(f"/api/executions/{twice.execution_id}/status").json()
    assert [p["outcome"] for p in body["pauses"]] == ["Resumed by alice", None]
    assert body["outcome"] == "Resumed by alice"
    assert body["pause"]["tokenId"] == body["pauses"][1]["tokenId"]


def test_review_screen_needs_the_acknowledgement(api, pause, post):
    token = pause(REVIEW)
    refused = post(api, resume_url(token.pk), {"acknowledged": False})
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["acknowledged"]
    accepted = post(api, resume_url(token.pk), {"acknowledged": True})
    assert accepted.status_code == 202
    assert runs(token.execution_id)["read"].outputs["onResume"]["acknowledged"] is True
    assert Execution.objects.get(pk=token.execution_id).state == E.SUCCESS


def test_a_session_login_works_too(user, pause, post):
    token = pause()
    client = APIClient()
    client.force_login(user)
    assert post(client, resume_url(token.pk), {"reason": "ok"}).status_code == 202


def test_resume_does_a_fixed_small_number_of_queries(
    api, pause, django_assert_max_num_queries
):
    token = pause()
    # 6 are the API's own (credentials; the token joined with its execution, flow
    # and revision and whether the user may see it; the user's tenants; their
    # permissions and their groups' (flows.view_execution); whether they are
    # entitled to answer); approvals.answers and flows.engine then store the
    # answer, consume the token, move the task run and the execution and write
    # their events (savepoints included).
    with django_assert_max_num_queries(18):
        response = api.post(resume_url(token.pk), {"reason": "x"}, format="json")
    assert response.status_code == 202


# ---------------------------------------------------------------- start


LEAVE = """
id: leave
namespace: acme.hr
inputs:
  - id: request.name
    type: STRING
  - id: request.days
    type: INT
    min: 1
  - id: urgent
    type: BOOLEAN
    defaults: false
tasks:
  - id: hello
    type: Return
    format: "{{ inputs.request.name }} for {{ inputs.request.days }} days"
"""
START = "/api/flows/acme.hr/leave/executions"

SIMPLE_START = """
id: hello
namespace: acme.hr
inputs:
  - id: who
    type: STRING
    defaults: world
tasks:
  - id: r
    type: Return
    format: "{{ inputs.who }}"
"""


@pytest.mark.parametrize(
    "inputs",
    [
        {"request.name": "Ada", "request.days": 3},
        {"request": {"name": "Ada", "days": "3"}},
    ],
)
def test_start_creates_an_execution_from_flat_or_nested_inputs(
    api, user, make_flow, post, inputs
):
    make_flow(LEAVE)
    response = post(api, START, {"inputs": inputs, "labels": {"team": "hr"}})
    assert response.status_code == 201
    execution = Execution.objects.get()
    assert response.json() == {
        "executionId": str(execution.pk),
        "state": "CREATED",
        "statusUrl": f"/api/executions/{execution.pk}/status",
        "queued": None,
    }
    assert response["X-Execution-Id"] == str(execution.pk)
    assert response["Location"] == f"/api/executions/{execution.pk}"
    execution.refresh_from_db()
    assert execution.inputs == {"request": {"name": "Ada", "days": 3}, "urgent": False}
    assert execution.created_by == user and execution.labels == {"team": "hr"}
    assert execution.state == E.SUCCESS
    assert runs(execution.pk)["hello"].outputs == {"value": "Ada for 3 days"}


def test_start_refuses_bad_inputs_naming_each(api, make_flow):
    make_flow(LEAVE)
    inputs = {"request": {"days": 0}, "urgent": "perhaps", "extra": 1}
    response = api.post(START, {"inputs": inputs}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid inputs."
    assert set(body["errors"]) == {"request.name", "request.days", "urgent", "extra"}
    assert not Execution.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"inputs": ["Ada"]}, "inputs"),
        ({"request.name": "Ada"}, "request.name"),  # inputs outside "inputs"
        (["Ada"], "__all__"),
    ],
)
def test_start_refuses_a_malformed_body(api, make_flow, body, field):
    make_flow(LEAVE)
    response = api.post(START, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_start_without_inputs_uses_the_defaults(api, make_flow, post):
    make_flow(SIMPLE_START)
    response = post(api, "/api/flows/acme.hr/hello/executions", {})
    assert response.status_code == 201
    assert Execution.objects.get().inputs == {"who": "world"}


def test_start_of_an_unknown_flow_is_404(api, make_flow):
    make_flow(LEAVE)
    response = api.post("/api/flows/acme.hr/nope/executions", {}, format="json")
    assert response.status_code == 404
    assert "acme.hr/nope" in response.json()["detail"]


def test_a_flow_in_several_of_my_tenants_needs_a_tenant(api, user, make_flow, post):
    other = TenantFactory(slug="globex")
    other.members.add(user)
    make_flow(SIMPLE_START)
    make_flow(SIMPLE_START, into=other)
    url = "/api/flows/acme.hr/hello/executions"
    ambiguous = post(api, url, {})
    assert ambiguous.status_code == 400
    assert ambiguous.json()["errors"] == {"tenant": ["Choose one of: acme, globex."]}
    chosen = post(api, f"{url}?tenant=globex", {})
    assert chosen.status_code == 201
    assert Execution.objects.get().tenant == other
