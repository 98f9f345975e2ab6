"""Heartbeat leases: a running step keeps its lease; a dead worker's step is retaken."""

import threading
from datetime import timedelta

import pytest

from flows import engine, sweeper
from flows.engine import heartbeat
from flows.models import Execution, TaskRun

E, T = Execution.State, TaskRun.State

SLOW = """
id: slow
namespace: acme.beat
tasks:
  - id: call
    type: Return
    format: called
  - id: after
    type: Return
    format: after
"""


@pytest.fixture
def outside_step(monkeypatch):
    """`call` runs outside the transaction (as HTTP or shell tasks do)."""
    monkeypatch.setattr(
        engine.runs.steps, "runs_inline", lambda task: task["id"] != "call"
    )


@pytest.fixture
def no_wake_ups(monkeypatch):
    """start_execution queues nothing: the test advances the execution itself."""
    monkeypatch.setattr(engine.runs, "enqueue", lambda execution_id: None)


def claim_and_die(execution, monkeypatch):
    """A worker claims `call` and dies before recording it."""
    with monkeypatch.context() as patch:
        patch.setattr(
            engine.runs.steps,
            "run_step",
            lambda step: (_ for _ in ()).throw(SystemExit),
        )
        with pytest.raises(SystemExit):
            engine.advance(execution.pk)
    return TaskRun.objects.get(execution=execution, task_id="call")


def test_renewal_extends_the_lease_of_the_attempt_that_runs_only(
    make_flow, outside_step, clock, monkeypatch, settings
):
    settings.SIGNOFF_STEP_LEASE_SECONDS = 5
    execution = engine.start_execution(make_flow(SLOW), {})
    run = claim_and_die(execution, monkeypatch)
    later = clock.move(4)

    assert heartbeat.renew(run.pk, attempt=1)
    run.refresh_from_db()
    execution.refresh_from_db()
    assert run.lease_until == later + timedelta(seconds=5)
    assert execution.lease_until is None  # the step's own lease covers it
    assert not heartbeat.renew(run.pk, attempt=2)  # not its attempt
    TaskRun.objects.filter(pk=run.pk).update(state=T.SUCCESS)
    assert not heartbeat.renew(run.pk, attempt=1)  # no longer running


def test_a_step_whose_heartbeat_stopped_is_retaken_once_its_lease_lapses(
    make_flow, outside_step, clock, monkeypatch, run_on_commit, settings
):
    settings.SIGNOFF_STEP_LEASE_SECONDS = 5
    execution = engine.start_execution(make_flow(SLOW), {})
    run = claim_and_die(execution, monkeypatch)
    # Something renewed the execution's lease (a wake-up): only the step has lapsed.
    Execution.objects.filter(pk=execution.pk).update(
        lease_until=clock.at + timedelta(seconds=60)
    )
    assert heartbeat.recover_stalled(clock.move(4.9)) == 0  # still within its lease
    moment = clock.move(0.2)
    monkeypatch.setattr(engine.runs.steps, "run_step", lambda step: _done())
    assert heartbeat.recover_stalled(moment) == 0  # the execution's lease holds it
    Execution.objects.filter(pk=execution.pk).update(lease_until=None)

    assert run_on_commit(heartbeat.recover_stalled, moment) == 1
    run.refresh_from_db()
    execution.refresh_from_db()
    assert run.attempt == 2 and run.state == T.SUCCESS
    assert execution.state == E.SUCCESS


def test_each_lapse_sends_one_wake_up(make_flow, outside_step, clock, monkeypatch):
    execution = engine.start_execution(make_flow(SLOW), {})
    claim_and_die(execution, monkeypatch)
    Execution.objects.filter(pk=execution.pk).update(lease_until=None)
    moment = clock.move(3600)

    assert heartbeat.recover_stalled(moment) == 1
    assert heartbeat.recover_stalled(moment) == 0  # the execution's lease now holds
    assert heartbeat.recover_stalled(clock.move(3600)) == 1


def test_a_sleeping_step_is_not_stalled(make_flow, clock):
    flow = make_flow(
        "id: nap\nnamespace: acme\ntasks:\n"
        "  - id: nap\n    type: Sleep\n    duration: PT1H\n"
    )
    execution = engine.start_execution(flow, {})
    engine.advance(execution.pk)
    TaskRun.objects.filter(execution=execution).update(
        lease_until=clock.at - timedelta(seconds=1)
    )
    assert heartbeat.recover_stalled(clock.move(60)) == 0


def test_the_sweeper_pass_recovers_stalled_steps(
    make_flow, outside_step, clock, monkeypatch
):
    execution = engine.start_execution(make_flow(SLOW), {})
    claim_and_die(execution, monkeypatch)
    Execution.objects.filter(pk=execution.pk).update(lease_until=None)
    assert sweeper.sweep_once()["stalled"] == 0
    clock.move(3600)
    assert sweeper.sweep_once()["stalled"] == 1


def test_no_heartbeat_thread_runs_inside_a_transaction(make_flow, outside_step):
    engine.start_execution(make_flow(SLOW), {})
    before = threading.active_count()
    with heartbeat.heartbeat("00000000-0000-0000-0000-000000000000", 1):
        assert threading.active_count() == before


@pytest.mark.django_db(transaction=True)
def test_a_step_longer_than_its_lease_is_never_started_twice(
    make_flow, outside_step, no_wake_ups, monkeypatch, settings
):
    """Real threads and clock: while `call` runs for 4 leases, another worker and
    the sweeper keep trying; the heartbeat keeps them off."""
    settings.SIGNOFF_STEP_LEASE_SECONDS = 0.5
    execution = engine.start_execution(make_flow(SLOW), {})
    calls, running, release = [], threading.Event(), threading.Event()
    real_run_step = engine.runs.steps.run_step

    def run_step(step):
        if step.task["id"] == "call":
            calls.append(step.attempt)
            running.set()
            release.wait(2.0)
        return real_run_step(step)

    monkeypatch.setattr(engine.runs.steps, "run_step", run_step)
    worker = threading.Thread(target=_advance_and_close, args=(execution.pk,))
    worker.start()
    assert running.wait(10)
    while worker.is_alive():  # a second worker and the sweeper, all along
        _advance_and_close(execution.pk)
        sweeper.sweep_once()
        worker.join(0.05)
    release.set()

    execution.refresh_from_db()
    assert execution.state == E.SUCCESS
    assert calls == [1]
    assert TaskRun.objects.get(execution=execution, task_id="call").attempt == 1


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_stops_once_a_later_attempt_owns_the_step(
    make_flow, outside_step, no_wake_ups, monkeypatch, settings
):
    settings.SIGNOFF_STEP_LEASE_SECONDS = 0.15
    execution = engine.start_execution(make_flow(SLOW), {})
    run = claim_and_die(execution, monkeypatch)
    TaskRun.objects.filter(pk=run.pk).update(attempt=2)  # retaken elsewhere
    renewals = []
    real_renew = heartbeat.renew
    monkeypatch.setattr(
        heartbeat, "renew", lambda *args: renewals.append(args) or real_renew(*args)
    )
    stopped = threading.Event()
    with heartbeat.heartbeat(run.pk, attempt=1):
        stopped.wait(0.5)  # ten beats' worth

    assert len(renewals) == 1  # the first beat found the row taken, and stopped
    assert TaskRun.objects.get(pk=run.pk).lease_until == run.lease_until


def _advance_and_close(execution_id):
    from django.db import connection

    try:
        engine.advance(execution_id)
    finally:
        connection.close()


def _done():
    from flows.tasks.base import Done

    return Done(outputs={"value": "called"})


def test_a_step_lost_max_attempts_times_fails_instead_of_looping(
    make_flow, outside_step, clock, monkeypatch, settings
):
    settings.SIGNOFF_STEP_LEASE_SECONDS = 5
    settings.SIGNOFF_MAX_ATTEMPTS = 3
    execution = engine.start_execution(make_flow(SLOW), {})
    for attempt in (1, 2, 3):
        run = claim_and_die(execution, monkeypatch)
        assert run.state == T.RUNNING and run.attempt == attempt
        assert run.losses == attempt - 1
        clock.move(6)  # its lease lapses: the next walk retakes it
    ran = []
    monkeypatch.setattr(engine.runs.steps, "run_step", ran.append)
    engine.advance(execution.pk)
    run.refresh_from_db()
    execution.refresh_from_db()
    assert ran == []  # not started a fourth time
    assert run.state == T.FAILED and run.error == "worker lost 3 times"
    assert execution.state == E.FAILED
    assert not TaskRun.objects.filter(execution=execution, task_id="after").exists()
