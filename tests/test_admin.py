"""The Django admin shows flows, executions with their trail, and tokens; it cannot
break them: read-only pages, flows saved through the loader, cancel via the engine."""

from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse

from flows import engine
from flows.models import Execution, Flow, SuspensionToken
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


READ_ONLY = ["execution", "suspensiontoken", "executionevent", "flowrevision"]


def change_urls(execution) -> dict:
    """One change page of each read-only model, for this execution."""
    objects = {
        "execution": execution,
        "suspensiontoken": execution.tokens.get(),
        "executionevent": execution.events.first(),
        "flowrevision": execution.revision,
    }
    return {
        name: reverse(f"admin:flows_{name}_change", args=[obj.pk])
        for name, obj in objects.items()
    }


def test_read_only_pages_show_no_save_button_and_refuse_a_post(admin_client, execution):
    for name, url in change_urls(execution).items():
        page = admin_client.get(url)
        assert page.status_code == 200, name
        html = page.content.decode()
        assert 'name="_save"' not in html and 'value="Save' not in html, name
        assert 'name="_continue"' not in html, name
        assert admin_client.post(url, {}).status_code == 403, name


def test_read_only_models_cannot_be_added_or_deleted(admin_client, execution):
    for name, url in change_urls(execution).items():
        assert admin_client.get(reverse(f"admin:flows_{name}_add")).status_code == 403
        delete = url.replace("/change/", "/delete/")
        assert admin_client.post(delete, {"post": "yes"}).status_code == 403, name
        changelist = admin_client.get(reverse(f"admin:flows_{name}_changelist"))
        assert "delete_selected" not in changelist.content.decode(), name
    assert execution.tokens.get().state == SuspensionToken.State.WAITING
    assert Execution.objects.filter(pk=execution.pk).exists()


def test_bulk_delete_of_events_is_refused(admin_client, execution):
    url = reverse("admin:flows_executionevent_changelist")
    ids = list(execution.events.values_list("pk", flat=True))
    admin_client.post(url, {"action": "delete_selected", "_selected_action": ids})
    assert execution.events.count() == len(ids)


def test_the_cancel_action_is_on_the_list_and_needs_a_permission(
    client, admin_client, execution
):
    url = reverse("admin:flows_execution_changelist")
    assert "cancel_executions" in admin_client.get(url).content.decode()
    viewer = UserFactory(username="auditor", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_execution"))
    client.force_login(viewer)
    assert "cancel_executions" not in client.get(url).content.decode()
    action = {"action": "cancel_executions", "_selected_action": [execution.pk]}
    client.post(url, action)
    execution.refresh_from_db()
    assert execution.state == Execution.State.PAUSED


def test_deleting_a_tenant_with_flows_is_refused_not_a_500(admin_client, execution):
    url = reverse("admin:flows_tenant_delete", args=[execution.tenant_id])
    page = admin_client.get(url).content.decode()
    assert "<title>Cannot delete tenant" in page
    admin_client.post(url, {"post": "yes"})
    assert Execution.objects.filter(pk=execution.pk).exists()


def test_a_user_who_acted_can_still_be_deleted(admin_client, make_flow, run_on_commit):
    bob = UserFactory(username="bob")
    execution = run_on_commit(engine.start_execution, make_flow(FLOW), {}, actor=bob)
    url = reverse("admin:auth_user_delete", args=[bob.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    first = execution.events.order_by("seq").first()
    assert first.actor_id is None and first.actor_name == "bob"
    call_command("verifyaudit", stdout=StringIO())


def test_add_flow_saves_the_yaml_as_a_revision(admin_client, tenant):
    url = reverse("admin:flows_flow_add")
    page = admin_client.get(url).content.decode()
    assert 'name="source"' in page and 'name="tenant"' in page
    reply = admin_client.post(url, {"tenant": tenant.pk, "source": FLOW})
    assert reply.status_code == 302
    flow = Flow.objects.get(tenant=tenant, namespace="acme.ops", flow_id="review")
    assert flow.latest_revision == 1 and flow.latest.source == FLOW


def test_add_flow_shows_each_problem_by_line(admin_client, tenant):
    bad = FLOW.replace("type: Pause", "type: Paws") + "  - id: wait\n    type: Log\n"
    reply = admin_client.post(
        reverse("admin:flows_flow_add"), {"tenant": tenant.pk, "source": bad}
    )
    assert reply.status_code == 200
    errors = reply.context["adminform"].form.errors["source"]
    assert "line 6: task 'wait': unknown type 'Paws'" in errors[0]
    assert "line 8: task 'wait': duplicate task id 'wait'" in errors[1]
    assert "line 6: task &#x27;wait&#x27;: unknown type" in reply.content.decode()
    assert not Flow.objects.exists()


def test_add_flow_without_a_tenant_is_a_form_error(admin_client):
    reply = admin_client.post(reverse("admin:flows_flow_add"), {"source": FLOW})
    assert reply.status_code == 200
    assert "tenant" in reply.context["adminform"].form.errors


def change_form(flow, source: str) -> dict:
    """What the browser posts: the YAML and the revisions inline's management form."""
    count = flow.revisions.count()
    return {
        "source": source,
        "revisions-TOTAL_FORMS": count,
        "revisions-INITIAL_FORMS": count,
        **{f"revisions-{i}-id": r.pk for i, r in enumerate(flow.revisions.all())},
        **{f"revisions-{i}-flow": flow.pk for i in range(count)},
    }


def test_changing_a_flow_makes_a_new_revision(admin_client, make_flow):
    flow = make_flow(FLOW)
    url = reverse("admin:flows_flow_change", args=[flow.pk])
    assert "Check the &lt;b&gt;release" in admin_client.get(url).content.decode()
    changed = FLOW.replace("release", "deploy")
    assert admin_client.post(url, change_form(flow, changed)).status_code == 302
    flow.refresh_from_db()
    assert flow.latest_revision == 2 and flow.latest.source == changed
    assert flow.revisions.get(revision=1).source == FLOW


def test_a_flow_page_refuses_yaml_of_another_flow(admin_client, make_flow):
    flow = make_flow(FLOW)
    url = reverse("admin:flows_flow_change", args=[flow.pk])
    other = FLOW.replace("id: review", "id: other")
    reply = admin_client.post(url, change_form(flow, other))
    assert reply.status_code == 200
    assert "the YAML defines acme.ops.other" in str(
        reply.context["adminform"].form.errors
    )
    assert Flow.objects.count() == 1
