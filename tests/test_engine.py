"""The engine: runs, pauses, resumes, timeouts, sleeps and lost steps."""

from datetime import timedelta

import pytest
from django.utils import timezone

from flows import engine, sweeper
from flows.inputs import InputValidationError
from flows.models import Execution, ExecutionEvent, SuspensionToken, TaskRun

E, T, S = Execution.State, TaskRun.State, SuspensionToken.State

SIMPLE = """
id: simple
namespace: acme.demo
inputs:
  - id: who
    type: STRING
    defaults: world
tasks:
  - id: hello
    type: Return
    format: "hello {{ inputs.who }}"
  - id: say
    type: Log
    message: "{{ outputs.hello.value }} from {{ flow.namespace }}.{{ flow.id }}"
"""

APPROVAL = """
id: approval
namespace: acme.demo
tasks:
  - id: before
    type: Return
    format: prepared
  - id: wait
    type: io.kestra.plugin.core.flow.Pause
    pauseDuration: PT10M
    behavior: {behavior}
    message: "Please check {{{{ outputs.before.value }}}}"
    onResume:
      - id: approved
        type: BOOLEAN
        defaults: true
      - id: reason
        type: STRING
        defaults: Well-deserved
  - id: after
    type: Return
    format: "{{{{ outputs.wait.onResume.reason }}}} by {{{{outputs.wait.resumed.by}}}}"
"""


def approval_flow(make_flow, behavior="RESUME"):
    return make_flow(APPROVAL.format(behavior=behavior))


def run(execution) -> dict[str, TaskRun]:
    return {r.task_id: r for r in TaskRun.objects.filter(execution=execution)}


@pytest.fixture
def paused(make_flow, run_on_commit):
    def start(behavior="RESUME"):
        flow = approval_flow(make_flow, behavior)
        execution = run_on_commit(engine.start_execution, flow, {})
        return execution, SuspensionToken.objects.get(execution=execution)

    return start


def test_flow_runs_to_success_with_outputs_and_logs(make_flow, run_on_commit):
    flow = make_flow(SIMPLE)
    execution = run_on_commit(engine.start_execution, flow, {"who": "Ada"})
    execution.refresh_from_db()
    runs = run(execution)
    assert execution.state == E.SUCCESS
    assert execution.ended_at is not None and execution.lease_until is None
    assert runs["hello"].outputs == {"value": "hello Ada"}
    assert runs["say"].logs[0]["message"] == "hello Ada from acme.demo.simple"
    assert [r.state for r in runs.values()] == [T.SUCCESS, T.SUCCESS]


def test_every_transition_writes_an_event(make_flow, run_on_commit):
    execution = run_on_commit(engine.start_execution, make_flow(SIMPLE), {})
    moves = list(
        ExecutionEvent.objects.filter(
            execution=execution, subject="execution"
        ).values_list("from_state", "to_state")
    )
    assert moves == [("", E.CREATED), (E.CREATED, E.RUNNING), (E.RUNNING, E.SUCCESS)]
    task_moves = ExecutionEvent.objects.filter(execution=execution, subject="task_run")
    assert task_moves.count() == 4  # two tasks: started, then succeeded


def test_bad_flow_inputs_are_refused_before_anything_is_created(make_flow):
    flow = make_flow(SIMPLE.replace("type: STRING\n    defaults: world", "type: INT"))
    with pytest.raises(InputValidationError) as raised:
        engine.start_execution(flow, {"who": "not a number"})
    assert "who" in raised.value.errors
    assert not Execution.objects.exists()


def test_pause_suspends_with_a_token_and_frees_the_worker(paused):
    execution, token = paused()
    execution.refresh_from_db()
    assert execution.state == E.PAUSED and execution.lease_until is None
    assert token.state == S.WAITING and token.screen == "form"
    assert token.message == "Please check prepared"
    assert token.tenant_id == execution.tenant_id
    assert (
        timedelta(minutes=9)
        < token.expires_at - timezone.now()
        <= timedelta(minutes=10)
    )
    assert [f["id"] for f in token.schema] == ["approved", "reason"]
    assert run(execution)["wait"].state == T.PAUSED
    assert "after" not in run(execution)


def test_resume_continues_with_the_answer_and_who_gave_it(paused, user, run_on_commit):
    execution, token = paused()
    run_on_commit(engine.resume, token, {"reason": "Enjoy"}, actor=user, channel="cli")
    execution.refresh_from_db()
    token.refresh_from_db()
    runs = run(execution)
    assert execution.state == E.SUCCESS
    assert (
        token.state == S.RESUMED
        and token.resolved_by == user
        and token.channel == "cli"
    )
    assert token.response == {"approved": True, "reason": "Enjoy"}  # default filled in
    assert runs["wait"].outputs["onResume"] == {"approved": True, "reason": "Enjoy"}
    assert runs["wait"].outputs["resumed"]["by"] == "alice"
    assert runs["after"].outputs["value"] == "Enjoy by alice"


def test_invalid_answer_is_refused_and_the_token_stays_waiting(paused, user):
    execution, token = paused()
    with pytest.raises(InputValidationError) as raised:
        engine.resume(token, {"approved": "perhaps", "extra": 1}, actor=user)
    assert set(raised.value.errors) == {"approved", "extra"}
    token.refresh_from_db()
    assert token.state == S.WAITING


def test_second_resume_is_refused_as_already_consumed(paused, user, run_on_commit):
    execution, token = paused()
    run_on_commit(engine.resume, token, {}, actor=user)
    with pytest.raises(engine.AlreadyConsumed):
        engine.resume(SuspensionToken.objects.get(pk=token.pk), {}, actor=user)
    # even a caller holding a stale copy of the token loses at the UPDATE
    with pytest.raises(engine.AlreadyConsumed):
        engine.consume(token, {}, actor=user)
    assert (
        ExecutionEvent.objects.filter(subject="token", to_state=S.RESUMED).count() == 1
    )


def test_resume_after_the_deadline_is_refused_before_the_sweeper_runs(
    paused, user, monkeypatch
):
    execution, token = paused()
    later = token.expires_at + timedelta(seconds=1)
    monkeypatch.setattr(engine, "now", lambda: later)
    with pytest.raises(engine.Expired):
        engine.resume(token, {}, actor=user)
    with pytest.raises(engine.Expired):
        engine.consume(token, {}, actor=user)
    token.refresh_from_db()
    assert token.state == S.WAITING  # the sweeper applies the behavior, not the refusal


@pytest.mark.parametrize(
    ("behavior", "execution_state", "pause_state"),
    [
        ("RESUME", E.SUCCESS, T.SUCCESS),
        ("WARN", E.WARNING, T.WARNING),
        ("FAIL", E.FAILED, T.FAILED),
        ("CANCEL", E.CANCELLED, T.CANCELLED),
    ],
)
def test_timeout_applies_the_behavior(
    paused, run_on_commit, behavior, execution_state, pause_state
):
    execution, token = paused(behavior)
    assert run_on_commit(engine.expire_due, token.expires_at) == 1
    execution.refresh_from_db()
    token.refresh_from_db()
    runs = run(execution)
    assert token.state == S.EXPIRED and token.channel == "timeout"
    assert execution.state == execution_state
    assert runs["wait"].state == pause_state
    assert ("after" in runs) == (behavior in ("RESUME", "WARN"))


def test_timeout_resume_gives_every_field_its_default(paused, run_on_commit):
    execution, token = paused("RESUME")
    run_on_commit(engine.expire_due, token.expires_at)
    runs = run(execution)
    assert runs["wait"].outputs["onResume"] == {
        "approved": True,
        "reason": "Well-deserved",
    }
    assert runs["wait"].outputs["resumed"]["by"] == "system"
    assert runs["after"].outputs["value"] == "Well-deserved by system"


def test_deadline_never_overwrites_a_manual_resume(paused, user, run_on_commit):
    execution, token = paused("FAIL")
    run_on_commit(engine.resume, token, {"reason": "ok"}, actor=user)
    assert run_on_commit(engine.expire_due, token.expires_at + timedelta(hours=1)) == 0
    assert engine.expire(token.pk, token.expires_at + timedelta(hours=1)) is False
    execution.refresh_from_db()
    assert execution.state == E.SUCCESS
    assert run(execution)["wait"].outputs["onResume"]["reason"] == "ok"


def test_pause_without_duration_waits_forever(make_flow, run_on_commit):
    flow = make_flow("id: f\nnamespace: acme\ntasks:\n  - id: wait\n    type: Pause\n")
    execution = run_on_commit(engine.start_execution, flow, {})
    token = SuspensionToken.objects.get(execution=execution)
    assert token.expires_at is None and token.screen == "resume"
    assert engine.expire_due(timezone.now() + timedelta(days=3650)) == 0


def test_task_timeout_is_the_deadline_when_there_is_no_pause_duration(
    make_flow, run_on_commit
):
    flow = make_flow(
        "id: f\nnamespace: acme\ntasks:\n"
        "  - id: wait\n    type: Pause\n    timeout: PT1H\n"
    )
    execution = run_on_commit(engine.start_execution, flow, {})
    token = SuspensionToken.objects.get(execution=execution)
    assert token.expires_at - execution.task_runs.get().started_at == timedelta(hours=1)


def test_a_render_error_fails_the_task_run_with_the_message(make_flow, run_on_commit):
    flow = make_flow(
        "id: f\nnamespace: acme\ntasks:\n"
        "  - id: r\n    type: Return\n    format: '{{ nope.value }}'\n"
    )
    execution = run_on_commit(engine.start_execution, flow, {})
    execution.refresh_from_db()
    task_run = execution.task_runs.get()
    assert execution.state == E.FAILED
    assert task_run.state == T.FAILED and "nope" in task_run.error


def test_sandbox_refuses_unsafe_attribute_access(make_flow, run_on_commit):
    flow = make_flow(
        "id: f\nnamespace: acme\ntasks:\n  - id: r\n    type: Return\n"
        "    format: '{{ inputs.__class__.__mro__ }}'\n"
    )
    execution = run_on_commit(engine.start_execution, flow, {})
    assert execution.task_runs.get().state == T.FAILED


def test_sleep_holds_no_worker_and_wakes_when_due(make_flow, run_on_commit):
    flow = make_flow(
        "id: f\nnamespace: acme\ntasks:\n"
        "  - id: nap\n    type: Sleep\n    duration: PT30S\n"
        "  - id: done\n    type: Return\n    format: awake\n"
    )
    execution = run_on_commit(engine.start_execution, flow, {})
    nap = execution.task_runs.get(task_id="nap")
    assert nap.state == T.RUNNING and nap.wake_at == nap.started_at + timedelta(
        seconds=30
    )
    assert run_on_commit(engine.wake_due, nap.wake_at - timedelta(seconds=1)) == 0
    assert run_on_commit(engine.wake_due, nap.wake_at) == 1
    execution.refresh_from_db()
    assert execution.state == E.SUCCESS
    assert run(execution)["done"].outputs == {"value": "awake"}


def test_a_step_whose_worker_died_is_retaken_after_its_lease(
    make_flow, run_on_commit, monkeypatch
):
    flow = make_flow(SIMPLE)
    execution = engine.start_execution(
        flow, {}
    )  # on-commit never runs: the message is lost
    assert engine.recover_lost(timezone.now()) == 0  # lease still valid
    later = timezone.now() + timedelta(hours=1)
    assert run_on_commit(engine.recover_lost, later) == 1
    execution.refresh_from_db()
    assert execution.state == E.SUCCESS


def test_a_running_step_is_retaken_with_a_new_attempt(
    make_flow, run_on_commit, monkeypatch
):
    flow = make_flow(SIMPLE)
    execution = engine.start_execution(flow, {})
    # A worker claims a step that runs outside the transaction (as HTTP or shell
    # tasks do) and dies before recording it.
    monkeypatch.setattr(engine.runs.steps, "runs_inline", lambda step: False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            engine.runs.steps,
            "run_step",
            lambda step: (_ for _ in ()).throw(SystemExit),
        )
        with pytest.raises(SystemExit):
            engine.advance(execution.pk)
    hello = execution.task_runs.get(task_id="hello")
    assert hello.state == T.RUNNING and hello.attempt == 1
    later = timezone.now() + timedelta(hours=1)
    monkeypatch.setattr(engine, "now", lambda: later)
    run_on_commit(sweeper.sweep_once)  # the step's lease lapsed: it is retaken
    hello.refresh_from_db()
    execution.refresh_from_db()
    assert hello.attempt == 2 and hello.state == T.SUCCESS
    assert execution.state == E.SUCCESS


def test_advance_twice_runs_each_task_once(make_flow, run_on_commit):
    execution = engine.start_execution(make_flow(SIMPLE), {})
    engine.advance(execution.pk)
    engine.advance(execution.pk)
    assert TaskRun.objects.filter(execution=execution).count() == 2
    assert (
        ExecutionEvent.objects.filter(
            execution=execution, to_state=E.SUCCESS, subject="execution"
        ).count()
        == 1
    )


def test_cancel_closes_waiting_tokens_and_paused_runs(paused, user):
    execution, token = paused()
    assert engine.cancel(execution.pk, actor=user) is True
    execution.refresh_from_db()
    token.refresh_from_db()
    assert execution.state == E.CANCELLED and token.state == S.CANCELLED
    assert run(execution)["wait"].state == T.CANCELLED
    assert engine.cancel(execution.pk, actor=user) is False


def test_on_pause_task_runs_when_the_execution_pauses(make_flow, run_on_commit):
    flow = make_flow(
        "id: f\nnamespace: acme\ntasks:\n"
        "  - id: wait\n    type: Pause\n"
        "    onPause:\n      id: notify\n      type: Return\n"
        "      format: 'paused {{ execution.id }}'\n"
    )
    execution = run_on_commit(engine.start_execution, flow, {})
    notify = execution.task_runs.get(task_id="notify")
    assert notify.state == T.SUCCESS and notify.branch == "onPause"
    assert notify.path == "wait.onPause.notify"
    assert notify.outputs["value"] == f"paused {execution.pk}"
    assert execution.task_runs.get(task_id="wait").state == T.PAUSED
