"""POST /api/executions/{id}/resume: any channel answers a suspension here.

Refusals come in a fixed order (401, 404, 403 tenant, 404 an execution the user may
not see, 409, 410, 403 not allowed, 400); an accepted answer is a 202 and the
execution continues on a worker.
"""

import uuid
from contextlib import nullcontext

from django.db import IntegrityError, transaction
from django.db.models import F
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from approvals import access, answers, context
from approvals.api import docs, payloads
from approvals.api.common import (
    ApiView,
    Problem,
    check_tenant,
    check_visible,
    parse_uuid,
    status_url,
)
from approvals.forms import answer_form, error_dict
from approvals.models import IdempotentReply
from flows import engine, text
from flows.models import Execution, SuspensionToken

KEY_HEADER = "Idempotency-Key"
INVALID_DATA = "Invalid response data."
MAX_KEY_LENGTH = IdempotentReply._meta.get_field("key").max_length


class ResumeView(ApiView):
    """Answer a suspension; 202 once the answer is stored and the resume enqueued."""

    @extend_schema(**docs.RESUME)
    def post(self, request, id):
        key = request.headers.get(KEY_HEADER, "")
        return resume(request.user, id, request.data, key, if_match(request))


def resume(user, raw_id: str, data, key: str = "", if_match: str = "") -> Response:
    """The whole single resume: replay a known key, else answer (bulk-resume too)."""
    if problem := text.problem(key):  # before the lookup: no database can run it
        raise Problem(400, "Invalid Idempotency-Key.", errors={KEY_HEADER: [problem]})
    if key and (replayed := replay(user, key, raw_id)) is not None:
        return replayed
    try:
        return answer(user, raw_id, data, key, if_match)
    except (engine.AlreadyConsumed, answers.AlreadyAnswered, IntegrityError):
        # A retry with the same key that raced the first request, and lost at
        # any check after the lookup above, gets the reply the winner committed.
        if key and (replayed := replay(user, key, raw_id)) is not None:
            return replayed
        raise


def answer(user, raw_id: str, data, key: str, if_match: str = "") -> Response:
    """Every check in the contract's order, then the answer itself.

    One transaction: the lookup locks the execution row (the engine's first
    lock), so the checks and the answer need no lookup or lock of their own.
    """
    with transaction.atomic():
        token = find_token(user, raw_id, lock=True)
        values = checked_values(user, token, data, if_match=if_match)
        if len(key) > MAX_KEY_LENGTH:
            message = f"At most {MAX_KEY_LENGTH} characters."
            errors = {KEY_HEADER: [message]}
            raise Problem(400, "Invalid Idempotency-Key.", errors=errors)
        shown = context.shown_through_api(token, if_match)
        return accept(user, token, values, key, shown=shown, locked=True)


def checked_values(
    user, token: SuspensionToken, data, files=None, *, api=True, if_match=""
) -> dict:
    """The checks every resume route makes after finding the token, in order:
    403 tenant, 404 invisible, 409, 410, 403 may not answer, 412 context changed
    since it was shown (`If-Match`), 400 invalid; the typed values otherwise."""
    answers.check_can_answer(user, token)
    context.check_unchanged(token, if_match)
    form = answer_form(token, data, files, api=api)
    if not form.is_valid():
        raise Problem(400, INVALID_DATA, errors=error_dict(form))
    return form.values


def if_match(request) -> str:
    return request.headers.get("If-Match", "")


def find_token(user, raw_id: str, *, lock: bool = False) -> SuspensionToken:
    """The token with this id, else this execution's waiting (or latest) token.

    One query, with what the checks need: tenant membership and entitlement to
    answer (which implies visibility; anyone else's is looked up only then).
    `lock`: also lock its execution row (engine.locking),
    for a caller that answers it in the same transaction.
    """
    pk = parse_uuid(raw_id)
    tokens = payloads.with_execution(SuspensionToken.objects)
    tokens = access.with_answer_checks(tokens, user)
    if lock:
        tokens = engine.locking(tokens)
    try:
        return engine.token_for(pk, tokens)
    except engine.SeveralWaiting as exc:
        check_tenant(user, exc.tokens[0], "execution")
        check_visible(user, exc.tokens[0], "suspension or execution")
        raise Problem(
            409,
            "This execution waits on several suspensions; answer one by its token id.",
            state=exc.tokens[0].execution.state,
            resolvedBy=None,
            resolvedAt=None,
            executionId=str(pk),
            waiting=[
                {"tokenId": str(token.pk), "path": token.task_run.path}
                for token in exc.tokens
            ],
        ) from None
    except engine.NotFound:
        pass
    executions = access.with_visible(Execution.objects.only("tenant_id", "state"), user)
    execution = executions.filter(pk=pk).first()
    if execution is None:
        raise Problem(404, "No such suspension or execution.")
    check_tenant(user, execution, "execution")
    check_visible(user, execution, "suspension or execution")
    raise Problem(
        409,
        "This execution is not waiting for an answer.",
        state=execution.state,
        resolvedBy=None,
        resolvedAt=None,
        executionId=str(execution.pk),
    )


def accept(
    user, token: SuspensionToken, values: dict, key: str, *, shown=None, locked=False
) -> Response:
    """Record the answer (and the reply to replay, in the same transaction): 202."""
    headers = {"Location": status_url(token.execution_id)}
    with transaction.atomic(savepoint=False) if key else nullcontext():
        outcome = answers.answer(
            user, token, values, channel="api", shown=shown, locked=locked
        )
        body = {"executionId": str(token.execution_id), "status": "Resuming"}
        if not outcome.resumed:
            body.update(status="Waiting", approvals=outcome.approvals)
            body["required"] = outcome.required
        if key:
            IdempotentReply.objects.create(
                user=user, key=key, token=token, status=202, body=body, headers=headers
            )
    return Response(body, status=202, headers=headers)


def replay(user, key: str, raw_id: str) -> Response | None:
    """The stored reply for this user's key, or None if the key is new.

    A key already used for another suspension is refused with 422: replaying that
    other answer's reply here would tell the client something false.
    """
    reply = (
        IdempotentReply.objects.filter(user=user, key=key)
        .annotate(execution_id=F("token__execution_id"))
        .first()
    )
    if reply is None:
        return None
    if _as_uuid(raw_id) not in (reply.token_id, reply.execution_id):
        raise Problem(
            422,
            f"This {KEY_HEADER} was already used to answer another suspension; "
            "send a new key with each new answer.",
            tokenId=str(reply.token_id),
        )
    headers = {**reply.headers, "Idempotent-Replayed": "true"}
    return Response(reply.body, status=reply.status, headers=headers)


def _as_uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None
