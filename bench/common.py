"""What the bench scripts share: Django set-up and bulk-made waiting suspensions."""

import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 5000


def setup_django() -> None:
    """Configure Django for DATABASE_URL and create the tables."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # A local benchmark, not production; its gunicorn and qcluster inherit it.
    os.environ.setdefault("SECRET_KEY", f"bench-{os.urandom(24).hex()}")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)


def make_waiting_tokens(flow, count: int, screen: str) -> list:
    """`count` paused executions of `flow`, each with a WAITING token (bulk inserts).

    Deadlines are one day ahead, a minute apart, so the order by deadline is total.
    """
    from django.db import connection
    from django.utils import timezone

    from flows.models import Execution, SuspensionToken, TaskRun

    revision = flow.revisions.get(revision=flow.latest_revision)
    now, tokens = timezone.now(), []
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        executions = Execution.objects.bulk_create(
            Execution(tenant=flow.tenant, flow=flow, revision=revision, state="PAUSED")
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
        tokens += SuspensionToken.objects.bulk_create(
            SuspensionToken(
                tenant=flow.tenant,
                execution=e,
                task_run=r,
                screen=screen,
                message=f"Request {start + i}",
                expires_at=now + timedelta(days=1, minutes=start + i),
            )
            for i, (e, r) in enumerate(zip(executions, runs, strict=True))
        )
        print(f"seeded {start + size} tokens", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would give
    return tokens
