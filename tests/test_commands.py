"""The operator CLI: startexecution and resume."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from flows.models import Execution, SuspensionToken

FLOW = """
id: vacation
namespace: acme.hr
inputs:
  - id: request.name
    type: STRING
  - id: request.days
    type: INT
    min: 1
tasks:
  - id: wait
    type: Pause
    pauseDuration: PT1H
    onResume:
      - id: approved
        type: BOOLEAN
  - id: done
    type: Return
    format: "{{ inputs.request.name }}: {{ outputs.wait.onResume.approved }}"
"""


def start(*inputs, tenant="acme") -> str:
    out = StringIO()
    args = ["startexecution", "acme.hr", "vacation", "--tenant", tenant]
    for pair in inputs:
        args += ["--input", pair]
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def resume(identifier, data, *extra) -> str:
    out = StringIO()
    call_command("resume", identifier, "--data", json.dumps(data), *extra, stdout=out)
    return out.getvalue()


@pytest.fixture
def flow(make_flow):
    return make_flow(FLOW)


def test_startexecution_prints_the_id_last_and_nests_dotted_inputs(flow):
    execution = Execution.objects.get(pk=start("request.name=Ada", "request.days=3"))
    assert execution.inputs == {"request": {"name": "Ada", "days": 3}}
    assert execution.state == Execution.State.CREATED  # the worker takes it from here


def test_startexecution_names_each_bad_input(flow):
    with pytest.raises(CommandError) as raised:
        start("request.days=0")
    message = str(raised.value)
    assert "request.name" in message and "request.days" in message
    assert not Execution.objects.exists()


def test_startexecution_rejects_unknown_flow_and_malformed_pairs(flow):
    with pytest.raises(CommandError, match="No flow acme.hr.nope"):
        call_command("startexecution", "acme.hr", "nope", "--tenant", "acme")
    with pytest.raises(CommandError, match="KEY=VALUE"):
        start("request.name")


@pytest.fixture
def paused(flow, run_on_commit):
    from flows import engine

    execution = run_on_commit(
        engine.start_execution, flow, {"request": {"name": "Ada", "days": 2}}
    )
    return SuspensionToken.objects.get(execution=execution)


def test_resume_by_execution_id_as_a_user(paused, user, run_on_commit):
    output = run_on_commit(
        resume, str(paused.execution_id), {"approved": True}, "--as", "alice"
    )
    paused.refresh_from_db()
    assert "resumed execution" in output and "as alice" in output
    assert (
        paused.state == "RESUMED"
        and paused.channel == "cli"
        and paused.resolved_by == user
    )
    assert (
        paused.execution.task_runs.get(task_id="done").outputs["value"] == "Ada: True"
    )


def test_resume_by_token_id_reports_already_resumed(paused, run_on_commit):
    run_on_commit(resume, str(paused.pk), {"approved": False})
    with pytest.raises(CommandError, match="Already resumed: by system"):
        resume(str(paused.pk), {"approved": True})


def test_resume_reports_invalid_data_not_found_and_expired(paused, monkeypatch):
    with pytest.raises(CommandError, match="approved"):
        resume(str(paused.pk), {"approved": "maybe"})
    with pytest.raises(CommandError, match="Not found"):
        resume("00000000-0000-0000-0000-000000000000", {})
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("resume", str(paused.pk), "--data", "{oops")
    from flows import engine

    monkeypatch.setattr(engine, "now", lambda: paused.expires_at)
    with pytest.raises(CommandError, match="Expired"):
        resume(str(paused.pk), {"approved": True})
