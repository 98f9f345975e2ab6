"""The inbox: what waits for the signed-in user, what they started, what they
answered; sorted, filtered and searched, and kept fresh by a small poll (htmx)."""

import hashlib

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponse, QueryDict
from django.shortcuts import render

from approvals import access, context_processors, outcomes, search
from approvals.answers import APPROVING
from approvals.models import Answer
from approvals.views import paginate, styled
from approvals.views_executions import latest_summary

TABS = [
    ("waiting", "Waiting for me"),
    ("started", "I started"),
    ("answered", "I answered"),
]
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
KEPT_ACROSS_TABS = ("q", "namespace", "flow")


class InboxFilters(forms.Form):
    q = forms.CharField(required=False, max_length=search.MAX_LENGTH, label="Search")
    namespace = forms.ChoiceField(required=False)
    flow = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES)

    def __init__(self, data, flows, tab):
        super().__init__(data)
        namespaces = sorted({namespace for _, namespace, _ in flows})
        self.fields["q"].widget.input_type = "search"
        self.fields["namespace"].choices = [("", "All namespaces")] + [
            (n, n) for n in namespaces
        ]
        self.fields["flow"].choices = [("", "All flows")] + [
            (pk, f"{namespace}.{flow_id}") for pk, namespace, flow_id in flows
        ]
        if tab != "waiting":  # the other tabs list newest first
            del self.fields["sort"]


@login_required
def inbox(request):
    context = inbox_context(request)
    return render(request, "approvals/inbox.html", context)


@login_required
def inbox_live(request):
    """The waiting rows (and the badge) when they changed since version `v`, else
    204: htmx leaves the page alone on a 204, so an unchanged poll costs no swap."""
    context = inbox_context(request, tab="waiting")
    if request.GET.get("v") == context["version"]:
        return HttpResponse(status=204)
    context["live"] = True  # the fragment carries the nav badge out of band
    return render(request, "approvals/includes/inbox_live.html", context)


def inbox_badge(request):
    """The nav badge again when its count changed since `v`, else 204; every page
    but the inbox polls it (the inbox's own poll carries it). Signed out, 204: a
    poll never swaps the sign-in page into the navbar."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    count = context_processors.badge_count(request.user)
    if request.GET.get("v") == str(count):
        return HttpResponse(status=204)
    request.inbox_count = count  # the context processor reuses it
    context = {"badge_polls": True}
    return render(request, "approvals/includes/inbox_badge.html", context)


def inbox_context(request, tab=None) -> dict:
    user = request.user
    tab = tab or current_tab(request)
    flows = list(access.visible_flows(user).values_list("pk", "namespace", "flow_id"))
    filters = styled(InboxFilters(request.GET, flows, tab))
    filters.is_valid()  # an invalid value is ignored, the valid ones still apply
    chosen = filters.cleaned_data
    context = {
        "tab": tab,
        "tabs": tab_links(request, tab),
        "filters": filters,
        "searched": bool(
            chosen.get("q") or chosen.get("namespace") or chosen.get("flow")
        ),
        "select_all": request.GET.get("select") == "all",
        "query": kept_query(request, tab),
    }
    page = paginate(request, tab_rows(tab, user, chosen))
    if tab == "waiting":
        if not context["searched"]:
            request.inbox_count = page.paginator.count  # the nav badge reuses it
        context["version"] = version_of(page)
    elif tab == "started":
        page.object_list = outcomes.attach_latest(page.object_list)
    else:
        page.object_list = with_verdicts(page.object_list)
    context["page"] = page
    return context


def current_tab(request) -> str:
    tab = request.GET.get("tab")
    return tab if tab in dict(TABS) else "waiting"


def tab_links(request, current: str) -> list[tuple]:
    """(key, label, query string, current?) of each tab; the search is kept."""
    kept = QueryDict(mutable=True)
    for key in KEPT_ACROSS_TABS:
        if request.GET.get(key):
            kept[key] = request.GET[key]
    links = []
    for key, label in TABS:
        query = kept.copy()
        if key != "waiting":
            query["tab"] = key
        links.append((key, label, query.urlencode(), key == current))
    return links


def kept_query(request, tab: str) -> str:
    """This page's query without `page` and `select` (for the select-all link)."""
    query = request.GET.copy()
    for key in ("page", "select", "v"):
        query.pop(key, None)
    if tab != "waiting":
        query["tab"] = tab
    return query.urlencode()


def tab_rows(tab: str, user, chosen: dict):
    """The tab's rows, narrowed by the filters and the search (never widened)."""
    if tab == "waiting":
        rows = _narrowed(inbox_tokens(user), chosen, "execution__", search.tokens)
        return rows.order_by(*SORTS[chosen.get("sort") or "deadline"])
    if tab == "started":
        return _narrowed(started_executions(user), chosen, "", search.executions)
    return _narrowed(given_answers(user), chosen, "token__execution__", search.answers)


def _narrowed(rows, chosen: dict, execution: str, finder):
    if chosen.get("namespace"):
        rows = rows.filter(**{f"{execution}flow__namespace": chosen["namespace"]})
    if chosen.get("flow"):
        rows = rows.filter(**{f"{execution}flow_id": chosen["flow"]})
    if chosen.get("q"):
        rows = finder(rows, chosen["q"])
    return rows


def version_of(page) -> str:
    """What the waiting list shows, in a few characters: the poll compares it."""
    seen = [page.paginator.count, page.number]
    seen += [(str(t.pk), t.approvals_received) for t in page.object_list]
    return hashlib.sha256(repr(seen).encode()).hexdigest()[:16]


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


def started_executions(user):
    """Executions the user started, newest first, with their latest summary."""
    rows = access.visible_executions(user).filter(created_by=user)
    rows = rows.select_related("flow").annotate(summary=Subquery(latest_summary))
    return outcomes.with_latest(rows).order_by("-created_at", "-pk")


def given_answers(user):
    """The user's answers, newest first, on executions they may still see."""
    seen = access.visible_executions(user).filter(pk=OuterRef("token__execution_id"))
    return (
        Answer.objects.filter(user=user)
        .filter(Exists(seen))
        .select_related("token__execution__flow")
        .order_by("-answered_at", "-pk")
    )


def with_verdicts(answers) -> list[tuple]:
    """(answer, outcome) pairs: the outcome of the token each answered."""
    answers = list(answers)
    decided = outcomes.of_tokens([answer.token for answer in answers])
    return [
        (answer, verdict) for answer, (_, verdict) in zip(answers, decided, strict=True)
    ]
