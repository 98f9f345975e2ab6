"""The audit trail's hash chain: each event's sha256 covers its content and the
hash of the event before it in the same execution.

Events of an execution are numbered 1, 2, 3 … (`seq`); the first has an empty
`prev_hash`. The execution row keeps the seq and hash of its last event, so a
missing tail shows as well as a changed or missing event in the middle.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.utils import timezone

from flows.models import ExecutionEvent

BATCH = 500


def event_hash(event, prev_hash: str) -> str:
    """sha256 of the event's canonical content and the previous event's hash."""
    content = {
        "execution": str(event.execution_id),
        "seq": event.seq,
        "subject": event.subject,
        "subject_id": event.subject_id,
        "from": event.from_state,
        "to": event.to_state,
        "actor": event.actor_name,
        "channel": event.channel,
        "at": _instant(event.at),
        "data": _plain(event.data),
        "prev": prev_hash,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def link(events: Iterable, seq: int, head: str) -> tuple[int, str]:
    """Number and hash events after (seq, head); return the new last (seq, hash)."""
    for event in events:
        seq += 1
        event.seq, event.prev_hash = seq, head
        event.hash = head = event_hash(event, head)
    return seq, head


def _instant(moment: datetime) -> str:
    if timezone.is_naive(moment):  # stored as the default time zone's wall clock
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _plain(value):
    """JSON as any database gives it back: PostgreSQL's jsonb prints 1e+20 as an
    integer, so a whole number is hashed as one whichever way it was written."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(Decimal(repr(value)))
    return value


@dataclass
class Broken:
    execution_id: str
    event_id: int | None
    problem: str

    def __str__(self):
        event = f"event {self.event_id}" if self.event_id else "after its last event"
        return f"execution {self.execution_id}, {event}: {self.problem}"


@dataclass
class Report:
    executions: int = 0
    events: int = 0
    broken: list[Broken] = field(default_factory=list)


def verify(executions) -> Report:
    """Check the chain of every execution in the queryset; the first break of each."""
    report = Report()
    rows = executions.order_by("pk").values_list(
        "pk", "last_event_seq", "last_event_hash"
    )
    after = None
    while True:
        batch = list((rows.filter(pk__gt=after) if after else rows)[:BATCH])
        if not batch:
            return report
        after = batch[-1][0]
        for execution, events in _with_events(batch):
            report.executions += 1
            report.events += len(events)
            problem = check_chain(execution, events)
            if problem is not None:
                report.broken.append(problem)


def _with_events(batch) -> Iterator[tuple[tuple, list]]:
    found: dict = {pk: [] for pk, _, _ in batch}
    events = ExecutionEvent.objects.filter(execution_id__in=found).order_by(
        "execution_id", "seq", "pk"
    )
    for event in events.iterator(chunk_size=2000):
        found[event.execution_id].append(event)
    for row in batch:
        yield row, found[row[0]]


def check_chain(execution: tuple, events: list) -> Broken | None:
    """The first broken link of one execution's events (ordered by seq), or None."""
    pk, last_seq, last_hash = execution
    seq, head, before = 0, "", None
    for event in events:
        problem = _link_problem(event, seq, head, before)
        if problem is not None:
            return Broken(str(pk), event.pk, problem)
        seq, head, before = event.seq, event.hash, event.pk
    if seq < last_seq:
        missing = _numbers(seq + 1, last_seq)
        return Broken(str(pk), None, f"event missing: seq {missing} after the last")
    if (seq, head) != (last_seq, last_hash):
        return Broken(
            str(pk),
            None,
            "link broken: the last event is not the one the execution "
            f"recorded (seq {last_seq})",
        )
    return None


def _link_problem(event, seq: int, head: str, before) -> str | None:
    if event.seq > seq + 1:
        return f"event missing: seq {_numbers(seq + 1, event.seq - 1)} before it"
    if event.seq != seq + 1:
        return f"link broken: seq {event.seq} follows seq {seq}"
    if event.prev_hash != head:
        if before is None:
            return "link broken: the first event has a prev_hash"
        return f"link broken: prev_hash is not the hash of event {before}"
    if event.hash != event_hash(event, head):
        return "content changed: its hash does not match its content"
    return None


def _numbers(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"
