"""Every connection to the test database cut (pg_terminate_backend) again and
again while executions run and wait for answers sent through gunicorn: web and
worker reconnect, every execution finishes, and no answer given a 202 is lost."""

import time
import uuid
from collections import Counter

import httpx
import pytest

from approvals.models import ApiToken
from flows import engine
from flows.models import Execution, SuspensionToken, TaskRun
from tests.api_support import resume_url
from tests.faults.support import (
    assert_each_step_done_once,
    cut_connections,
    long_flow_source,
    seconds_since,
    unfinished,
)
from tests.worker_support import wait_until

pytestmark = [
    pytest.mark.faults,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

EXECUTIONS = 30
STEPS_EACH_SIDE = 20
CUTS = 8
CUT_EVERY = 0.5

SLOW_STEP = """
id: slow
namespace: acme.faults
tasks:
  - id: call
    type: Request
    uri: "{url}"
  - id: after
    type: Return
    format: "{{{{ outputs.call.body }}}}"
"""


def flow_source() -> str:
    """20 inline steps, a Pause, 20 more: each execution runs, waits, runs."""
    before = long_flow_source("cut", STEPS_EACH_SIDE)
    after = long_flow_source("x", STEPS_EACH_SIDE).split("tasks:\n", 1)[1]
    after = after.replace("id: step", "id: after_step").replace("id: log", "id: a_log")
    return before + "  - id: wait\n    type: Pause\n" + after


def test_cut_connections_lose_no_execution_and_no_accepted_answer(
    clusters, gunicorn, make_flow, user, record_property
):
    clusters(SIGNOFF_WORKERS="2")
    server = gunicorn(workers=2)
    _, key = ApiToken.issue(user)
    flow = make_flow(flow_source())
    executions = [engine.start_execution(flow, {}) for _ in range(EXECUTIONS)]
    ids = [e.pk for e in executions]
    answers: dict[str, list] = {}  # token id -> every status its resumes got
    cuts, cut_backends, last_cut = 0, 0, 0.0
    client = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    started = time.monotonic()
    while time.monotonic() - started < 120:
        if cuts < CUTS and time.monotonic() - last_cut >= CUT_EVERY:
            cut_backends += cut_connections()
            cuts, last_cut = cuts + 1, time.monotonic()
        settled = {t for t, got in answers.items() if {202, 409} & set(got)}
        waiting = SuspensionToken.objects.filter(
            execution_id__in=ids, state=SuspensionToken.State.WAITING
        ).exclude(pk__in=settled)
        for token_id in waiting.values_list("pk", flat=True)[:5]:
            try:
                status = client.post(resume_url(token_id), json={}).status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            answers.setdefault(str(token_id), []).append(status)
        if cuts >= CUTS and len(settled) == EXECUTIONS:
            break
        time.sleep(0.05)
    client.close()
    wait_until(lambda: not unfinished(executions), 60, interval=0.2)
    finished = seconds_since(started)

    assert cuts == CUTS and cut_backends >= CUTS  # web and worker were cut each time
    accepted = {t for t, got in answers.items() if 202 in got}
    # Each 202 was given once, and only a resume that failed first may see a 409
    # (its answer had committed before the cut reached the response).
    assert all(got.count(202) <= 1 for got in answers.values())
    for got in answers.values():
        if 409 in got:
            assert got.index(409) > 0 and 202 not in got[: got.index(409)], got
    tokens = SuspensionToken.objects.filter(execution_id__in=ids)
    assert set(tokens.values_list("state", flat=True)) == {"RESUMED"}
    assert accepted <= {str(pk) for pk in tokens.values_list("pk", flat=True)}
    assert_each_step_done_once(executions, 2 * STEPS_EACH_SIDE + 1)
    assert TaskRun.objects.filter(execution_id__in=ids, task_id="wait").count() == (
        EXECUTIONS
    )
    failures = Counter(s for got in answers.values() for s in got if s not in (202,))
    record_property(f"cut_connections_{clusters.broker}_finished_seconds", finished)
    print(
        f"\n{clusters.broker}: {cuts} cuts ({cut_backends} backends), "
        f"{len(accepted)} answers accepted, other replies {dict(failures)}, "
        f"all {EXECUTIONS} finished {finished} s after the first cut"
    )


def test_a_step_running_while_the_connections_are_cut_runs_once(
    clusters, make_flow, slow_server
):
    """The step's heartbeat and its worker lose their connections mid-step: both
    must reconnect, or the lease lapses and a healthy step is run a second time."""
    clusters()
    path = f"/cut-{uuid.uuid4().hex[:6]}/8"
    execution = engine.start_execution(
        make_flow(SLOW_STEP.format(url=slow_server.url(path))), {}
    )
    wait_until(lambda: slow_server.count(path) == 1, 30)  # the step is running
    for _ in range(3):
        assert cut_connections() >= 1
        time.sleep(1)

    def finished():
        return Execution.objects.filter(
            pk=execution.pk, state__in=Execution.TERMINAL
        ).first()

    assert wait_until(finished, 40, interval=0.2).state == Execution.State.SUCCESS
    run = TaskRun.objects.get(execution=execution, task_id="call")
    assert slow_server.count(path) == 1
    assert run.attempt == 1 and run.outputs["body"] == "done"
