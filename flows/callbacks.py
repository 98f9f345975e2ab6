"""Approval requests' callbacks: the signed completion URL and the outcome's POSTs.

An outbox: an ApprovalRequest whose token is no longer WAITING (answered, expired,
cancelled) and whose callback is PENDING is due. The sweeper claims each due one
with a conditional UPDATE that pushes `callback_next_at` forward (the claim's
lease) and queues `deliver` after the commit; the worker sends it outside any
transaction through flows.outbound, records a CallbackDelivery, and either marks
it DELIVERED or sets the next try (exponential backoff, for at most
SIGNOFF_CALLBACK_RETRY_SECONDS after the first attempt). A worker lost mid-send
leaves the claim to lapse and the sweeper sends again: the receiver drops the
duplicate by its `Idempotency-Key`, the same on every attempt.

Secrets are derived, not stored: the completion signature and the callback's
signing key are HMACs of the request id under SECRET_KEY (rotating SECRET_KEY
invalidates both, as it does Django's password-reset links).
"""

import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta
from functools import partial

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.crypto import constant_time_compare, salted_hmac

from flows import engine, outbound, secrets
from flows.models import ApprovalRequest, CallbackDelivery, SuspensionToken

SIGNATURE_HEADER = "Signoff-Signature"
CLAIM = timedelta(seconds=60)  # longer than one send may take (outbound timeout)
C = ApprovalRequest.Callback
S = SuspensionToken.State


def completion_signature(request_id) -> str:
    """The `sig` of the completion URL: its only credential."""
    return salted_hmac(
        "signoff.approval-request.complete", str(request_id), algorithm="sha256"
    ).hexdigest()


def check_completion(request_id, sig: str) -> bool:
    return constant_time_compare(completion_signature(request_id), sig or "")


def callback_secret(request_id) -> str:
    """The key this request's callbacks are signed with (told once, at creation)."""
    digest = salted_hmac(
        "signoff.approval-request.callback", str(request_id), algorithm="sha256"
    ).hexdigest()
    return f"whsec_{digest}"


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<ts>,v1=<hex hmac-sha256 of "<ts>.<body>">`, as Stripe's webhooks sign."""
    signed = f"{timestamp}.".encode() + body
    mac = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def idempotency_key(request: ApprovalRequest) -> str:
    return f"approval-request/{request.pk}"


def payload(request: ApprovalRequest) -> dict:
    """The outcome: the same body on every attempt."""
    token = request.token
    response = secrets.mask(token.response or {})  # as the API shows it
    return {
        "id": idempotency_key(request),
        "requestId": str(request.pk),
        "tokenId": str(token.pk),
        "executionId": str(request.execution_id),
        "state": token.state,
        "decision": response.get("decision"),
        "values": {k: v for k, v in response.items() if k != "decision"},
        "by": token.resolved_by_name or None,
        "at": token.resolved_at.isoformat() if token.resolved_at else None,
    }


def enqueue_due(moment: datetime | None = None, limit: int = 100) -> int:
    """Claim every due callback and queue its send after the commit; how many."""
    moment = moment or engine.now()
    due = (
        ApprovalRequest.objects.filter(callback=C.PENDING)
        .exclude(token__state=S.WAITING)
        .exclude(callback_next_at__gt=moment)
        .values_list("pk", "callback_next_at")[:limit]
    )
    claimed = 0
    for pk, next_at in due:
        with transaction.atomic():
            if ApprovalRequest.objects.filter(
                pk=pk, callback=C.PENDING, callback_next_at=next_at
            ).update(callback_next_at=moment + CLAIM):
                transaction.on_commit(partial(_queue, pk))
                claimed += 1
    return claimed


def _queue(pk) -> None:
    from django_q.tasks import async_task

    async_task("flows.callbacks.deliver", str(pk))


def next_due() -> datetime | None:
    """The earliest retry, so the sweeper wakes for it."""
    return (
        ApprovalRequest.objects.filter(
            callback=C.PENDING, callback_next_at__isnull=False
        )
        .order_by("callback_next_at")
        .values_list("callback_next_at", flat=True)
        .first()
    )


def deliver(request_id) -> CallbackDelivery | None:
    """The worker's send: one attempt, recorded; never inside a transaction."""
    request = (
        ApprovalRequest.objects.select_related("token")
        .filter(pk=request_id, callback=C.PENDING)
        .first()
    )
    if request is None or request.token.state == S.WAITING:
        return None
    body = json.dumps(payload(request), separators=(",", ":")).encode()
    status, error = _send(request, body)
    return _record(request, status, error)


def _send(request: ApprovalRequest, body: bytes) -> tuple[int | None, str]:
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature_header(
            callback_secret(request.pk), int(time.time()), body
        ),
    }
    try:
        reply = outbound.send(
            "POST",
            request.callback_url,
            idempotency_key=idempotency_key(request),
            headers=headers,
            content=body,
        )
    except outbound.Refused as exc:
        return None, f"refused: {exc}"
    except httpx.HTTPError as exc:
        return None, outbound.cap_body(f"{type(exc).__name__}: {exc}")
    error = "" if reply.is_success else outbound.cap_body(reply.text)
    return reply.status_code, error


def _record(request, status: int | None, error: str) -> CallbackDelivery | None:
    """The delivery row and the request's next state, in one transaction."""
    moment = engine.now()
    first = request.callback_first_at or moment
    attempt = request.deliveries.count() + 1
    delivered = status is not None and 200 <= status < 300
    next_at = None if delivered else moment + backoff(attempt)
    window = timedelta(seconds=settings.SIGNOFF_CALLBACK_RETRY_SECONDS)
    if next_at and (error.startswith("refused:") or next_at > first + window):
        next_at = None  # not retried: refused by the allow-list, or out of time
    outcome = C.DELIVERED if delivered else C.PENDING if next_at else C.GAVE_UP
    try:
        with transaction.atomic():
            delivery = CallbackDelivery.objects.create(
                request=request,
                attempt=attempt,
                at=moment,
                status_code=status,
                error=error,
                next_try_at=next_at,
            )
            ApprovalRequest.objects.filter(pk=request.pk, callback=C.PENDING).update(
                callback=outcome, callback_next_at=next_at, callback_first_at=first
            )
    except IntegrityError:  # a duplicate of this task recorded this attempt first
        return None
    return delivery


def backoff(attempt: int) -> timedelta:
    """The wait after the n-th failed attempt: doubling from the first delay, capped."""
    first = settings.SIGNOFF_CALLBACK_FIRST_DELAY
    seconds = min(settings.SIGNOFF_CALLBACK_MAX_DELAY, first * 2 ** (attempt - 1))
    return timedelta(seconds=seconds)
