"""GOV.UK's error summary on every form page: a link per error, "Error:" titles."""

import re

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

APPROVAL = """
screen: approval
message: "Approve spending?"
"""
FORM = """
message: "Tell us more"
onResume:
  - id: reason
    type: STRING
  - id: days
    type: INT
"""
START = """
id: with_inputs
namespace: acme.ops
inputs:
  - id: count
    type: INT
tasks:
  - id: done
    type: Return
    format: ok
"""


@pytest.fixture
def approver(tenant):
    return UserFactory(username="bob", tenants=[tenant])


def summary(page: str) -> str:
    match = re.search(r'<div class="error-summary.*?</div>', page, re.S)
    assert match, "no error summary on the page"
    return match.group(0)


def links(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<a class="alert-link" href="#([^"]+)">([^<]+)</a>', page)


def test_a_failed_form_answer_lists_each_error_linked_to_its_field(
    client, approver, pause_token
):
    token = pause_token(FORM)
    client.force_login(approver)
    response = client.post(
        reverse("approvals:answer", args=[token.pk]), {"reason": "", "days": "many"}
    )
    page = response.content.decode()
    box = summary(page)
    assert 'tabindex="-1"' in box and 'aria-labelledby="error-summary-title"' in box
    heading = '<h2 class="h5 alert-heading" id="error-summary-title">'
    assert f"{heading}There is a problem</h2>" in box
    found = dict(links(box))
    assert list(found) == ["id_reason", "id_days"]  # in the form's order
    assert found["id_days"].startswith("Days: ")
    assert 'id="id_days"' in page and 'id="id_reason"' in page  # targets exist
    assert re.search(r"<title>Error: Form: acme\.ops\.ops_check", page)
    assert page.index("error-summary") < page.index("<h1")
    assert "js/error-summary.js" in page


def test_a_missing_decision_links_to_the_approve_button(client, approver, pause_token):
    token = pause_token(APPROVAL)
    client.force_login(approver)
    page = client.post(
        reverse("approvals:answer", args=[token.pk]), {"comment": "pressed enter"}
    ).content.decode()
    (target, text), *rest = links(summary(page))
    assert not rest
    assert target == "decision-approve" and text.startswith("Decision: ")
    assert '<button type="submit" name="decision" value="Approved"' in page
    assert 'id="decision-approve"' in page


def test_a_page_without_errors_has_no_summary_and_a_plain_title(
    client, approver, pause_token
):
    token = pause_token(FORM)
    client.force_login(approver)
    page = client.get(reverse("approvals:answer", args=[token.pk])).content.decode()
    assert "There is a problem" not in page and "<title>Error:" not in page


def test_a_failed_start_has_the_summary_too(client, user, make_flow):
    make_flow(START)
    client.force_login(user)
    url = reverse("approvals:start", args=["acme.ops", "with_inputs"])
    page = client.post(url, {"count": "lots"}).content.decode()
    assert [target for target, _ in links(summary(page))] == ["id_count"]
    assert "<title>Error: Start acme.ops.with_inputs" in page


def test_a_failed_sign_in_links_to_the_form_error(client, user):
    page = client.post(
        reverse("login"), {"username": "alice", "password": "wrong"}
    ).content.decode()
    (target, text), *_ = links(summary(page))
    assert target == "non-field-errors" and "correct username" in text
    assert 'id="non-field-errors" tabindex="-1"' in page
    assert "<title>Error: Sign in" in page
