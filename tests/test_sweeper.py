"""One active sweeper per cluster: a lease row, renewed each pass, taken over."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from flows import engine, sweeper
from flows.models import SweeperLease
from tests.dbutil import in_threads


@pytest.fixture
def clock(clock, settings):
    """The shared clock, with a 3 s sweeper lease."""
    settings.SIGNOFF_SWEEPER_LEASE_SECONDS = 3
    return clock


def test_the_first_sweeper_leads_and_the_others_stand_by(db, clock):
    assert sweeper.hold_lease("a")
    assert not sweeper.hold_lease("b")
    clock.move(1)
    assert sweeper.hold_lease("a")  # renewed each pass
    assert not sweeper.hold_lease("b")
    lease = SweeperLease.objects.get()
    assert lease.holder == "a" and lease.expires_at == clock.at + timedelta(seconds=3)


def test_a_standby_takes_over_once_the_leader_stops_renewing(db, clock):
    assert sweeper.hold_lease("a")
    clock.move(2.9)
    assert not sweeper.hold_lease("b")  # a's lease still runs
    clock.move(0.2)
    assert sweeper.hold_lease("b")
    assert not sweeper.hold_lease("a")  # a came back: b leads now
    assert SweeperLease.objects.get().holder == "b"


def test_a_released_lease_is_taken_at_the_next_pass(db, clock):
    assert sweeper.hold_lease("a")
    sweeper.release_lease("a")
    assert sweeper.hold_lease("b")
    sweeper.release_lease("a")  # no longer a's: changes nothing
    assert not sweeper.hold_lease("a")


def test_only_the_leader_sweeps(db, clock, monkeypatch, settings):
    settings.SIGNOFF_SWEEP_INTERVAL = 1.0
    swept = []
    monkeypatch.setattr(sweeper, "sweep_once", lambda: swept.append(1))
    assert sweeper.run_pass("a") <= 1.0
    assert sweeper.run_pass("b") == 1.0
    assert sweeper.run_pass("a") <= 1.0
    assert swept == [1, 1]


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_racing_for_the_first_lease_get_one_leader(clock):
    results = in_threads(2, lambda i: sweeper.hold_lease(f"sweeper-{i}"))
    assert sorted(results) == [False, True]
    assert SweeperLease.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeper_threads_never_lead_together_and_the_survivor_takes_over(clock):
    """Two threads pass in lockstep rounds, one second of engine time apart: `a`
    leads from round 0 and dies after round 3; `b` contends from round 1."""
    leaders = [[] for _ in range(10)]
    barrier = threading.Barrier(2, action=lambda: clock.move(1))

    def contend(name):
        try:
            for number in range(10):
                barrier.wait(timeout=10)  # the clock moves once both are here
                alive = number <= 3 if name == "a" else number >= 1
                if alive and sweeper.hold_lease(name):
                    leaders[number].append(name)
        finally:
            connection.close()

    threads = [threading.Thread(target=contend, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # a's last renewal (round 3) holds through round 6; b leads from round 7.
    assert leaders == [["a"]] * 4 + [[]] * 3 + [["b"]] * 3


def test_a_queue_that_is_behind_is_not_sent_wake_ups_for_leases_lapsing_in_it(
    make_flow, clock
):
    from django_q.conf import Conf
    from django_q.models import OrmQ

    from flows.models import Execution

    flow = make_flow("id: f\nnamespace: acme.q\ntasks:\n  - id: t\n    type: Pause\n")
    execution = engine.start_execution(flow, {})  # its wake-up never ran
    waiting = OrmQ.objects.create(
        key=Conf.CLUSTER_NAME, payload="x", lock=timezone.now() - timedelta(hours=2)
    )
    clock.move(3600)  # the lease lapsed while a wake-up older than it waits
    assert sweeper.sweep_once()["recovered"] == 0
    lease = Execution.objects.get(pk=execution.pk).lease_until
    waiting.delete()  # the queue caught up: the lapse is a lost wake-up
    assert sweeper.sweep_once()["recovered"] == 1
    assert Execution.objects.get(pk=execution.pk).lease_until > lease


def test_a_queue_that_keeps_up_does_not_delay_recovery(make_flow, clock):
    from django_q.conf import Conf
    from django_q.models import OrmQ

    flow = make_flow("id: f\nnamespace: acme.q\ntasks:\n  - id: t\n    type: Pause\n")
    engine.start_execution(flow, {})
    clock.move(3600)
    OrmQ.objects.create(key=Conf.CLUSTER_NAME, payload="x", lock=timezone.now())
    assert sweeper.sweep_once()["recovered"] == 1
