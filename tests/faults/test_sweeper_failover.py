"""Two qclusters on Redis, the one whose worker holds the SweeperLease killed with
kill -9: the other takes the lease over and applies the deadlines within 5 s."""

import os
import signal

import pytest

from flows import engine
from flows.models import SuspensionToken, SweeperLease
from tests.worker_support import group_is_gone, wait_until

pytestmark = [
    pytest.mark.faults,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

FLOW = """
id: deadline
namespace: acme.faults
tasks:
  - id: wait
    type: Pause
    pauseDuration: PT1S
    behavior: RESUME
  - id: after
    type: Return
    format: late
"""
EXECUTIONS = 10
APPLIED_WITHIN = 5


def lease_group() -> int | None:
    """The process group of the worker holding the sweeper lease (holder is
    host:pid:random), if that worker is alive."""
    lease = SweeperLease.objects.filter(expires_at__gt=engine.now()).first()
    if lease is None:
        return None
    try:
        return os.getpgid(int(lease.holder.split(":")[1]))
    except ProcessLookupError:
        return None


@pytest.mark.parametrize("clusters", ["redis"], indirect=True)
def test_deadlines_are_applied_within_5_s_after_the_sweeper_leader_dies(
    clusters, make_flow, record_property
):
    pair = {process.pid: process for process in (clusters(), clusters())}
    leader = pair[wait_until(lambda: lease_group() in pair and lease_group(), 30)]
    os.killpg(leader.pid, signal.SIGKILL)
    wait_until(lambda: group_is_gone(leader), 10)
    # Due about a second after the kill, while the dead leader's lease still runs.
    flow = make_flow(FLOW)
    executions = [engine.start_execution(flow, {}) for _ in range(EXECUTIONS)]
    tokens = SuspensionToken.objects.filter(execution__in=executions)
    wait_until(lambda: tokens.count() == EXECUTIONS, 30)  # walked by the survivor

    wait_until(lambda: not tokens.filter(state="WAITING").exists(), 15, interval=0.1)
    lateness = max((t.resolved_at - t.expires_at).total_seconds() for t in tokens.all())
    record_property("sweeper_failover_deadline_late_seconds", round(lateness, 2))
    print(f"\nredis: leader killed, deadlines applied at most {lateness:.2f} s late")
    assert set(tokens.values_list("state", flat=True)) == {"EXPIRED"}
    assert lateness <= APPLIED_WITHIN
    standby = [pid for pid in pair if pid != leader.pid][0]
    assert lease_group() == standby  # the other cluster's worker leads now
