"""Engine figures on a real worker: executions reaching their pause, resume latency.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/signoff_bench \\
        .venv/bin/python bench/engine_throughput.py [--executions 2000] [--workers 1]

Creates the database's tables (migrate) and prints, in one run:

1. where the time goes, in this process, without a queue: the queries and the
   milliseconds (cProfile) of one start, one walk to the pause and one walk after a
   resume, split into claim (the execution's row lock), steps (the walk) and the
   audit trail and commit;
2. on a real `qcluster` (its default settings, or --workers N): N executions
   started at once (engine.start_executions; --one-by-one: a start call each)
   until every one is PAUSED, in executions per second, with the
   queue wait (created -> started) and the walk (started -> PAUSED) read off the
   rows' timestamps;
3. the time from a resume's commit to the next task starting (p50 / p95 / max),
   one resume at a time, then with resumes arriving from --clients threads.

Default database: a SQLite file in a temporary folder. Not a test: it prints
figures.
"""

import argparse
import cProfile
import os
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from common import ROOT, setup_django

FLOW = """
id: bench
namespace: bench.engine
tasks:
  - id: before
    type: Return
    format: "{{ execution.id }}"
  - id: wait
    type: Pause
  - id: after
    type: Return
    format: done
"""

# (label, function names whose cumulative time makes the bucket)
BUCKETS = [
    ("claim (row lock)", ("lock_execution",)),
    ("steps (walk)", ("_walk",)),
    ("trail + commit", ("_write", "commit")),
]


def start_worker(database_url: str, workers: int | None) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url}
    if workers:
        env["SIGNOFF_WORKERS"] = str(workers)
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_until(predicate, timeout: float) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise SystemExit("timed out")
        time.sleep(0.01)
    return time.monotonic() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def spread(label: str, seconds: list[float]) -> str:
    ms = [1000 * v for v in seconds]
    return (
        f"{label}: p50 {statistics.median(ms):.1f} ms, "
        f"p95 {percentile(ms, 0.95):.1f} ms, max {max(ms):.1f} ms"
    )


def cluster_cpu(pgid: int) -> float:
    """CPU seconds the qcluster's processes (its process group) used so far."""
    ticks, used = os.sysconf("SC_CLK_TCK"), 0.0
    for proc in os.listdir("/proc"):
        if not proc.isdigit():
            continue
        try:
            with open(f"/proc/{proc}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if int(fields[2]) == pgid:
            # After the name: state ppid pgrp ...; utime stime, then cutime cstime
            # (the children it reaped: workers django-q2 recycled).
            used += sum(int(v) for v in fields[11:15]) / ticks
    return used


def cpu_per_execution(pgid: int, since: float, count: int) -> str:
    spent = 1000 * (cluster_cpu(pgid) - since) / count
    return f"qcluster CPU (all its processes): {spent:.2f} ms per execution"


# -- 1. where the time goes, in process -------------------------------------------


def measured(calls):
    """Run `calls` under cProfile and a query counter: (seconds, queries, stats)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    profile = cProfile.Profile()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        profile.enable()
        for call in calls:
            call()
        profile.disable()
        elapsed = time.perf_counter() - started
    return elapsed, len(queries), pstats.Stats(profile).stats


def cumulative(stats, names) -> float:
    return sum(ct for (_, _, name), (_, _, _, ct, _) in stats.items() if name in names)


def profile_in_process(flow, count: int) -> None:
    from django_q.models import OrmQ

    from flows import engine
    from flows.models import SuspensionToken

    print(f"\n1. where the time goes, in process, {count} executions (cProfile on)")
    executions = []
    elapsed, queries, _ = measured(
        [lambda: executions.append(engine.start_execution(flow, {}))] * count
    )
    OrmQ.objects.all().delete()  # advanced here, not by a worker
    print(f"   start: {1000 * elapsed / count:.2f} ms, {queries / count:.1f} queries")
    ids = [e.pk for e in executions]
    report_walk("walk to the pause", [lambda i=i: engine.advance(i) for i in ids])
    tokens = SuspensionToken.objects.filter(execution_id__in=ids)
    elapsed, queries, _ = measured(
        [lambda t=t: engine.resume(t, {}, channel="bench") for t in tokens]
    )
    OrmQ.objects.all().delete()
    print(f"   resume: {1000 * elapsed / count:.2f} ms, {queries / count:.1f} queries")
    report_walk("walk after a resume", [lambda i=i: engine.advance(i) for i in ids])


def report_walk(label: str, calls) -> None:
    elapsed, queries, stats = measured(calls)
    count = len(calls)
    parts = ", ".join(
        f"{name} {1000 * cumulative(stats, names) / count:.2f}"
        for name, names in BUCKETS
    )
    print(
        f"   {label}: {1000 * elapsed / count:.2f} ms, "
        f"{queries / count:.1f} queries; ms of it: {parts}"
    )


# -- 2. and 3. on a real worker ---------------------------------------------------


def start_all(flow, count: int, tenant, one_by_one: bool, pgid: int) -> None:
    from flows import engine
    from flows.models import Execution

    cpu = cluster_cpu(pgid)
    started = time.monotonic()
    if one_by_one:  # as many requests, each its own start
        for _ in range(count):
            engine.start_execution(flow, {})
    else:
        engine.start_executions(flow, [{}] * count)
    queued = time.monotonic() - started
    paused = Execution.objects.filter(tenant=tenant, state="PAUSED")
    waited = wait_until(lambda: paused.count() == count, 300)
    total = queued + waited
    print(f"   {count} executions started in {queued:.2f} s")
    print(
        f"   all PAUSED {total:.2f} s after the first start: "
        f"{count / total:.0f} executions a second"
    )
    print("   " + cpu_per_execution(pgid, cpu, count))
    report_rows(tenant)


def report_rows(tenant) -> None:
    """Queue wait and walk of each execution, from the rows' own timestamps."""
    from flows.models import Execution, ExecutionEvent

    paused_at = dict(
        ExecutionEvent.objects.filter(
            execution__tenant=tenant, subject="execution", to_state="PAUSED"
        ).values_list("execution_id", "at")
    )
    rows = Execution.objects.filter(tenant=tenant).values_list(
        "pk", "created_at", "started_at"
    )
    queue = [(started - created).total_seconds() for _, created, started in rows]
    walk = [(paused_at[pk] - started).total_seconds() for pk, _, started in rows]
    print("   " + spread("queue wait (created -> started)", queue))
    print("   " + spread("walk (started -> PAUSED)", walk))


def resume_one_at_a_time(tokens) -> None:
    from flows import engine
    from flows.models import TaskRun

    for token in tokens:
        engine.resume(token, {}, channel="bench")
        after = TaskRun.objects.filter(execution_id=token.execution_id, task_id="after")
        wait_until(after.exists, 30)
    print("   " + spread(f"{len(tokens)} resumes one at a time", latencies(tokens)))


def resume_concurrently(tokens, clients: int, pgid: int) -> None:
    from django.db import connection

    from flows import engine
    from flows.models import TaskRun

    def client(share):
        try:
            for token in share:
                engine.resume(token, {}, channel="bench")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=client, args=(tokens[i::clients],))
        for i in range(clients)
    ]
    cpu = cluster_cpu(pgid)
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = time.monotonic() - started
    ids = [t.execution_id for t in tokens]
    after = TaskRun.objects.filter(execution_id__in=ids, task_id="after")
    wait_until(lambda: after.count() == len(tokens), 120)
    rate = len(tokens) / sent
    label = f"{len(tokens)} resumes from {clients} clients ({rate:.0f} a second)"
    print("   " + spread(label, latencies(tokens)))
    print("   " + cpu_per_execution(pgid, cpu, len(tokens)))


def latencies(tokens) -> list[float]:
    """Resume commit (token resolved) -> the next task's run started, per token."""
    from flows.models import SuspensionToken, TaskRun

    ids = [t.pk for t in tokens]
    resolved = dict(
        SuspensionToken.objects.filter(pk__in=ids).values_list(
            "execution_id", "resolved_at"
        )
    )
    started = TaskRun.objects.filter(
        execution_id__in=list(resolved), task_id="after"
    ).values_list("execution_id", "started_at")
    return [(at - resolved[pk]).total_seconds() for pk, at in started]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--executions", type=int, default=2000)
    parser.add_argument(
        "--workers", type=int, default=None, help="default: the settings' default"
    )
    parser.add_argument("--resumes", type=int, default=100)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--profiled", type=int, default=200)
    parser.add_argument(
        "--one-by-one",
        action="store_true",
        help="start each execution with its own call (default: one start_executions)",
    )
    args = parser.parse_args()
    default_db = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    database_url = os.environ.get("DATABASE_URL", default_db)
    os.environ["DATABASE_URL"] = database_url
    setup_django()

    from django.conf import settings
    from django_q.models import OrmQ

    from flows import loader
    from flows.models import SuspensionToken, Tenant

    def fresh_flow(phase: str):
        # A tenant of its own per run: the audit trail is append-only, so an
        # earlier run's executions stay (manage.py purge removes finished ones).
        slug = f"bench-{phase}-{time.strftime('%Y%m%d%H%M%S')}"
        tenant = Tenant.objects.create(slug=slug, name="Bench")
        return tenant, loader.load_flow(tenant, FLOW).flow

    OrmQ.objects.all().delete()  # wake-ups left by an earlier, interrupted run
    workers = args.workers or settings.Q_CLUSTER["workers"]
    print(f"database: {database_url.split('://')[0]}, qcluster workers: {workers}")
    if args.profiled:
        profile_in_process(fresh_flow("profile")[1], args.profiled)

    tenant, flow = fresh_flow("worker")
    worker = start_worker(database_url, args.workers)
    try:
        time.sleep(3)  # let the cluster start before the clock runs
        how = "one by one" if args.one_by_one else "at once"
        print(f"\n2. {args.executions} executions started {how}, on a qcluster")
        start_all(flow, args.executions, tenant, args.one_by_one, worker.pid)
        print("\n3. resume -> next task started")
        waiting = list(SuspensionToken.objects.filter(tenant=tenant, state="WAITING"))
        resume_one_at_a_time(waiting[: args.resumes])
        rest = waiting[args.resumes :][: 100 * args.clients]
        if rest:
            resume_concurrently(rest, args.clients, worker.pid)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


if __name__ == "__main__":
    main()
