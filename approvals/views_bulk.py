"""The inbox's bulk answer: approve, reject or resume the selected requests.

POST answers each one (approvals.bulk: the single answer's checks, one answer
and one event each) and redirects to GET, which lists what became of each.
"""

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from approvals import access, bulk
from approvals.views import refused_input

SESSION_KEY = "signoff_bulk_results"


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in bulk.ACTIONS])
    comment = forms.CharField(required=False, max_length=10_000, strip=True)


@login_required
@require_http_methods(["GET", "POST"])
def bulk_answer(request):
    if request.method == "GET":
        return _results_page(request)
    form = BulkForm(request.POST)
    ids, problem = _token_ids(request.POST.getlist("tokens"))
    if not form.is_valid() or problem:
        errors = {name: list(errs) for name, errs in form.errors.items()}
        if problem:
            errors["tokens"] = [problem]
        return refused_input(request, "The bulk answer could not be read.", errors)
    if not ids:
        messages.warning(request, "Select at least one request to answer.")
        return redirect("approvals:inbox")
    chosen = form.cleaned_data
    results = bulk.answer_from_screen(
        request.user, ids, chosen["action"], chosen["comment"]
    )
    request.session[SESSION_KEY] = [
        {"token": r.token_id, "status": r.status, "reason": r.reason, "note": _note(r)}
        for r in results
    ]
    return redirect("approvals:bulk")


def _note(result: bulk.Result) -> str:
    """What an accepted answer did, when it did not settle the request."""
    if result.done and result.body.get("status") == "Waiting":
        counted = f"{result.body['approvals']} of {result.body['required']}"
        return f"Your approval is recorded: {counted}."
    return ""


def _token_ids(raw: list[str]) -> tuple[list[uuid.UUID], str]:
    """The selected ids, in order and once each; or a problem naming why not."""
    if len(raw) > bulk.MAX_ITEMS:
        return [], f"At most {bulk.MAX_ITEMS} requests at once."
    ids = []
    for value in raw:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            return [], f"{value[:40]!r} is not a request id."
    return list(dict.fromkeys(ids)), ""


def _results_page(request):
    results = request.session.get(SESSION_KEY)
    if not results:
        return redirect("approvals:inbox")
    ids = [row["token"] for row in results]
    # A token the user may not see shows its id alone.
    tokens = access.visible_tokens(request.user).filter(pk__in=ids)
    shown = {str(t.pk): t for t in tokens.select_related("execution__flow")}
    rows = [
        {**row, "token_row": shown.get(row["token"]), "done": row["status"] == 202}
        for row in results
    ]
    context = {
        "rows": rows,
        "done": sum(row["done"] for row in rows),
        "refused": sum(not row["done"] for row in rows),
    }
    return render(request, "approvals/bulk_result.html", context)
