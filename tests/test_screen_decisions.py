"""The approval screen for a Pause and an Approval task: labels, comments, rejects."""

import re

import pytest
from django.urls import reverse

from flows import engine
from flows.models import Execution, SuspensionToken
from tests.factories import UserFactory

APPROVAL_TASK = """
id: expense
namespace: acme.finance
tasks:
  - id: sign
    type: Approval
    message: Refund 40 EUR?
    {extra}
    onDeny:
      - id: tell
        type: Return
        format: refused
  - id: after
    type: Return
    format: done
"""


@pytest.fixture
def approver(tenant):
    return UserFactory(username="bob", tenants=[tenant])


@pytest.fixture
def approval_task(make_flow, run_on_commit):
    def start(extra=""):
        flow = make_flow(APPROVAL_TASK.format(extra=extra))
        execution = run_on_commit(engine.start_execution, flow, {})
        return SuspensionToken.objects.get(execution=execution)

    return start


def url(token):
    return reverse("approvals:answer", args=[token.pk])


def buttons(page) -> list[tuple[str, str]]:
    """(value, label) of each decision button."""
    found = re.findall(r'name="decision" value="(\w+)"[^>]*>([^<]+)</button>', page)
    return [(value, label.strip()) for value, label in found]


def comment_block(page) -> str:
    block = page[page.index('id="div_id_comment"') :]
    return block[: block.index("</div>\n")]


def test_a_pause_shows_approve_and_reject(client, approver, pause_token):
    token = pause_token("screen: approval")
    client.force_login(approver)
    page = client.get(url(token)).content.decode()
    assert buttons(page) == [("Approved", "Approve"), ("Rejected", "Reject")]


def test_an_approval_task_shows_approve_and_deny_by_default(
    client, approver, approval_task
):
    token = approval_task()
    client.force_login(approver)
    page = client.get(url(token)).content.decode()
    assert buttons(page) == [("Approved", "Approve"), ("Rejected", "Deny")]


def test_an_approval_task_shows_its_own_labels(client, approver, approval_task):
    token = approval_task("decisions: [Pay it, Refuse]")
    client.force_login(approver)
    page = client.get(url(token)).content.decode()
    assert buttons(page) == [("Approved", "Pay it"), ("Rejected", "Refuse")]


def test_a_missing_comment_shows_its_error_under_the_comment_field(
    client, approver, approval_task
):
    token = approval_task("decisions: [Pay it, Refuse]\n    commentRequired: ON_DENY")
    client.force_login(approver)
    shown = client.get(url(token)).content.decode()
    assert "Required when you choose “Refuse”." in comment_block(shown)
    response = client.post(url(token), {"decision": "Rejected", "comment": " "})
    page = response.content.decode()
    assert response.status_code == 200
    block = comment_block(page)
    assert (
        "invalid-feedback" in block
        and "A comment is required when you choose “Refuse”." in (block)
    )
    assert 'id="decision-errors"' not in page
    token.refresh_from_db()
    assert token.state == "WAITING"


def test_comment_required_always_marks_the_field_required(
    client, approver, pause_token
):
    token = pause_token("screen: approval\ncommentRequired: ALWAYS")
    client.force_login(approver)
    page = client.get(url(token)).content.decode()
    block = comment_block(page)
    assert "asteriskField" in block and "required" in block
    assert "A comment is required." in block
    refused = client.post(url(token), {"decision": "Approved"}).content.decode()
    assert "A comment is required when you choose “Approve”." in comment_block(refused)


def test_the_comment_stays_optional_by_default(client, approver, pause_token):
    token = pause_token("screen: approval")
    client.force_login(approver)
    block = comment_block(client.get(url(token)).content.decode())
    assert "asteriskField" not in block and "Optional comment." in block


@pytest.mark.parametrize(
    ("behavior", "note"),
    [
        ("", "Choosing “Reject” stops this execution: it ends cancelled."),
        ("rejectBehavior: FAIL", "Choosing “Reject” fails this task and stops"),
        ("rejectBehavior: WARN", "Choosing “Reject” lets the execution go on"),
        ("rejectBehavior: CONTINUE", None),
    ],
)
def test_the_screen_says_what_a_reject_does(
    client, approver, pause_token, behavior, note
):
    token = pause_token(f"screen: approval\n{behavior}")
    client.force_login(approver)
    page = client.get(url(token)).content.decode()
    if note is None:
        assert 'id="on-reject"' not in page
    else:
        assert 'aria-describedby="on-reject"' in page and note in page


@pytest.mark.parametrize(
    ("behavior", "note"),
    [
        ("", "Choosing “Deny” stops this execution: it ends cancelled."),
        ("denyBehavior: KILL", "Choosing “Deny” stops this execution at once"),
        ("denyBehavior: SUCCEED", "Choosing “Deny” ends this execution early"),
    ],
)
def test_the_screen_says_what_a_deny_does(
    client, approver, approval_task, behavior, note
):
    token = approval_task(behavior)
    client.force_login(approver)
    assert note in client.get(url(token)).content.decode()


def messages_after(client, response) -> str:
    return client.get(response.url).content.decode()


def test_a_reject_that_stops_the_flow_does_not_say_resuming(
    client, approver, pause_token, run_on_commit
):
    token = pause_token("screen: approval")
    client.force_login(approver)
    response = run_on_commit(
        client.post, url(token), {"decision": "Rejected", "comment": "no"}
    )
    page = messages_after(client, response)
    assert "Rejected — the execution was cancelled." in page
    assert "resuming" not in page


def test_a_reject_that_continues_says_resuming(
    client, approver, pause_token, run_on_commit
):
    token = pause_token("screen: approval\nrejectBehavior: CONTINUE")
    client.force_login(approver)
    response = run_on_commit(client.post, url(token), {"decision": "Rejected"})
    assert "Rejected — the execution is resuming." in messages_after(client, response)


def test_a_deny_says_the_execution_stops(
    client, approver, approval_task, run_on_commit
):
    token = approval_task()
    client.force_login(approver)
    response = run_on_commit(client.post, url(token), {"decision": "Rejected"})
    page = messages_after(client, response)
    assert "Denied — the execution is stopping." in page
    assert Execution.objects.get(pk=token.execution_id).state == "CANCELLED"
    assert "Cancelled — denied by bob" in page
