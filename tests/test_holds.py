"""Holds: a whole flow or one execution paused, resumed and cancelled (engine)."""

from datetime import timedelta
from unittest import mock

import pytest

from flows import engine
from flows.models import Execution, ExecutionEvent, FlowEvent, SuspensionToken, TaskRun

E, T, S = Execution.State, TaskRun.State, SuspensionToken.State

NAPS = """
id: naps
namespace: acme
tasks:
  - id: nap
    type: Sleep
    duration: PT30S
  - id: done
    type: Return
    format: awake
"""


def runs(execution) -> dict[str, TaskRun]:
    return {r.task_id: r for r in TaskRun.objects.filter(execution=execution)}


def at(moment):
    return mock.patch("flows.engine.now", return_value=moment)


def test_a_sleep_due_during_the_pause_ends_and_the_next_step_waits_for_resume(
    make_flow, run_on_commit, user
):
    flow = make_flow(NAPS)
    execution = run_on_commit(engine.start_execution, flow, {})
    nap = runs(execution)["nap"]
    assert engine.pause_flow(flow.pk, actor=user) == 1
    late = nap.wake_at + timedelta(seconds=5)
    with at(late):
        assert run_on_commit(engine.wake_due, late) == 1
    execution.refresh_from_db()
    assert execution.state == E.RUNNING and execution.hold == "flow"
    assert execution.lease_until is None
    assert runs(execution)["nap"].state == T.SUCCESS
    assert "done" not in runs(execution)
    with at(late):
        assert run_on_commit(engine.resume_flow, flow.pk, actor=user) == 1
    execution.refresh_from_db()
    assert execution.state == E.SUCCESS and execution.hold == ""
    assert runs(execution)["done"].started_at == late


def test_a_sleep_not_due_at_resume_keeps_its_deadline(make_flow, run_on_commit):
    flow = make_flow(NAPS)
    execution = run_on_commit(engine.start_execution, flow, {})
    nap = runs(execution)["nap"]
    engine.pause_flow(flow.pk)
    with at(nap.started_at + timedelta(seconds=10)):
        run_on_commit(engine.resume_flow, flow.pk)
    assert runs(execution)["nap"].wake_at == nap.wake_at
    assert run_on_commit(engine.wake_due, nap.wake_at - timedelta(seconds=1)) == 0
    assert run_on_commit(engine.wake_due, nap.wake_at) == 1
    execution.refresh_from_db()
    assert execution.state == E.SUCCESS


def test_an_execution_started_while_the_flow_is_paused_is_queued_until_resume(
    make_flow, run_on_commit
):
    flow = make_flow(NAPS)
    engine.pause_flow(flow.pk)
    execution = run_on_commit(engine.start_execution, flow, {})
    execution.refresh_from_db()
    assert execution.state == E.QUEUED and execution.hold == "flow"
    assert not runs(execution)
    assert run_on_commit(engine.resume_flow, flow.pk) == 1
    execution.refresh_from_db()
    assert execution.state == E.RUNNING and execution.started_at is not None
    assert runs(execution)["nap"].state == T.RUNNING


def test_a_pause_deadline_still_expires_during_the_flow_pause(
    pause_token, run_on_commit
):
    token = pause_token("pauseDuration: PT1M")
    flow = token.execution.flow
    engine.pause_flow(flow.pk)
    run_on_commit(engine.expire, token.pk, token.expires_at)
    token.refresh_from_db()
    assert token.state == S.EXPIRED
    execution = Execution.objects.get(pk=token.execution_id)
    assert execution.state == E.RUNNING and "after" not in runs(execution)
    run_on_commit(engine.resume_flow, flow.pk)
    execution.refresh_from_db()
    assert execution.state == E.SUCCESS


def test_pausing_a_paused_flow_is_refused_with_its_state(make_flow):
    flow = make_flow(NAPS)
    engine.pause_flow(flow.pk)
    with pytest.raises(engine.HoldConflict) as refused:
        engine.pause_flow(flow.pk)
    assert refused.value.state == "paused"
    engine.resume_flow(flow.pk)
    with pytest.raises(engine.HoldConflict) as refused:
        engine.resume_flow(flow.pk)
    assert refused.value.state == "active"


def test_cancelling_a_flow_ends_running_and_queued_executions(
    pause_token, run_on_commit, user
):
    token = pause_token()
    flow = token.execution.flow
    engine.pause_flow(flow.pk, actor=user)
    queued = run_on_commit(engine.start_execution, flow, {})
    assert run_on_commit(engine.cancel_flow, flow.pk, actor=user) == 2
    states = set(flow.executions.values_list("state", flat=True))
    assert states == {E.CANCELLED}
    token.refresh_from_db()
    assert token.state == S.CANCELLED and token.resolved_by_name == "alice"
    queued.refresh_from_db()
    assert queued.state == E.CANCELLED
    with pytest.raises(engine.HoldConflict):
        engine.cancel_flow(flow.pk)
    actions = list(FlowEvent.objects.filter(flow=flow).values_list("action", "actor"))
    assert actions == [("pause", user.pk), ("cancel", user.pk)]


def test_each_flow_pause_is_on_the_trail_of_each_execution_it_held(
    make_flow, run_on_commit, user
):
    flow = make_flow(NAPS)
    execution = run_on_commit(engine.start_execution, flow, {})
    engine.pause_flow(flow.pk, actor=user)
    run_on_commit(engine.resume_flow, flow.pk, actor=user)
    holds = ExecutionEvent.objects.filter(
        execution=execution, data__has_key="hold"
    ).order_by("seq")
    assert [(e.data["hold"], e.actor_name) for e in holds] == [
        ("flow", "alice"),
        ("", "alice"),
    ]


def test_one_execution_paused_lets_its_step_settle_and_starts_none(
    make_flow, run_on_commit, user
):
    flow = make_flow(NAPS)
    execution = run_on_commit(engine.start_execution, flow, {})
    other = run_on_commit(engine.start_execution, flow, {})
    engine.pause_execution(execution.pk, actor=user)
    with pytest.raises(engine.HoldConflict):
        engine.pause_execution(execution.pk)
    due = runs(execution)["nap"].wake_at
    run_on_commit(engine.wake_due, due + timedelta(seconds=1))
    execution.refresh_from_db()
    other.refresh_from_db()
    assert execution.state == E.RUNNING and "done" not in runs(execution)
    assert other.state == E.SUCCESS
    run_on_commit(engine.unpause_execution, execution.pk, actor=user)
    execution.refresh_from_db()
    assert execution.state == E.SUCCESS
    with pytest.raises(engine.HoldConflict) as refused:
        engine.unpause_execution(execution.pk)
    assert refused.value.state == E.SUCCESS


def test_unpausing_under_a_paused_flow_leaves_it_held_by_the_flow(
    make_flow, run_on_commit
):
    flow = make_flow(NAPS)
    execution = run_on_commit(engine.start_execution, flow, {})
    engine.pause_execution(execution.pk)
    engine.pause_flow(flow.pk)
    run_on_commit(engine.resume_flow, flow.pk)
    execution.refresh_from_db()
    assert execution.hold == "execution"  # the flow's resume left its own hold
    engine.pause_flow(flow.pk)
    run_on_commit(engine.unpause_execution, execution.pk)
    execution.refresh_from_db()
    assert execution.hold == "flow"


def test_cancelling_one_execution_twice_is_refused(pause_token, run_on_commit, user):
    token = pause_token()
    run_on_commit(engine.cancel_execution, token.execution_id, actor=user)
    token.refresh_from_db()
    assert token.state == S.CANCELLED and token.resolved_by_name == "alice"
    with pytest.raises(engine.HoldConflict) as refused:
        engine.cancel_execution(token.execution_id)
    assert refused.value.state == E.CANCELLED


def test_an_execution_the_pause_missed_is_queued_at_its_first_walk(
    make_flow, run_on_commit
):
    flow = make_flow(NAPS)
    execution = engine.start_execution(flow, {})  # its wake-up not run yet
    # As if the pause committed just after its scan missed this new row.
    type(flow).objects.filter(pk=flow.pk).update(is_paused=True)
    run_on_commit(engine.advance, execution.pk)
    execution.refresh_from_db()
    assert execution.state == E.QUEUED and execution.hold == "flow"
    assert run_on_commit(engine.resume_flow, flow.pk) == 1
    assert runs(execution)["nap"].state == T.RUNNING


def test_cancelling_a_queued_execution_ends_it_at_once_even_with_finally(
    make_flow, run_on_commit
):
    flow = make_flow(NAPS + "finally:\n  - id: tidy\n    type: Log\n    message: bye\n")
    engine.pause_flow(flow.pk)
    execution = run_on_commit(engine.start_execution, flow, {})
    run_on_commit(engine.cancel_execution, execution.pk)
    execution.refresh_from_db()
    assert execution.state == E.CANCELLED and not runs(execution)


def test_a_cancel_during_the_pause_still_runs_the_finally_tasks(
    make_flow, run_on_commit
):
    flow = make_flow(NAPS + "finally:\n  - id: tidy\n    type: Log\n    message: bye\n")
    execution = run_on_commit(engine.start_execution, flow, {})
    engine.pause_flow(flow.pk)
    run_on_commit(engine.cancel_flow, flow.pk)
    execution.refresh_from_db()
    assert execution.state == E.CANCELLED
    assert runs(execution)["tidy"].state == T.SUCCESS
