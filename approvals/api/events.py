"""GET /api/executions/{id}/events: the execution's audit trail as server-sent events.

Serving model: a short-lived stream. gunicorn's sync workers serve one request at
a time, so a stream held open for as long as someone watches would take a worker
(and its database connection) away for that long, and one longer than gunicorn's
30 s timeout gets the worker killed. Each stream therefore sends the events after
`Last-Event-ID`, then what arrives within SIGNOFF_EVENTS_WINDOW_SECONDS (5 s,
checking every SIGNOFF_EVENTS_POLL_SECONDS), and ends; its `retry:` line makes
EventSource reconnect SIGNOFF_EVENTS_RETRY_SECONDS later with the last `id:` in
`Last-Event-ID`, so no event is missed or sent twice. It needs no new process,
server or broker. The stream ends at once when the execution has ended, and a
reconnect with nothing left to send is a 204, which tells EventSource to stop.
"""

import json
import time

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.utils import extend_schema

from approvals.api import docs, payloads
from approvals.api.common import ApiView, Problem
from approvals.api.executions import visible_execution
from approvals.views_executions import labelled
from flows.models import Execution, ExecutionEvent, TaskRun

MAX_SEQ = 2**31 - 1  # the column is a 32-bit integer on PostgreSQL


class ExecutionEventsView(ApiView):
    """The events after Last-Event-ID, then new ones for a few seconds."""

    @extend_schema(**docs.EVENTS)
    def get(self, request, id):
        after = last_event_id(request.headers.get("Last-Event-ID", ""))
        execution = visible_execution(
            request.user,
            id,
            lambda rows: rows.only("pk", "tenant_id", "state", "last_event_seq"),
        )
        ended = execution.state in Execution.TERMINAL
        if ended and execution.last_event_seq <= after:
            return HttpResponse(status=204)
        response = StreamingHttpResponse(
            stream(execution.pk, after, ended), content_type="text/event-stream"
        )
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
        return response

    def perform_content_negotiation(self, request, force=False):
        """Refusals are JSON whatever the Accept (EventSource asks for the stream)."""
        renderer = self.get_renderers()[0]
        return renderer, renderer.media_type


def last_event_id(raw: str) -> int:
    """The seq the client has seen (0: none); anything but a seq is a 400."""
    raw = raw.strip()
    if not raw:
        return 0
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_SEQ:
        message = f"Expected an event id (an integer from 0 to {MAX_SEQ})."
        raise Problem(
            400, "Invalid Last-Event-ID.", errors={"Last-Event-ID": [message]}
        )
    return int(raw)


def stream(execution_id, after: int, ended: bool):
    """Frames of the events after seq `after`, until the window closes or the
    execution ends; the database connection is closed when it is done."""
    deadline = _now() + settings.SIGNOFF_EVENTS_WINDOW_SECONDS
    try:
        yield f"retry: {round(settings.SIGNOFF_EVENTS_RETRY_SECONDS * 1000)}\n\n"
        while True:
            events = events_after(execution_id, after)
            for event in events:
                yield frame(event)
                after = event.seq
                ended = ended or finishes(event)
            if ended or _now() >= deadline:
                return
            _sleep(settings.SIGNOFF_EVENTS_POLL_SECONDS)
    finally:
        close_connection()


def events_after(execution_id, seq: int) -> list[ExecutionEvent]:
    """The execution's events after `seq`, in order, labelled like on its page."""
    events = list(
        ExecutionEvent.objects.filter(execution_id=execution_id, seq__gt=seq).order_by(
            "seq"
        )
    )
    run_ids = [
        e.subject_id for e in events if e.subject == ExecutionEvent.Subject.TASK_RUN
    ]
    runs = TaskRun.objects.filter(pk__in=run_ids).only("pk", "path") if run_ids else []
    return labelled(events, runs)


def frame(event: ExecutionEvent) -> str:
    """One server-sent event: the seq as its id, `<subject>.<to state>`, the JSON."""
    data = json.dumps(payloads.event_record(event), separators=(",", ":"))
    return f"id: {event.seq}\nevent: {event.subject}.{event.to_state}\ndata: {data}\n\n"


def finishes(event: ExecutionEvent) -> bool:
    return (
        event.subject == ExecutionEvent.Subject.EXECUTION
        and event.to_state in Execution.TERMINAL
    )


def close_connection() -> None:
    """A stream holds its connection for seconds: give it back rather than keep it
    for the worker's next request (not inside a test's transaction)."""
    if not connection.in_atomic_block:
        connection.close()


def _now() -> float:
    return time.monotonic()


def _sleep(seconds: float) -> None:
    time.sleep(seconds)
