"""The inbox's tabs, search and one-line summaries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals import answers
from flows import engine, loader
from flows.loader import FlowDefinitionError
from flows.models import SuspensionToken
from tests.factories import TenantFactory, UserFactory

INBOX = reverse("approvals:inbox")

VACATION = """\
id: vacation
namespace: hr
{summary}
inputs:
  - id: request.name
    type: STRING
    required: false
  - id: request.start_date
    type: DATE
  - id: request.end_date
    type: DATE
  - id: code
    type: SECRET
    required: false
tasks:
  - id: ask
    type: Pause
    assignees:
      users: [bob]
"""
GRACE = {
    "request.name": "Grace",
    "request.start_date": "2042-07-01",
    "request.end_date": "2042-07-07",
}


@pytest.fixture
def approver(tenant):
    return UserFactory(username="bob", tenants=[tenant])


@pytest.fixture
def vacation(tenant, run_on_commit, settings):
    def start(summary="", values=None, actor=None):
        line = f"summary: {summary!r}" if summary else ""
        flow = loader.load_flow(tenant, VACATION.format(summary=line)).flow
        execution = run_on_commit(
            engine.start_execution, flow, values or GRACE, actor=actor
        )
        return SuspensionToken.objects.get(execution=execution)

    return start


def rows(response) -> list:
    return list(response.context["page"].object_list)


def test_summary_falls_back_to_the_first_inputs_with_a_date_range(vacation):
    token = vacation()
    assert token.summary == "Grace · 2042-07-01 → 2042-07-07"


def test_summary_template_is_rendered_with_the_inputs(vacation):
    token = vacation(
        "{{ inputs.request.name }} off from {{ inputs.request.start_date }}"
    )
    assert token.summary == "Grace off from 2042-07-01"


def test_secret_inputs_stay_masked_in_either_summary(vacation):
    values = {**GRACE, "request.name": "", "code": "hunter2-secret"}
    assert "hunter2" not in vacation(values=values).summary
    assert vacation(values=values).summary.startswith("2042-07-01 → 2042-07-07")
    templated = vacation("code {{ inputs.code }}", values=values)
    assert templated.summary == "code ******"


def test_a_summary_that_fails_to_render_falls_back_and_the_pause_still_waits(
    vacation, client, approver
):
    token = vacation("{{ inputs.nobody.here }}")
    assert token.state == SuspensionToken.State.WAITING
    assert token.summary == "Grace · 2042-07-01 → 2042-07-07"
    client.force_login(approver)
    assert "Grace · 2042-07-01 → 2042-07-07" in client.get(INBOX).content.decode()


def test_a_summary_with_bad_syntax_is_refused_at_load_with_its_line(tenant):
    with pytest.raises(FlowDefinitionError) as caught:
        loader.load_flow(tenant, VACATION.format(summary="summary: '{{ oops'"))
    assert "<string>:3: 'summary' is not a valid template" in str(caught.value)


def test_a_flow_without_summary_keeps_its_checksum(tenant):
    source = VACATION.format(summary="")
    definition = loader.parse_flow(source)
    assert "summary" not in definition


def test_inbox_rows_show_the_summary_when_there_is_no_message(
    vacation, client, approver
):
    vacation()
    client.force_login(approver)
    page = client.get(INBOX).content.decode()
    assert "(no message)" not in page
    assert "Grace · 2042-07-01 → 2042-07-07" in page


def _queries(client, url) -> int:
    client.get(url)  # the first request after signing in also touches the session
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("tab", ["waiting", "started", "answered"])
def test_each_tab_costs_the_same_queries_for_5_and_30_rows(
    tab, client, tenant, approver, pause_token, run_on_commit
):
    def add(n):
        for _ in range(n):
            token = pause_token("screen: approval\napprovals: 2", actor=approver)
            if tab == "answered":  # bob may answer what he started with self-approval
                SuspensionToken.objects.filter(pk=token.pk).update(
                    allow_self_approval=True
                )
                token.refresh_from_db()
                run_on_commit(
                    answers.answer,
                    approver,
                    token,
                    {"decision": "Approved"},
                    channel="web",
                )

    starter = UserFactory(username="sam", tenants=[tenant])
    client.force_login(approver if tab != "waiting" else starter)
    if tab == "waiting":
        client.force_login(approver)
        approver_url = INBOX
        add_waiting = lambda n: [  # noqa: E731
            pause_token("screen: approval\napprovals: 2", actor=starter)
            for _ in range(n)
        ]
        add_waiting(5)
        five = _queries(client, approver_url)
        add_waiting(25)
        assert len(rows(client.get(approver_url))) == 25
        assert _queries(client, approver_url) == five
        return
    url = f"{INBOX}?tab={tab}"
    add(5)
    five = _queries(client, url)
    add(25)
    assert len(rows(client.get(url))) == 25
    assert _queries(client, url) == five


def test_i_started_lists_my_executions_with_their_outcome(
    client, tenant, approver, pause_token, run_on_commit
):
    sam = UserFactory(username="sam", tenants=[tenant])
    mine = pause_token("screen: approval", actor=sam, flow_id="mine")
    pause_token("screen: approval", actor=approver, flow_id="theirs")
    values = {"decision": "Rejected", "comment": "no"}
    run_on_commit(answers.answer, approver, mine, values, channel="web")
    client.force_login(sam)
    response = client.get(INBOX, {"tab": "started"})
    assert [e.pk for e in rows(response)] == [mine.execution_id]
    assert "Rejected by bob: no" in response.content.decode()
    assert 'aria-current="page">I started' in response.content.decode()


def test_i_answered_lists_my_answers_with_the_outcome_in_words(
    client, tenant, approver, pause_token, run_on_commit
):
    sam = UserFactory(username="sam", tenants=[tenant])
    token = pause_token("screen: approval", actor=sam, flow_id="days_off")
    values = {"decision": "Approved", "comment": "enjoy"}
    run_on_commit(answers.answer, approver, token, values, channel="web")
    client.force_login(approver)
    page = client.get(INBOX, {"tab": "answered"}).content.decode()
    assert (
        "Approved by bob: enjoy" in page and "hr" not in page.split("days_off")[0][-5:]
    )
    client.force_login(sam)
    assert rows(client.get(INBOX, {"tab": "answered"})) == []


def test_search_matches_inputs_labels_message_and_summary(
    client, tenant, approver, vacation, pause_token
):
    grace = vacation()
    ada = vacation(values={**GRACE, "request.name": "Ada"})
    said = pause_token("message: Pay the plumber invoice")
    client.force_login(approver)

    def found(q):
        return {t.pk for t in rows(client.get(INBOX, {"q": q}))}

    assert found("grace") == {grace.pk}
    assert found("ADA") == {ada.pk}
    assert found("plumber") == {said.pk}
    assert found("2042-07-01") == {grace.pk, ada.pk}
    assert found("nothing like this") == set()


def test_search_finds_accented_and_quoted_input_values(client, approver, vacation):
    # Summaries without the name: only the inputs' JSON text can match.
    zoe = vacation("Off", values={**GRACE, "request.name": 'Zoë "Zed" Ng'})
    vacation("Off")
    client.force_login(approver)
    for query in ("Zoë", '"Zed"', "zoë"):
        response = client.get(INBOX, {"q": query})
        assert [t.pk for t in rows(response)] == [zoe.pk], query


def test_search_never_reveals_what_another_user_or_tenant_may_see(
    client, tenant, approver, make_flow, pause_token, run_on_commit
):
    other = TenantFactory(slug="other", name="Other")
    outsider = UserFactory(username="olga", tenants=[other])
    private = "assignees:\n  users: [bob]\nmessage: Salary review for Zed"
    mine = pause_token(private, flow_id="pay")
    elsewhere = pause_token("message: Salary review for Zed", into=other)
    carol = UserFactory(username="carol", tenants=[tenant])
    for user, tab in [(carol, "waiting"), (carol, "started"), (carol, "answered")]:
        client.force_login(user)
        assert rows(client.get(INBOX, {"q": "salary", "tab": tab})) == []
    client.force_login(approver)
    assert [t.pk for t in rows(client.get(INBOX, {"q": "salary"}))] == [mine.pk]
    client.force_login(outsider)
    assert [t.pk for t in rows(client.get(INBOX, {"q": "salary"}))] == [elsewhere.pk]


def test_a_search_too_long_is_ignored_and_said(client, approver, pause_token):
    pause_token("message: hello")
    client.force_login(approver)
    response = client.get(INBOX, {"q": "x" * 500})
    assert len(rows(response)) == 1
    assert "Some filters were ignored" in response.content.decode()


def test_tabs_keep_the_search(client, approver):
    client.force_login(approver)
    page = client.get(INBOX, {"q": "grace"}).content.decode()
    assert 'href="/approvals/?q=grace&amp;tab=started"' in page


def test_select_all_checks_every_row_of_the_page(client, approver, pause_token):
    first, second = pause_token(""), pause_token("")
    client.force_login(approver)
    page = client.get(INBOX, {"select": "all"}).content.decode()
    for token in (first, second):
        assert (
            f'value="{token.pk}" id="pick-{token.pk}" hx-preserve="true" checked'
            in page
        )
    assert 'hx-preserve="true" checked' not in client.get(INBOX).content.decode()


def test_the_executions_list_shows_each_ones_latest_summary(client, approver, vacation):
    vacation()
    client.force_login(approver)
    page = client.get(reverse("approvals:executions")).content.decode()
    assert "Grace · 2042-07-01 → 2042-07-07" in page
