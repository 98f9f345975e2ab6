"""One-click links from notifications, and Kestra's UI addresses landing here.

A link's GET shows the answer screen and writes nothing: a mail scanner or a
link preview that opens it neither answers nor uses it up. Only the POST acts,
through the same form and answering code as the screen (views_answer, answers),
using the link up in the answer's transaction. With SIGNOFF_LINK_REQUIRES_LOGIN
(the default) only the signed-in recipient sees the screen; without it the link
is the credential for that one answer, recorded as its recipient via `email`.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from approvals import access, answers, context, forms, links
from approvals.models import Answer
from approvals.views import refused
from approvals.views_answer import (
    REFUSALS,
    answer_page,
    refusal_page,
    success_message,
    tokens,
)
from flows.models import Execution


@require_http_methods(["GET", "POST"])
def link(request, link_id, secret):
    try:
        found = links.check(link_id, secret)
    except links.LinkRefused as exc:
        return refused(request, exc.status, exc.heading, exc.detail, token=exc.token)
    recipient = found.user
    if not request.user.is_authenticated and settings.SIGNOFF_LINK_REQUIRES_LOGIN:
        return redirect_to_login(request.get_full_path())
    if request.user.is_authenticated and request.user.pk != recipient.pk:
        detail = (
            f"It was sent to {recipient.get_username()}. Sign in as them, or open "
            "the request from your own inbox."
        )
        return refused(request, 403, "This link is for someone else", detail)
    token = tokens().get(pk=found.token_id)
    try:
        answers.check_can_answer(recipient, token)
    except REFUSALS as exc:
        return refusal_page(request, token, exc)
    if request.method != "POST":
        return _show(request, token, recipient)
    return _answer(request, token, recipient, found)


def _show(request, token, recipient):
    mine = token.answers.filter(user=recipient).first()
    form = None if mine else forms.answer_form(token)
    return answer_page(request, token, form, mine=mine, action=request.path)


def _answer(request, token, recipient, found):
    try:
        context.check_unchanged(token, request.POST.get("_fingerprint", ""))
    except context.Changed:
        detail = "It changed since you opened it; open it again and read it first."
        return refused(request, 412, "This request changed", detail, token=token)
    form = forms.answer_form(token, request.POST, request.FILES or None)
    if not form.is_valid():
        return answer_page(request, token, form, action=request.path)
    try:
        with transaction.atomic():  # a refused answer leaves the link unused
            links.use(found)
            outcome = answers.answer(recipient, token, form.values, channel="email")
    except links.LinkRefused as exc:
        return refused(request, exc.status, exc.heading, exc.detail, token=exc.token)
    except (*REFUSALS, answers.AlreadyAnswered) as exc:
        return refusal_page(request, token, exc)
    state = Execution.objects.values_list("state", flat=True).get(pk=token.execution_id)
    said = success_message(outcome, token, state)
    if request.user.is_authenticated:
        rejected = outcome.answer.decision == Answer.Decision.REJECTED
        level = messages.INFO if rejected else messages.SUCCESS
        messages.add_message(request, level, said)
        return redirect("approvals:execution", token.execution_id)
    page = {"heading": "Thank you", "detail": said, "token": token}
    return render(request, "approvals/link_answered.html", page)


@login_required
def kestra_execution(request, namespace, flow_id, execution_id):
    """Kestra's `/ui/executions/<namespace>/<flow>/<id>`: this execution's page
    (which offers its waiting answer screen), when the ids match one you see."""
    found = (
        access.visible_executions(request.user)
        .filter(pk=execution_id, flow__namespace=namespace, flow__flow_id=flow_id)
        .exists()
    )
    if not found:
        raise Http404("No such execution.")
    return redirect("approvals:execution", execution_id)
