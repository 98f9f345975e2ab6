"""Migration 0007 chains the events an older database already holds."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("flows", "0006_sweeper_lease")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets or executor.loader.graph.leaf_nodes())
    return executor.loader.project_state(targets).apps if targets else None


def old_rows(apps) -> list:
    """Two executions whose events were written interleaved, before the chain."""
    tenant = apps.get_model("flows", "Tenant").objects.create(slug="old", name="Old")
    flow = apps.get_model("flows", "Flow").objects.create(
        tenant=tenant, namespace="acme", flow_id="old", latest_revision=1
    )
    revision = apps.get_model("flows", "FlowRevision").objects.create(
        flow=flow, revision=1, source="", definition={}, checksum=""
    )
    Execution = apps.get_model("flows", "Execution")
    executions = [
        Execution.objects.create(tenant=tenant, flow=flow, revision=revision)
        for _ in range(2)
    ]
    Event = apps.get_model("flows", "ExecutionEvent")
    moment = datetime(2024, 5, 1, tzinfo=UTC)
    for step, to_state in enumerate(["CREATED", "RUNNING", "SUCCESS"]):
        for execution in executions:
            Event.objects.create(
                execution=execution,
                subject="execution",
                subject_id=str(execution.pk),
                from_state="",
                to_state=to_state,
                actor_name="system",
                at=moment + timedelta(seconds=step),
                data={"step": step, "amount": 1.5e20},
            )
    return [e.pk for e in executions]


@pytest.mark.django_db(transaction=True)
def test_an_upgraded_database_verifies_and_is_append_only():
    ids = old_rows(migrate(BEFORE))
    migrate(None)
    out = StringIO()
    call_command("verifyaudit", stdout=out)
    assert out.getvalue() == "Checked 6 events in 2 executions: every chain verifies.\n"
    from flows.models import Execution, ExecutionEvent

    for pk in ids:
        events = ExecutionEvent.objects.filter(execution_id=pk).order_by("seq")
        assert [e.to_state for e in events] == ["CREATED", "RUNNING", "SUCCESS"]
        assert Execution.objects.get(pk=pk).last_event_seq == 3
    with pytest.raises(DatabaseError), transaction.atomic():
        ExecutionEvent.objects.update(channel="forged")
