"""Flow- and user-supplied text is escaped; forms need their CSRF token."""

import pytest
from django.test import Client
from django.urls import reverse

from approvals.models import Answer
from tests.factories import UserFactory

SCRIPT = "<script>alert(1)</script>"
EVIL_PAUSE = """
screen: approval
message: "Look <script>alert(1)</script>"
onResume:
  - id: note
    type: STRING
    description: "<script>alert(1)</script> note"
"""


@pytest.fixture
def bob(tenant):
    return UserFactory(username="bob", tenants=[tenant])


def test_message_and_input_description_are_escaped_on_the_screen(
    client, bob, pause_token
):
    token = pause_token(EVIL_PAUSE)
    client.force_login(bob)
    page = client.get(reverse("approvals:answer", args=[token.pk])).content.decode()
    assert SCRIPT not in page
    assert "Look &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; note" in page


def test_message_is_escaped_in_the_inbox_and_on_the_execution_page(
    client, bob, pause_token
):
    token = pause_token(EVIL_PAUSE)
    client.force_login(bob)
    inbox = client.get(reverse("approvals:inbox")).content.decode()
    execution = reverse("approvals:execution", args=[token.execution_id])
    detail = client.get(execution).content.decode()
    assert SCRIPT not in inbox and "&lt;script&gt;" in inbox
    assert SCRIPT not in detail and "&lt;script&gt;" in detail


def test_input_values_and_comments_are_escaped(
    client, bob, tenant, pause_token, run_on_commit
):
    ann = UserFactory(username="ann", tenants=[tenant])
    token = pause_token(EVIL_PAUSE + "approvals: 2\n", amount=7)
    client.force_login(ann)
    url = reverse("approvals:answer", args=[token.pk])
    run_on_commit(
        client.post, url, {"decision": "Approved", "comment": SCRIPT, "note": "n"}
    )
    assert Answer.objects.get().values["comment"] == SCRIPT
    client.force_login(bob)
    page = client.get(url).content.decode()
    assert SCRIPT not in page and "&lt;script&gt;alert(1)" in page


def test_flow_description_is_escaped_on_the_start_page(client, bob, make_flow):
    make_flow(
        """
        id: evil
        namespace: acme.ops
        description: "<script>alert(1)</script>"
        inputs:
          - id: who
            type: STRING
            description: "<b>bold</b>"
        tasks:
          - id: a
            type: Return
            format: x
        """
    )
    client.force_login(bob)
    page = client.get(reverse("approvals:start", args=["acme.ops", "evil"]))
    text = page.content.decode()
    assert SCRIPT not in text and "<b>bold</b>" not in text
    assert "&lt;b&gt;bold&lt;/b&gt;" in text


def test_answer_without_csrf_token_is_refused(bob, pause_token):
    token = pause_token(EVIL_PAUSE)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(bob)
    url = reverse("approvals:answer", args=[token.pk])
    response = browser.post(url, {"decision": "Approved"})
    assert response.status_code == 403
    token.refresh_from_db()
    assert token.state == "WAITING" and not Answer.objects.exists()


def test_answer_with_the_pages_csrf_token_is_accepted(bob, pause_token, run_on_commit):
    token = pause_token(EVIL_PAUSE)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(bob)
    url = reverse("approvals:answer", args=[token.pk])
    page = browser.get(url)
    csrf = str(page.context["csrf_token"])
    response = run_on_commit(
        browser.post,
        url,
        {"decision": "Approved", "note": "n", "csrfmiddlewaretoken": csrf},
    )
    assert response.status_code == 302


def test_start_and_logout_without_csrf_token_are_refused(bob, make_flow):
    make_flow(
        """
        id: plain
        namespace: acme.ops
        tasks:
          - id: a
            type: Return
            format: x
        """
    )
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(bob)
    start = reverse("approvals:start", args=["acme.ops", "plain"])
    assert browser.post(start, {}).status_code == 403
    assert browser.post(reverse("logout")).status_code == 403


def test_ids_in_urls_are_uuids(client, bob):
    client.force_login(bob)
    assert client.get("/approvals/1/").status_code == 404
    assert client.get("/executions/1/").status_code == 404
