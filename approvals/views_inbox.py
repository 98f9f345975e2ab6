"""The inbox: suspensions the signed-in user may answer now, sorted and filtered."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import render

from approvals import access, outcomes
from approvals.answers import APPROVING
from approvals.models import Answer
from approvals.views import paginate, styled

RECENT_ANSWERS = 10
SORTS = {
    "deadline": (F("expires_at").asc(nulls_last=True), "created_at", "pk"),
    "-deadline": (F("expires_at").desc(nulls_last=True), "created_at", "pk"),
    "age": ("created_at", "pk"),
    "-age": ("-created_at", "-pk"),
}
SORT_CHOICES = [
    ("deadline", "Deadline, soonest first"),
    ("-deadline", "Deadline, latest first"),
    ("age", "Oldest first"),
    ("-age", "Newest first"),
]


class InboxFilters(forms.Form):
    namespace = forms.ChoiceField(required=False)
    flow = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES)

    def __init__(self, data, flows):
        super().__init__(data)
        namespaces = sorted({namespace for _, namespace, _ in flows})
        self.fields["namespace"].choices = [("", "All namespaces")] + [
            (n, n) for n in namespaces
        ]
        self.fields["flow"].choices = [("", "All flows")] + [
            (pk, f"{namespace}.{flow_id}") for pk, namespace, flow_id in flows
        ]


@login_required
def inbox(request):
    flows = list(
        access.visible_flows(request.user).values_list("pk", "namespace", "flow_id")
    )
    filters = styled(InboxFilters(request.GET, flows))
    filters.is_valid()  # an unknown value is ignored, the valid ones still apply
    chosen = filters.cleaned_data
    tokens = inbox_tokens(request.user)
    if chosen.get("namespace"):
        tokens = tokens.filter(execution__flow__namespace=chosen["namespace"])
    if chosen.get("flow"):
        tokens = tokens.filter(execution__flow_id=chosen["flow"])
    tokens = tokens.order_by(*SORTS[chosen.get("sort") or "deadline"])
    page = paginate(request, tokens)
    if not (chosen.get("namespace") or chosen.get("flow")):
        request.inbox_count = page.paginator.count  # the nav badge reuses this count
    context = {
        "filters": filters,
        "page": page,
        "answered": recent_answers(request.user),
    }
    return render(request, "approvals/inbox.html", context)


def recent_answers(user) -> list[tuple]:
    """(answer, outcome) of what this user answered last, newest first."""
    answers = list(
        Answer.objects.filter(user=user)
        .select_related("token__execution__flow")
        .order_by("-answered_at", "-pk")[:RECENT_ANSWERS]
    )
    decided = outcomes.of_tokens([answer.token for answer in answers])
    return [
        (answer, verdict) for answer, (_, verdict) in zip(answers, decided, strict=True)
    ]


def inbox_tokens(user):
    """Answerable tokens with what a row shows, in a constant number of queries."""
    approvals = (
        Answer.objects.filter(token=OuterRef("pk"), decision__in=APPROVING)
        .values("token")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        access.answerable_tokens(user)
        .select_related("execution__flow", "execution__created_by")
        .annotate(
            approvals_received=Coalesce(
                Subquery(approvals, output_field=IntegerField()), Value(0)
            )
        )
    )
