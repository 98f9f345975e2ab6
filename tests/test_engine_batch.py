"""Starting many executions at once: all or none, one wake-up per batch."""

import pytest
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from flows import engine, trail, worker
from flows.engine import runs as engine_runs
from flows.inputs import InputValidationError
from flows.models import Execution, ExecutionEvent, SuspensionToken

E = Execution.State

TO_PAUSE = """
id: batch
namespace: acme.demo
inputs:
  - id: amount
    type: INT
    defaults: 1
tasks:
  - id: before
    type: Return
    format: "{{ inputs.amount }}"
  - id: wait
    type: Pause
"""


def test_every_execution_started_at_once_reaches_its_pause(make_flow, run_on_commit):
    flow = make_flow(TO_PAUSE)
    many = [{"amount": n} for n in range(engine_runs.START_BATCH * 2 + 3)]
    executions = run_on_commit(engine.start_executions, flow, many)
    assert len(executions) == len(many)
    states = Execution.objects.filter(flow=flow).values_list("state", flat=True)
    assert set(states) == {E.PAUSED}
    assert SuspensionToken.objects.filter(execution__flow=flow).count() == len(many)
    outputs = sorted(
        int(r.task_runs.get(task_id="before").outputs["value"]) for r in executions
    )
    assert outputs == list(range(len(many)))
    report = trail.verify(Execution.objects.filter(flow=flow))
    assert report.executions == len(many) and not report.broken


def test_one_wake_up_walks_a_batch(make_flow, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)  # the ORM outbox, as on a real worker
    OrmQ.objects.all().delete()
    count = engine_runs.START_BATCH + 1
    executions = engine.start_executions(make_flow(TO_PAUSE), [{}] * count)
    tasks = [SignedPackage.loads(row.payload) for row in OrmQ.objects.order_by("id")]
    assert [t["func"] for t in tasks] == [
        "flows.worker.advance_each",
        "flows.worker.advance",
    ]
    ids = tasks[0]["args"][0] + [tasks[1]["args"][0]]
    assert ids == [str(e.pk) for e in executions]
    worker.advance_each(tasks[0]["args"][0])
    paused = Execution.objects.filter(state=E.PAUSED).values_list("pk", flat=True)
    assert {str(pk) for pk in paused} == set(tasks[0]["args"][0])


def test_one_bad_inputs_start_none_and_name_the_field(make_flow):
    flow = make_flow(TO_PAUSE)
    with pytest.raises(InputValidationError) as raised:
        engine.start_executions(flow, [{"amount": 1}, {"amount": "many"}])
    assert "amount" in raised.value.errors
    assert not Execution.objects.filter(flow=flow).exists()


def test_started_while_the_flow_is_paused_all_are_queued(make_flow, run_on_commit):
    flow = make_flow(TO_PAUSE)
    engine.pause_flow(flow.pk)
    run_on_commit(engine.start_executions, flow, [{}, {}, {}])
    moves = ExecutionEvent.objects.filter(execution__flow=flow, subject="execution")
    assert set(Execution.objects.values_list("state", flat=True)) == {E.QUEUED}
    assert moves.filter(to_state=E.QUEUED).count() == 3
    assert run_on_commit(engine.resume_flow, flow.pk) == 3
    assert set(Execution.objects.values_list("state", flat=True)) == {E.PAUSED}


def test_a_failing_walk_does_not_hold_up_the_rest_of_its_batch(make_flow, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)
    executions = engine.start_executions(make_flow(TO_PAUSE), [{}] * 3)
    broken, real = str(executions[1].pk), engine.advance

    def advance(execution_id):
        if execution_id == broken:
            raise RuntimeError("lost")
        real(execution_id)

    monkeypatch.setattr(engine, "advance", advance)
    worker.advance_each([str(e.pk) for e in executions])
    states = [Execution.objects.get(pk=e.pk).state for e in executions]
    assert states == [E.PAUSED, E.CREATED, E.PAUSED]
    # Its lease still stands for the wake-up: the sweeper sends it another.
    assert Execution.objects.get(pk=broken).lease_until is not None
