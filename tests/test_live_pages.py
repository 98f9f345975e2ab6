"""The polls behind the live inbox and execution page: 204 while nothing changed."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals import answers
from approvals.models import Notice, NoticeDelivery
from tests.factories import UserFactory

LIVE = reverse("approvals:inbox-live")


@pytest.fixture
def approver(tenant):
    return UserFactory(username="bob", tenants=[tenant])


def version_in(page: str, name: str) -> str:
    found = re.search(rf'id="{name}"[^>]*hx-get="[^"]*v=([^"&]+)"', page)
    assert found, f"no polling wrapper {name}"
    return found.group(1)


def execution_poll(client, token) -> tuple[str, str]:
    """The execution page's poll URL and version, checked to answer 204 as is."""
    page = reverse("approvals:execution", args=[token.execution_id])
    version = version_in(client.get(page).content.decode(), "execution-live")
    live = reverse("approvals:execution-live", args=[token.execution_id])
    assert client.get(live, {"v": version}).status_code == 204
    return live, version


def test_inbox_poll_is_204_until_a_row_changes_then_sends_rows_and_badge(
    client, approver, pause_token
):
    pause_token("message: first")
    client.force_login(approver)
    version = version_in(
        client.get(reverse("approvals:inbox")).content.decode(), "inbox-live"
    )
    unchanged = client.get(LIVE, {"v": version})
    assert unchanged.status_code == 204 and unchanged.content == b""
    pause_token("message: second")
    changed = client.get(LIVE, {"v": version})
    page = changed.content.decode()
    assert changed.status_code == 200
    assert "first" in page and "second" in page
    assert 'id="inbox-count"' in page and 'hx-swap-oob="true"' in page and ">2<" in page
    assert version_in(page, "inbox-live") != version
    assert "<html" not in page  # a fragment, not the page


def test_inbox_poll_keeps_the_search(client, approver, pause_token):
    pause_token("message: apples")
    pause_token("message: pears")
    client.force_login(approver)
    page = client.get(LIVE, {"q": "pears"}).content.decode()
    assert "pears" in page and "apples" not in page
    assert "q=pears" in page


def test_inbox_poll_needs_login(client):
    assert client.get(LIVE).status_code == 302


def test_execution_poll_is_204_until_an_event_then_the_page(
    client, approver, pause_token, run_on_commit
):
    token = pause_token("screen: approval")
    client.force_login(approver)
    live, version = execution_poll(client, token)
    run_on_commit(
        answers.answer, approver, token, {"decision": "Approved"}, channel="api"
    )
    changed = client.get(live, {"v": version})
    page = changed.content.decode()
    assert changed.status_code == 200 and 'id="execution-live"' in page
    assert "SUCCESS" in page
    assert "hx-trigger" not in page.split('id="execution-live"')[1].split(">")[0]


def test_execution_poll_of_an_invisible_execution_is_404(client, tenant, pause_token):
    token = pause_token("assignees:\n  users: [carol]")
    client.force_login(UserFactory(username="eve", tenants=[tenant]))
    live = reverse("approvals:execution-live", args=[token.execution_id])
    assert client.get(live).status_code == 404


def test_execution_poll_sends_the_page_when_a_mail_was_tried_again(
    client, approver, pause_token
):
    token = pause_token("assignees: {users: [bob]}")
    client.force_login(approver)
    live, version = execution_poll(client, token)
    notice = Notice.objects.get(token=token)
    tries = notice.deliveries.count()
    NoticeDelivery.objects.create(  # a worker's next try: no event on the trail
        notice=notice,
        attempt=tries + 1,
        at=timezone.now(),
        ok=False,
        error="relay down",
    )
    changed = client.get(live, {"v": version})
    assert changed.status_code == 200
    assert "relay down" in changed.content.decode()
    assert version_in(changed.content.decode(), "execution-live") != version


BADGE = reverse("approvals:inbox-badge")


def badge_poll_in(page: str) -> str | None:
    """The v= of the nav badge's own poll, or None when it does not poll."""
    badge = re.search(r'<span[^>]*id="inbox-count"[^>]*>', page).group(0)
    found = re.search(r'hx-get="[^"]*v=(\d+)"', badge)
    return found.group(1) if found else None


def test_the_badge_polls_on_other_pages_and_updates_when_its_count_changes(
    client, approver, pause_token
):
    pause_token("message: first")
    client.force_login(approver)
    executions = client.get(reverse("approvals:executions")).content.decode()
    assert badge_poll_in(executions) == "1"
    unchanged = client.get(BADGE, {"v": "1"})
    assert unchanged.status_code == 204 and unchanged.content == b""
    pause_token("message: second")
    changed = client.get(BADGE, {"v": "1"})
    badge = changed.content.decode()
    assert changed.status_code == 200
    assert 'id="inbox-count"' in badge and ">2<" in badge
    assert badge_poll_in(badge) == "2"  # the next poll asks about 2
    assert "<html" not in badge


def test_the_inbox_s_own_poll_carries_the_badge_so_it_does_not_poll_there(
    client, approver, pause_token
):
    pause_token("message: first")
    client.force_login(approver)
    waiting = client.get(reverse("approvals:inbox")).content.decode()
    assert badge_poll_in(waiting) is None
    started = client.get(reverse("approvals:inbox"), {"tab": "started"})
    assert badge_poll_in(started.content.decode()) == "1"  # no live rows there


def test_a_signed_out_badge_poll_swaps_nothing(client):
    polled = client.get(BADGE, {"v": "3"})
    assert polled.status_code == 204 and polled.content == b""
