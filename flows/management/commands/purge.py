"""Remove whole finished executions older than a date: the one way rows go."""

from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from flows import retention


class Command(BaseCommand):
    help = (
        "Delete executions in a terminal state that ended before DATE, with their "
        "events, task runs, tokens, answers and replies. Other chains stay valid."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--finished-before",
            required=True,
            metavar="DATE",
            help="YYYY-MM-DD (midnight, server time zone) or an ISO 8601 date-time",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would go, remove nothing"
        )

    def handle(self, *args, finished_before, dry_run, **options):
        moment = parse_moment(finished_before)
        if dry_run:
            for execution in retention.finished_before(moment).select_related("flow"):
                self.stdout.write(
                    f"would remove {execution.pk} {execution.flow} {execution.state} "
                    f"ended {execution.ended_at.isoformat()}"
                )
            counts = retention.would_purge(moment)
            self.stdout.write(f"Would remove {describe(counts)}.")
            return
        counts = retention.purge(moment)
        self.stdout.write(f"Removed {describe(counts)}.")


def parse_moment(value: str) -> datetime:
    try:
        moment = parse_datetime(value)
        day = None if moment else parse_date(value)
    except ValueError:
        moment = day = None
    if day is not None:
        moment = datetime.combine(day, time.min)
    if moment is None:
        raise CommandError(
            f"--finished-before {value!r} is not a date (YYYY-MM-DD) or an ISO 8601 "
            "date-time"
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def describe(counts) -> str:
    executions = counts.pop("flows.Execution", 0)
    rows = ", ".join(f"{n} {label}" for label, n in sorted(counts.items()))
    return f"{executions} execution(s)" + (f" ({rows})" if rows else "")
