"""Times in the viewer's zone: profile, else browser cookie, else UTC; zone named."""

import re
import zoneinfo
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals import answers, zones
from approvals.models import Profile
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

APPROVAL = """
screen: approval
message: "Approve spending?"
pauseDuration: PT2H
"""
WINTER = datetime(2026, 12, 1, 13, 5, tzinfo=UTC)


@pytest.fixture
def approver(tenant):
    return UserFactory(username="bob", tenants=[tenant])


def answer_page(client, token) -> str:
    return client.get(reverse("approvals:answer", args=[token.pk])).content.decode()


def shown(token, zone: str) -> str:
    local = token.created_at.astimezone(zoneinfo.ZoneInfo(zone))
    return local.strftime("%Y-%m-%d %H:%M ") + local.tzname()


def test_the_browser_zone_from_the_cookie_is_used_and_named(
    client, approver, pause_token
):
    token = pause_token(APPROVAL)
    client.force_login(approver)
    client.cookies[zones.COOKIE] = "America/New_York"
    page = answer_page(client, token)
    assert shown(token, "America/New_York") in page
    assert shown(token, "America/New_York").endswith((" EST", " EDT"))
    assert "Times are shown in America/New_York (your browser's zone)." in page
    assert 'title="America/New_York"' in page


@pytest.mark.parametrize(
    "cookie", ["Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime", "", "UTC "]
)
def test_an_invalid_cookie_zone_is_ignored_and_times_are_utc(
    client, approver, pause_token, cookie
):
    token = pause_token(APPROVAL)
    client.force_login(approver)
    client.cookies[zones.COOKIE] = cookie
    response = client.get(reverse("approvals:answer", args=[token.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert shown(token, "UTC") in page and "Times are shown in UTC." in page


def test_without_the_cookie_times_are_utc_and_say_so(client, approver, pause_token):
    token = pause_token(APPROVAL)
    client.force_login(approver)
    page = answer_page(client, token)
    assert f"{shown(token, 'UTC')}</time>" in page
    assert "Times are shown in UTC." in page


def test_the_profile_zone_wins_over_the_browser(client, approver, pause_token):
    token = pause_token(APPROVAL)
    Profile.objects.create(user=approver, time_zone="Asia/Tokyo")
    client.force_login(approver)
    client.cookies[zones.COOKIE] = "America/New_York"
    page = answer_page(client, token)
    assert (
        shown(token, "Asia/Tokyo").endswith(" JST")
        and shown(token, "Asia/Tokyo") in page
    )
    assert "Times are shown in Asia/Tokyo (your profile)." in page


def test_a_profile_zone_no_longer_known_falls_back_to_the_browser(
    client, approver, pause_token
):
    token = pause_token(APPROVAL)
    Profile.objects.create(user=approver, time_zone="Gone/Away")
    client.force_login(approver)
    client.cookies[zones.COOKIE] = "Europe/Paris"
    assert shown(token, "Europe/Paris") in answer_page(client, token)


def test_the_profile_page_saves_a_zone_and_refuses_an_unknown_one(client, approver):
    client.force_login(approver)
    url = reverse("approvals:profile")
    page = client.get(url).content.decode()
    assert '<option value="Europe/Paris">Europe/Paris</option>' in page
    assert '<option value="" selected>Your browser&#x27;s zone</option>' in page

    refused = client.post(url, {"time_zone": "Mars/Olympus_Mons"})
    text = refused.content.decode()
    assert refused.status_code == 200 and "<title>Error: Profile" in text
    assert 'href="#id_time_zone">Time zone: Select a valid choice.' in text
    assert not Profile.objects.filter(user=approver).exclude(time_zone="").exists()

    saved = client.post(url, {"time_zone": "Europe/Paris"}, follow=True)
    assert Profile.objects.get(user=approver).time_zone == "Europe/Paris"
    assert "Times are now shown in Europe/Paris." in saved.content.decode()
    assert "Times are shown in Europe/Paris (your profile)." in saved.content.decode()

    client.post(url, {"time_zone": ""})
    assert Profile.objects.get(user=approver).time_zone == ""


def test_the_display_names_the_zone_even_without_an_abbreviation():
    with timezone.override(zoneinfo.ZoneInfo("Europe/Paris")):
        assert zones.display(WINTER) == "2026-12-01 14:05 CET"
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        assert zones.display(WINTER, seconds=True) == "2026-12-01 08:05:00 EST"
        summer = WINTER.replace(month=7)
        assert zones.display(summer) == "2026-07-01 09:05 EDT"
    with timezone.override(zoneinfo.ZoneInfo("Europe/Istanbul")):
        assert zones.display(WINTER) == "2026-12-01 16:05 +03 (Europe/Istanbul)"


def test_a_resolved_suspension_shows_when_it_was_answered_not_a_countdown(
    client, approver, pause_token, run_on_commit
):
    token = pause_token(APPROVAL)
    run_on_commit(
        answers.answer, approver, token, {"decision": "Approved"}, channel="web"
    )
    token.refresh_from_db()
    client.force_login(approver)
    page = client.get(
        reverse("approvals:execution", args=[token.execution_id])
    ).content.decode()
    deadline_row = page[page.index(">Deadline</dt>") :][:600]
    assert "(in " not in deadline_row and " ago)" not in deadline_row
    assert f"(answered {zones.display(token.resolved_at)})" in deadline_row
    assert ", then resume" not in deadline_row


def test_a_waiting_suspension_still_counts_down(client, approver, pause_token):
    token = pause_token(APPROVAL)
    client.force_login(approver)
    page = answer_page(client, token)
    deadline_row = page[page.index(">Deadline</dt>") :][:600]
    # timeuntil joins its words with no-break spaces
    assert re.search(r"\(in\s(1\shour,\s59\sminutes|2\shours)\)", deadline_row)


def test_the_audit_trail_names_the_zone_of_its_times(client, approver, pause_token):
    token = pause_token(APPROVAL)
    client.force_login(approver)
    client.cookies[zones.COOKIE] = "Europe/Paris"
    url = reverse("approvals:execution", args=[token.execution_id])
    page = client.get(url).content.decode()
    assert '<th scope="col">At <span class="fw-normal small">(Europe/Paris)' in page


def test_the_api_keeps_utc_whatever_the_browser_zone(client, user, pause_token):
    token = pause_token(APPROVAL, actor=user)
    Profile.objects.create(user=user, time_zone="Asia/Tokyo")
    client.force_login(user)  # the API accepts the session too
    client.cookies[zones.COOKIE] = "America/New_York"
    body = client.get(f"/api/executions/{token.execution_id}").json()
    assert body["createdAt"].endswith(("Z", "+00:00")), body["createdAt"]
