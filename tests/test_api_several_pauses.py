"""Several pauses waiting in one execution: answered by token id, not execution id."""

import pytest
from django.core.management import CommandError, call_command

from flows import engine
from flows.models import Execution, SuspensionToken
from tests.api_support import resume_url

TWO_PAUSES = """
id: two_at_once
namespace: acme.api
tasks:
  - id: both
    type: Parallel
    tasks:
      - id: legal
        type: Pause
      - id: finance
        type: Pause
  - id: after
    type: Return
    format: done
"""


def test_resume_by_execution_id_is_409_listing_the_waiting_tokens(
    api, make_flow, run_on_commit, post
):
    execution = run_on_commit(engine.start_execution, make_flow(TWO_PAUSES), {})
    tokens = SuspensionToken.objects.filter(execution=execution).order_by("created_at")
    refused = post(api, resume_url(execution.pk), {})
    assert refused.status_code == 409
    body = refused.json()
    assert body["executionId"] == str(execution.pk)
    assert body["waiting"] == [
        {"tokenId": str(t.pk), "path": t.task_run.path} for t in tokens
    ]
    assert sorted(w["path"] for w in body["waiting"]) == ["both.finance", "both.legal"]
    # Nothing was answered by the refused call.
    assert set(tokens.values_list("state", flat=True)) == {"WAITING"}


def test_each_token_is_answered_on_its_own(api, make_flow, run_on_commit, post):
    execution = run_on_commit(engine.start_execution, make_flow(TWO_PAUSES), {})
    first, second = SuspensionToken.objects.filter(execution=execution)
    assert post(api, resume_url(first.pk), {}).status_code == 202
    execution.refresh_from_db()
    assert execution.state == Execution.State.PAUSED  # the other still waits
    # With one left, the execution id finds it again.
    assert post(api, resume_url(execution.pk), {}).status_code == 202
    execution.refresh_from_db()
    assert execution.state == Execution.State.SUCCESS
    second.refresh_from_db()
    assert second.state == "RESUMED"


def test_cli_resume_by_execution_id_names_the_waiting_tokens(make_flow, run_on_commit):
    execution = run_on_commit(engine.start_execution, make_flow(TWO_PAUSES), {})
    with pytest.raises(CommandError) as refused:
        call_command("resume", str(execution.pk), "--data", "{}")
    message = str(refused.value)
    assert "waits on several suspensions" in message
    for token in SuspensionToken.objects.filter(execution=execution):
        assert f"{token.pk} ({token.task_run.path})" in message
