"""One-click links: a signed, single-use, expiring answer link for one recipient.

The URL carries the link's id and a random secret; only an HMAC of the secret
under SECRET_KEY is stored (rotating SECRET_KEY voids every link, as it does
Django's password-reset links), and it is compared in constant time. A link
expires at its token's deadline or after SIGNOFF_LINK_MAX_AGE, whichever is first.
Opening it (GET) changes nothing; the answer's POST uses it up with one
conditional UPDATE, in the same transaction as the answer, so a refused answer
leaves the link usable and two POSTs of one link record one answer.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from approvals.models import OneClickLink
from flows import engine


class LinkRefused(Exception):
    """Why a link cannot be used, with the status its page is served with."""

    def __init__(self, status: int, heading: str, detail: str, token=None):
        super().__init__(detail)
        self.status, self.heading, self.detail = status, heading, detail
        self.token = token  # its request, when the link is genuine


def _hash(secret: str) -> str:
    return salted_hmac("signoff.one-click-link", secret, algorithm="sha256").hexdigest()


def issue(token, user) -> str:
    """A new link for `user` to answer `token`; returns its full URL."""
    moment = engine.now()
    expires_at = moment + timedelta(seconds=settings.SIGNOFF_LINK_MAX_AGE)
    if token.expires_at and token.expires_at < expires_at:
        expires_at = token.expires_at
    secret = secrets.token_urlsafe(32)
    link = OneClickLink.objects.create(
        token=token,
        user=user,
        secret_hash=_hash(secret),
        created_at=moment,
        expires_at=expires_at,
    )
    path = reverse("approvals:link", args=[link.pk, secret])
    return settings.SIGNOFF_BASE_URL.rstrip("/") + path


def check(link_id, secret: str) -> OneClickLink:
    """The link behind this id and secret, if still usable; else LinkRefused."""
    link = (
        OneClickLink.objects.select_related("user", "token").filter(pk=link_id).first()
    )
    if link is None:  # as any unknown id in a URL: 404
        raise LinkRefused(
            404,
            "No such link",
            "It may have been copied incompletely. Open the request from your "
            "inbox instead.",
        )
    if not constant_time_compare(_hash(secret), link.secret_hash):
        raise LinkRefused(
            403,
            "This link is not valid",
            "It may have been copied incompletely. Open the request from your "
            "inbox instead.",
        )
    if link.used_at is not None:
        raise LinkRefused(
            409,
            "This link was already used",
            "Each link answers once; your answer was recorded then. Open the "
            "request from your inbox to see it.",
            link.token,
        )
    if link.expires_at <= engine.now():
        raise LinkRefused(
            410,
            "This link has expired",
            "Links expire at the request's deadline or after a while; open the "
            "request from your inbox if it still waits.",
            link.token,
        )
    return link


def use(link: OneClickLink) -> None:
    """Use the link up (inside the answer's transaction); LinkRefused if another
    request used it first or it expired meanwhile."""
    moment = engine.now()
    if not OneClickLink.objects.filter(
        pk=link.pk, used_at__isnull=True, expires_at__gt=moment
    ).update(used_at=moment):
        raise LinkRefused(
            409,
            "This link was already used",
            "Each link answers once; it was used a moment ago.",
            link.token,
        )
    link.used_at = moment
