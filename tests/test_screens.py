"""The answer screens: what each kind shows, answering it, and every refusal page."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from approvals import answers
from approvals.models import Answer
from flows import engine
from flows.models import Execution, SuspensionToken, TaskRun
from tests.factories import TenantFactory, UserFactory, give_permissions

APPROVAL = """
screen: approval
message: "Approve spending {{ inputs.amount }} EUR?"
pauseDuration: P2D
"""
FORM = """
message: "Tell us more"
onResume:
  - id: reason
    type: STRING
    description: Why you decided so
  - id: days
    type: INT
    description: How many days
"""
REVIEW = """
screen: review
message: "Read the report"
"""


@pytest.fixture
def approver(tenant):
    return UserFactory(username="bob", tenants=[tenant])


def labelled(page, field_id):
    """A <label> for the field (crispy spreads the tag over several lines)."""
    return re.search(rf'<label\s+for="{re.escape(field_id)}"', page) is not None


def url(token):
    return reverse("approvals:answer", args=[token.pk])


def post(client, token, data, run_on_commit):
    return run_on_commit(client.post, url(token), data)


def test_approval_screen_shows_context_and_decision_buttons(
    client, approver, pause_token
):
    token = pause_token(APPROVAL)
    client.force_login(approver)
    page = client.get(url(token)).content.decode()
    assert "Approve spending 5 EUR?" in page
    assert "acme.ops.ops_check" in page.replace("</code>", "").replace("<code>", "")
    assert "Revision 1" in page and str(token.execution_id) in page
    assert "&quot;amount&quot;: 5" in page  # execution inputs, pretty JSON
    assert "prepared 5" in page  # outputs of the earlier task
    assert token.expires_at.strftime("%Y-%m-%d %H:%M") in page
    assert '<button type="submit" name="decision" value="Approved"' in page
    assert '<button type="submit" name="decision" value="Rejected"' in page
    assert 'name="comment"' in page and "<select" not in page
    assert "No one has answered yet." in page and "0 of 1" in page


def test_approving_resumes_and_records_a_web_answer(
    client, approver, pause_token, run_on_commit
):
    token = pause_token(APPROVAL)
    client.force_login(approver)
    response = post(
        client, token, {"decision": "Approved", "comment": "ok"}, run_on_commit
    )
    assert response.status_code == 302
    assert response.url == reverse("approvals:execution", args=[token.execution_id])
    token.refresh_from_db()
    answer = Answer.objects.get(token=token)
    assert token.state == "RESUMED" and token.channel == "web"
    assert token.response == {"decision": "Approved", "comment": "ok"}
    assert answer.channel == "web" and answer.user == approver
    assert len(answer.shown_hash) == 64
    page = client.get(response.url).content.decode()
    assert "Approved — the execution is resuming." in page
    assert Execution.objects.get(pk=token.execution_id).state == "SUCCESS"


def test_rejecting_records_the_rejection(client, approver, pause_token, run_on_commit):
    token = pause_token(APPROVAL)
    client.force_login(approver)
    response = post(client, token, {"decision": "Rejected"}, run_on_commit)
    token.refresh_from_db()
    assert response.status_code == 302 and token.response["decision"] == "Rejected"
    wait = TaskRun.objects.get(execution_id=token.execution_id, task_id="wait")
    assert wait.outputs["decision"] == "Rejected"


def test_approval_without_a_decision_shows_the_error_and_consumes_nothing(
    client, approver, pause_token
):
    token = pause_token(APPROVAL)
    client.force_login(approver)
    response = client.post(url(token), {"comment": "pressed enter"})
    assert response.status_code == 200
    assert 'id="decision-errors"' in response.content.decode()
    token.refresh_from_db()
    assert token.state == "WAITING" and not Answer.objects.exists()


def test_form_screen_renders_fields_with_labels_and_help(client, approver, pause_token):
    token = pause_token(FORM)
    client.force_login(approver)
    page = client.get(url(token)).content.decode()
    assert labelled(page, "id_reason") and "Why you decided so" in page
    assert 'aria-describedby="id_reason_helptext"' in page
    assert labelled(page, "id_days") and 'type="number"' in page
    assert ">Resume</button>" in page and 'name="decision"' not in page


def test_form_screen_resumes_with_typed_values(
    client, approver, pause_token, run_on_commit
):
    token = pause_token(FORM)
    client.force_login(approver)
    response = post(client, token, {"reason": "fine", "days": "3"}, run_on_commit)
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.state == "RESUMED" and token.response == {"reason": "fine", "days": 3}
    assert Answer.objects.get().decision == "Submitted"


def test_invalid_form_shows_the_error_beside_the_field_and_consumes_nothing(
    client, approver, pause_token
):
    token = pause_token(FORM)
    client.force_login(approver)
    response = client.post(url(token), {"reason": "fine", "days": "many"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_days"' in page and "is-invalid" in page
    days_block = page[page.index('id="div_id_days"') :]
    assert "invalid-feedback" in days_block[: days_block.index("</div>\n")]
    assert 'value="fine"' in page  # what was typed stays
    token.refresh_from_db()
    assert token.state == "WAITING" and not Answer.objects.exists()


def test_review_screen_needs_the_acknowledgement(
    client, approver, pause_token, run_on_commit
):
    token = pause_token(REVIEW)
    client.force_login(approver)
    page = client.get(url(token)).content.decode()
    assert "Review requested" in page and "Read the report" in page
    assert 'type="checkbox" name="acknowledged"' in page
    assert "I have reviewed this." in page
    refused = client.post(url(token), {"comment": "skimmed"})
    assert "Acknowledge the review to resume." in refused.content.decode()
    token.refresh_from_db()
    assert token.state == "WAITING"
    done = post(client, token, {"acknowledged": "on", "comment": "read"}, run_on_commit)
    token.refresh_from_db()
    assert done.status_code == 302 and token.response["acknowledged"] is True


def test_bare_resume_screen_is_one_button(client, approver, pause_token, run_on_commit):
    token = pause_token("")
    client.force_login(approver)
    page = client.get(url(token)).content.decode()
    assert ">Resume</button>" in page and '<input type="text"' not in page
    response = post(client, token, {}, run_on_commit)
    token.refresh_from_db()
    assert response.status_code == 302 and token.state == "RESUMED"


def test_quorum_shows_progress_and_waits_for_more_approvers(
    client, tenant, pause_token, run_on_commit
):
    ann = UserFactory(username="ann", tenants=[tenant])
    bob = UserFactory(username="bob", tenants=[tenant])
    token = pause_token(APPROVAL + "approvals: 2\n")
    client.force_login(ann)
    first = post(client, token, {"decision": "Approved"}, run_on_commit)
    assert (
        "Your approval is recorded: 1 of 2." in client.get(first.url).content.decode()
    )
    again = client.get(url(token)).content.decode()
    assert "Waiting for 1 more approval." in again and 'name="decision"' not in again
    assert "1 of 2" in again
    twice = client.post(url(token), {"decision": "Approved"})
    assert twice.status_code == 409 and "You already answered" in twice.content.decode()
    client.force_login(bob)
    page = client.get(url(token)).content.decode()
    assert "ann" in page and "1 of 2" in page  # who answered so far
    post(client, token, {"decision": "Approved"}, run_on_commit)
    token.refresh_from_db()
    assert token.state == "RESUMED"


def test_unknown_token_is_404(client, approver):
    client.force_login(approver)
    missing = reverse("approvals:answer", args=["00000000-0000-0000-0000-000000000000"])
    assert client.get(missing).status_code == 404


def test_another_tenants_token_is_403(client, pause_token):
    eve = UserFactory(username="eve", tenants=[TenantFactory(slug="other")])
    token = pause_token(APPROVAL)
    client.force_login(eve)
    for response in (client.get(url(token)), client.post(url(token), {})):
        assert response.status_code == 403
        assert "another tenant" in response.content.decode()


def test_someone_who_sees_it_but_is_not_assigned_gets_403(
    client, approver, pause_token
):
    token = pause_token(APPROVAL + "assignees: {users: [carol], groups: [managers]}\n")
    client.force_login(approver)
    assert client.get(url(token)).status_code == 404  # not theirs to see
    give_permissions(approver, "flows.view_execution")
    response = client.post(url(token), {"decision": "Approved"})
    assert response.status_code == 403
    assert (
        "Only carol or members of managers may answer this."
        in response.content.decode()
    )
    token.refresh_from_db()
    assert token.state == "WAITING"


def test_the_starter_cannot_approve_their_own_execution(client, user, pause_token):
    token = pause_token(APPROVAL, actor=user)
    client.force_login(user)
    response = client.get(url(token))
    assert response.status_code == 403
    assert "You started this execution" in response.content.decode()


def test_consumed_token_page_names_who_and_when(
    client, approver, user, pause_token, run_on_commit
):
    token = pause_token(APPROVAL)
    run_on_commit(engine.resume, token, {"decision": "Approved"}, actor=user)
    token.refresh_from_db()
    client.force_login(approver)
    response = client.get(url(token))
    page = response.content.decode()
    assert response.status_code == 409
    assert "already answered" in page
    assert "alice answered it on" in page and "via api" in page
    assert token.resolved_at.strftime("%Y-%m-%d %H:%M:%S") in page


def test_expired_token_is_410_even_before_the_sweeper(
    client, approver, pause_token, monkeypatch
):
    token = pause_token(APPROVAL)
    later = token.expires_at + timedelta(seconds=1)
    monkeypatch.setattr(engine, "now", lambda: later)
    client.force_login(approver)
    response = client.post(url(token), {"decision": "Approved"})
    page = response.content.decode()
    assert response.status_code == 410 and "has expired" in page
    assert token.expires_at.strftime("%Y-%m-%d %H:%M:%S") in page
    token.refresh_from_db()
    assert token.state == "WAITING"


def test_swept_token_is_410(client, approver, pause_token, run_on_commit):
    token = pause_token(APPROVAL)
    run_on_commit(engine.expire, token.pk, token.expires_at)
    client.force_login(approver)
    response = client.get(url(token))
    assert response.status_code == 410
    assert SuspensionToken.objects.get(pk=token.pk).state == "EXPIRED"


def test_answer_arriving_after_another_gets_409(
    client, approver, user, pause_token, run_on_commit, monkeypatch
):
    token = pause_token(APPROVAL)
    client.force_login(approver)
    real_answer = answers.answer

    def someone_else_first(person, fresh, values, *, channel):
        run_on_commit(engine.resume, fresh, {"decision": "Rejected"}, actor=user)
        return real_answer(person, fresh, values, channel=channel)

    monkeypatch.setattr(answers, "answer", someone_else_first)
    response = client.post(url(token), {"decision": "Approved"})
    assert (
        response.status_code == 409 and "alice answered it" in response.content.decode()
    )


def test_answer_screen_needs_login(client, pause_token):
    token = pause_token(APPROVAL)
    response = client.get(url(token))
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
