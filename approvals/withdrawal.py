"""Withdrawal: the requester takes back a request that still waits for an answer.

Only the user who started the execution withdraws it (staff and holders of
`flows.change_execution` have Cancel, which says "Cancelled by …"); only while
the execution has not ended and one of its pauses waits. It is the engine's
cancel (flows.engine.cancel_execution): the waiting tokens become CANCELLED, the
flow's `finally` tasks run, the execution ends CANCELLED, and the event that ends
it carries `withdrawn` and the reason, which approvals.outcomes puts in words:
"Withdrawn by employee: no longer needed".
"""

from django import forms
from django.db import transaction

from approvals import access
from flows import engine
from flows.models import Execution, SuspensionToken

REASON_MAX = 1000


class WithdrawForm(forms.Form):
    """The screen's and the API's one field."""

    reason = forms.CharField(
        max_length=REASON_MAX,
        required=False,
        label="Why (optional)",
        help_text="Shown to the approvers and kept on the audit trail.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def check_may_withdraw(user, execution: Execution) -> None:
    """403 unless `user` started it (tenant and visibility are checked before)."""
    if execution.created_by_id is None or execution.created_by_id != user.pk:
        raise access.Denied("Only the person who started this request may withdraw it.")


def may_withdraw(user, execution: Execution) -> bool:
    """Whether the page offers "Withdraw request": the requester, while it waits."""
    return (
        user.is_authenticated
        and execution.created_by_id == user.pk
        and not execution.ending
        and execution.state not in Execution.TERMINAL
        and execution.tokens.filter(state=SuspensionToken.State.WAITING).exists()
    )


def withdraw(user, execution: Execution, reason: str = "", *, channel: str) -> None:
    """End the waiting request CANCELLED, "withdrawn by" `user`, with the reason.

    Raises access.Denied (403) or engine.HoldConflict (409: ended, ending, or
    waiting for no one, with the execution's state). `reason` comes through
    WithdrawForm (at most REASON_MAX characters).
    """
    check_may_withdraw(user, execution)
    reason = (reason or "").strip()
    with transaction.atomic():
        # Execution row first, as the engine locks it: an answer that got there
        # first has moved the token on, and this sees it.
        locked = Execution.objects.select_for_update().get(pk=execution.pk)
        waiting = locked.tokens.filter(state=SuspensionToken.State.WAITING).exists()
        running = locked.state not in Execution.TERMINAL and not locked.ending
        if running and not waiting:  # an ended one: cancel_execution says by whom
            raise engine.HoldConflict(
                "execution",
                locked.state,
                "Nothing waits for an answer now, so there is nothing to "
                f"withdraw (the execution is {locked.state}).",
            )
        engine.cancel_execution(
            execution.pk,
            actor=user,
            channel=channel,
            data={"withdrawn": True, "reason": reason},
        )
