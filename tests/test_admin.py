"""The Django admin shows flows, executions with their trail, and tokens."""

import pytest
from django.urls import reverse

from flows import engine
from flows.models import Execution, SuspensionToken
from tests.factories import UserFactory

FLOW = """
id: review
namespace: acme.ops
tasks:
  - id: wait
    type: Pause
    message: "Check the <b>release</b>"
"""


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def execution(make_flow, run_on_commit):
    return run_on_commit(engine.start_execution, make_flow(FLOW), {})


def test_execution_page_shows_task_runs_tokens_and_events(admin_client, execution):
    url = reverse("admin:flows_execution_change", args=[execution.pk])
    page = admin_client.get(url).content.decode()
    token = SuspensionToken.objects.get(execution=execution)
    assert str(token.pk) in page
    assert "PAUSED" in page and "WAITING" in page
    token_url = reverse("admin:flows_suspensiontoken_change", args=[token.pk])
    token_page = admin_client.get(token_url).content.decode()
    assert "Check the &lt;b&gt;release&lt;/b&gt;" in token_page  # flow text is escaped


def test_execution_list_filters_by_state_and_searches_by_id(admin_client, execution):
    url = reverse("admin:flows_execution_changelist")
    assert (
        str(execution.pk) in admin_client.get(url, {"state": "PAUSED"}).content.decode()
    )
    assert (
        str(execution.pk)
        not in admin_client.get(url, {"state": "SUCCESS"}).content.decode()
    )
    assert (
        str(execution.pk)
        in admin_client.get(url, {"q": str(execution.pk)}).content.decode()
    )


def test_flow_page_lists_revisions(admin_client, make_flow):
    flow = make_flow(FLOW)
    make_flow(FLOW.replace("release", "deploy"))
    page = admin_client.get(
        reverse("admin:flows_flow_change", args=[flow.pk])
    ).content.decode()
    flow.refresh_from_db()
    assert flow.latest_revision == 2 and ">2<" in page and ">1<" in page


def test_cancel_action_goes_through_the_engine(admin_client, execution):
    url = reverse("admin:flows_execution_changelist")
    admin_client.post(
        url, {"action": "cancel_executions", "_selected_action": [execution.pk]}
    )
    execution.refresh_from_db()
    assert execution.state == Execution.State.CANCELLED
    assert execution.events.filter(to_state="CANCELLED", actor_name="root").exists()
