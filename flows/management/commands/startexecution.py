"""Start an execution from the command line; prints its id as the last line."""

from django.core.management.base import BaseCommand, CommandError

from flows import engine, inputs
from flows.models import Flow, Tenant


def parse_assignments(pairs: list[str]) -> dict:
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"--input expects KEY=VALUE, got {pair!r}")
        values[key] = value
    return values


class Command(BaseCommand):
    help = "Validate inputs and start an execution of NAMESPACE FLOW_ID."

    def add_arguments(self, parser):
        parser.add_argument("namespace")
        parser.add_argument("flow_id")
        parser.add_argument(
            "--tenant", default="default", help="tenant slug (default: default)"
        )
        parser.add_argument(
            "--input",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a flow input; dotted keys nest (request.name=Ada); repeatable",
        )

    def handle(self, *args, **options):
        flow = self._flow(options["tenant"], options["namespace"], options["flow_id"])
        try:
            execution = engine.start_execution(
                flow, parse_assignments(options["input"])
            )
        except inputs.InputValidationError as exc:
            lines = [f"  {key}: {' '.join(msgs)}" for key, msgs in exc.errors.items()]
            raise CommandError("invalid inputs:\n" + "\n".join(lines)) from exc
        except engine.HoldConflict as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"started {flow} revision {execution.revision.revision}")
        self.stdout.write(str(execution.pk))

    def _flow(self, tenant_slug, namespace, flow_id) -> Flow:
        tenant = Tenant.objects.filter(slug=tenant_slug).first()
        if tenant is None:
            raise CommandError(f"No tenant {tenant_slug!r}")
        flow = Flow.objects.filter(
            tenant=tenant, namespace=namespace, flow_id=flow_id
        ).first()
        if flow is None:
            raise CommandError(
                f"No flow {namespace}.{flow_id} in tenant {tenant_slug!r}"
            )
        return flow
