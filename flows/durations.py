"""ISO 8601 durations (PT5M, P1DT2H, PT0.5S, P2W), as Kestra writes them.

Only fixed-length units are accepted: weeks, days, hours, minutes, seconds.
Years and months vary in length, so a deadline written with them would be
ambiguous; they are refused with a message saying so.
"""

import datetime as dt
import re

from django.utils.dateparse import parse_duration as _django_parse_duration

_NUMBER = r"\d+(?:[.,]\d+)?"
_ISO_RE = re.compile(
    r"(?P<sign>[-+]?)P"
    rf"(?:(?P<years>{_NUMBER})Y)?"
    rf"(?:(?P<months>{_NUMBER})M)?"
    rf"(?:(?P<weeks>{_NUMBER})W)?"
    rf"(?P<rest>(?:{_NUMBER}D)?"
    rf"(?:T(?=\d)(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?)",
    re.IGNORECASE,
)


def parse_duration(text: str) -> dt.timedelta:
    """Parse an ISO 8601 duration such as PT5M or P1DT2H into a timedelta."""
    value = text.strip().upper() if isinstance(text, str) else None
    match = _ISO_RE.fullmatch(value) if value else None
    if match is None or value.lstrip("+-") == "P":
        raise ValueError(f"'{text}' is not an ISO 8601 duration (e.g. PT5M, P1D).")
    if match["years"] or match["months"]:
        raise ValueError(
            f"'{text}' uses years or months, which have no fixed length; "
            "use weeks or days instead (e.g. P30D)."
        )
    if match["sign"] == "-":
        raise ValueError(f"'{text}' is negative; a duration must be zero or more.")
    try:
        # Django parses the day/time part; it does not know weeks.
        delta = _django_parse_duration("P" + match["rest"]) or dt.timedelta()
        if match["weeks"]:
            delta += dt.timedelta(weeks=float(match["weeks"].replace(",", ".")))
    except OverflowError:
        raise ValueError(f"'{text}' is too long a duration.") from None
    return delta


def format_duration(td: dt.timedelta) -> str:
    """Write a timedelta in the shortest ISO 8601 form: PT5M, P1DT2H, PT0.5S."""
    if td < dt.timedelta():
        return "-" + format_duration(-td)
    hours, rest = divmod(td.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    time = ""
    if hours:
        time += f"{hours}H"
    if minutes:
        time += f"{minutes}M"
    if seconds or td.microseconds:
        fraction = f".{td.microseconds:06d}".rstrip("0") if td.microseconds else ""
        time += f"{seconds}{fraction}S"
    days = f"{td.days}D" if td.days else ""
    if not days and not time:
        return "PT0S"
    return f"P{days}" + (f"T{time}" if time else "")
