"""The human side: each person's answer, API tokens, idempotent replies."""

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models

from flows.models import SuspensionToken


class Answer(models.Model):
    """One person's answer, with what they were shown, so the trail proves it."""

    class Decision(models.TextChoices):
        APPROVED = "Approved"
        REJECTED = "Rejected"
        SUBMITTED = "Submitted"  # form, review and bare resume screens

    token = models.ForeignKey(
        SuspensionToken, on_delete=models.CASCADE, related_name="answers"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="answers"
    )
    decision = models.CharField(max_length=16, choices=Decision)
    values = models.JSONField(default=dict, blank=True)
    channel = models.CharField(max_length=32)
    answered_at = models.DateTimeField()
    shown_message = models.TextField(blank=True)
    shown_context = models.JSONField(default=dict, blank=True)
    # sha256 of the canonical JSON of message + context: proves what was approved.
    shown_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["answered_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["token", "user"], name="one_answer_per_person"
            )
        ]

    def __str__(self):
        return f"{self.user} {self.decision} {self.token_id}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer credential; only its sha256 is stored, the key is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.user} {self.prefix}…"

    @classmethod
    def issue(cls, user, name: str = "") -> tuple["ApiToken", str]:
        """Create a token; returns it with the plain key (never stored)."""
        key = secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, key_hash=hash_secret(key), prefix=key[:8], name=name
        )
        return token, key


class IdempotentReply(models.Model):
    """The first reply to a resume sent with an Idempotency-Key, replayed on retry."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=200)
    token = models.ForeignKey(SuspensionToken, on_delete=models.CASCADE)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_reply_per_key")
        ]

    def __str__(self):
        return f"{self.user} {self.key}"


class Profile(models.Model):
    """A person's own settings for the pages: so far, the zone times are shown in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    # An IANA name (zoneinfo.available_timezones()); blank: the browser's zone.
    time_zone = models.CharField(max_length=64, blank=True)

    def __str__(self):
        return f"{self.user} {self.time_zone or '(browser zone)'}"


class Notice(models.Model):
    """The outbox: one person (or one chat channel) to tell about a waiting token.

    Written in the transaction that made the token wait (or that reminded,
    escalated or delegated), sent by a worker after the commit, retried by the
    sweeper while PENDING and `next_at` has passed.
    """

    class Channel(models.TextChoices):
        EMAIL = "email"
        SLACK = "slack"

    class State(models.TextChoices):
        PENDING = "PENDING"
        SENT = "SENT"
        GAVE_UP = "GAVE_UP"
        SKIPPED = "SKIPPED"  # the token stopped waiting before it was sent

    token = models.ForeignKey(
        SuspensionToken, on_delete=models.CASCADE, related_name="notices"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notices",
    )
    channel = models.CharField(max_length=16, choices=Channel)
    # The chat webhook (may be sealed: flows.secrets); never shown.
    target = models.JSONField(null=True, blank=True)
    reason = models.CharField(max_length=32)
    state = models.CharField(max_length=16, choices=State, default=State.PENDING)
    created_at = models.DateTimeField()
    next_at = models.DateTimeField(null=True, blank=True)
    first_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["state", "next_at"])]

    def __str__(self):
        return f"{self.channel} {self.reason} to {self.user or 'channel'}"


class NoticeDelivery(models.Model):
    """One attempt to send a Notice: when, and what happened."""

    notice = models.ForeignKey(
        Notice, on_delete=models.CASCADE, related_name="deliveries"
    )
    attempt = models.PositiveIntegerField()
    at = models.DateTimeField()
    ok = models.BooleanField()
    error = models.TextField(blank=True)
    next_try_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "notice deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "attempt"], name="one_delivery_per_attempt"
            )
        ]

    def __str__(self):
        return f"{self.notice} #{self.attempt} {'ok' if self.ok else 'failed'}"


class OneClickLink(models.Model):
    """A one-click answer link for one recipient of one token: single use,
    expiring, only the hash of its secret kept (approvals/links.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token = models.ForeignKey(
        SuspensionToken, on_delete=models.CASCADE, related_name="links"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="links"
    )
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"link for {self.user} to {self.token_id}"


class FollowUp(models.Model):
    """When a waiting token is next reminded about and escalated: the columns
    whose conditional UPDATE lets one sweeper, once, do each (reminders.py)."""

    token = models.OneToOneField(
        SuspensionToken,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="follow_up",
    )
    remind_at = models.DateTimeField(null=True, blank=True)
    escalate_at = models.DateTimeField(null=True, blank=True)
    reminders = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["remind_at"]),
            models.Index(fields=["escalate_at"]),
        ]

    def __str__(self):
        return f"follow-up of {self.token_id}"
