"""Template context for every page: the inbox count (nav badge), the demo flag."""

from django.conf import settings

from approvals import access

BADGE_CAP = 100  # the badge says "99+" past this; counting further costs time


def inbox_count(request) -> dict:
    """How many suspensions the user may answer now; one COUNT query, signed-in only."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    count = getattr(request, "inbox_count", None)  # the inbox page counted already
    if count is None:
        count = badge_count(user)
    poll_ms = round(1000 * settings.SIGNOFF_BADGE_POLL_SECONDS)
    return {"inbox_count": count, "badge_poll_ms": poll_ms}


def badge_count(user) -> int:
    return access.answerable_tokens(user)[:BADGE_CAP].count()


def demo(request) -> dict:
    """Whether this server is `manage.py demo`'s: its pages say what to try."""
    return {"demo": settings.SIGNOFF_DEMO}
