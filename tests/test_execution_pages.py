"""Executions list and detail, flows list and the start page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals import answers
from flows import engine
from flows.models import Execution
from tests.factories import TenantFactory, UserFactory

EXECUTIONS = reverse("approvals:executions")
VACATION = """
id: vacation
namespace: company.team
description: Ask for days off
inputs:
  - id: request.name
    type: STRING
    description: Who is going away
  - id: request.start_date
    type: DATE
  - id: request.days
    type: INT
    defaults: 5
tasks:
  - id: hello
    type: Return
    format: "{{ inputs.request.name }} from {{ inputs.request.start_date }}"
"""


def listed(response) -> list[str]:
    return [str(e.pk) for e in response.context["page"].object_list]


@pytest.fixture
def bob(tenant):
    return UserFactory(username="bob", tenants=[tenant])


def test_executions_list_filters_by_state_and_flow(
    client, bob, pause_token, make_flow, run_on_commit
):
    waiting = pause_token("", flow_id="waits")
    done_flow = make_flow(VACATION)
    data = {"request": {"name": "Ann", "start_date": "2042-07-01"}}
    done = run_on_commit(engine.start_execution, done_flow, data, actor=bob)
    client.force_login(bob)
    everything = listed(client.get(EXECUTIONS))
    assert everything == [str(done.pk), str(waiting.execution_id)]  # newest first
    assert listed(client.get(EXECUTIONS, {"state": "PAUSED"})) == [
        str(waiting.execution_id)
    ]
    assert listed(client.get(EXECUTIONS, {"flow": done_flow.pk})) == [str(done.pk)]
    page = client.get(EXECUTIONS).content.decode()
    assert "PAUSED" in page and "SUCCESS" in page and "company.team.vacation" in page


def test_executions_list_filters_by_creation_date(client, bob, pause_token):
    token = pause_token("")
    client.force_login(bob)
    today = timezone.localdate()
    tomorrow = today + timedelta(days=1)
    assert listed(client.get(EXECUTIONS, {"from": today, "to": today})) == [
        str(token.execution_id)
    ]
    assert listed(client.get(EXECUTIONS, {"from": tomorrow})) == []
    assert listed(client.get(EXECUTIONS, {"to": today - timedelta(days=1)})) == []
    bad = client.get(EXECUTIONS, {"from": "someday"})
    assert (
        bad.status_code == 200 and "Some filters were ignored" in bad.content.decode()
    )


def test_executions_list_shows_only_the_users_tenants(client, pause_token):
    pause_token("", into=TenantFactory(slug="other"))
    outsider = UserFactory(username="eve", tenants=[TenantFactory(slug="third")])
    client.force_login(outsider)
    response = client.get(EXECUTIONS)
    assert listed(response) == [] and "No executions" in response.content.decode()


def executions_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(EXECUTIONS).status_code == 200
    return len(captured)


def test_executions_list_queries_do_not_grow_with_rows(
    client, bob, make_flow, run_on_commit
):
    flow = make_flow(VACATION)
    data = {"request": {"name": "Ann", "start_date": "2042-07-01"}}
    run_on_commit(engine.start_execution, flow, data, actor=bob)
    client.force_login(bob)
    executions_queries(client)  # a process's first page warms Django's own caches
    one = executions_queries(client)
    for _ in range(29):
        run_on_commit(engine.start_execution, flow, data, actor=bob)
    # + 2 for bob's permissions and his groups' (flows.view_execution)
    assert executions_queries(client) == one <= 10


def test_execution_page_shows_timeline_tokens_answers_and_events(
    client, tenant, bob, pause_token, run_on_commit
):
    ann = UserFactory(username="ann", tenants=[tenant])
    token = pause_token("screen: approval\napprovals: 2\npauseDuration: P1D")
    run_on_commit(answers.answer, ann, token, {"decision": "Approved"}, channel="web")
    client.force_login(bob)
    url = reverse("approvals:execution", args=[token.execution_id])
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200 and len(captured) <= 15  # + the viewer's zone
    assert "PAUSED" in page and "revision 1" in page
    assert page.index("<code>prepare</code>") < page.index("<code>wait</code>")
    assert "Return" in page and "Pause" in page and "prepared 5" in page
    assert "Attempt 1" in page
    assert str(token.pk) in page and "WAITING" in page and "Approval screen" in page
    answer = token.answers.get()
    assert "ann" in page and answer.shown_hash[:12] in page and "web" in page
    assert "CREATED → RUNNING" in page and "RUNNING → PAUSED" in page
    assert reverse("approvals:answer", args=[token.pk]) in page  # bob may answer


def test_execution_page_offers_no_answer_link_to_who_may_not(
    client, tenant, user, pause_token
):
    token = pause_token("", actor=user)
    client.force_login(user)  # alice started it: no self-approval
    page = client.get(reverse("approvals:execution", args=[token.execution_id]))
    assert reverse("approvals:answer", args=[token.pk]) not in page.content.decode()


def test_another_tenants_execution_is_404(client, pause_token):
    token = pause_token("")
    eve = UserFactory(username="eve", tenants=[TenantFactory(slug="other")])
    client.force_login(eve)
    response = client.get(reverse("approvals:execution", args=[token.execution_id]))
    assert response.status_code == 404


def test_flows_page_lists_visible_flows_with_start_links(client, bob, make_flow):
    make_flow(VACATION)
    make_flow(VACATION.replace("id: vacation", "id: secret_flow"), into=TenantFactory())
    client.force_login(bob)
    page = client.get(reverse("approvals:flows")).content.decode()
    assert "company.team.vacation" in page and "Ask for days off" in page
    assert 'href="/flows/company.team/vacation/start"' in page
    assert "secret_flow" not in page


def test_start_page_shows_the_inputs_with_date_pickers(client, bob, make_flow):
    make_flow(VACATION)
    client.force_login(bob)
    response = client.get(reverse("approvals:start", args=["company.team", "vacation"]))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="request.name"' in page and "Who is going away" in page
    assert 'type="date" name="request.start_date"' in page
    assert 'name="request.days" value="5"' in page


def test_start_page_creates_an_execution_with_typed_inputs_and_lands_on_it(
    client, bob, make_flow, run_on_commit
):
    make_flow(VACATION)
    client.force_login(bob)
    url = reverse("approvals:start", args=["company.team", "vacation"])
    data = {"request.name": "Grace", "request.start_date": "2042-07-01"}
    response = run_on_commit(client.post, url, data)
    execution = Execution.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("approvals:execution", args=[execution.pk])
    assert execution.created_by == bob and execution.state == "SUCCESS"
    assert execution.inputs == {
        "request": {"name": "Grace", "start_date": "2042-07-01", "days": 5}
    }
    assert "started" in client.get(response.url).content.decode()


def test_start_page_shows_errors_beside_fields_and_starts_nothing(
    client, bob, make_flow
):
    make_flow(VACATION)
    client.force_login(bob)
    url = reverse("approvals:start", args=["company.team", "vacation"])
    response = client.post(url, {"request.name": "Grace", "request.days": "x"})
    page = response.content.decode()
    assert response.status_code == 200 and "is-invalid" in page
    assert 'id="div_id_request.start_date"' in page
    assert "This field is required." in page
    assert not Execution.objects.exists()


def test_start_page_of_another_tenants_flow_is_404(client, make_flow):
    make_flow(VACATION)
    eve = UserFactory(username="eve", tenants=[TenantFactory(slug="other")])
    client.force_login(eve)
    url = reverse("approvals:start", args=["company.team", "vacation"])
    assert client.get(url).status_code == 404
    assert client.post(url, {}).status_code == 404
    assert not Execution.objects.exists()


def test_same_flow_in_two_tenants_needs_the_tenant_parameter(client, tenant, make_flow):
    other = TenantFactory(slug="beta", name="Beta")
    both = UserFactory(username="bo", tenants=[tenant, other])
    make_flow(VACATION)
    make_flow(VACATION, into=other)
    client.force_login(both)
    flows_page = client.get(reverse("approvals:flows")).content.decode()
    assert "/flows/company.team/vacation/start?tenant=beta" in flows_page
    url = reverse("approvals:start", args=["company.team", "vacation"])
    ambiguous = client.get(url)
    assert ambiguous.status_code == 400
    assert "?tenant=acme" in ambiguous.content.decode()
    chosen = client.get(url, {"tenant": "beta"})
    assert chosen.status_code == 200 and "tenant Beta" in chosen.content.decode()


REJECT = {"decision": "Rejected", "comment": "not this week"}


def test_executions_list_shows_the_latest_outcome_beside_the_state(
    client, bob, pause_token, run_on_commit
):
    token = pause_token("screen: approval")
    run_on_commit(answers.answer, bob, token, REJECT, channel="web")
    client.force_login(bob)
    page = client.get(EXECUTIONS).content.decode()
    state = page.index(">CANCELLED</span>")
    assert page.index("Rejected by bob: not this week") > state


def test_executions_list_queries_stay_the_same_with_decided_rows(
    client, tenant, bob, pause_token, run_on_commit
):
    ann = UserFactory(username="ann", tenants=[tenant])

    def decided(n: int, quorum: bool = False):
        token = pause_token("screen: approval" + ("\napprovals: 2" if quorum else ""))
        if quorum:
            run_on_commit(
                answers.answer, ann, token, {"decision": "Approved"}, channel="web"
            )
            token.refresh_from_db()
        values = {"decision": "Approved"} if quorum else REJECT
        run_on_commit(answers.answer, bob, token, values, channel="web")

    decided(0, quorum=True)
    client.force_login(bob)
    one = executions_queries(client)
    for n in range(1, 12):
        decided(n, quorum=n % 3 == 0)
    # one more than the list without quorums: the quorum's names
    assert executions_queries(client) == one <= 11
    page = client.get(EXECUTIONS).content.decode()
    assert "Approved by ann, bob" in page and "Rejected by bob: not this week" in page


def test_execution_page_says_the_rejection_ended_it(
    client, bob, pause_token, run_on_commit
):
    token = pause_token("screen: approval")
    run_on_commit(answers.answer, bob, token, REJECT, channel="web")
    client.force_login(bob)
    page = client.get(reverse("approvals:execution", args=[token.execution_id]))
    page = page.content.decode()
    banner = page[page.index('id="execution-ending"') :]
    assert banner.index("Cancelled — rejected by bob: not this week") < 80
    assert 'id="execution-state">CANCELLED<' in page
    card = page[page.index('id="tokens-heading"') :]
    assert '<dd class="col-sm-9 outcome">Rejected by bob: not this week</dd>' in card
    assert "<code>after</code>" not in page  # the next task did not run


def test_execution_page_shows_an_approval_without_a_banner(
    client, bob, pause_token, run_on_commit
):
    token = pause_token("screen: approval")
    approve = {"decision": "Approved", "comment": "enjoy"}
    run_on_commit(answers.answer, bob, token, approve, channel="web")
    client.force_login(bob)
    page = client.get(reverse("approvals:execution", args=[token.execution_id]))
    page = page.content.decode()
    assert 'id="execution-ending"' not in page
    assert '<span class="fs-6 ms-2" id="execution-outcome">Approved by bob: enjoy' in (
        page
    )


def test_execution_page_shows_an_auto_approval_on_its_task_run(
    client, bob, make_flow, run_on_commit
):
    flow = make_flow(
        """
        id: auto
        namespace: acme.ops
        tasks:
          - id: sign
            type: Approval
            autoApprove: "true"
        """
    )
    execution = run_on_commit(engine.start_execution, flow, {}, actor=bob)
    client.force_login(bob)
    page = client.get(reverse("approvals:execution", args=[execution.pk]))
    page = page.content.decode()
    assert '<p class="small mb-1 outcome">Auto-approved</p>' in page
    assert 'id="execution-outcome">Auto-approved' in page


PAUSES = """
id: many
namespace: acme.ops
tasks:
  - id: each
    type: ForEach
    values: {values}
    tasks:
      - id: ask
        type: Pause
        screen: approval
"""


def page_queries(client, execution_id) -> tuple[int, str]:
    url = reverse("approvals:execution", args=[execution_id])
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return len(captured), response.content.decode()


def test_execution_page_queries_do_not_grow_with_decided_pauses(
    client, bob, make_flow, run_on_commit
):
    def decided(values: str):
        flow = make_flow(PAUSES.format(values=values))
        execution = run_on_commit(engine.start_execution, flow, {})
        while token := execution.tokens.filter(state="WAITING").first():
            values = {"decision": "Approved", "comment": f"ok {token.task_run.path}"}
            run_on_commit(answers.answer, bob, token, values, channel="web")
        return execution

    client.force_login(bob)
    one, _ = page_queries(client, decided("[1]").pk)
    many, page = page_queries(client, decided("[1, 2, 3, 4, 5]").pk)
    assert many == one <= 15  # + the viewer's zone
    assert page.count('col-sm-9 outcome">Approved by bob: ok each.') == 5
