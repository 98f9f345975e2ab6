"""What every API view shares: JSON in and out, and domain errors mapped to codes."""

import uuid

from django.urls import reverse
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from approvals import access, answers
from flows import engine


class Problem(Exception):
    """An error response: a status code and a JSON body with at least `detail`."""

    def __init__(self, status: int, detail: str, **extra):
        super().__init__(detail)
        self.status = status
        self.body = {"detail": detail, **extra}


class ApiView(APIView):
    """JSON only; refusals raised anywhere in a handler become their status code."""

    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def handle_exception(self, exc):
        problem = as_problem(exc)
        if problem is None:
            return super().handle_exception(exc)
        return Response(problem.body, status=problem.status)


def as_problem(exc: Exception) -> Problem | None:
    """The response for a domain error, or None to let DRF handle it."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, access.Denied):
        return Problem(403, str(exc))
    if isinstance(exc, engine.NotFound | access.Invisible):
        return Problem(404, "No such suspension or execution.")
    if isinstance(exc, answers.AlreadyAnswered):
        return Problem(409, "You have already answered this suspension.")
    if isinstance(exc, engine.AlreadyConsumed):
        return consumed(exc.token)
    if isinstance(exc, engine.Expired):
        return expired(exc.token)
    return None


def consumed(token) -> Problem:
    state = token.state.lower()
    return Problem(
        409,
        f"This suspension was already {state}; the execution is not waiting for it.",
        state=token.state,
        resolvedBy=token.resolved_by_name or None,
        resolvedAt=iso(token.resolved_at),
        executionId=str(token.execution_id),
    )


def expired(token) -> Problem:
    deadline = token.expires_at or token.resolved_at
    return Problem(
        410,
        f"This suspension expired at {iso(deadline)}.",
        expiredAt=iso(deadline),
        executionId=str(token.execution_id),
    )


def parse_uuid(raw: str, what: str = "suspension or execution") -> uuid.UUID:
    """A path id as a UUID; a malformed one is simply not found (404)."""
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise Problem(404, f"No such {what}.") from None


def check_tenant(user, obj, what: str) -> None:
    """403 unless `obj` (anything with a tenant_id) is in one of the user's tenants."""
    if obj.tenant_id not in access.tenant_ids(user):
        raise access.Denied(f"This {what} belongs to another tenant.")


def check_visible(user, row, what: str) -> None:
    """404, worded like a missing one, unless the user may see `row`'s execution."""
    try:
        access.check_visible(user, row)
    except access.Invisible:
        raise Problem(404, f"No such {what}.") from None


def iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def status_url(execution_id) -> str:
    return reverse("api:execution-status", args=[execution_id])


def execution_url(execution_id) -> str:
    return reverse("api:execution", args=[execution_id])


def resume_url(token_id) -> str:
    return reverse("api:resume", args=[token_id])
