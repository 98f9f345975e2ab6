"""API: whole-flow and one-execution pause, resume, cancel; codes and bodies."""

import uuid

import pytest

from approvals import serializers as s
from flows.models import Execution, FlowEvent, SuspensionToken
from tests.api_support import client_for, form_with, resume_url, runs
from tests.factories import UserFactory

E, S = Execution.State, SuspensionToken.State
FLOW = "/api/flows/acme.finance/expense"


@pytest.fixture
def staff(tenant):
    return UserFactory(username="ops", tenants=[tenant], is_staff=True)


@pytest.fixture
def ops(staff):
    return client_for(staff)


def test_get_flow_says_active_with_its_revision_and_counts(api, pause):
    pause()
    body = api.get(FLOW).json()
    assert body == {
        "namespace": "acme.finance",
        "flowId": "expense",
        "tenant": "acme",
        "state": "active",
        "latestRevision": 1,
        "executions": {"queued": 0, "held": 0, "unfinished": 1},
    }


def test_unknown_flow_is_404_on_every_flow_route(ops, db):
    assert ops.get("/api/flows/acme/nope").status_code == 404
    for verb in ("pause", "resume", "cancel"):
        assert ops.post(f"/api/flows/acme/nope/{verb}").status_code == 404


def test_a_member_without_the_permission_may_not_pause_the_flow(api, pause):
    pause()
    response = api.post(f"{FLOW}/pause")
    assert response.status_code == 403
    assert "flows.change_flow" in response.json()["detail"]


def test_a_holder_of_change_flow_may_pause(tenant, pause):
    pause()
    user = UserFactory(
        username="carol", tenants=[tenant], permissions=["flows.change_flow"]
    )
    assert client_for(user).post(f"{FLOW}/pause").status_code == 200


def test_pause_then_pause_again_is_409_with_the_state(ops, staff, pause, post):
    token = pause()
    response = ops.post(f"{FLOW}/pause")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "paused" and body["affected"] == 1
    assert body["executions"]["held"] == 1
    again = ops.post(f"{FLOW}/pause")
    assert again.status_code == 409 and again.json()["state"] == "paused"
    event = FlowEvent.objects.get()
    assert (event.action, event.actor, event.executions) == ("pause", staff, 1)
    # an answer during the pause is taken; what follows waits for the resume
    assert post(ops, resume_url(token.pk), {"reason": "ok"}).status_code == 202
    assert "after" not in runs(token.execution_id)


def test_resume_releases_held_and_queued_executions(ops, pause, post):
    token = pause()
    ops.post(f"{FLOW}/pause")
    post(ops, resume_url(token.pk), {"reason": "ok"})
    started = post(ops, f"{FLOW}/executions", {"inputs": {}})
    assert started.status_code == 201
    assert started.json()["state"] == "QUEUED"
    assert started.json()["queued"] == "Queued because the flow is paused."
    assert ops.get(FLOW).json()["executions"] == {
        "queued": 1,
        "held": 1,
        "unfinished": 2,
    }
    resumed = post(ops, f"{FLOW}/resume", {})
    assert resumed.status_code == 200
    assert resumed.json()["state"] == "active" and resumed.json()["affected"] == 2
    assert Execution.objects.get(pk=token.execution_id).state == E.SUCCESS
    queued = Execution.objects.get(pk=started.json()["executionId"])
    assert queued.state == E.PAUSED  # it ran to its own Pause
    again = ops.post(f"{FLOW}/resume")
    assert again.status_code == 409 and again.json()["state"] == "active"


def test_cancel_flow_ends_them_all_and_stops_the_flow_for_good(ops, pause, post):
    token = pause()
    response = post(ops, f"{FLOW}/cancel", {})
    assert response.status_code == 202 and response.json()["affected"] == 1
    assert response.json()["state"] == "cancelled"
    assert Execution.objects.get(pk=token.execution_id).state == E.CANCELLED
    assert ops.get(FLOW).json()["state"] == "cancelled"
    # As the workflow-pause document says: a cancelled flow is not active, so
    # pause, resume and another cancel are 409s, and it starts nothing.
    for verb in ("pause", "resume", "cancel"):
        refused = ops.post(f"{FLOW}/{verb}")
        assert refused.status_code == 409 and refused.json()["state"] == "cancelled"
    start = post(ops, f"{FLOW}/executions", {"inputs": {}})
    assert start.status_code == 409 and start.json()["state"] == "cancelled"
    assert Execution.objects.count() == 1


def test_a_new_revision_makes_a_cancelled_flow_usable_again(
    ops, pause, post, make_flow
):
    token = pause()
    post(ops, f"{FLOW}/cancel", {})
    flow = Execution.objects.get(pk=token.execution_id).flow
    make_flow(
        flow.revisions.get(revision=1).source + "\n# changed\n" + "description: again\n"
    )
    assert ops.get(FLOW).json()["state"] == "active"
    start = post(ops, f"{FLOW}/executions", {"inputs": {}})
    assert start.status_code == 201


def test_the_starter_pauses_unpauses_and_cancels_their_execution(
    api, user, pause, post
):
    token = pause(actor=user)
    url = f"/api/executions/{token.execution_id}"
    paused = api.post(f"{url}/pause")
    assert paused.status_code == 200
    assert paused.json()["hold"] == "execution"
    again = api.post(f"{url}/pause")
    assert again.status_code == 409 and again.json()["state"] == E.PAUSED
    unpaused = post(api, f"{url}/unpause", {})
    assert unpaused.status_code == 200 and unpaused.json()["hold"] == ""
    assert api.post(f"{url}/unpause").status_code == 409
    cancelled = post(api, f"{url}/cancel", {})
    assert cancelled.status_code == 202 and cancelled.json()["state"] == E.CANCELLED
    twice = api.post(f"{url}/cancel")
    assert twice.status_code == 409
    assert twice.json()["state"] == E.CANCELLED and twice.json()["by"] == "alice"


def test_an_answer_after_a_cancel_is_409_saying_who_cancelled(api, user, pause, post):
    token = pause(actor=user)
    post(api, f"/api/executions/{token.execution_id}/cancel", {})
    response = post(api, resume_url(token.pk), {"reason": "late"})
    assert response.status_code == 409
    body = response.json()
    assert body["state"] == S.CANCELLED and body["resolvedBy"] == "alice"
    assert "cancelled by alice" in body["detail"]


def test_another_member_may_see_but_not_pause_an_execution(tenant, user, pause):
    token = pause(actor=user)
    viewer = UserFactory(
        username="dan", tenants=[tenant], permissions=["flows.view_execution"]
    )
    response = client_for(viewer).post(f"/api/executions/{token.execution_id}/pause")
    assert response.status_code == 403
    assert "flows.change_execution" in response.json()["detail"]


def test_an_unknown_or_invisible_execution_is_404(api, pause):
    for verb in ("pause", "unpause", "cancel"):
        missing = api.post(f"/api/executions/{uuid.uuid4()}/{verb}")
        assert missing.status_code == 404
    token = pause(form_with("assignees: {users: [bob]}"))
    other = UserFactory(username="eve", tenants=[token.execution.tenant])
    response = client_for(other).post(f"/api/executions/{token.execution_id}/pause")
    assert response.status_code == 404


def fields(serializer) -> set[str]:
    return set(serializer().fields)


def test_documented_hold_shapes_match_the_bodies(api, user, ops, pause, post):
    token = pause(actor=user)
    url = f"/api/executions/{token.execution_id}"
    assert fields(s.FlowStateSerializer) == set(ops.get(FLOW).json())
    assert fields(s.FlowHoldSerializer) == set(ops.post(f"{FLOW}/pause").json())
    conflict = ops.post(f"{FLOW}/pause").json()
    assert fields(s.HoldConflictSerializer) - {"by"} == set(conflict)
    assert fields(s.ExecutionHoldSerializer) == set(api.post(f"{url}/pause").json())
    post(api, f"{url}/cancel", {})
    assert fields(s.HoldConflictSerializer) == set(api.post(f"{url}/cancel").json())
