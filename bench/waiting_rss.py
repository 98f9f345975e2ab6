"""Waiting costs nothing: a qcluster's memory with 0 and with 100,000 waiting runs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/signoff_rss \\
        .venv/bin/python bench/waiting_rss.py [--waiting 100000] [--passes 5]

Use a database of its own (the figures count every waiting row in it). Creates
the tables (migrate), starts one `qcluster` (its default settings), lets the
sweeper make --passes passes, and prints the cluster's RSS: the sum over its
process group, read from /proc. Then it bulk-makes --waiting paused executions
(each with its task run and waiting token, deadlines a day ahead, as
bench/common.py does), lets the sweeper make as many passes again, and prints the
RSS again, and what one sweeper pass costs in queries and time at each size.
Linux only (/proc). Not a test: it prints figures.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from common import ROOT, make_waiting_tokens, setup_django

FLOW = """
id: waiting
namespace: bench.rss
tasks:
  - id: wait
    type: Pause
"""
PAGE = os.sysconf("SC_PAGE_SIZE")


def start_cluster() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the sum is over it
    )


def group_rss(pgid: int) -> tuple[int, int]:
    """(bytes resident, processes) summed over the process group `pgid`."""
    total, count = 0, 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            # The fields after the command's closing parenthesis: state ppid pgrp.
            if int(stat.rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            resident = int((proc / "statm").read_text().split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue  # ended while we looked
        total += resident * PAGE
        count += 1
    return total, count


def wait_for_passes(passes: int, timeout: float = 120) -> None:
    """Until the sweeper lease was renewed `passes` times (once per pass)."""
    from flows.models import SweeperLease

    seen, last, started = 0, None, time.monotonic()
    while seen < passes:
        if time.monotonic() - started > timeout:
            raise SystemExit("the sweeper made no passes: is the qcluster running?")
        row = SweeperLease.objects.filter(name="sweeper").values_list(
            "expires_at", flat=True
        )
        current = row.first()
        if current is not None and current != last:
            seen += last is not None
            last = current
        time.sleep(0.05)


def one_pass() -> str:
    """What one sweep costs here (queries and time), at the current size."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from flows import sweeper

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        sweeper.sweep_once()
        sweeper.seconds_until_next_pass()
        elapsed = time.perf_counter() - started
    return f"one sweeper pass {1000 * elapsed:.1f} ms, {len(queries)} queries"


def report(label: str, cluster: subprocess.Popen) -> int:
    from flows.models import Execution

    waiting = Execution.objects.filter(state="PAUSED").count()
    rss, processes = group_rss(cluster.pid)
    print(
        f"{label}: {waiting} waiting executions, qcluster RSS "
        f"{rss / 2**20:.1f} MiB over {processes} processes; {one_pass()}",
        flush=True,
    )
    return rss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--waiting", type=int, default=100_000)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL to a database of this bench's own")
    setup_django()
    from flows import loader
    from flows.models import Tenant

    tenant = Tenant.objects.create(slug=f"rss-{uuid.uuid4().hex[:8]}", name="RSS")
    flow = loader.load_flow(tenant, FLOW).flow
    cluster = start_cluster()
    try:
        wait_for_passes(args.passes)
        before = report("before", cluster)
        make_waiting_tokens(flow, args.waiting, screen="resume")
        wait_for_passes(args.passes)
        after = report("after", cluster)
        change = (after - before) / 2**20
        print(f"RSS change: {change:+.1f} MiB ({100 * change * 2**20 / before:+.1f} %)")
    finally:
        os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait()


if __name__ == "__main__":
    main()
