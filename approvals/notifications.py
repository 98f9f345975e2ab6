"""Telling people a token waits for them: the outbox, its worker and its retries.

`tell()` writes one Notice per person (email) and one per chat channel, inside
the caller's transaction (the pause's, a reminder's, an escalation's, a
delegation's), and queues each send after the commit: a worker lost before
sending leaves a PENDING row the sweeper sends again. `deliver()` runs in the
worker, outside any transaction: it claims the attempt with a conditional UPDATE
(django-q2 may deliver a task twice; only one of the two sends), sends, records a
NoticeDelivery, and either marks the notice SENT or sets the next try (the
callbacks' backoff and window). A notice whose token stopped waiting is SKIPPED.

Who is told about a waiting token: each user assignee and each member of a group
assignee who belongs to the token's tenant, less whoever already answered and,
when self-approval is not allowed, its starter. A pause with no assignees is open
to every member of the tenant: nobody is emailed (a mail to everyone is noise);
its chat channel, if any, is still told, and the execution page says so.
"""

from datetime import timedelta
from functools import partial

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q

from approvals import links, notice_messages
from approvals.models import Notice, NoticeDelivery
from flows import engine, outbound, secrets
from flows.callbacks import backoff
from flows.models import SuspensionToken

CLAIM = timedelta(seconds=120)  # longer than one send may take (SMTP or webhook)
N = Notice.State
S = SuspensionToken.State


def recipients(token: SuspensionToken) -> list:
    """The people to tell about `token` (see the module's docstring)."""
    assignees = token.assignees or {}
    users, groups = assignees.get("users") or [], assignees.get("groups") or []
    if not users and not groups:
        return []
    User = get_user_model()
    named = Q(**{f"{User.USERNAME_FIELD}__in": users}) | Q(groups__name__in=groups)
    people = User.objects.filter(named, is_active=True, tenants=token.tenant_id)
    people = people.exclude(answers__token=token)
    starter = token.execution.created_by_id
    if not token.allow_self_approval and starter is not None:
        people = people.exclude(pk=starter)
    return list(people.distinct().order_by(User.USERNAME_FIELD))


def notify_waiting(token: SuspensionToken) -> list[Notice]:
    """The pause hook: tell its assignees it waits (flows.hooks.on_waiting)."""
    return tell(token, recipients(token), reason="waiting")


def tell(token: SuspensionToken, users, *, reason: str) -> list[Notice]:
    """Tell `users` that `token` waits for them, and its chat channel, for `reason`
    ("waiting", "reminder", "escalated", "delegated"...). Call it inside the
    transaction that changed things: it only writes the outbox rows; they are sent
    after the commit. The token's `notify: false` (or `email: false`) holds."""
    channels = token.options.get("notify") or {"email": True, "slack": None}
    moment = engine.now()
    rows = []
    if channels.get("email", True):
        rows += [
            Notice(token=token, user=user, channel=Notice.Channel.EMAIL)
            for user in users
        ]
    slack = chat_target(channels.get("slack"))
    if slack and (users or reason == "waiting"):
        rows.append(Notice(token=token, channel=Notice.Channel.SLACK, target=slack))
    for row in rows:
        row.reason, row.created_at, row.next_at = reason, moment, moment + CLAIM
    created = Notice.objects.bulk_create(rows)
    for notice in created:
        transaction.on_commit(partial(_queue, notice.pk))
    return created


def chat_target(slack):
    """The webhook a token's `notify.slack` names: its URL, the settings' URL
    (true or absent), or none (false)."""
    if slack is False:
        return None
    if isinstance(slack, str | dict) and slack:
        return slack  # a URL, or one sealed because a secret rendered it
    return settings.SIGNOFF_NOTIFY_SLACK_URL or None


def _queue(pk) -> None:
    from django_q.tasks import async_task

    async_task("approvals.notifications.deliver", pk)


def enqueue_due(moment=None, limit: int = 200) -> int:
    """Claim the notices whose send is due (a retry, or a lost worker's) and
    queue them after the commit; how many (the sweeper's hook)."""
    moment = moment or engine.now()
    due = Notice.objects.filter(state=N.PENDING, next_at__lte=moment).values_list(
        "pk", "next_at"
    )[:limit]
    claimed = 0
    for pk, next_at in due:
        with transaction.atomic():
            if Notice.objects.filter(pk=pk, state=N.PENDING, next_at=next_at).update(
                next_at=moment + CLAIM
            ):
                transaction.on_commit(partial(_queue, pk))
                claimed += 1
    return claimed


def next_due():
    return (
        Notice.objects.filter(state=N.PENDING, next_at__isnull=False)
        .order_by("next_at")
        .values_list("next_at", flat=True)
        .first()
    )


def deliver(notice_id) -> NoticeDelivery | None:
    """The worker's send: one attempt, claimed, sent, recorded."""
    notice = (
        Notice.objects.select_related(
            "user", "token__execution__flow", "token__task_run"
        )
        .filter(pk=notice_id, state=N.PENDING)
        .first()
    )
    if notice is None:
        return None
    attempt, moment = notice.attempts + 1, engine.now()
    if not Notice.objects.filter(
        pk=notice.pk, state=N.PENDING, attempts=notice.attempts
    ).update(attempts=F("attempts") + 1, next_at=moment + CLAIM):
        return None  # a duplicate of this task claimed the attempt first
    if notice.token.state != S.WAITING:
        Notice.objects.filter(pk=notice.pk).update(state=N.SKIPPED, next_at=None)
        return None
    error, final = _send(notice)
    return _record(notice, attempt, error, final)


def _send(notice: Notice) -> tuple[str, bool]:
    """("", _) when sent, else the error and whether retrying is pointless."""
    if notice.channel == Notice.Channel.EMAIL:
        if not notice.user.email:
            return f"{notice.user.get_username()} has no email address", True
        message = notice_messages.email(notice, links.issue(notice.token, notice.user))
        try:
            message.send()
        except Exception as exc:  # SMTP and socket errors alike: retried
            return outbound.cap_body(f"{type(exc).__name__}: {exc}"), False
        return "", False
    return _post_to_chat(notice)


def _post_to_chat(notice: Notice) -> tuple[str, bool]:
    url = secrets.reveal(notice.target)
    try:
        reply = outbound.send(
            "POST",
            url,
            idempotency_key=f"notice/{notice.pk}",
            json=notice_messages.slack(notice),
        )
    except outbound.Refused as exc:
        return f"refused: {exc}", True
    except httpx.HTTPError as exc:
        return outbound.cap_body(f"{type(exc).__name__}: {exc}"), False
    if reply.is_success:
        return "", False
    return outbound.cap_body(f"HTTP {reply.status_code}: {reply.text}"), False


def _record(notice: Notice, attempt: int, error: str, final: bool):
    moment = engine.now()
    first = notice.first_at or moment
    next_at = None if not error or final else moment + backoff(attempt)
    window = timedelta(seconds=settings.SIGNOFF_CALLBACK_RETRY_SECONDS)
    if next_at and next_at > first + window:
        next_at = None
    state = N.SENT if not error else N.PENDING if next_at else N.GAVE_UP
    try:
        with transaction.atomic():
            delivery = NoticeDelivery.objects.create(
                notice=notice,
                attempt=attempt,
                at=moment,
                ok=not error,
                error=error,
                next_try_at=next_at,
            )
            Notice.objects.filter(pk=notice.pk).update(
                state=state, next_at=next_at, first_at=first
            )
    except IntegrityError:
        return None
    return delivery
