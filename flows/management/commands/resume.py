"""Resume a paused execution from the command line, through flows.engine.resume."""

import json
import uuid

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from flows import engine, inputs
from flows.models import SuspensionToken


def find_token(identifier: str) -> SuspensionToken:
    """A token by its UUID, or the latest suspension of an execution by its UUID."""
    try:
        key = uuid.UUID(identifier)
    except ValueError as exc:
        raise CommandError(f"{identifier!r} is not a UUID") from exc
    try:
        return engine.token_for(key)
    except engine.SeveralWaiting as exc:
        listed = ", ".join(f"{t.pk} ({t.task_run.path})" for t in exc.tokens)
        raise CommandError(
            f"Execution {key} waits on several suspensions; give one of: {listed}"
        ) from exc
    except engine.NotFound as exc:
        message = f"Not found: no suspension token or paused execution {key}"
        raise CommandError(message) from exc


class Command(BaseCommand):
    help = "Answer a suspension: ID is a token UUID or an execution UUID."

    def add_arguments(self, parser):
        parser.add_argument("id")
        parser.add_argument(
            "--data",
            default="{}",
            help="the answer as JSON, e.g. '{\"approved\": true}'",
        )
        parser.add_argument(
            "--as", dest="username", help="record the answer as this user"
        )

    def handle(self, *args, **options):
        token = find_token(options["id"])
        actor = self._actor(options["username"])
        data = self._data(options["data"])
        try:
            token = engine.resume(token, data, actor=actor, channel="cli")
        except engine.AlreadyConsumed as exc:
            t = exc.token
            who = t.resolved_by_name or "unknown"
            when = f"{t.resolved_at:%Y-%m-%d %H:%M:%S %Z}"
            raise CommandError(
                f"Already {t.state.lower()}: by {who} at {when}"
            ) from exc
        except engine.Expired as exc:
            raise CommandError(
                f"Expired: the deadline was {exc.token.expires_at:%Y-%m-%d %H:%M:%S %Z}"
            ) from exc
        except inputs.InputValidationError as exc:
            lines = [f"  {key}: {' '.join(msgs)}" for key, msgs in exc.errors.items()]
            raise CommandError("Invalid data:\n" + "\n".join(lines)) from exc
        self.stdout.write(
            f"resumed execution {token.execution_id} (token {token.pk}) "
            f"as {token.resolved_by_name}"
        )

    def _actor(self, username):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}")
        return user

    def _data(self, text: str) -> dict:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(f"--data is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise CommandError("--data must be a JSON object")
        return data
