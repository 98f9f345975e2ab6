"""One-click links: shown by GET without a write, used once by POST, refused clearly."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.models import Answer, OneClickLink
from tests.notify_support import links_in, path_of, people

PAUSE = """
assignees: {users: [bob], groups: [managers]}
message: Pay the invoice?
screen: approval
pauseDuration: PT2H
"""
WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def team(tenant):
    return people(tenant)


@pytest.fixture
def mailed(pause_token, team):
    """The token and each recipient's link path."""
    token = pause_token(PAUSE, actor=team["alice"])
    paths = {m.to[0].split("@")[0]: path_of(links_in(m)[0]) for m in mail.outbox}
    return token, paths


def writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]


def test_the_link_shows_the_answer_screen_to_its_recipient(mailed, team, client):
    token, paths = mailed
    client.force_login(team["bob"])
    page = client.get(paths["bob"])
    html = page.content.decode()
    assert page.status_code == 200 and "Pay the invoice?" in html
    assert f'action="{paths["bob"]}"' in html
    assert 'value="Approved"' in html and 'value="Rejected"' in html


def test_opening_a_link_writes_nothing(mailed, team, client, settings):
    token, paths = mailed
    client.force_login(team["bob"])
    with CaptureQueriesContext(connection) as signed_in:
        assert client.get(paths["bob"]).status_code == 200
    settings.SIGNOFF_LINK_REQUIRES_LOGIN = False
    client.logout()
    with CaptureQueriesContext(connection) as anonymous:
        assert client.get(paths["carol"]).status_code == 200
    assert writes(signed_in.captured_queries) == []
    assert writes(anonymous.captured_queries) == []
    assert not OneClickLink.objects.filter(used_at__isnull=False).exists()
    assert not Answer.objects.exists()


def test_the_link_answers_once_then_is_refused_with_409(mailed, team, client):
    token, paths = mailed
    client.force_login(team["bob"])
    done = client.post(paths["bob"], {"decision": "Approved"})
    assert done.status_code == 302
    assert done["Location"] == f"/executions/{token.execution_id}/"
    answer = Answer.objects.get(token=token)
    assert (answer.user, answer.channel) == (team["bob"], "email")
    again = client.post(paths["bob"], {"decision": "Rejected"})
    assert again.status_code == 409
    assert "This link was already used" in again.content.decode()
    assert client.get(paths["bob"]).status_code == 409
    assert Answer.objects.count() == 1


def test_an_expired_link_is_refused_with_410(mailed, team, client, clock, settings):
    token, paths = mailed
    client.force_login(team["bob"])
    clock.at += timedelta(days=8)  # past SIGNOFF_LINK_MAX_AGE (and the deadline)
    for response in (client.get(paths["bob"]), client.post(paths["bob"], {})):
        assert response.status_code == 410
        assert "This link has expired" in response.content.decode()
    assert not Answer.objects.exists()


def test_a_link_expires_with_its_pause_deadline_when_that_is_sooner(mailed):
    token, _ = mailed
    assert {link.expires_at for link in OneClickLink.objects.all()} == {
        token.expires_at
    }


def test_a_link_expires_after_the_max_age_when_that_is_sooner(
    pause_token, team, settings
):
    settings.SIGNOFF_LINK_MAX_AGE = 60
    pause_token(PAUSE, actor=team["alice"])
    link = OneClickLink.objects.first()
    assert link.expires_at - link.created_at == timedelta(seconds=60)


def test_an_altered_link_is_refused_with_403(mailed, team, client):
    token, paths = mailed
    client.force_login(team["bob"])
    path = paths["bob"]
    altered = path[:-2] + ("A" if path[-2] != "A" else "B") + "/"
    other_id = "/l/00000000-0000-0000-0000-000000000000/" + path.split("/")[3] + "/"
    for bad, status, heading in (
        (altered, 403, "This link is not valid"),
        (other_id, 404, "No such link"),
    ):
        for response in (client.get(bad), client.post(bad, {"decision": "Approved"})):
            assert response.status_code == status
            assert heading in response.content.decode()
    assert not Answer.objects.exists()


def test_another_users_link_is_refused_with_403(mailed, team, client):
    token, paths = mailed
    client.force_login(team["carol"])
    for response in (
        client.get(paths["bob"]),
        client.post(paths["bob"], {"decision": "Approved"}),
    ):
        assert response.status_code == 403
        assert "This link is for someone else" in response.content.decode()
    assert not Answer.objects.exists()


def test_an_anonymous_visitor_signs_in_and_comes_back(mailed, client):
    token, paths = mailed
    response = client.get(paths["bob"])
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/l/")
    assert not Answer.objects.exists()


def test_without_login_the_link_answers_as_its_recipient_via_email(
    mailed, team, client, settings
):
    settings.SIGNOFF_LINK_REQUIRES_LOGIN = False
    token, paths = mailed
    done = client.post(paths["erin"], {"decision": "Approved"})
    assert done.status_code == 200
    assert "Approved" in done.content.decode()
    answer = Answer.objects.get(token=token)
    assert (answer.user, answer.channel) == (team["erin"], "email")
    assert client.post(paths["erin"], {"decision": "Approved"}).status_code == 409


def test_a_link_to_a_token_someone_else_answered_says_so_with_409(mailed, team, client):
    token, paths = mailed
    client.force_login(team["carol"])
    assert client.post(paths["carol"], {"decision": "Approved"}).status_code == 302
    client.force_login(team["bob"])
    response = client.get(paths["bob"])
    assert response.status_code == 409
    assert "carol answered it" in response.content.decode()


def test_a_refused_answer_leaves_the_link_unused(pause_token, team, client):
    pause_token(PAUSE + "commentRequired: ALWAYS", actor=team["alice"])
    bob_mail = next(m for m in mail.outbox if m.to == ["bob@example.com"])
    path = path_of(links_in(bob_mail)[0])
    client.force_login(team["bob"])
    invalid = client.post(path, {"decision": "Approved"})  # no comment
    assert invalid.status_code == 200 and "is-invalid" in invalid.content.decode()
    assert not OneClickLink.objects.filter(used_at__isnull=False).exists()
    ok = client.post(path, {"decision": "Approved", "comment": "fine"})
    assert ok.status_code == 302


def test_only_a_hash_of_the_secret_is_stored(mailed):
    token, paths = mailed
    secret = paths["bob"].split("/")[3]
    stored = OneClickLink.objects.values_list("secret_hash", flat=True)
    assert all(secret not in value for value in stored)
