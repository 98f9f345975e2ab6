"""The inbox with many waiting tokens: time and queries of its first page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/signoff_bench \\
        .venv/bin/python bench/inbox_scale.py [--tokens 100000]

Seeds waiting tokens with bulk_create (once; re-runs reuse them), then requests
/approvals/ as a member through Django's test client, 20 times, and prints the
median and worst time and the number of queries. Not a test: it prints figures.
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


def seed(tenant, count: int) -> None:
    """Top the tenant up to `count` waiting tokens (re-runs reuse them)."""
    from flows import loader
    from flows.models import SuspensionToken

    have = SuspensionToken.objects.filter(tenant=tenant, state="WAITING").count()
    if have < count:
        flow = loader.load_flow(tenant, FLOW).flow
        make_waiting_tokens(flow, count - have, screen="approval")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=100_000)
    args = parser.parse_args()
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from flows.models import Tenant

    tenant, _ = Tenant.objects.get_or_create(slug="inbox-bench", defaults={"name": "B"})
    user, _ = get_user_model().objects.get_or_create(username="inbox-bench")
    tenant.members.add(user)
    seed(tenant, args.tokens)
    client = Client()
    client.force_login(user)
    timings = []
    for sort in ["deadline"] * 10 + ["-age"] * 10:
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/approvals/", {"sort": sort})
        timings.append(1000 * (time.perf_counter() - started))
        assert response.status_code == 200, response.status_code
    print(f"database: {connection.vendor}, waiting tokens: {args.tokens}")
    print(
        f"inbox first page: median {statistics.median(timings):.1f} ms, "
        f"worst {max(timings):.1f} ms, {len(queries)} queries"
    )


if __name__ == "__main__":
    main()
