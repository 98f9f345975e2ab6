"""Handing a request on (delegation) and taking it back (withdrawal), on screen.

Each is a form page of its own: the answer screen embeds the delegate form, the
execution page links to the withdrawal's confirmation step (no JavaScript). A
valid POST calls the service (approvals.delegation, approvals.withdrawal) and
redirects to the execution with a message; bad input re-renders the form with the
error beside its field (400); a refusal is the answer screen's refusal page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render

from approvals import access, delegation, withdrawal
from approvals.views import refused
from approvals.views_answer import REFUSALS, refusal_page
from flows import engine
from flows.models import SuspensionToken


@login_required
def delegate(request, token_id):
    token = get_object_or_404(
        access.with_visible(
            SuspensionToken.objects.select_related("execution__flow", "tenant"),
            request.user,
            "execution_id",
        ),
        pk=token_id,
    )
    try:
        delegation.check_may_delegate(request.user, token)
    except REFUSALS as exc:
        return refusal_page(request, token, exc)
    form = delegation.form(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            handed = delegation.delegate(
                request.user,
                token,
                form.cleaned_data["to"],
                form.cleaned_data["note"],
                channel="web",
            )
        except delegation.Refused as exc:
            form.add_error(exc.field, str(exc))
        except REFUSALS as exc:
            return refusal_page(request, token, exc)
        else:
            messages.success(request, _handed_message(handed))
            return redirect("approvals:execution", token.execution_id)
    page = {
        "token": token,
        "execution": token.execution,
        "form": form,
        "names": delegation.candidates(request.user, token),
    }
    status = 400 if form.errors else 200
    return render(request, "approvals/delegate.html", page, status=status)


def _handed_message(handed: delegation.Handed) -> str:
    if handed.still_assigned:
        return (
            f"Handed to {handed.to}. You are still in a group it is assigned to, "
            "so you can still answer it too."
        )
    return f"Handed to {handed.to}; it has left your inbox."


@login_required
def withdraw(request, execution_id):
    execution = get_object_or_404(
        access.visible_executions(request.user).select_related("flow"),
        pk=execution_id,
    )
    try:
        withdrawal.check_may_withdraw(request.user, execution)
    except access.Denied as exc:
        return refused(request, 403, "You may not withdraw this", str(exc))
    form = withdrawal.WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            withdrawal.withdraw(
                request.user, execution, form.cleaned_data["reason"], channel="web"
            )
        except engine.HoldConflict as exc:
            return _not_withdrawable(request, str(exc))
        messages.success(request, "Withdrawn: the request is cancelled.")
        return redirect("approvals:execution", execution.pk)
    if request.method != "POST" and not withdrawal.may_withdraw(
        request.user, execution
    ):
        state = execution.ending or execution.state
        return _not_withdrawable(
            request, f"Nothing waits for an answer (the execution is {state})."
        )
    page = {"execution": execution, "form": form}
    status = 400 if form.errors else 200
    return render(request, "approvals/withdraw.html", page, status=status)


def _not_withdrawable(request, detail: str):
    return refused(request, 409, "This request cannot be withdrawn", detail)
