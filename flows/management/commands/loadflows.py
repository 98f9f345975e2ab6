"""Load flow YAML files into a tenant: all of them, or none if any is invalid."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from flows import loader
from flows.models import Tenant


class Command(BaseCommand):
    help = (
        "Validate flow YAML files (or folders of *.yaml / *.yml) and save them as "
        "new flow revisions. Nothing is saved if any file is invalid."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument(
            "--tenant", default="default", help="tenant slug (default: %(default)s)"
        )

    def handle(self, *args, paths, tenant, **options):
        tenant_obj = Tenant.objects.filter(slug=tenant).first()
        if tenant_obj is None:
            raise CommandError(f"No tenant '{tenant}'")
        check_paths(paths)
        parsed = loader.parse_paths(paths)
        invalid = [item for item in parsed if item.error is not None]
        if invalid:
            for item in invalid:
                self.stderr.write(str(item.error))
            raise CommandError(
                f"{len(invalid)} of {len(parsed)} flow files are invalid; "
                "nothing was saved"
            )
        with transaction.atomic():
            results = [
                loader.save_flow(tenant_obj, item.source, item.definition)
                for item in parsed
            ]
        for result in results:
            unchanged = "" if result.created_revision else " (unchanged)"
            self.stdout.write(
                f"{result.flow} revision {result.revision.revision}{unchanged}"
            )


def check_paths(paths: list[str]) -> None:
    for name in paths:
        path = Path(name)
        if not path.exists():
            raise CommandError(f"No such file or directory: '{name}'")
        if path.is_dir() and not loader.find_flow_files([path]):
            raise CommandError(f"No *.yaml or *.yml files in '{name}'")
