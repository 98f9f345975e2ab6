"""The human side: each person's answer, API tokens, idempotent replies."""

import hashlib
import secrets

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
