"""Retention: the audit trail's append-only guard and the one way rows go.

A trigger on the events table (migration 0007) refuses UPDATE and DELETE. The
only exceptions: a deleted user's events keep their `actor_name` while `actor`
becomes NULL, and `purging()`, which `purge()` uses to remove whole finished
executions. On PostgreSQL `purging()` is a transaction-local setting the trigger
reads; on SQLite a flag of the connection, read through a SQL function that only
Django's connections define (elsewhere the trigger fails closed).
"""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import connection, transaction
from django.db.models.deletion import Collector

from flows.models import Execution

TABLE = "flows_executionevent"
TRIGGER = "flows_event_append_only"
SETTING = "signoff.purging"
SQLITE_FLAG = "signoff_purging"
REFUSED = f"{TABLE} is append-only: only manage.py purge removes events"

POSTGRES_GUARD = [
    f"""CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND current_setting('{SETTING}', true) = 'on' THEN
            RETURN OLD;
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL
           AND to_jsonb(NEW) - 'actor_id' = to_jsonb(OLD) - 'actor_id' THEN
            RETURN NEW;  -- the actor's user was deleted; actor_name stays
        END IF;
        RAISE EXCEPTION '{REFUSED} (% refused)', TG_OP
            USING ERRCODE = 'restrict_violation';
    END;
    $$""",
    f"DROP TRIGGER IF EXISTS {TRIGGER} ON {TABLE}",
    f"""CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()""",
]
POSTGRES_UNGUARD = [
    f"DROP TRIGGER IF EXISTS {TRIGGER} ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TRIGGER}()",
]
SQLITE_UNGUARD = [
    f"DROP TRIGGER IF EXISTS {TRIGGER}_update",
    f"DROP TRIGGER IF EXISTS {TRIGGER}_delete",
]


def guard_sql(vendor: str, event_model) -> list[str]:
    """The statements that create the append-only trigger (none for other vendors).

    Run again after a migration that rebuilds the events table on SQLite (which
    drops its triggers); verifyaudit reports a missing trigger.
    """
    if vendor == "postgresql":
        return POSTGRES_GUARD
    if vendor != "sqlite":
        return []
    columns = [f.column for f in event_model._meta.concrete_fields]
    kept = " AND ".join(f'NEW."{c}" IS OLD."{c}"' for c in columns if c != "actor_id")
    return [
        *SQLITE_UNGUARD,
        f"""CREATE TRIGGER {TRIGGER}_update BEFORE UPDATE ON {TABLE}
        WHEN NOT (NEW.actor_id IS NULL AND {kept})
        BEGIN SELECT RAISE(ABORT, '{REFUSED} (UPDATE refused)'); END""",
        f"""CREATE TRIGGER {TRIGGER}_delete BEFORE DELETE ON {TABLE}
        WHEN NOT {SQLITE_FLAG}()
        BEGIN SELECT RAISE(ABORT, '{REFUSED} (DELETE refused)'); END""",
    ]


def unguard_sql(vendor: str) -> list[str]:
    return {"postgresql": POSTGRES_UNGUARD, "sqlite": SQLITE_UNGUARD}.get(vendor, [])


def guard_installed(using=None) -> bool:
    """Whether this database has the trigger (verifyaudit reports when it has not)."""
    conn = connection if using is None else using
    queries = {
        "postgresql": ("SELECT count(*) FROM pg_trigger WHERE tgname = %s", [TRIGGER]),
        "sqlite": (
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN "
            "(%s, %s)",
            [f"{TRIGGER}_update", f"{TRIGGER}_delete"],
        ),
    }
    if conn.vendor not in queries:
        return True  # no trigger is written for other databases
    sql, params = queries[conn.vendor]
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0] == len(params)


def define_sqlite_flag(sender, connection, **kwargs) -> None:
    """connection_created: the SQL function the SQLite DELETE trigger asks."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            SQLITE_FLAG, 0, lambda: int(getattr(connection, SQLITE_FLAG, False))
        )


@contextmanager
def purging() -> Iterator[None]:
    """Let this block's DELETEs through the trigger (and nothing after it)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _set_purging("on")
            yield
            _set_purging("off")
            return
        setattr(connection, SQLITE_FLAG, True)
        try:
            yield
        finally:
            setattr(connection, SQLITE_FLAG, False)


def _set_purging(value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [SETTING, value])


def finished_before(moment: datetime):
    """Executions in a terminal state that ended before `moment`."""
    return Execution.objects.filter(
        state__in=Execution.TERMINAL, ended_at__lt=moment
    ).order_by("ended_at", "pk")


def purge(moment: datetime, *, batch: int = 200) -> Counter:
    """Delete finished executions that ended before `moment`, with all their rows.

    Returns how many rows went, by model label. Each batch locks its executions
    first (the engine's lock order), so no writer is still adding to them.
    """
    removed: Counter = Counter()
    while True:
        with transaction.atomic():
            ids = list(
                finished_before(moment)
                .select_for_update(of=("self",))
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return removed
            with purging():
                _, counts = Execution.objects.filter(pk__in=ids).delete()
        removed.update(counts)


def would_purge(moment: datetime) -> Counter:
    """What purge() would remove, by model label, without removing anything."""
    collector = Collector(using=connection.alias)
    collector.collect(finished_before(moment))
    counts: Counter = Counter()
    for model, instances in collector.data.items():
        counts[model._meta.label] += len(instances)
    for rows in collector.fast_deletes:
        counts[rows.model._meta.label] += rows.count()
    return +counts
