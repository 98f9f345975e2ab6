"""Engine figures on a real worker: executions reaching their pause, resume latency.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/signoff_bench \\
        .venv/bin/python bench/engine_throughput.py [--executions 200] [--workers 1]

Creates the database's tables (migrate), starts one `qcluster` with N worker
processes, starts the executions at once and prints how long until every one is
PAUSED; then resumes each and prints the time from the resume's commit to the
next task starting (p50 / p95 / max). Default database: a SQLite file in a
temporary folder. Not a test: it prints figures.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
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


def start_worker(database_url: str, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "SIGNOFF_WORKERS": str(workers)}
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--executions", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--resumes", type=int, default=100)
    args = parser.parse_args()
    default_db = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    database_url = os.environ.get("DATABASE_URL", default_db)
    os.environ["DATABASE_URL"] = database_url
    setup_django()

    from django_q.models import OrmQ

    from flows import engine, loader
    from flows.models import Execution, SuspensionToken, TaskRun, Tenant

    # A tenant of its own per run: the audit trail is append-only, so an earlier
    # run's executions stay (manage.py purge removes them once they finished).
    slug = f"bench-{time.strftime('%Y%m%d%H%M%S')}"
    tenant = Tenant.objects.create(slug=slug, name="Bench")
    OrmQ.objects.all().delete()  # wake-ups left by an earlier, interrupted run
    flow = loader.load_flow(tenant, FLOW).flow
    worker = start_worker(database_url, args.workers)
    try:
        time.sleep(2)  # let the cluster start before the clock runs
        started = time.monotonic()
        for _ in range(args.executions):
            engine.start_execution(flow, {})
        queued = time.monotonic() - started
        paused = Execution.objects.filter(tenant=tenant, state="PAUSED")
        waited = wait_until(lambda: paused.count() == args.executions, 120)
        print(f"database: {database_url.split('://')[0]}, workers: {args.workers}")
        print(f"{args.executions} executions started in {queued:.2f} s")
        print(f"all PAUSED {queued + waited:.2f} s after the first start")

        latencies = []
        tokens = SuspensionToken.objects.filter(tenant=tenant, state="WAITING")
        for token in list(tokens[: args.resumes]):
            engine.resume(token, {}, channel="bench")
            runs = TaskRun.objects.filter(execution_id=token.execution_id)
            after = runs.filter(task_id="after")
            wait_until(after.exists, 30)
            token.refresh_from_db()
            latency = after.get().started_at - token.resolved_at
            latencies.append(latency.total_seconds())
        ms = [1000 * v for v in latencies]
        print(
            f"resume -> next task started, {len(ms)} resumes one at a time: "
            f"p50 {statistics.median(ms):.1f} ms, p95 {percentile(ms, 0.95):.1f} ms, "
            f"max {max(ms):.1f} ms"
        )
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


if __name__ == "__main__":
    main()
