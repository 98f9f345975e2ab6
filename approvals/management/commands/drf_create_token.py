"""Issue an API token for a user; the key is printed once and stored only hashed."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from approvals.models import ApiToken


class Command(BaseCommand):
    help = "Create a bearer token for USERNAME (printed once; only its hash is kept)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="a label for the token")
        parser.add_argument(
            "-r", "--reset", action="store_true", help="revoke the user's other tokens"
        )

    def handle(self, *args, **options):
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}")
        if options["reset"]:
            ApiToken.objects.filter(user=user).delete()
        _, key = ApiToken.issue(user, options["name"])
        self.stdout.write(f"Generated token {key} for user {user.get_username()}")
