"""The flow page's and execution page's pause, resume and cancel buttons; admin."""

import pytest
from django.urls import reverse

from flows import engine
from flows.models import Execution, FlowEvent
from tests.factories import UserFactory

FLOW = """
id: review
namespace: acme.ops
tasks:
  - id: wait
    type: Pause
  - id: after
    type: Return
    format: done
"""


@pytest.fixture
def flow(make_flow):
    return make_flow(FLOW)


@pytest.fixture
def staff(client, tenant):
    client.force_login(UserFactory(username="ops", tenants=[tenant], is_staff=True))
    return client


@pytest.fixture
def member(client, user):
    client.force_login(user)
    return client


def test_staff_see_pause_on_the_flow_page_and_it_pauses(staff, flow):
    page = staff.get(reverse("approvals:flows")).content.decode()
    assert reverse("approvals:flow-pause", args=["acme.ops", "review"]) in page
    response = staff.post(reverse("approvals:flow-pause", args=["acme.ops", "review"]))
    assert response.status_code == 302
    flow.refresh_from_db()
    assert flow.is_paused
    page = staff.get(reverse("approvals:flows")).content.decode()
    assert reverse("approvals:flow-resume", args=["acme.ops", "review"]) in page


def test_a_member_sees_no_flow_buttons_and_a_post_is_403(member, flow):
    page = member.get(reverse("approvals:flows")).content.decode()
    assert "flow-pause" not in page and "/pause" not in page
    url = reverse("approvals:flow-pause", args=["acme.ops", "review"])
    assert member.post(url).status_code == 403
    flow.refresh_from_db()
    assert not flow.is_paused


def test_starting_a_paused_flow_says_it_is_queued(member, flow):
    engine.pause_flow(flow.pk)
    response = member.post(
        reverse("approvals:start", args=["acme.ops", "review"]), follow=True
    )
    assert "queued because the flow is paused" in response.content.decode()
    assert Execution.objects.get().state == Execution.State.QUEUED


def test_the_starter_pauses_and_cancels_from_the_execution_page(
    member, user, flow, run_on_commit
):
    execution = run_on_commit(engine.start_execution, flow, {}, actor=user)
    page = member.get(reverse("approvals:execution", args=[execution.pk]))
    assert (
        reverse("approvals:execution-pause", args=[execution.pk])
        in page.content.decode()
    )
    member.post(reverse("approvals:execution-pause", args=[execution.pk]))
    execution.refresh_from_db()
    assert execution.hold == "execution"
    page = member.get(reverse("approvals:execution", args=[execution.pk]))
    assert "Paused: no new step starts" in page.content.decode()
    run_on_commit(
        member.post, reverse("approvals:execution-cancel", args=[execution.pk])
    )
    execution.refresh_from_db()
    assert execution.state == Execution.State.CANCELLED


def test_a_viewer_may_not_pause_someone_elses_execution(
    client, tenant, user, flow, run_on_commit
):
    execution = run_on_commit(engine.start_execution, flow, {}, actor=user)
    viewer = UserFactory(
        username="dan", tenants=[tenant], permissions=["flows.view_execution"]
    )
    client.force_login(viewer)
    page = client.get(reverse("approvals:execution", args=[execution.pk]))
    assert "execution-controls" not in page.content.decode()
    url = reverse("approvals:execution-pause", args=[execution.pk])
    assert client.post(url).status_code == 403


def test_admin_actions_pause_and_resume_through_the_engine(client, db, flow):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    url = reverse("admin:flows_flow_changelist")
    client.post(url, {"action": "pause_flows", "_selected_action": [flow.pk]})
    flow.refresh_from_db()
    assert flow.is_paused
    client.post(url, {"action": "resume_flows", "_selected_action": [flow.pk]})
    flow.refresh_from_db()
    assert not flow.is_paused
    actions = list(FlowEvent.objects.values_list("action", "actor_name", "channel"))
    assert actions == [("pause", "root", "admin"), ("resume", "root", "admin")]
