"""What a notification says: the email (text and HTML) and the chat post."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone

from approvals import forms
from flows import secrets

WHY = {
    "waiting": "waits for your answer",
    "reminder": "still waits for your answer (reminder)",
    "escalated": "was escalated to you",
    "delegated": "was delegated to you",
}
SUBJECT_PREFIX = {
    "reminder": "Reminder: ",
    "escalated": "Escalated: ",
    "delegated": "Delegated: ",
}


def screen_url(token) -> str:
    path = reverse("approvals:answer", args=[token.pk])
    return settings.SIGNOFF_BASE_URL.rstrip("/") + path


def context(notice, link_url: str = "") -> dict:
    token = notice.token
    flow = token.execution.flow
    form = forms.answer_form(token)
    deadline = token.expires_at
    return {
        "notice": notice,
        "token": token,
        "flow_name": f"{flow.namespace}.{flow.flow_id}",
        "why": WHY.get(notice.reason, notice.reason),
        "message": secrets.mask(token.message),
        "fields": [field.label or name for name, field in form.fields.items()],
        "deadline": _when(deadline) if deadline else "",
        "link_url": link_url,
        "screen_url": screen_url(token),
        "recipient": notice.user,
    }


def subject(notice) -> str:
    token = notice.token
    flow = token.execution.flow
    kind = token.get_screen_display()
    prefix = SUBJECT_PREFIX.get(notice.reason, "")
    return f"{prefix}{kind} requested: {flow.namespace}.{flow.flow_id}"


def email(notice, link_url: str) -> EmailMultiAlternatives:
    page = context(notice, link_url)
    message = EmailMultiAlternatives(
        subject=subject(notice),
        body=render_to_string("approvals/email/notice.txt", page),
        to=[notice.user.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(
        render_to_string("approvals/email/notice.html", page), "text/html"
    )
    return message


def slack(notice) -> dict:
    """An incoming webhook's body: Slack's mrkdwn, the screen's link (a chat post
    has no one recipient, so no one-click link)."""
    page = context(notice)
    told = ", ".join(sorted(n.user.get_username() for n in _told_with(notice)))
    lines = [f"*{subject(notice)}*"]
    if page["message"]:
        lines.append(page["message"])
    if page["deadline"]:
        lines.append(f"Deadline: {page['deadline']}")
    if told:
        lines.append(f"Told by email: {told}")
    lines.append(f"<{page['screen_url']}|Open the request>")
    return {"text": "\n".join(lines)}


def _told_with(notice):
    """The email notices written with this chat notice (same token and moment)."""
    return notice.token.notices.filter(
        channel="email", created_at=notice.created_at
    ).select_related("user")


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i T")
