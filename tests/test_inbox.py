"""The inbox: only what the user may answer now, sorted, filtered, paged, cheap."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals import answers
from flows import engine
from tests.factories import TenantFactory, UserFactory
from tests.page_support import badge_of

INBOX = reverse("approvals:inbox")


def open_links(response) -> list[str]:
    """Answer-screen token ids in the order the rows show them."""
    return [str(token.pk) for token in response.context["page"].object_list]


def ids(*tokens) -> list[str]:
    return [str(token.pk) for token in tokens]


@pytest.fixture
def approver(tenant):
    return UserFactory(username="bob", tenants=[tenant])


def test_inbox_lists_only_what_the_user_may_answer(
    client, tenant, approver, user, pause_token, run_on_commit
):
    managers = Group.objects.create(name="managers")
    approver.groups.add(managers)
    open_to_all = pause_token("message: open")
    for_group = pause_token("message: managers only\nassignees: {groups: [managers]}")
    for_bob = pause_token("message: bob only\nassignees: {users: [bob]}")
    pause_token("message: carol only\nassignees: {users: [carol]}")
    pause_token("message: bob started it", actor=approver)
    pause_token("message: elsewhere", into=TenantFactory(slug="other"))
    expired = pause_token("message: too late\npauseDuration: PT1M")
    run_on_commit(engine.expire, expired.pk, expired.expires_at)
    answered = pause_token("message: answered\nscreen: approval\napprovals: 2")
    run_on_commit(
        answers.answer, approver, answered, {"decision": "Approved"}, channel="web"
    )
    client.force_login(approver)
    response = client.get(INBOX)
    assert sorted(open_links(response)) == sorted(ids(open_to_all, for_group, for_bob))
    page = response.content.decode()
    assert "managers only" in page and "carol only" not in page
    assert badge_of(page) == "3"


def test_unswept_expired_tokens_are_left_out(client, approver, pause_token):
    token = pause_token("pauseDuration: PT1M")
    engine_now = token.expires_at + timedelta(seconds=1)
    client.force_login(approver)
    assert open_links(client.get(INBOX)) == ids(token)
    from django.utils import timezone

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: engine_now)
        assert open_links(client.get(INBOX)) == []


def test_rows_show_flow_message_screen_deadline_age_and_quorum(
    client, tenant, approver, pause_token, run_on_commit
):
    ann = UserFactory(username="ann", tenants=[tenant])
    token = pause_token(
        "screen: approval\napprovals: 3\npauseDuration: P1D\n"
        "message: " + "Pay the invoice " * 20
    )
    run_on_commit(answers.answer, ann, token, {"decision": "Approved"}, channel="web")
    client.force_login(approver)
    page = client.get(INBOX).content.decode()
    assert "<code>acme.ops.ops_check</code>" in page
    assert "Pay the invoice Pay" in page and "…" in page  # truncated
    assert "Approval" in page and "1 of 3" in page
    assert token.expires_at.strftime("%Y-%m-%d %H:%M") in page and "(in 23" in page
    assert reverse("approvals:answer", args=[token.pk]) in page and "Open" in page


def test_default_order_is_deadline_soonest_first_then_oldest(
    client, approver, pause_token
):
    none_old = pause_token("")
    late = pause_token("pauseDuration: P2D")
    soon = pause_token("pauseDuration: P1D")
    none_new = pause_token("")
    client.force_login(approver)
    expected = ids(soon, late, none_old, none_new)
    assert open_links(client.get(INBOX)) == expected
    assert open_links(client.get(INBOX, {"sort": "deadline"})) == expected
    latest_first = open_links(client.get(INBOX, {"sort": "-deadline"}))
    assert latest_first == ids(late, soon, none_old, none_new)


def test_sort_by_age(client, approver, pause_token):
    first, second, third = (pause_token(f"message: n{i}") for i in range(3))
    client.force_login(approver)
    assert open_links(client.get(INBOX, {"sort": "age"})) == ids(first, second, third)
    assert open_links(client.get(INBOX, {"sort": "-age"})) == ids(third, second, first)


def test_filter_by_namespace_and_flow(client, approver, make_flow, pause_token):
    ops = pause_token("", flow_id="ops_one")
    other = pause_token("", flow_id="ops_two")
    client.force_login(approver)
    flow_pk = ops.execution.flow_id
    assert open_links(client.get(INBOX, {"flow": flow_pk})) == ids(ops)
    by_namespace = open_links(client.get(INBOX, {"namespace": "acme.ops"}))
    assert sorted(by_namespace) == sorted(ids(ops, other))
    assert open_links(client.get(INBOX, {"namespace": "nope"})) == ids(ops, other)
    page = client.get(INBOX, {"namespace": "acme.ops"}).content.decode()
    assert '<option value="acme.ops" selected>acme.ops</option>' in page
    assert f'<option value="{flow_pk}">acme.ops.ops_one</option>' in page


def test_empty_inbox_says_so(client, approver):
    client.force_login(approver)
    assert "Nothing is waiting for you." in client.get(INBOX).content.decode()


def test_pagination_keeps_the_filters(client, approver, pause_token, run_on_commit):
    for _ in range(27):
        pause_token("", flow_id="paged")
    client.force_login(approver)
    response = client.get(INBOX, {"namespace": "acme.ops", "sort": "-age"})
    assert len(response.context["page"].object_list) == 25
    page = response.content.decode()
    assert 'href="?namespace=acme.ops&amp;sort=-age&amp;page=2"' in page
    second = client.get(INBOX, {"namespace": "acme.ops", "sort": "-age", "page": 2})
    assert len(second.context["page"].object_list) == 2


def test_nav_badge_counts_answerable_tokens_on_every_page(
    client, approver, pause_token
):
    pause_token("")
    pause_token("")
    client.force_login(approver)
    page = client.get(reverse("approvals:flows")).content.decode()
    assert badge_of(page) == "2"


def test_huge_inboxes_count_up_to_a_cap(client, approver, pause_token, monkeypatch):
    from approvals import context_processors, views

    monkeypatch.setattr(views, "COUNT_CAP", 3)
    monkeypatch.setattr(context_processors, "BADGE_CAP", 3)
    for _ in range(5):
        pause_token("")
    client.force_login(approver)
    response = client.get(INBOX, {"sort": "age"})
    assert response.context["page"].paginator.count == 3
    assert "3+ in all" not in response.content.decode()  # one page: no page footer
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    paged = client.get(INBOX, {"sort": "age"}).content.decode()
    assert "3+ in all" in paged
    other = client.get(reverse("approvals:flows")).content.decode()
    assert badge_of(other) == "3"  # counting stopped at the cap


def test_inbox_needs_login(client):
    response = client.get(INBOX)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={INBOX}"


def inbox_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(INBOX).status_code == 200
    return len(captured)


def test_inbox_renders_in_a_constant_number_of_queries(
    client, tenant, approver, pause_token, run_on_commit, django_assert_max_num_queries
):
    ann = UserFactory(username="ann", tenants=[tenant])
    cat = UserFactory(username="cat", tenants=[tenant])
    approval = "screen: approval\napprovals: 2\npauseDuration: P1D"
    for _ in range(3):
        token = pause_token(approval, actor=cat)
        run_on_commit(
            answers.answer, ann, token, {"decision": "Approved"}, channel="web"
        )
    client.force_login(approver)
    with django_assert_max_num_queries(8):
        client.get(INBOX)
    three = inbox_queries(client)
    for _ in range(27):
        pause_token(approval, actor=cat)
    with django_assert_max_num_queries(8):
        response = client.get(INBOX)
    assert len(response.context["page"].object_list) == 25
    assert inbox_queries(client) == three
    print("INBOX QUERIES", three)


def test_recent_answers_say_what_became_of_each(
    client, tenant, approver, pause_token, run_on_commit, django_assert_max_num_queries
):
    starter = UserFactory(username="sam", tenants=[tenant])
    rejected = pause_token("screen: approval", actor=starter, flow_id="days_off")
    values = {"decision": "Rejected", "comment": "not this week"}
    run_on_commit(answers.answer, approver, rejected, values, channel="web")
    quorum = pause_token("screen: approval\napprovals: 2", actor=starter)
    run_on_commit(
        answers.answer, approver, quorum, {"decision": "Approved"}, channel="web"
    )
    client.force_login(approver)
    with django_assert_max_num_queries(10):  # the tab checks each one is still seen
        page = client.get(INBOX, {"tab": "answered"}).content.decode()
    section = page[page.index('id="answered"') :]
    assert section.index("more approvals are needed") < section.index("days_off")
    assert f"Rejected by {approver.get_username()}: not this week" in section
