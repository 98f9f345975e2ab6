"""Reminders and escalation, on the sweeper's clock (engine.now moved, no sleeping)."""

import pytest
from django.core import mail

from approvals import answers
from approvals.models import FollowUp
from flows import sweeper
from flows.models import ExecutionEvent, SuspensionToken
from tests.dbutil import in_threads
from tests.notify_support import people

QUORUM = """
assignees: {groups: [managers]}
screen: approval
approvals: 2
pauseDuration: PT5H
remind: PT1H
escalate: {after: PT3H, to: {users: [bob]}}
"""


@pytest.fixture
def team(tenant):
    return people(tenant)


def told(subject_start: str) -> list[str]:
    return sorted(m.to[0] for m in mail.outbox if m.subject.startswith(subject_start))


def trail(token, name: str) -> list[dict]:
    events = ExecutionEvent.objects.filter(execution_id=token.execution_id)
    events = events.order_by("pk")
    return [e.data for e in events if (e.data or {}).get("event") == name]


def test_a_reminder_goes_to_who_has_not_answered_once_per_interval(
    pause_token, team, clock, run_on_commit
):
    token = pause_token(QUORUM, actor=team["alice"])
    assert told("Approval") == ["carol@example.com", "erin@example.com"]
    answers.answer(team["carol"], token, {"decision": "Approved"}, channel="web")
    clock.move(minutes=59)
    assert run_on_commit(sweeper.sweep_once)["follow_ups"] == 0
    clock.move(minutes=2)
    assert run_on_commit(sweeper.sweep_once)["follow_ups"] == 1
    assert run_on_commit(sweeper.sweep_once)["follow_ups"] == 0  # same interval
    assert told("Reminder") == ["erin@example.com"]  # carol approved already
    assert trail(token, "reminded") == [
        {"event": "reminded", "told": ["erin"]},
    ]
    clock.move(hours=1)
    run_on_commit(sweeper.sweep_once)
    assert told("Reminder") == ["erin@example.com"] * 2


def test_no_reminder_falls_after_the_deadline(pause_token, team, clock, run_on_commit):
    token = pause_token(QUORUM.replace("PT5H", "PT90M"), actor=team["alice"])
    clock.move(minutes=61)
    run_on_commit(sweeper.sweep_once)
    assert FollowUp.objects.get(token=token).remind_at is None  # next is past it
    clock.move(minutes=60)
    run_on_commit(sweeper.sweep_once)
    assert len(told("Reminder")) == 2  # carol and erin, once
    token.refresh_from_db()
    assert token.state == SuspensionToken.State.EXPIRED


def test_escalation_adds_its_approvers_and_tells_them(
    pause_token, team, clock, run_on_commit
):
    token = pause_token(QUORUM.replace("remind: PT1H\n", ""), actor=team["alice"])
    clock.move(hours=3, seconds=1)
    assert run_on_commit(sweeper.sweep_once)["follow_ups"] == 1
    assert run_on_commit(sweeper.sweep_once)["follow_ups"] == 0
    token.refresh_from_db()
    assert token.assignees == {"groups": ["managers"], "users": ["bob"]}
    assert told("Escalated") == ["bob@example.com"]
    [event] = trail(token, "escalated")
    assert event["added"] == {"users": ["bob"], "groups": []}
    done = answers.answer(team["bob"], token, {"decision": "Approved"}, channel="web")
    assert done.approvals == 1


def test_two_sweeps_for_the_same_moment_send_one_reminder(
    pause_token, team, clock, run_on_commit
):
    token = pause_token(QUORUM, actor=team["alice"])
    clock.move(hours=1, seconds=1)
    due = FollowUp.objects.get(token=token).remind_at
    from approvals import reminders

    first = run_on_commit(reminders.remind, token.pk, due, clock.at)
    second = run_on_commit(reminders.remind, token.pk, due, clock.at)
    assert (first, second) == (True, False)
    assert len(told("Reminder")) == 2  # carol and erin, once each


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_send_one_reminder(tenant, pause_token, clock):
    team = people(tenant)
    token = pause_token(QUORUM, actor=team["alice"])
    mail.outbox.clear()
    clock.move(hours=1, seconds=1)
    results = in_threads(2, lambda i: sweeper.sweep_once()["follow_ups"])
    assert sorted(results) == [0, 1]
    assert len(trail(token, "reminded")) == 1
    assert len(told("Reminder")) == 2


def test_the_sweeper_wakes_for_the_next_reminder(pause_token, team, clock, settings):
    settings.SIGNOFF_SWEEP_INTERVAL = 3600
    pause_token(QUORUM.replace("PT1H", "PT2M"), actor=team["alice"])
    assert 100 < sweeper.seconds_until_next_pass() <= 120.01
