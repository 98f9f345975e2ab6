"""The audit trail: a hash chain per execution, append-only, checked by verifyaudit."""

from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from approvals import answers
from flows import engine, retention, trail
from flows.engine import transitions
from flows.models import Execution, ExecutionEvent, SuspensionToken
from tests.dbutil import in_threads
from tests.factories import UserFactory

DONE = """
id: done
namespace: acme.ops
tasks:
  - id: hello
    type: Return
    format: hello
"""

QUORUM = """
id: spend
namespace: acme.finance
tasks:
  - id: approve
    type: Pause
    screen: approval
    approvals: 2
  - id: after
    type: Return
    format: "{{ outputs.approve.decision }}"
"""


@contextmanager
def guard_lifted():
    """Drop the append-only trigger for a moment, as someone tampering would."""
    with connection.cursor() as cursor:
        for sql in retention.unguard_sql(connection.vendor):
            cursor.execute(sql)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for sql in retention.guard_sql(connection.vendor, ExecutionEvent):
                cursor.execute(sql)


def verify(*args) -> str:
    """verifyaudit's output; raises CommandError naming the first broken link."""
    out = StringIO()
    call_command("verifyaudit", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def broken(*args) -> str:
    with pytest.raises(CommandError) as caught:
        verify(*args)
    return str(caught.value)


@pytest.fixture
def finished(make_flow, run_on_commit):
    def start():
        return run_on_commit(engine.start_execution, make_flow(DONE), {})

    return start


@pytest.fixture
def paused(pause_token, user):
    return pause_token(actor=user)


def events_of(execution) -> list[ExecutionEvent]:
    return list(ExecutionEvent.objects.filter(execution=execution).order_by("seq"))


def test_each_event_links_to_the_one_before_it(finished):
    execution = finished()
    events = events_of(execution)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len(events) >= 4 and events[0].prev_hash == ""
    for before, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == before.hash
        assert event.hash == trail.event_hash(event, before.hash)
    execution.refresh_from_db()
    assert execution.last_event_seq == len(events)
    assert execution.last_event_hash == events[-1].hash


def test_verifyaudit_counts_what_it_checked(finished, paused):
    finished()
    total = ExecutionEvent.objects.count()
    assert (
        verify() == f"Checked {total} events in 2 executions: every chain verifies.\n"
    )
    only = paused.execution
    assert "in 1 executions" in verify("--execution", str(only.pk))


def test_verifyaudit_refuses_a_bad_or_unknown_execution_id(db):
    assert "not an execution id" in broken("--execution", "nope")
    assert "No execution" in broken(
        "--execution", "8f0e7a1c-0000-4000-8000-000000000000"
    )


def test_a_changed_event_is_named_by_verifyaudit(finished):
    execution = finished()
    event = events_of(execution)[1]
    with guard_lifted():
        ExecutionEvent.objects.filter(pk=event.pk).update(actor_name="mallory")
    message = broken()
    assert f"execution {execution.pk}, event {event.pk}: content changed" in message
    assert "1 chain(s) broken" in message


def test_a_rehashed_event_breaks_the_next_link(finished):
    execution = finished()
    first, second = events_of(execution)[:2]
    first.data = {"inputs": {"forged": True}}
    forged = trail.event_hash(first, "")
    with guard_lifted():
        ExecutionEvent.objects.filter(pk=first.pk).update(data=first.data, hash=forged)
    message = broken("--execution", str(execution.pk))
    assert f"event {second.pk}: link broken" in message
    assert f"not the hash of event {first.pk}" in message


def test_a_missing_event_is_named_in_the_middle_at_the_start_and_at_the_end(
    finished,
):
    middle, start, end = finished(), finished(), finished()
    gone = {
        middle: events_of(middle)[1],
        start: events_of(start)[0],
        end: events_of(end)[-1],
    }
    after = {middle: events_of(middle)[2], start: events_of(start)[1]}
    with guard_lifted():
        for event in gone.values():
            ExecutionEvent.objects.filter(pk=event.pk).delete()
    message, lines = failure()
    assert "3 chain(s) broken" in message
    assert f"execution {middle.pk}, event {after[middle].pk}: event missing: seq 2" in (
        lines
    )
    assert f"execution {start.pk}, event {after[start].pk}: event missing: seq 1" in (
        lines
    )
    assert f"execution {end.pk}, after its last event: event missing" in lines


def failure() -> tuple[str, str]:
    """verifyaudit's error and the broken chains it listed, one a line."""
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("verifyaudit", stdout=StringIO(), stderr=err)
    return str(caught.value), err.getvalue()


def test_the_trigger_refuses_update_and_delete(finished):
    event = events_of(finished())[0]
    for change in (
        lambda rows: rows.update(channel="forged"),
        lambda rows: rows.delete(),
        lambda rows: rows.update(actor=UserFactory(username="mallory")),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            change(ExecutionEvent.objects.filter(pk=event.pk))
    event.channel = "forged"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.save()
    assert ExecutionEvent.objects.get(pk=event.pk).channel == ""


def test_verifyaudit_fails_when_the_trigger_is_gone(finished):
    finished()
    with connection.cursor() as cursor:
        for sql in retention.unguard_sql(connection.vendor):
            cursor.execute(sql)
    assert "append-only trigger" in broken()


def test_deleting_a_user_keeps_their_name_in_a_verifying_trail(finished, user, paused):
    starter = paused.execution.created_by
    assert ExecutionEvent.objects.filter(actor=starter).exists()
    starter.delete()
    event = ExecutionEvent.objects.filter(execution=paused.execution).first()
    assert event.actor_id is None and event.actor_name == "alice"
    verify()


def test_a_partial_quorum_approval_is_an_event(make_flow, tenant, run_on_commit):
    ann, bob = (UserFactory(username=n, tenants=[tenant]) for n in ("ann", "bob"))
    execution = run_on_commit(engine.start_execution, make_flow(QUORUM), {})
    token = SuspensionToken.objects.get(execution=execution)
    values = answers.validate(token, {"decision": "Approved"})
    run_on_commit(answers.answer, ann, token, values, channel="web")
    partial = ExecutionEvent.objects.get(
        execution=execution, subject="token", to_state="WAITING", from_state="WAITING"
    )
    shown = token.answers.get(user=ann).shown_hash
    assert (partial.actor_name, partial.channel) == ("ann", "web")
    assert partial.data == {
        "answer": {
            "by": "ann",
            "decision": "Approved",
            "channel": "web",
            "shown_hash": shown,
            "approvals": 1,
            "required": 2,
        }
    }
    run_on_commit(answers.answer, bob, token, values, channel="api")
    resumed = ExecutionEvent.objects.get(execution=execution, to_state="RESUMED")
    assert resumed.data["answer"]["by"] == "bob"
    assert resumed.data["answer"]["approvals"] == 2
    assert (
        ExecutionEvent.objects.filter(execution=execution, subject="token").count() == 3
    )
    verify()


def test_a_single_answer_is_the_tokens_resumed_event(paused, user, run_on_commit):
    values = answers.validate(paused, {})
    run_on_commit(answers.answer, user, paused, values, channel="web")
    event = ExecutionEvent.objects.get(execution=paused.execution, to_state="RESUMED")
    answer = paused.answers.get()
    assert event.data["answer"]["shown_hash"] == answer.shown_hash
    assert event.data["answer"]["decision"] == "Submitted"
    assert not ExecutionEvent.objects.filter(
        execution=paused.execution, from_state="WAITING", to_state="WAITING"
    ).exists()


def test_a_resume_costs_one_update_of_the_chain_head_and_no_event_read(paused, user):
    with CaptureQueriesContext(connection) as captured:
        engine.resume(paused, {}, actor=user, channel="api")
    sql = [q["sql"] for q in captured.captured_queries]
    heads = [s for s in sql if s.startswith("UPDATE") and "last_event_hash" in s]
    assert len(heads) == 1
    assert not [s for s in sql if s.startswith("SELECT") and "executionevent" in s]
    inserts = [s for s in sql if s.startswith("INSERT") and "executionevent" in s]
    assert len(inserts) == 1


def test_a_writer_that_did_not_lock_still_links_on(paused):
    execution = paused.execution
    with transitions.atomic():
        transitions.audit(
            execution.pk, Execution, execution.pk, "PAUSED", "PAUSED", data={"n": 1}
        )
    verify("--execution", str(execution.pk))


def test_numbers_hash_as_the_database_gives_them_back(paused):
    execution = paused.execution
    data = {"big": 1e20, "whole": 2.0, "small": 1e-05, "text": "\u00e9\ud7ff"}
    transitions.audit(
        execution.pk, Execution, execution.pk, "PAUSED", "PAUSED", data=data
    )
    assert ExecutionEvent.objects.filter(execution=execution, data__has_key="big")
    verify()


MANY = QUORUM.replace("approvals: 2", "approvals: 6")


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_chain(make_flow, tenant):
    if connection.vendor != "postgresql":
        pytest.skip("row locks race only on PostgreSQL (SQLite serialises writers)")
    users = [UserFactory(username=f"a{i}", tenants=[tenant]) for i in range(6)]
    execution = engine.start_execution(make_flow(MANY), {})
    engine.advance(execution.pk)
    token = SuspensionToken.objects.get(execution=execution)
    values = answers.validate(token, {"decision": "Approved"})

    def answer(i):
        fresh = SuspensionToken.objects.get(pk=token.pk)
        return answers.answer(users[i], fresh, values, channel="api")

    results = in_threads(6, answer)
    assert sum(r.resumed for r in results) == 1, results
    partial = ExecutionEvent.objects.filter(
        execution=execution, from_state="WAITING", to_state="WAITING"
    )
    assert partial.count() == 5
    verify("--execution", str(execution.pk))
