"""The inbox with many waiting tokens: time and queries of its pages, and plans.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/signoff_bench \\
        .venv/bin/python bench/inbox_scale.py [--tokens 100000] [--small 200]

Seeds two tenants with waiting tokens with bulk_create (once; re-runs reuse
them), one with --small, one with --tokens. For each it requests, as a member
through Django's test client, 10 times each after a warm-up: the default tab (by
deadline and newest first), the live fragment the page polls, a search, and the
two other tabs; it prints the median and worst time and the number of queries of
each, so the two sizes read side by side. Then, on PostgreSQL, EXPLAIN ANALYZE of
the slowest queries of the default tab and the live fragment at the large size.
Not a test: it prints figures.
"""

import argparse
import statistics
import time

from common import make_waiting_tokens, setup_django

FLOW = """
id: inbox
namespace: bench.inbox
tasks:
  - id: wait
    type: Pause
    screen: approval
    message: "Approve request"
"""

PAGES = [
    ("waiting, by deadline", "/approvals/", {"sort": "deadline"}),
    ("waiting, newest first", "/approvals/", {"sort": "-age"}),
    ("live fragment", "/approvals/live", {"v": "x"}),
    ("search", "/approvals/", {"q": "Request 17"}),
    ("I started", "/approvals/", {"tab": "started"}),
    ("I answered", "/approvals/", {"tab": "answered"}),
]
EXPLAINED = ("waiting, by deadline", "live fragment")
REPEAT = 10


def seed(slug: str, count: int):
    """A tenant and its member with `count` waiting tokens (re-runs reuse them)."""
    from django.contrib.auth import get_user_model

    from flows import loader
    from flows.models import SuspensionToken, Tenant

    tenant, _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": slug})
    user, _ = get_user_model().objects.get_or_create(username=slug)
    tenant.members.add(user)
    have = SuspensionToken.objects.filter(tenant=tenant, state="WAITING").count()
    if have < count:
        flow = loader.load_flow(tenant, FLOW).flow
        make_waiting_tokens(flow, count - have, screen="approval")
    return user


def measure(user) -> dict:
    """label -> (median ms, worst ms, queries, the queries of the last request)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    figures = {}
    for label, path, query in PAGES:
        client.get(path, query)  # warm-up: templates, connections, caches
        timings = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path, query)
            timings.append(1000 * (time.perf_counter() - started))
            assert response.status_code in (200, 204), (label, response.status_code)
        figures[label] = (
            statistics.median(timings),
            max(timings),
            len(queries),
            list(queries),
        )
    return figures


def explain(label: str, captured: list) -> None:
    """EXPLAIN ANALYZE of the two slowest queries of one request."""
    from django.db import connection

    slowest = sorted(captured, key=lambda q: float(q["time"]), reverse=True)[:2]
    for query in slowest:
        print(f"\n-- {label}: {float(query['time']) * 1000:.1f} ms\n{query['sql']}")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            print("\n".join(row[0] for row in cursor.fetchall()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--no-explain", action="store_true")
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    small = measure(seed(f"inbox-bench-{args.small}", args.small))
    large = measure(seed(f"inbox-bench-{args.tokens}", args.tokens))
    print(f"database: {connection.vendor}; median / worst ms, queries")
    print(f"{'page':<24} {args.small:>22} {args.tokens:>22}")
    for label, *_ in PAGES:
        cells = [
            f"{m:6.1f} / {w:6.1f}, {n:2d} q"
            for m, w, n, _ in (small[label], large[label])
        ]
        print(f"{label:<24} {cells[0]:>22} {cells[1]:>22}")
    if connection.vendor == "postgresql" and not args.no_explain:
        for label in EXPLAINED:
            explain(f"{label}, {args.tokens} waiting", large[label][3])


if __name__ == "__main__":
    main()
