"""Retention: `manage.py purge` removes whole finished executions, nothing else."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, transaction

from approvals.models import Answer, IdempotentReply
from flows import engine
from flows.models import (
    Execution,
    ExecutionEvent,
    SuspensionToken,
    TaskRun,
    TokenAssignee,
)
from tests.api_support import form_with, resume_url

LONG_AGO = datetime(2020, 1, 1, 12, tzinfo=UTC)


def purge(*args) -> str:
    out = StringIO()
    call_command("purge", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def answered_long_ago(api, pause, post, monkeypatch):
    """An execution answered through the API (an answer, a stored reply), in 2020."""
    with monkeypatch.context() as patched:
        patched.setattr(engine, "now", lambda: LONG_AGO)
        token = pause(form_with("assignees: {users: [alice]}"))
        key = {"Idempotency-Key": "k"}
        reply = post(api, resume_url(token.pk), {"reason": "ok"}, **key)
    assert reply.status_code == 202
    return Execution.objects.get(pk=token.execution_id)


def rows_of(execution) -> dict:
    tokens = SuspensionToken.objects.filter(execution=execution)
    return {
        "events": ExecutionEvent.objects.filter(execution=execution).count(),
        "runs": TaskRun.objects.filter(execution=execution).count(),
        "tokens": tokens.count(),
        "assignees": TokenAssignee.objects.filter(token__in=tokens).count(),
        "answers": Answer.objects.filter(token__in=tokens).count(),
        "replies": IdempotentReply.objects.filter(token__in=tokens).count(),
    }


def test_purge_removes_old_finished_executions_with_all_their_rows(
    answered_long_ago, pause
):
    old = answered_long_ago
    assert old.state == "SUCCESS" and old.ended_at == LONG_AGO
    assert all(rows_of(old).values())
    waiting = pause().execution
    kept = rows_of(waiting)
    out = purge("--finished-before", "2021-01-01")
    assert out.startswith("Removed 1 execution(s) (")
    assert not Execution.objects.filter(pk=old.pk).exists()
    assert not any(rows_of(old).values())
    assert rows_of(waiting) == kept
    assert "every chain verifies" in verify()


def test_purge_keeps_what_finished_after_the_date_or_has_not_finished(
    answered_long_ago, pause
):
    waiting = pause().execution
    assert purge("--finished-before", "2019-12-31") == "Removed 0 execution(s).\n"
    assert "Removed 1 execution(s)" in purge("--finished-before", "2020-01-01T13:00Z")
    assert list(Execution.objects.all()) == [waiting]


def test_dry_run_prints_what_would_go_and_removes_nothing(answered_long_ago):
    old = answered_long_ago
    before = rows_of(old)
    out = purge("--finished-before", "2021-01-01", "--dry-run")
    assert f"would remove {old.pk} acme.finance.expense SUCCESS" in out
    assert "Would remove 1 execution(s) (" in out
    assert f"{before['events']} flows.ExecutionEvent" in out
    assert "1 approvals.IdempotentReply" in out and "1 approvals.Answer" in out
    assert rows_of(old) == before


def test_purge_refuses_a_date_it_cannot_read(db):
    with pytest.raises(CommandError, match="is not a date"):
        purge("--finished-before", "last tuesday")
    with pytest.raises(CommandError, match="is not a date"):
        purge("--finished-before", "2021-02-30")


def test_outside_the_purge_the_trigger_still_refuses(answered_long_ago):
    purge("--finished-before", "2000-01-01")  # removes nothing, leaves no opening
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ExecutionEvent.objects.filter(execution=answered_long_ago).delete()


def verify() -> str:
    out = StringIO()
    call_command("verifyaudit", stdout=out)
    return out.getvalue()
