"""Resume API under load: requests per second, latency and queries per request.

    pip install -e ".[bench]"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/signoff_bench \\
        .venv/bin/python bench/resume_api.py [--requests N] [--clients C] [--workers W]

Seeds waiting suspensions (bulk_create), starts gunicorn (sync workers, persistent
database connections) on config.wsgi, and sends each suspension one
`POST /api/executions/{id}/resume` with a bearer key from CLIENTS threads, each on
its own keep-alive connection. Prints throughput, p50/p95/p99 and the status
codes, and the queries one resume makes. The load generator shares the machine's
cores with the server, so compare figures taken in the same run only.
No worker runs: the continuations stay queued, as the floor measures only the
resume's own writes.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid

from common import ROOT, make_waiting_tokens, setup_django

FLOW = """
id: resume_bench
namespace: bench.api
tasks:
  - id: wait
    type: Pause
  - id: after
    type: Return
    format: done
"""


def seed(count: int):
    """`count` waiting tokens of a fresh tenant, and a member's bearer key."""
    from django.contrib.auth import get_user_model

    from approvals.models import ApiToken
    from flows import loader
    from flows.models import Tenant

    slug = f"resume-bench-{uuid.uuid4().hex[:8]}"  # a fresh tenant every run
    tenant = Tenant.objects.create(slug=slug, name="Resume bench")
    user, _ = get_user_model().objects.get_or_create(username="resume-bench")
    tenant.members.add(user)
    flow = loader.load_flow(tenant, FLOW).flow
    tokens = make_waiting_tokens(flow, count, screen="resume")
    _, key = ApiToken.issue(user, "bench")
    return [str(t.pk) for t in tokens], key


def count_queries(token_id: str, key: str) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            f"/api/executions/{token_id}/resume", {}, content_type="application/json"
        )
    assert response.status_code == 202, response.content
    return len(queries)


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--backlog",
            "2048",
        ],
        cwd=ROOT,
        start_new_session=True,
    )
    import httpx

    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/schema/", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def drive(port: int, key: str, token_ids: list[str], clients: int) -> tuple:
    import httpx

    slices = [token_ids[i::clients] for i in range(clients)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client_loop(ids):
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as c:
            for token_id in ids:
                started = time.perf_counter()
                response = c.post(f"/api/executions/{token_id}/resume", json={})
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    statuses[response.status_code] = (
                        statuses.get(response.status_code, 0) + 1
                    )

    threads = [threading.Thread(target=client_loop, args=(s,)) for s in slices]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8078)
    args = parser.parse_args()
    setup_django()
    token_ids, key = seed(args.requests + 201)  # + warm-up + the counted one
    queries = count_queries(token_ids.pop(), key)
    server = start_gunicorn(args.port, args.workers)
    try:
        drive(args.port, key, token_ids[:200], args.clients)  # warm-up
        elapsed, latencies, statuses = drive(
            args.port, key, token_ids[200:], args.clients
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
    ms = sorted(1000 * v for v in latencies)
    pick = lambda share: ms[min(len(ms) - 1, int(share * len(ms)))]  # noqa: E731
    print(f"queries per resume: {queries}")
    print(
        f"{len(ms)} resumes, {args.clients} clients, {args.workers} gunicorn workers: "
        f"{len(ms) / elapsed:.0f} req/s, p50 {statistics.median(ms):.1f} ms, "
        f"p95 {pick(0.95):.1f} ms, p99 {pick(0.99):.1f} ms, statuses {statuses}"
    )


if __name__ == "__main__":
    main()
