"""Scale-out (README "Scale-out"): two qclusters on one database and one Redis
take the same executions, and every step runs exactly once."""

import uuid

import pytest

from flows import engine
from flows.models import Execution, TaskRun
from tests.worker_support import wait_until

pytestmark = [
    pytest.mark.faults,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

EXECUTIONS = 20
CALLS = 3


def flow_source(server, run: str) -> str:
    """Each execution calls the test's server CALLS times (a side effect counted
    per execution and call), with Return steps between."""
    lines = ["id: shared", "namespace: acme.faults", "inputs:", "  - id: n"]
    lines += ["    type: INT", "tasks:"]
    for call in range(CALLS):
        url = server.url(f"/{run}/{{{{ inputs.n }}}}/{call}/0.1")
        lines += [
            f"  - id: call{call}",
            "    type: Request",
            f'    uri: "{url}"',
            f"  - id: note{call}",
            "    type: Return",
            f'    format: "{{{{ outputs.call{call}.body }}}}"',
        ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("clusters", ["redis"], indirect=True)
def test_two_clusters_on_one_database_and_redis_run_each_step_once(
    clusters, make_flow, slow_server
):
    clusters(SIGNOFF_WORKERS="2")
    clusters(SIGNOFF_WORKERS="2")
    run = uuid.uuid4().hex[:8]
    flow = make_flow(flow_source(slow_server, run))
    executions = [engine.start_execution(flow, {"n": n}) for n in range(EXECUTIONS)]
    ids = [e.pk for e in executions]
    done = Execution.objects.filter(pk__in=ids, state="SUCCESS")
    wait_until(lambda: done.count() == EXECUTIONS, 90, interval=0.2)

    runs = TaskRun.objects.filter(execution_id__in=ids)
    assert runs.count() == EXECUTIONS * CALLS * 2
    assert set(runs.values_list("attempt", flat=True)) == {1}
    assert set(runs.values_list("state", flat=True)) == {"SUCCESS"}
    for n in range(EXECUTIONS):
        for call in range(CALLS):
            assert slow_server.count(f"/{run}/{n}/{call}/0.1") == 1, (n, call)
    assert sum(slow_server.counts.values()) == EXECUTIONS * CALLS
