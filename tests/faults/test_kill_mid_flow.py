"""kill -9 of a whole qcluster group mid-way through 50 executions of a 100-step
flow: a new cluster finishes every one, each step done once (inline steps commit
with their claim, so a killed slice is rolled back and walked again).

The lost executions are those the dead cluster held: being walked, or their
wake-up prefetched (popped from Redis, or its ORM row claimed). They have no
wake-up left in the broker, so only the sweeper can send them one.
"""

import os
import signal
import time

import pytest

from flows import engine
from tests.faults.support import (
    STEPS,
    assert_each_step_done_once,
    long_flow_source,
    queued_wakeups,
    seconds_since,
    task_run_counts,
    unfinished,
)
from tests.worker_support import group_is_gone, wait_until

pytestmark = [
    pytest.mark.faults,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

EXECUTIONS = 50
RETAKEN_WITHIN = 10


def test_kill_9_mid_flow_every_execution_finishes_each_step_once(
    clusters, make_flow, record_property
):
    flow = make_flow(long_flow_source())
    first = clusters(SIGNOFF_WORKERS="2")
    executions = [engine.start_execution(flow, {}) for _ in range(EXECUTIONS)]
    total = STEPS * EXECUTIONS
    wait_until(lambda: sum(task_run_counts(executions).values()) >= total // 4, 90)
    os.killpg(first.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    wait_until(lambda: group_is_gone(first), 10)
    at_kill = task_run_counts(executions)
    left = unfinished(executions)
    assert 0 < sum(at_kill.values()) < total and left  # the kill landed mid-way
    queued = queued_wakeups()
    lost = [pk for pk in left if str(pk) not in queued]
    assert lost  # the dead cluster took some wake-ups with it

    clusters(SIGNOFF_WORKERS="2")

    def every_lost_one_moved_on() -> bool:
        counts, still = task_run_counts(executions), set(unfinished(executions))
        return all(counts[pk] > at_kill[pk] or pk not in still for pk in lost)

    wait_until(every_lost_one_moved_on, 60, interval=0.1)
    retaken = seconds_since(killed_at)
    wait_until(lambda: not unfinished(executions), 120, interval=0.2)
    finished = seconds_since(killed_at)

    broker = clusters.broker
    record_property(f"kill_mid_flow_{broker}_lost_retaken_seconds", retaken)
    record_property(f"kill_mid_flow_{broker}_all_finished_seconds", finished)
    print(
        f"\n{broker}: {len(left)} executions left at kill -9, {len(lost)} of them "
        f"lost with it, all moving again {retaken} s later; all {EXECUTIONS} "
        f"finished {finished} s later"
    )
    attempts = assert_each_step_done_once(executions, STEPS)
    print(f"attempts: {dict(attempts)}")
    assert retaken <= RETAKEN_WITHIN
