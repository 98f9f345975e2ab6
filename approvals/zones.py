"""The zone each viewer's times are shown in: their profile's, else their browser's.

static/js/time-zone.js puts the browser's zone (Intl's resolvedOptions) in the
`signoff_tz` cookie; the middleware activates the profile's zone, else a valid
cookie zone, else UTC. Anything else in the cookie is ignored, never an error.
"""

import zoneinfo
from functools import cache

from django.utils import dateformat, timezone

from approvals.models import Profile

COOKIE = "signoff_tz"
DEFAULT = "UTC"
# DRF renders datetimes in the active zone: the API must not change with a cookie.
API_PREFIX = "/api/"


@cache
def known() -> frozenset[str]:
    """IANA zone names, checked by membership (never opened from a user's string)."""
    return frozenset(zoneinfo.available_timezones())


def choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(known())]


def valid(name) -> bool:
    return isinstance(name, str) and name in known()


def viewer_zone(request) -> tuple[str, str]:
    """(zone name, where it came from: "profile", "browser" or "default")."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        chosen = (
            Profile.objects.filter(user=user)
            .values_list("time_zone", flat=True)
            .first()
        )
        if valid(chosen):
            return chosen, "profile"
    sent = request.COOKIES.get(COOKIE, "")
    if valid(sent):
        return sent, "browser"
    return DEFAULT, "default"


def display(moment, *, seconds: bool = False) -> str:
    """`2026-12-01 14:05 CET` in the active (viewer's) zone, the zone named.

    A zone without a lettered abbreviation (`+03`) is named in full as well:
    `2026-12-01 14:05 +03 (Europe/Istanbul)`.
    """
    if not moment:
        return ""
    local = timezone.localtime(moment)
    text = dateformat.format(local, "Y-m-d H:i:s" if seconds else "Y-m-d H:i")
    abbreviation = local.tzname() or ""
    if abbreviation[:1] in ("", "+", "-"):
        zone = timezone.get_current_timezone_name()
        return f"{text} {abbreviation} ({zone})".replace("  ", " ")
    return f"{text} {abbreviation}"


class ViewerTimeZone:
    """Activates the viewer's zone for the request (templates' dates follow it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)  # the API's times stay UTC for everyone
        name, source = viewer_zone(request)
        request.time_zone, request.time_zone_source = name, source
        timezone.activate(zoneinfo.ZoneInfo(name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
