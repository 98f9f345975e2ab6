"""Reading pages the way the tests look at them."""

import re


def badge_of(page: str) -> str | None:
    """What the nav badge shows ("3", "99+"), whatever attributes it carries."""
    found = re.search(r'<span[^>]*id="inbox-count"[^>]*>([^<]*)<', page)
    return found.group(1) if found else None
