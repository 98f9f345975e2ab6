"""Reading endpoints (status, lists, inbox): what they show, to whom, in what queries.

A user only ever sees and touches their own tenants' executions and suspensions.
"""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.models import Answer
from flows import engine
from flows.models import Execution, SuspensionToken
from tests.api_support import APPROVAL, FORM, form_with
from tests.factories import UserFactory

E, S = Execution.State, SuspensionToken.State


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


# ---------------------------------------------------------------- status


def test_status_while_paused_shows_the_pause_and_what_it_expects(api, pause):
    token = pause(
        form_with("assignees: {users: [alice], groups: [finance]}"),
        inputs={"amount": 7},
    )
    body = api.get(f"/api/executions/{token.execution_id}/status").json()
    assert body["executionId"] == str(token.execution_id)
    assert body["state"] == "PAUSED"
    assert body["flow"] == {"namespace": "acme.finance", "id": "expense", "revision": 1}
    assert body["inputs"] == {"amount": 7}
    assert body["outputs"] == {}
    [wait] = body["taskRuns"]
    assert (wait["taskId"], wait["state"], wait["attempt"]) == ("wait", "PAUSED", 1)
    assert wait["startedAt"] and wait["endedAt"] is None
    pause_ = body["pause"]
    assert pause_["tokenId"] == str(token.pk)
    assert pause_["screen"] == "form" and pause_["message"] == "Approve 7?"
    assert pause_["deadline"] == token.expires_at.isoformat()
    assert pause_["approvals"] == {"required": 1, "received": 0}
    assert pause_["assignees"] == {"users": ["alice"], "groups": ["finance"]}
    assert pause_["resumeUrl"] == f"/api/executions/{token.pk}/resume"
    reason, budget = pause_["expected"]
    assert (reason["id"], reason["type"]) == ("reason", "STRING")
    assert reason["required"] is True
    assert (budget["id"], budget["min"], budget["required"]) == ("budget", 0, False)


def test_status_after_the_answer_shows_outputs_and_no_pause(api, pause, post):
    token = pause()
    url = f"/api/executions/{token.execution_id}/resume"
    assert post(api, url, {"reason": "ok"}).status_code == 202
    body = api.get(f"/api/executions/{token.execution_id}/status").json()
    assert body["state"] == "SUCCESS" and body["pause"] is None and body["endedAt"]
    assert body["outputs"]["wait"]["onResume"] == {"reason": "ok", "budget": None}
    assert body["outputs"]["after"] == {"value": "ok by alice"}
    assert [(r["taskId"], r["state"]) for r in body["taskRuns"]] == [
        ("wait", "SUCCESS"),
        ("after", "SUCCESS"),
    ]
    assert api.get(f"/api/executions/{token.execution_id}").json() == body


def test_status_counts_approvals_received(api, user, tenant, pause, post):
    token = pause(APPROVAL)
    url = f"/api/executions/{token.pk}/resume"
    assert post(api, url, {"decision": "Approved"}).status_code == 202
    body = api.get(f"/api/executions/{token.execution_id}/status").json()
    assert body["pause"]["approvals"] == {"required": 2, "received": 1}
    assert [f["id"] for f in body["pause"]["expected"]] == ["decision", "comment"]


def test_status_of_an_unknown_execution_is_404(api):
    for missing in (uuid.uuid4(), "nope"):
        response = api.get(f"/api/executions/{missing}/status")
        assert response.status_code == 404
        assert response.json() == {"detail": "No such execution."}


def test_status_does_a_fixed_number_of_queries(
    api, pause, django_assert_max_num_queries
):
    token = pause()
    # credentials, execution with its flow (and whether alice may see it), tenants,
    # alice's permissions and her groups' (for flows.view_execution), task runs,
    # open pause
    with django_assert_max_num_queries(7):
        response = api.get(f"/api/executions/{token.execution_id}/status")
    assert response.status_code == 200


# ---------------------------------------------------------------- lists


def test_executions_are_listed_newest_first_and_filtered(api, make_flow, pause):
    paused = [pause(), pause()]
    done = pause(APPROVAL.replace("approvals: 2", "approvals: 1"))
    engine.cancel(done.execution_id)
    ids = [str(t.execution_id) for t in (*paused, done)]
    assert [e["executionId"] for e in results(api.get("/api/executions"))] == ids[::-1]
    by_state = results(api.get("/api/executions?state=paused"))
    assert {e["executionId"] for e in by_state} == set(ids[:2])
    legal = results(api.get("/api/executions?namespace=acme.legal&flow=contract"))
    assert [e["executionId"] for e in legal] == [ids[2]]
    assert legal[0]["state"] == "CANCELLED" and legal[0]["tenant"] == "acme"
    assert legal[0]["statusUrl"] == f"/api/executions/{ids[2]}/status"
    page = api.get("/api/executions?limit=1&offset=1").json()
    assert page["count"] == 3 and page["next"] and page["previous"]
    assert [e["executionId"] for e in page["results"]] == [ids[1]]
    bad = api.get("/api/executions?state=sleepy")
    assert bad.status_code == 400 and "state" in bad.json()["errors"]


def test_suspensions_list_the_open_ones(api, pause, post):
    open_ = pause(inputs={"amount": 3})
    answered = pause()
    resumed = post(api, f"/api/executions/{answered.pk}/resume", {"reason": "x"})
    assert resumed.status_code == 202
    overdue = pause()
    SuspensionToken.objects.filter(pk=overdue.pk).update(
        expires_at=engine.now() - timedelta(seconds=1)
    )
    [item] = results(api.get("/api/suspensions"))
    assert item == {
        "tokenId": str(open_.pk),
        "executionId": str(open_.execution_id),
        "flow": {"namespace": "acme.finance", "id": "expense", "revision": 1},
        "screen": "form",
        "message": "Approve 3?",
        "deadline": open_.expires_at.isoformat(),
        "createdAt": open_.created_at.isoformat(),
        "approvals": {"required": 1, "received": 0},
    }


def test_assigned_to_me_lists_only_what_i_may_answer(api, user, pause, post):
    mine = pause(form_with("assignees: {users: [alice]}"))
    anyone = pause()
    pause(form_with("assignees: {users: [bob]}"))
    pause(actor=user)  # started by alice: no self-approval
    quorum = pause(APPROVAL)
    approved = post(
        api, f"/api/executions/{quorum.pk}/resume", {"decision": "Approved"}
    )
    assert approved.status_code == 202
    # bob's is not alice's to see; the others are (open, hers, one she started)
    assert len(results(api.get("/api/suspensions"))) == 4
    assigned = results(api.get("/api/suspensions?assigned=me"))
    assert {i["tokenId"] for i in assigned} == {str(mine.pk), str(anyone.pk)}
    assert api.get("/api/suspensions?assigned=bob").status_code == 400


def test_a_suspension_shows_what_an_answer_may_carry(api, pause, post):
    token = pause(form_with("assignees: {users: [alice]}"))
    body = api.get(f"/api/suspensions/{token.pk}").json()
    assert body["state"] == "WAITING" and body["assignees"] == {
        "users": ["alice"],
        "groups": [],
    }
    assert [f["id"] for f in body["expected"]] == ["reason", "budget"]
    assert body["resumeUrl"] == f"/api/executions/{token.pk}/resume"
    assert post(api, body["resumeUrl"], {"reason": "x"}).status_code == 202
    assert api.get(f"/api/suspensions/{token.pk}").json()["state"] == "RESUMED"
    assert api.get(f"/api/suspensions/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize(
    "url", ["/api/executions", "/api/suspensions", "/api/suspensions?assigned=me"]
)
def test_lists_do_a_constant_number_of_queries(
    api, tenant, make_flow, run_on_commit, django_assert_max_num_queries, url
):
    flow = make_flow(APPROVAL)
    bob = UserFactory(username="bob", tenants=[tenant])

    def add(count):
        for _ in range(count):
            execution = run_on_commit(engine.start_execution, flow)
            token = SuspensionToken.objects.get(execution=execution)
            Answer.objects.create(  # one approval received on each
                token=token, user=bob, decision="Approved", answered_at=engine.now()
            )

    add(5)
    with CaptureQueriesContext(connection) as five:
        assert len(results(api.get(url))) == 5
    add(20)
    with django_assert_max_num_queries(len(five)):
        items = results(api.get(url))
    assert len(items) == 25
    if "suspensions" in url:
        assert {i["approvals"]["received"] for i in items} == {1}


# ---------------------------------------------------------------- isolation


@pytest.fixture
def theirs(globex, pause):
    """A paused execution of another tenant, with its flow."""
    return pause(FORM, into=globex)


def test_another_tenants_ids_are_refused_everywhere(api, theirs):
    execution_id = theirs.execution_id
    for url in (
        f"/api/executions/{execution_id}",
        f"/api/executions/{execution_id}/status",
        f"/api/suspensions/{theirs.pk}",
    ):
        response = api.get(url)
        assert response.status_code == 403, url
        assert "another tenant" in response.json()["detail"]
    for target in (theirs.pk, execution_id):
        response = api.post(
            f"/api/executions/{target}/resume", {"reason": "x"}, format="json"
        )
        assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.state == S.WAITING


def test_another_tenants_flow_cannot_be_started(api, theirs):
    for url in (
        "/api/flows/acme.finance/expense/executions",
        "/api/flows/acme.finance/expense/executions?tenant=globex",
    ):
        response = api.post(url, {"inputs": {}}, format="json")
        assert response.status_code == 404
    assert Execution.objects.count() == 1


def test_my_flow_is_started_when_another_tenant_has_the_same_one(
    api, theirs, make_flow, post, tenant
):
    make_flow(FORM)
    response = post(api, "/api/flows/acme.finance/expense/executions", {})
    assert response.status_code == 201
    assert Execution.objects.get(pk=response["X-Execution-Id"]).tenant == tenant


def test_lists_show_only_my_tenants(api, user, theirs, pause, globex):
    mine = pause()
    for url in ("/api/executions", "/api/suspensions", "/api/suspensions?assigned=me"):
        listed = {i["executionId"] for i in results(api.get(url))}
        assert listed == {str(mine.execution_id)}, url
    assert results(api.get("/api/executions?flow=expense&namespace=acme.finance"))
    globex.members.add(user)
    listed = {i["executionId"] for i in results(api.get("/api/suspensions"))}
    assert listed == {str(mine.execution_id), str(theirs.execution_id)}
    assert api.get(f"/api/executions/{theirs.execution_id}/status").status_code == 200
