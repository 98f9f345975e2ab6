"""Small display helpers for Signoff's pages: JSON, states, task types, durations."""

import html
import json

from django import template
from django.utils import timezone
from django.utils.html import format_html, strip_tags
from django.utils.timesince import timesince, timeuntil

from approvals import access, forms, markup, zones
from flows import secrets

register = template.Library()

# Bootstrap badge classes by state; the badge always shows the state's name too.
_STATE_BADGES = {
    "CREATED": "text-bg-secondary",
    "QUEUED": "text-bg-secondary",
    "RUNNING": "text-bg-primary",
    "PAUSED": "text-bg-warning",
    "WAITING": "text-bg-warning",
    "SUCCESS": "text-bg-success",
    "RESUMED": "text-bg-success",
    "Approved": "text-bg-success",
    "Submitted": "text-bg-success",
    "WARNING": "text-bg-warning",
    "FAILED": "text-bg-danger",
    "Rejected": "text-bg-danger",
    "EXPIRED": "text-bg-dark",
    "CANCELLED": "text-bg-dark",
}


@register.filter
def pretty_json(value) -> str:
    """Indented JSON for a <pre> block (autoescaped), secrets shown as ******."""
    return json.dumps(
        secrets.mask(value), indent=2, sort_keys=True, ensure_ascii=False, default=str
    )


@register.filter
def masked(value):
    """A stored value as people see it: a secret is ******."""
    return secrets.mask(value)


@register.filter
def assignee_text(assignees) -> str:
    """A token's assignees in words: "ann or members of managers"."""
    return access.describe(assignees)


@register.filter
def state_badge(state) -> str:
    return _STATE_BADGES.get(str(state), "text-bg-light")


@register.filter
def short_type(task_type) -> str:
    """`io.kestra.plugin.core.flow.Pause` -> `Pause`."""
    return str(task_type).rsplit(".", 1)[-1]


@register.simple_tag
def duration(start, end) -> str:
    """Time between two datetimes (`1.25 s`, `3 min 4 s`); blank while still open."""
    if not start or not end:
        return ""
    seconds = (end - start).total_seconds()
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


@register.simple_tag
def relative(moment) -> str:
    """`in 3 hours` for a future moment, `3 hours ago` for a past one."""
    if not moment:
        return ""
    current = timezone.now()
    if moment > current:
        return f"in {timeuntil(moment, current)}"
    return f"{timesince(moment, current)} ago"


@register.inclusion_tag("approvals/includes/error_summary.html")
def error_summary(form, **targets):
    """GOV.UK's error summary: "There is a problem" and a link to each error.

    `targets` sends a field's link elsewhere (`decision="decision-approve"` when
    the decision is two buttons rather than a field). static/js/error-summary.js
    moves focus to it on load and focuses a field when its link is followed.
    """
    return {"errors": forms.error_links(form, targets=targets)}


@register.filter
def local_time(moment, seconds: str = "") -> str:
    """`2026-12-01 14:05 CET` (zones.display); `local_time:"s"` adds seconds."""
    return zones.display(moment, seconds=bool(seconds))


@register.simple_tag
def when(moment, seconds: str = ""):
    """A <time> element: machine-readable UTC, the viewer's local time shown."""
    if not moment:
        return "—"
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        timezone.get_current_timezone_name(),
        local_time(moment, seconds),
    )


@register.filter
def resolution(token) -> str:
    """How a suspension ended, in one word: answered, expired or cancelled."""
    return {"EXPIRED": "expired", "CANCELLED": "cancelled"}.get(token.state, "answered")


@register.filter
def markdown(text):
    """A flow author's Markdown as sanitised HTML (approvals.markup)."""
    return markup.render(text)


@register.filter
def markdown_text(text) -> str:
    """The words of a Markdown text without its marks, for one-line summaries
    (plain text: the template escapes it)."""
    return " ".join(html.unescape(strip_tags(markup.render(text))).split())
