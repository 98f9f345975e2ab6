"""Delegation: an assignee hands a waiting request to another member of its tenant.

Who may: someone who may answer it now (a current assignee, by user name or by a
group they are in; not its requester unless the pause allows self-approval) and
has not answered it yet. A pause open to every member has no one to hand it from.
To whom: an active member of the token's tenant, not themselves, not the requester
(unless self-approval is allowed), nobody who already answered it and nobody who
may already answer it.

A delegator named as a user is replaced by the delegate; one matched through a
group adds the delegate as a user and the group stays, so they still may answer.
The change is flows.engine.assignees.change (its "delegated" event names who, to
whom and why); the checks that a concurrent answer or delegation can falsify are
made again under the execution's row lock, so one of two racing hand-overs wins
and the other is a 409, and an answer never lands on a token handed on under it.
"""

from dataclasses import dataclass

from django import forms
from django.contrib.auth import get_user_model
from django.db import transaction

from approvals import access, answers
from approvals.models import Answer
from flows import engine
from flows.engine import assignees
from flows.models import Execution, SuspensionToken

NOTE_MAX = 1000


class Refused(Exception):
    """Bad input for a delegation (400); `field` names it (`to`, `note`)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class DelegateForm(forms.Form):
    """The screen's and the API's fields: who to hand it to, and why."""

    to = forms.CharField(
        max_length=150,
        label="Hand to",
        help_text="The user name of another member of this tenant.",
        widget=forms.TextInput(attrs={"list": "delegate-names", "autocomplete": "off"}),
        error_messages={"required": "Name the member to hand it to."},
    )
    note = forms.CharField(
        max_length=NOTE_MAX,
        required=False,
        label="Note (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


@dataclass
class Handed:
    """What a delegation did: the token as changed, and whether the delegator
    still may answer it (through a group)."""

    token: SuspensionToken
    to: str
    still_assigned: bool


def check_may_delegate(user, token: SuspensionToken) -> None:
    """The answer's refusals in its order (403 tenant, 404, 409, 410, 403), then
    403 for an open pause or one this user already answered."""
    answers.check_can_answer(user, token)
    if not token.assignee_rows.exists():
        raise access.Denied(
            "Every member may answer this request, so there is no one to hand it "
            "from; answer it, or leave it for someone else."
        )
    if Answer.objects.filter(token=token, user=user).exists():
        raise access.Denied("You already answered this; your answer stands.")


def may_delegate(user, token: SuspensionToken) -> bool:
    try:
        check_may_delegate(user, token)
    except (access.Denied, access.Invisible, engine.EngineError):
        return False
    return True


def delegate(
    user, token: SuspensionToken, to: str, note: str = "", *, channel: str
) -> Handed:
    """Hand `token` from `user` to the member called `to`, with an optional note."""
    check_may_delegate(user, token)
    target = _member(token, to)
    _check_target(user, token, target)
    with transaction.atomic():
        # The engine's lock order: execution row, then token. Under it, what a
        # concurrent answer or hand-over could have changed is read again.
        Execution.objects.select_for_update().filter(pk=token.execution_id).first()
        token = SuspensionToken.objects.select_for_update().get(pk=token.pk)
        engine.check_open(token)
        if not _entitled(user, token):
            raise engine.Reassigned(token)  # lost the race to another hand-over
        _check_target(user, token, target)
        me = user.get_username()
        named = me in (token.assignees or {}).get("users", [])
        changed = assignees.change(
            token.pk,
            event="delegated",
            add={"users": [target.get_username()]},
            remove={"users": [me]} if named else None,
            actor=user,
            channel=channel,
            data={"from": me, "to": target.get_username(), "note": note.strip()},
        )
        # notify: the lead wires notifications.tell here
        # (inside the transaction: a delivery recorded here commits with the
        # change, and the worker sends it after the commit, never before).
    return Handed(changed, target.get_username(), _entitled(user, changed))


def _member(token: SuspensionToken, to: str):
    """The active member of the token's tenant called `to`, or Refused naming `to`.

    One message for "no such user" and "not a member": a member of one tenant
    learns nothing about the user names of another.
    """
    name = (to or "").strip()
    if not name:
        raise Refused("to", "Name the member to hand it to.")
    found = (
        get_user_model()
        .objects.filter(username=name, is_active=True, tenants=token.tenant_id)
        .first()
    )
    if found is None:
        raise Refused("to", f"No active member of this tenant is called “{name}”.")
    return found


def _check_target(user, token: SuspensionToken, target) -> None:
    name = target.get_username()
    if target.pk == user.pk:
        raise Refused("to", "You cannot hand it to yourself.")
    started_by = token.execution.created_by_id
    if not token.allow_self_approval and started_by == target.pk:
        raise Refused(
            "to", f"{name} started this execution, so they may not approve it."
        )
    if Answer.objects.filter(token=token, user=target).exists():
        raise Refused("to", f"{name} already answered it.")
    if _entitled(target, token):
        raise Refused("to", f"{name} may already answer it.")


def _entitled(user, token: SuspensionToken) -> bool:
    return SuspensionToken.objects.filter(access.entitled(user), pk=token.pk).exists()


def candidates(user, token: SuspensionToken, limit: int = 200) -> list[str]:
    """User names the screen suggests: active members who may not answer yet."""
    members = (
        get_user_model()
        .objects.filter(is_active=True, tenants=token.tenant_id)
        .exclude(pk=user.pk)
        .order_by("username")
    )
    if not token.allow_self_approval and token.execution.created_by_id:
        members = members.exclude(pk=token.execution.created_by_id)
    names = list(members.values_list("username", flat=True)[: limit * 2])
    assigned = set((token.assignees or {}).get("users", []))
    return [name for name in names if name not in assigned][:limit]


def offer(user, token: SuspensionToken) -> dict | None:
    """What the answer screen's "Hand to someone else" form needs, if it applies."""
    if not may_delegate(user, token):
        return None
    return {"form": form(), "names": candidates(user, token)}


def form(data=None) -> DelegateForm:
    """The form with ids of its own: the answer form beside it may have a `note`."""
    return DelegateForm(data, auto_id="delegate_%s")
