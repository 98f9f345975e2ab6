"""The audit trail becomes a hash chain and append-only.

Existing events are numbered and chained in the order they were written (by id),
so `manage.py verifyaudit` passes on an upgraded database; then the trigger that
refuses UPDATE and DELETE on the events table is created (PostgreSQL and SQLite).
"""

from django.db import migrations, models

from flows import retention, trail


def chain_existing(apps, schema_editor):
    Execution = apps.get_model("flows", "Execution")
    ExecutionEvent = apps.get_model("flows", "ExecutionEvent")
    executions = Execution.objects.order_by("pk").values_list("pk", flat=True)
    for execution_id in executions.iterator(chunk_size=500):
        events = list(ExecutionEvent.objects.filter(execution_id=execution_id).order_by("pk"))
        seq, head = trail.link(events, 0, "")
        ExecutionEvent.objects.bulk_update(events, ["seq", "prev_hash", "hash"], batch_size=500)
        Execution.objects.filter(pk=execution_id).update(last_event_seq=seq, last_event_hash=head)


def install_guard(apps, schema_editor):
    model = apps.get_model("flows", "ExecutionEvent")
    for sql in retention.guard_sql(schema_editor.connection.vendor, model):
        schema_editor.execute(sql, None)  # no params: the '%' are plpgsql's


def remove_guard(apps, schema_editor):
    for sql in retention.unguard_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql, None)


class Migration(migrations.Migration):

    dependencies = [
        ("flows", "0006_sweeper_lease"),
    ]

    operations = [
        migrations.AddField(
            model_name="execution",
            name="last_event_seq",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="execution",
            name="last_event_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="executionevent",
            name="seq",
            field=models.PositiveIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="executionevent",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="executionevent",
            name="hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="executionevent",
            name="execution",
            field=models.ForeignKey(
                db_index=False,
                on_delete=models.deletion.CASCADE,
                related_name="events",
                to="flows.execution",
            ),
        ),
        migrations.AddConstraint(
            model_name="executionevent",
            constraint=models.UniqueConstraint(
                fields=("execution", "seq"), name="event_seq_once"
            ),
        ),
        migrations.RunPython(install_guard, remove_guard),
    ]
