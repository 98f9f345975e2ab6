"""The answer screen: approval, form, review or bare resume, for one suspension.

Refusals come in the API's order: 404 no such token, 403 another tenant, 404 a token
of an execution the user may not see, 409 already consumed, 410 expired (even
before the sweeper ran), 403 not allowed to answer, 412 what it shows changed since
the page was opened (the page posts its fingerprint).
An invalid answer re-renders the form with each error beside its field (status 200,
like any Django form); nothing is consumed until the answer is valid.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from approvals import access, answers, context, delegation, forms, zones
from approvals.models import Answer
from approvals.views import refused
from flows import engine, screens
from flows.models import Execution, SuspensionToken

REFUSALS = (
    access.Denied,
    access.Invisible,
    engine.AlreadyConsumed,
    engine.Expired,
    engine.Reassigned,
)
# What a reject (or deny) does, by the task's rejectBehavior / denyBehavior.
ON_REJECT = {
    "CANCEL": "stops this execution: it ends cancelled.",
    "FAIL": "fails this task and stops the execution.",
    "KILL": "stops this execution at once: it ends killed.",
    "SUCCEED": "ends this execution early: the tasks after it do not run.",
    "WARN": "lets the execution go on, marked with a warning.",
}
STOPS = {"CANCEL", "FAIL", "KILL", "SUCCEED"}
HEADINGS = {
    SuspensionToken.Screen.APPROVAL: "Approval requested",
    SuspensionToken.Screen.FORM: "Input requested",
    SuspensionToken.Screen.REVIEW: "Review requested",
    SuspensionToken.Screen.RESUME: "Resume requested",
}


@login_required
def answer(request, token_id):
    token = get_object_or_404(
        access.with_visible(_tokens(), request.user, "execution_id"), pk=token_id
    )
    try:
        answers.check_can_answer(request.user, token)
    except REFUSALS as exc:
        return refusal_page(request, token, exc)
    if request.method != "POST":
        mine = token.answers.filter(user=request.user).first()
        if mine is not None:  # quorum pending: show their answer, no second form
            return _answer_page(request, token, None, mine=mine)
    data = request.POST if request.method == "POST" else None
    try:  # the fingerprint of what the page showed (an older page may send none)
        context.check_unchanged(token, data.get("_fingerprint", "") if data else "")
    except context.Changed:
        detail = "It changed since you opened it; open it again and read it first."
        return refused(request, 412, "This request changed", detail, token=token)
    form = forms.answer_form(token, data, request.FILES or None)
    if not form.is_valid():
        return _answer_page(request, token, form)
    try:
        outcome = answers.answer(request.user, token, form.values, channel="web")
    except (*REFUSALS, answers.AlreadyAnswered) as exc:
        return refusal_page(request, token, exc)
    state = Execution.objects.values_list("state", flat=True).get(pk=token.execution_id)
    rejected = outcome.answer.decision == Answer.Decision.REJECTED
    level = messages.INFO if rejected else messages.SUCCESS
    messages.add_message(request, level, success_message(outcome, token, state))
    return redirect("approvals:execution", token.execution_id)


def _tokens():
    return SuspensionToken.objects.select_related(
        "task_run", "execution__flow", "execution__revision", "execution__created_by"
    )


def _answer_page(request, token, form, *, mine=None):
    given = list(token.answers.select_related("user"))
    approved = sum(a.decision in answers.APPROVING for a in given)
    shown = context.approval_context(token)
    page = {
        "token": token,
        "execution": token.execution,
        "shown": shown,
        # The API's If-Match value for what this page shows.
        "fingerprint": context.fingerprint(shown),
        "answers": given,
        "approved": approved,
        "still_needed": max(token.approvals_required - approved, 0),
        "form": form,
        "mine": mine,
        "screen_heading": HEADINGS[token.screen],
        "decision_buttons": _decision_buttons(token, form),
        "on_reject": _reject_note(token),
        "delegate": delegation.offer(request.user, token) if not mine else None,
    }
    return render(request, "approvals/answer.html", page)


def _decision_buttons(token, form) -> tuple[str, str] | None:
    """The Approve / Reject labels, when the built-in decision is asked for.

    The buttons carry the task's own labels (an Approval's `decisions`) but always
    submit "Approved" / "Rejected"; a custom `decision` input keeps its own field.
    """
    field = form.fields.get("decision") if form is not None else None
    if (
        token.screen != SuspensionToken.Screen.APPROVAL
        or field is None
        or tuple(field.definition.values) != screens.DECISIONS
    ):
        return None
    return screens.decision_labels(token.options)


def reject_behavior(token) -> str:
    """What a Reject does: a Pause's `rejectBehavior`, an Approval's `denyBehavior`."""
    options = token.options
    key = "denyBehavior" if options.get("kind") == "approval" else "rejectBehavior"
    return options.get(key, "CANCEL")


def _reject_note(token) -> str:
    """ "Choosing “Reject” stops this execution: it ends cancelled." (or "")."""
    if token.screen != SuspensionToken.Screen.APPROVAL:
        return ""
    effect = ON_REJECT.get(reject_behavior(token))
    return (
        f"Choosing “{screens.decision_labels(token.options)[1]}” {effect}"
        if effect
        else ""
    )


def success_message(outcome: answers.Outcome, token, state: str) -> str:
    """What the answer did, in the words of the task; never "resuming" when it stops."""
    decision = outcome.answer.decision
    if not outcome.resumed:
        return f"Your approval is recorded: {outcome.approvals} of {outcome.required}."
    if decision == Answer.Decision.SUBMITTED:
        return "Answer sent — the execution is resuming."
    if decision == Answer.Decision.APPROVED:
        return "Approved — the execution is resuming."
    done = "Denied" if token.options.get("kind") == "approval" else "Rejected"
    if reject_behavior(token) not in STOPS:
        return f"{done} — the execution is resuming."
    if state in Execution.TERMINAL:
        return f"{done} — the execution was {_ended(state)}."
    return f"{done} — the execution is stopping."


def _ended(state: str) -> str:
    return {"SUCCESS": "ended", "WARNING": "ended with a warning"}.get(
        state, state.lower()
    )


def refusal_page(request, token, exc):
    """The 404 / 403 / 409 / 410 page for a refused look or answer."""
    if isinstance(exc, access.Invisible):
        raise Http404("No such suspension.")
    if isinstance(exc, access.Denied):
        return refused(request, 403, "You may not answer this", str(exc))
    if isinstance(exc, answers.AlreadyAnswered):
        detail = "Your answer was already recorded; each person answers once."
        return refused(request, 409, "You already answered", detail, token=token)
    token.refresh_from_db()
    if isinstance(exc, engine.Reassigned):
        who = access.describe(token.assignees)
        detail = f"It was handed to {who} while you answered; your answer was not kept."
        return refused(request, 409, "This request was handed on", detail, token=token)
    if isinstance(exc, engine.Expired):
        when = _when(token.expires_at or token.resolved_at)
        detail = f"Its deadline passed on {when}; it can no longer be answered."
        return refused(request, 410, "This request has expired", detail, token=token)
    by = token.resolved_by_name or "someone"
    channel = f" via {token.channel}" if token.channel else ""
    detail = f"{by} answered it on {_when(token.resolved_at)}{channel}."
    if token.state == SuspensionToken.State.CANCELLED:
        detail = f"{by} cancelled it on {_when(token.resolved_at)}{channel}."
    return refused(
        request, 409, "This request was already answered", detail, token=token
    )


def _when(moment) -> str:
    if moment is None:
        return "an unknown date"
    return zones.display(moment, seconds=True)
