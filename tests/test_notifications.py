"""Notifications on pause: who is emailed, what the mail says, chat posts, retries."""

import pytest
from django.core import mail

from approvals import notifications
from approvals.models import Notice, NoticeDelivery
from flows import engine, sweeper
from tests.notify_support import links_in, people
from tests.receivers import ChatReceiver

ASSIGNED = """
assignees: {users: [bob], groups: [managers]}
message: "Pay {{ inputs.amount }} EUR to ACME?"
screen: approval
pauseDuration: PT2H
"""


@pytest.fixture
def team(tenant):
    return people(tenant)


@pytest.fixture
def chat(settings):
    settings.SIGNOFF_OUTBOUND_ALLOW = ["127.0.0.1"]
    made = []

    def start(statuses=()):
        receiver = ChatReceiver(statuses)
        made.append(receiver)
        return receiver

    yield start
    for receiver in made:
        receiver.close()


def test_a_pause_emails_its_user_and_each_member_of_its_group(pause_token, team):
    token = pause_token(ASSIGNED, actor=team["alice"])
    sent = {m.to[0]: m for m in mail.outbox}
    # dan is a manager of no tenant of this token; alice started it.
    assert sorted(sent) == ["bob@example.com", "carol@example.com", "erin@example.com"]
    message = sent["bob@example.com"]
    assert message.subject == "Approval requested: acme.ops.ops_check"
    assert "Pay 5 EUR to ACME?" in message.body
    assert "Decision" in message.body and "Deadline:" in message.body
    assert f"/approvals/{token.pk}/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "Answer now" in html
    [link] = links_in(message)
    assert link in html
    assert links_in(sent["carol@example.com"])[0] != link  # each their own
    notices = Notice.objects.filter(token=token)
    assert {n.state for n in notices} == {Notice.State.SENT}
    assert NoticeDelivery.objects.filter(notice__token=token, ok=True).count() == 3


def test_notify_false_tells_nobody(pause_token, team):
    pause_token(ASSIGNED + "notify: false", actor=team["alice"])
    assert mail.outbox == []
    assert not Notice.objects.exists()


def test_a_pause_without_assignees_emails_nobody(pause_token, team, client):
    token = pause_token("message: open to all", actor=team["alice"])
    assert mail.outbox == [] and not Notice.objects.exists()
    client.force_login(team["alice"])
    page = client.get(f"/executions/{token.execution_id}/").content.decode()
    assert "No one was notified" in page


def test_the_outbox_rows_are_written_in_the_transaction_and_sent_after(
    pause_token, team, django_capture_on_commit_callbacks
):
    token = pause_token(ASSIGNED + "notify: false", actor=team["alice"])
    assert notifications.tell(token, [team["bob"]], reason="delegated") == []
    token.options = {**token.options, "notify": {"email": True, "slack": False}}
    with django_capture_on_commit_callbacks(execute=True):
        [notice] = notifications.tell(token, [team["bob"]], reason="delegated")
        assert Notice.objects.get().state == Notice.State.PENDING
        assert mail.outbox == []  # nothing is sent inside the transaction
    assert [m.subject for m in mail.outbox] == [
        "Delegated: Approval requested: acme.ops.ops_check"
    ]
    notice.refresh_from_db()
    assert notice.state == Notice.State.SENT and notice.reason == "delegated"


def test_a_slack_post_is_captured_by_the_webhook(pause_token, team, chat):
    receiver = chat()
    token = pause_token(
        ASSIGNED + f"notify: {{email: true, slack: {{url: '{receiver.url}'}}}}",
        actor=team["alice"],
    )
    [payload] = receiver.received
    assert "Approval requested: acme.ops.ops_check" in payload["text"]
    assert "Pay 5 EUR to ACME?" in payload["text"]
    assert f"/approvals/{token.pk}/|Open the request>" in payload["text"]
    assert "Told by email: bob, carol, erin" in payload["text"]
    chat_notice = Notice.objects.get(channel=Notice.Channel.SLACK)
    assert chat_notice.state == Notice.State.SENT and chat_notice.user is None


def test_the_settings_webhook_is_used_when_the_pause_names_none(
    pause_token, team, chat, settings
):
    receiver = chat()
    settings.SIGNOFF_NOTIFY_SLACK_URL = receiver.url
    pause_token("assignees: {users: [bob]}", actor=team["alice"])
    assert len(receiver.received) == 1 and len(mail.outbox) == 1


def test_a_failing_webhook_is_retried_by_the_sweeper_and_recorded(
    pause_token, team, chat, clock, run_on_commit
):
    receiver = chat(statuses=[500, 503])
    token = pause_token(
        "assignees: {users: [bob]}\n"
        f"notify: {{email: false, slack: '{receiver.url}'}}",
        actor=team["alice"],
    )
    notice = Notice.objects.get(token=token)
    [first] = notice.deliveries.all()
    assert not first.ok and first.error.startswith("HTTP 500")
    assert first.next_try_at is not None
    assert run_on_commit(sweeper.sweep_once)["notices"] == 0  # not due yet
    clock.move(seconds=11)
    assert run_on_commit(sweeper.sweep_once)["notices"] == 1
    clock.move(hours=1)
    run_on_commit(sweeper.sweep_once)
    notice.refresh_from_db()
    attempts = [(d.attempt, d.ok) for d in notice.deliveries.all()]
    assert attempts == [(1, False), (2, False), (3, True)]
    assert notice.state == Notice.State.SENT and len(receiver.received) == 3


def test_a_webhook_off_the_allow_list_is_refused_and_not_retried(
    pause_token, team, settings
):
    settings.SIGNOFF_OUTBOUND_ALLOW = []
    token = pause_token(
        "assignees: {users: [bob]}\n"
        "notify: {email: false, slack: 'http://127.0.0.1:9/hook'}",
        actor=team["alice"],
    )
    notice = Notice.objects.get(token=token)
    assert notice.state == Notice.State.GAVE_UP
    assert notice.deliveries.get().error.startswith("refused:")


def test_a_user_without_an_email_address_is_recorded_not_retried(pause_token, team):
    team["bob"].email = ""
    team["bob"].save()
    token = pause_token("assignees: {users: [bob]}", actor=team["alice"])
    notice = Notice.objects.get(token=token)
    assert notice.state == Notice.State.GAVE_UP
    assert notice.deliveries.get().error == "bob has no email address"


def test_a_notice_for_an_answered_token_is_skipped(pause_token, team):
    token = pause_token(ASSIGNED + "notify: false", actor=team["alice"])
    token.options = {**token.options, "notify": {"email": True, "slack": False}}
    [notice] = notifications.tell(token, [team["bob"]], reason="reminder")
    engine.resume(token, {"decision": "Approved"}, actor=team["bob"])
    assert notifications.deliver(notice.pk) is None
    notice.refresh_from_db()
    assert notice.state == Notice.State.SKIPPED and mail.outbox == []


def test_deliveries_show_on_the_execution_page(pause_token, team, client):
    token = pause_token("assignees: {users: [bob]}", actor=team["alice"])
    client.force_login(team["bob"])
    page = client.get(f"/executions/{token.execution_id}/").content.decode()
    assert 'id="notices-heading"' in page
    cells = ["bob", "Email", "waiting", "Sent"]
    assert "\n        ".join(f"<td>{cell}</td>" for cell in cells) in page
    assert "delivered" in page


def test_the_admin_shows_notices_read_only(pause_token, team, client):
    from tests.factories import UserFactory

    token = pause_token("assignees: {users: [bob]}", actor=team["alice"])
    notice = Notice.objects.get(token=token)
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get("/admin/approvals/notice/").content.decode()
    assert "bob" in listing and "SENT" in listing
    page = client.get(f"/admin/approvals/notice/{notice.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and "Notice deliverys" not in html
    assert "Notice deliveries" in html
    assert 'name="_save"' not in html  # nothing to change
    delete = client.post(f"/admin/approvals/notice/{notice.pk}/delete/")
    assert delete.status_code == 403 and Notice.objects.filter(pk=notice.pk).exists()


def test_a_delegate_is_told_with_a_link_after_the_commit(
    pause_token, team, run_on_commit
):
    from approvals import delegation

    token = pause_token("assignees: {users: [bob]}", actor=team["alice"])
    mail.outbox.clear()
    run_on_commit(
        delegation.delegate, team["bob"], token, "carol", "on leave", channel="web"
    )
    [message] = mail.outbox
    assert message.to == ["carol@example.com"]
    assert message.subject.startswith("Delegated: ")
    assert "was delegated to you" in message.body and links_in(message)
