"""What every API view shares: JSON in and out, and domain errors mapped to codes."""

import uuid

from django.urls import reverse
from rest_framework.exceptions import ParseError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from approvals import access, answers, context
from approvals.serializers import PageQuerySerializer
from flows import engine, yaml_lines


class Problem(Exception):
    """An error response: a status code and a JSON body with at least `detail`."""

    def __init__(self, status: int, detail: str, **extra):
        super().__init__(detail)
        self.status = status
        self.body = {"detail": detail, **extra}


class BodyParser(JSONParser):
    """JSON bodies; one too deep for Python's parser is a 400, not a RecursionError.

    The limits are the YAML loader's (depth and size), so nothing downstream walks
    a body deeper or bigger than a flow file may be.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - {yaml_lines.too_deep()}") from None
        too_big = yaml_lines.check_size(data)
        if too_big:
            raise ParseError(f"JSON parse error - {too_big}")
        return data


class BodyRenderer(JSONRenderer):
    """JSON out; a lone surrogate echoed from a request body (an unknown key) has
    no UTF-8 form, so that one reply is written with ASCII escapes instead."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            self.ensure_ascii = True  # this instance serves one response
            return super().render(data, accepted_media_type, renderer_context)


class ApiView(APIView):
    """JSON only; refusals raised anywhere in a handler become their status code."""

    parser_classes = [BodyParser]
    renderer_classes = [BodyRenderer]

    def handle_exception(self, exc):
        problem = as_problem(exc)
        if problem is None:
            return super().handle_exception(exc)
        return Response(problem.body, status=problem.status)


def as_problem(exc: Exception) -> Problem | None:
    """The response for a domain error, or None to let DRF handle it."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, ParseError):
        return Problem(400, str(exc.detail), errors={"__all__": [str(exc.detail)]})
    if isinstance(exc, access.Denied):
        return Problem(403, str(exc))
    if isinstance(exc, engine.NotFound | access.Invisible):
        return Problem(404, "No such suspension or execution.")
    if isinstance(exc, answers.AlreadyAnswered):
        return Problem(409, "You have already answered this suspension.")
    if isinstance(exc, engine.AlreadyConsumed):
        return consumed(exc.token)
    if isinstance(exc, engine.Reassigned):
        return reassigned(exc.token)
    if isinstance(exc, engine.Expired):
        return expired(exc.token)
    if isinstance(exc, engine.HoldConflict):
        by = {"by": exc.by} if exc.by else {}
        return Problem(409, str(exc), state=exc.state, **by)
    if isinstance(exc, context.Changed):
        return Problem(
            412,
            "What this suspension shows changed since the fingerprint in If-Match "
            "was taken; reload it and answer again.",
            fingerprint=exc.fingerprint,
            executionId=str(exc.token.execution_id),
        )
    return None


def consumed(token) -> Problem:
    state = token.state.lower()
    by = f" by {token.resolved_by_name}" if token.resolved_by_name else ""
    return Problem(
        409,
        f"This suspension was already {state}{by}; "
        "the execution is not waiting for it.",
        state=token.state,
        resolvedBy=token.resolved_by_name or None,
        resolvedAt=iso(token.resolved_at),
        executionId=str(token.execution_id),
    )


def reassigned(token) -> Problem:
    """409: handed to someone else while this answer was on its way."""
    return Problem(
        409,
        f"This suspension was handed to {access.describe(token.assignees)} while "
        "your answer was on its way; it was not recorded.",
        state=token.state,
        resolvedBy=None,
        resolvedAt=None,
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
    if not access.in_tenant(user, obj):
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


class Pagination(LimitOffsetPagination):
    """?limit and ?offset checked like a body: a bad one is a 400 naming it."""

    def paginate_queryset(self, queryset, request, view=None):
        query = PageQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise Problem(400, "Invalid page.", errors=field_errors(query.errors))
        return super().paginate_queryset(queryset, request, view)


def field_errors(errors: dict, prefix: str = "") -> dict[str, list[str]]:
    """A serializer's errors keyed like the forms' (`__all__` for the whole body,
    dotted paths for nested fields such as `labels.team`)."""
    flat: dict[str, list[str]] = {}
    for name, messages in errors.items():
        key = "__all__" if name == "non_field_errors" else f"{prefix}{name}"
        if isinstance(messages, dict):
            flat.update(field_errors(messages, prefix=f"{key}."))
        else:
            flat[key] = [str(message) for message in messages]
    return flat
