"""Template context for every page: the signed-in user's inbox count (nav badge)."""

from approvals import access

BADGE_CAP = 100  # the badge says "99+" past this; counting further costs time


def inbox_count(request) -> dict:
    """How many suspensions the user may answer now; one COUNT query, signed-in only."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    count = getattr(request, "inbox_count", None)  # the inbox page counted already
    if count is None:
        count = access.answerable_tokens(user)[:BADGE_CAP].count()
    return {"inbox_count": count}
