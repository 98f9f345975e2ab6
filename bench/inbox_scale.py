"""The inbox with many waiting tokens: time and queries of its first page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/signoff_bench \\
        .venv/bin/python bench/inbox_scale.py [--tokens 100000]

Seeds waiting tokens with bulk_create (once; re-runs reuse them), then requests
/approvals/ as a member through Django's test client, 20 times, and prints the
median and worst time and the number of queries. Not a test: it prints figures.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)


FLOW = """
id: inbox
namespace: bench.inbox
tasks:
  - id: wait
    type: Pause
    screen: approval
    message: "Approve request"
"""


def seed(tenant, user, count: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from flows import loader
    from flows.models import Execution, SuspensionToken, TaskRun

    have = SuspensionToken.objects.filter(tenant=tenant, state="WAITING").count()
    if have >= count:
        return
    flow = loader.load_flow(tenant, FLOW).flow
    revision = flow.revisions.get(revision=flow.latest_revision)
    now = timezone.now()
    for start in range(have, count, 5000):
        size = min(5000, count - start)
        executions = Execution.objects.bulk_create(
            Execution(tenant=tenant, flow=flow, revision=revision, state="PAUSED")
            for _ in range(size)
        )
        runs = TaskRun.objects.bulk_create(
            TaskRun(
                execution=e,
                path="wait",
                task_id="wait",
                task_type="Pause",
                state="PAUSED",
                attempt=1,
                started_at=now,
            )
            for e in executions
        )
        SuspensionToken.objects.bulk_create(
            SuspensionToken(
                tenant=tenant,
                execution=e,
                task_run=r,
                screen="approval",
                message=f"Approve request {start + i}",
                expires_at=now + timedelta(days=1, minutes=start + i),
            )
            for i, (e, r) in enumerate(zip(executions, runs, strict=True))
        )
        print(f"seeded {start + size} tokens", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would give


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
    seed(tenant, user, args.tokens)
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
