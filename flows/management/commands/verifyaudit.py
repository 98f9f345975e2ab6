"""Check the audit trail's hash chains: every execution's, or one."""

import uuid

from django.core.management.base import BaseCommand, CommandError

from flows import retention, trail
from flows.models import Execution


class Command(BaseCommand):
    help = (
        "Verify the audit trail: each event's hash covers its content and the "
        "previous event's hash. Exits non-zero naming the first broken link."
    )

    def add_arguments(self, parser):
        parser.add_argument("--execution", metavar="ID", help="only this execution")

    def handle(self, *args, execution=None, **options):
        executions = Execution.objects.all()
        if execution is not None:
            executions = executions.filter(pk=_uuid(execution))
            if not executions.exists():
                raise CommandError(f"No execution {execution}")
        report = trail.verify(executions)
        checked = f"{report.events} events in {report.executions} executions"
        for broken in report.broken:
            self.stderr.write(f"broken: {broken}")
        if report.broken:
            raise CommandError(
                f"Checked {checked}: {len(report.broken)} chain(s) broken; "
                f"first: {report.broken[0]}"
            )
        if not retention.guard_installed():
            raise CommandError(
                f"Checked {checked}: every chain verifies, but the append-only "
                f"trigger on {retention.TABLE} is missing "
                "(flows.retention.install_guard creates it)"
            )
        self.stdout.write(f"Checked {checked}: every chain verifies.")


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not an execution id (a UUID)") from exc
