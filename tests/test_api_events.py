"""Live status: the event stream (`/events`) and conditional status polling (304)."""

import json

import pytest
from django.db import connection

from approvals.api import events as stream_module
from approvals.api import executions, payloads
from flows import secrets
from flows.models import Execution, ExecutionEvent
from tests.api_support import APPROVAL, form_with, resume_url

E = Execution.State


def events_url(execution_id) -> str:
    return f"/api/executions/{execution_id}/events"


def status_url(execution_id) -> str:
    return f"/api/executions/{execution_id}/status"


def read(response) -> list[dict]:
    """The stream's frames as dicts of their fields (`data` parsed)."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/event-stream"
    text = b"".join(response.streaming_content).decode()
    frames = []
    for block in text.split("\n\n"):
        if not block:
            continue
        frame = dict(line.split(": ", 1) for line in block.split("\n"))
        if "data" in frame:
            frame["data"] = json.loads(frame["data"])
        frames.append(frame)
    return frames


def stored(execution_id, after: int = 0) -> list[tuple[str, str]]:
    """(id, event name) of the execution's events after seq `after`, in order."""
    rows = ExecutionEvent.objects.filter(execution_id=execution_id, seq__gt=after)
    return [(str(e.seq), f"{e.subject}.{e.to_state}") for e in rows.order_by("seq")]


@pytest.fixture
def clock(monkeypatch):
    """A fake clock: each poll's sleep advances it and runs `clock.during_sleep`."""

    class Clock:
        now = 0.0
        sleeps = 0
        during_sleep = None

    def sleep(seconds):
        Clock.sleeps += 1
        Clock.now += seconds
        if Clock.during_sleep:
            Clock.during_sleep()
            Clock.during_sleep = None

    monkeypatch.setattr(stream_module, "_now", lambda: Clock.now)
    monkeypatch.setattr(stream_module, "_sleep", sleep)
    return Clock


def test_the_stream_shows_a_resume_as_it_happens_in_order(api, pause, post, clock):
    token = pause()
    seen = Execution.objects.get(pk=token.execution_id).last_event_seq
    clock.during_sleep = lambda: post(api, resume_url(token.pk), {"reason": "ok"})
    response = api.get(events_url(token.execution_id), HTTP_LAST_EVENT_ID=str(seen))
    frames = read(response)
    assert frames[0] == {"retry": "3000"}
    sent = [(f["id"], f["event"]) for f in frames[1:]]
    assert sent == stored(token.execution_id, after=seen)
    assert sent[0] == (str(seen + 1), "token.RESUMED")
    assert sent[-1][1] == "execution.SUCCESS"
    resumed = frames[1]["data"]
    assert (
        resumed["subjectId"] == str(token.pk) and resumed["label"] == str(token.pk)[:8]
    )
    assert (resumed["from"], resumed["to"]) == ("WAITING", "RESUMED")
    assert (resumed["actor"], resumed["channel"]) == ("alice", "api")
    wait_run = next(f["data"] for f in frames[1:] if f["event"] == "task_run.SUCCESS")
    assert wait_run["label"] == "wait"
    # It ended with the execution, after one wait, not at the end of the window.
    assert clock.sleeps == 1


def test_a_reconnect_with_last_event_id_gets_only_later_events(api, pause, post, clock):
    token = pause()
    post(api, resume_url(token.pk), {"reason": "ok"})
    every = stored(token.execution_id)
    middle = int(every[len(every) // 2][0])
    frames = read(
        api.get(events_url(token.execution_id), HTTP_LAST_EVENT_ID=str(middle))
    )
    assert [(f["id"], f["event"]) for f in frames[1:]] == every[len(every) // 2 + 1 :]
    assert clock.sleeps == 0  # the execution has ended: no waiting for more
    from_start = read(api.get(events_url(token.execution_id)))
    assert [(f["id"], f["event"]) for f in from_start[1:]] == every


def test_a_reconnect_after_the_last_event_of_an_ended_execution_is_204(
    api, pause, post
):
    token = pause()
    post(api, resume_url(token.pk), {"reason": "ok"})
    last = Execution.objects.get(pk=token.execution_id).last_event_seq
    response = api.get(events_url(token.execution_id), HTTP_LAST_EVENT_ID=str(last))
    assert response.status_code == 204  # EventSource stops reconnecting


def test_a_waiting_execution_streams_for_the_window_then_ends(
    api, pause, clock, settings
):
    settings.SIGNOFF_EVENTS_WINDOW_SECONDS = 2.0
    settings.SIGNOFF_EVENTS_POLL_SECONDS = 0.5
    settings.SIGNOFF_EVENTS_RETRY_SECONDS = 1.5
    token = pause()
    frames = read(api.get(events_url(token.execution_id)))
    assert frames[0] == {"retry": "1500"}
    assert [(f["id"], f["event"]) for f in frames[1:]] == stored(token.execution_id)
    assert frames[-1]["event"] == "execution.PAUSED"
    assert clock.sleeps == 4 and clock.now == 2.0


@pytest.mark.django_db(transaction=True)
def test_the_stream_gives_its_database_connection_back(api, pause, clock):
    token = pause()
    connection.ensure_connection()
    frames = read(api.get(events_url(token.execution_id)))
    assert frames[-1]["event"] == "execution.PAUSED"
    assert connection.connection is None


def test_an_execution_the_user_may_not_see_is_404(api, pause, clock):
    hidden = pause(form_with("assignees: {users: [bob]}"))
    for missing in (hidden.execution_id, "nope"):
        response = api.get(events_url(missing))
        assert response.status_code == 404
        assert response.json() == {"detail": "No such execution."}


def test_a_malformed_last_event_id_is_400(api, pause):
    token = pause()
    for bad in ("x", "-1", "1.5", str(2**31)):
        response = api.get(events_url(token.execution_id), HTTP_LAST_EVENT_ID=bad)
        assert response.status_code == 400, bad
        assert list(response.json()["errors"]) == ["Last-Event-ID"]


def test_event_data_shows_secrets_masked(api, pause):
    token = pause()
    event = ExecutionEvent.objects.filter(execution_id=token.execution_id).first()
    event.data = {"inputs": {"key": secrets.encrypt("hunter2-and-more")}}  # unsaved
    event.subject_label = "x"
    assert payloads.event_record(event)["data"] == {"inputs": {"key": secrets.MASK}}


# ---------------------------------------------------------------- status: 304


def test_status_is_304_while_unchanged_and_200_once_the_execution_moves(
    api, pause, post
):
    token = pause()
    first = api.get(status_url(token.execution_id))
    tag = first["ETag"]
    assert first.status_code == 200 and tag.startswith('"')
    again = api.get(status_url(token.execution_id), HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304 and again["ETag"] == tag and not again.content
    weak = api.get(status_url(token.execution_id), HTTP_IF_NONE_MATCH=f'"x", W/{tag}')
    assert weak.status_code == 304
    post(api, resume_url(token.pk), {"reason": "ok"})
    moved = api.get(status_url(token.execution_id), HTTP_IF_NONE_MATCH=tag)
    assert moved.status_code == 200 and moved["ETag"] != tag
    assert moved.json()["state"] == E.SUCCESS


def test_a_partial_quorum_answer_changes_the_etag(api, pause, post):
    token = pause(APPROVAL)
    tag = api.get(status_url(token.execution_id))["ETag"]
    post(api, resume_url(token.pk), {"decision": "Approved"})
    body = api.get(status_url(token.execution_id), HTTP_IF_NONE_MATCH=tag)
    assert body.status_code == 200
    assert body.json()["pause"]["approvals"] == {"required": 2, "received": 1}


def test_status_304_does_a_fixed_small_number_of_queries(
    api, pause, django_assert_max_num_queries
):
    token = pause()
    tag = api.get(status_url(token.execution_id))["ETag"]
    # credentials, the user's tenants, their permissions and their groups' (for
    # flows.view_execution), the execution with whether they may see it: no task
    # runs and no tokens.
    with django_assert_max_num_queries(5):
        response = api.get(status_url(token.execution_id), HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 304


def test_status_of_an_invisible_execution_is_404_even_with_its_etag(api, pause, user):
    hidden = pause(form_with("assignees: {users: [bob]}"))
    tag = executions.etag(Execution.objects.get(pk=hidden.execution_id))
    response = api.get(status_url(hidden.execution_id), HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 404
