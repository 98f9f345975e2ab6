"""flows.engine.assignees.change: the one writer of a waiting token's assignees."""

from datetime import timedelta

import pytest

from flows import engine
from flows.engine import assignees
from flows.models import ExecutionEvent, SuspensionToken, TokenAssignee

PAUSE = """
assignees:
  users: [ann]
  groups: [managers]
"""


def rows(token) -> set[tuple[str, str]]:
    return set(TokenAssignee.objects.filter(token=token).values_list("kind", "name"))


def test_adds_and_removes_rows_and_json_and_writes_one_event(pause_token):
    token = pause_token(PAUSE)
    changed = assignees.change(
        token.pk,
        event="delegated",
        add={"users": ["bob"]},
        remove={"users": ["ann"]},
        channel="web",
        data={"note": "on leave"},
    )
    assert changed.assignees == {"users": ["bob"], "groups": ["managers"]}
    assert rows(token) == {("user", "bob"), ("group", "managers")}
    stored = SuspensionToken.objects.get(pk=token.pk)
    assert stored.assignees == changed.assignees
    event = ExecutionEvent.objects.filter(subject_id=str(token.pk)).last()
    assert (event.from_state, event.to_state) == ("WAITING", "WAITING")
    assert event.data["event"] == "delegated"
    assert event.data["added"] == {"users": ["bob"], "groups": []}
    assert event.data["removed"] == {"users": ["ann"], "groups": []}
    assert event.data["note"] == "on leave"


def test_adding_a_name_twice_keeps_one_row(pause_token):
    token = pause_token(PAUSE)
    assignees.change(token.pk, event="escalated", add={"groups": ["managers"]})
    assert rows(token) == {("user", "ann"), ("group", "managers")}


def test_never_leaves_a_token_open_to_everyone(pause_token):
    token = pause_token(PAUSE)
    with pytest.raises(engine.EngineError):
        assignees.change(
            token.pk,
            event="delegated",
            remove={"users": ["ann"], "groups": ["managers"]},
        )
    assert rows(token) == {("user", "ann"), ("group", "managers")}


def test_refuses_a_token_no_longer_waiting(pause_token):
    token = pause_token(PAUSE)
    engine.cancel(token.execution_id)
    with pytest.raises(engine.AlreadyConsumed):
        assignees.change(token.pk, event="escalated", add={"users": ["bob"]})
    assert rows(token) == {("user", "ann"), ("group", "managers")}


def test_refuses_a_token_past_its_deadline(pause_token, monkeypatch):
    token = pause_token(PAUSE + "pauseDuration: PT1H\n")
    later = engine.now() + timedelta(hours=2)
    monkeypatch.setattr(engine, "now", lambda: later)
    monkeypatch.setattr(assignees, "now", lambda: later)
    with pytest.raises(engine.Expired):
        assignees.change(token.pk, event="escalated", add={"users": ["bob"]})


def test_unknown_token_is_not_found(db):
    import uuid

    with pytest.raises(engine.NotFound):
        assignees.change(uuid.uuid4(), event="escalated", add={"users": ["bob"]})
