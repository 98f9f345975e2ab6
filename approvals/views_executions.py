"""Executions: the list (filters, pages) and one execution's full record.

Both scope through access.visible_executions: an execution of another tenant, or
one the user has no reason to see, is a 404, like one that does not exist.
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Exists, IntegerField, OuterRef, Prefetch, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from approvals import access, outcomes, withdrawal
from approvals.models import Answer, Notice, NoticeDelivery
from approvals.views import paginate, styled
from flows.models import CallbackDelivery, Execution, ExecutionEvent, SuspensionToken

FIRST_DAY, LAST_DAY = date.min + timedelta(days=1), date.max - timedelta(days=1)
MAX_INDENT = 4  # deeper task runs line up with the fourth level (phones stay readable)


class ExecutionFilters(forms.Form):
    mine = forms.ChoiceField(
        required=False,
        label="Whose",
        choices=[("", "All I may see"), ("1", "Mine: started or answered")],
    )
    state = forms.ChoiceField(required=False)
    flow = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)

    def __init__(self, data, flows):
        super().__init__(data)
        self.fields["state"].choices = [("", "All states"), *Execution.State.choices]
        self.fields["flow"].choices = [("", "All flows")] + [
            (pk, f"{namespace}.{flow_id}") for pk, namespace, flow_id in flows
        ]
        date = forms.DateInput(attrs={"type": "date"})
        # A day inside the calendar's ends, so its midnight in any time zone (and
        # the day after "to") can still be written: 0001-01-01 and 9999-12-31 are
        # ignored like any invalid value, which filters the same.
        bounds = [MinValueValidator(FIRST_DAY), MaxValueValidator(LAST_DAY)]
        # "from" and "to" are Python keywords, hence not declared above.
        self.fields["from"] = forms.DateField(
            required=False, label="Created from", widget=date, validators=bounds
        )
        self.fields["to"] = forms.DateField(
            required=False, label="Created to", widget=date, validators=bounds
        )


# The one-line summary of an execution's latest pause (flows.summaries).
latest_summary = (
    SuspensionToken.objects.filter(execution=OuterRef("pk"))
    .order_by("-created_at", "-pk")
    .values("summary")[:1]
)


@login_required
def executions(request):
    flows = list(
        access.visible_flows(request.user).values_list("pk", "namespace", "flow_id")
    )
    filters = styled(ExecutionFilters(request.GET, flows))
    filters.is_valid()  # an invalid value is ignored, the valid ones still apply
    chosen = filters.cleaned_data
    rows = outcomes.with_latest(
        access.visible_executions(request.user)
        .select_related("flow", "revision", "created_by")
        .annotate(summary=Subquery(latest_summary))
    )
    if chosen.get("mine"):
        rows = rows.filter(access.mine(request.user))
    if chosen.get("state"):
        rows = rows.filter(state=chosen["state"])
    if chosen.get("flow"):
        rows = rows.filter(flow_id=chosen["flow"])
    if chosen.get("from"):
        rows = rows.filter(created_at__gte=_start_of(chosen["from"]))
    if chosen.get("to"):
        rows = rows.filter(created_at__lt=_start_of(chosen["to"] + timedelta(days=1)))
    rows = rows.order_by("-created_at", "-pk")
    page = paginate(request, rows)
    page.object_list = outcomes.attach_latest(page.object_list)
    context = {"filters": filters, "page": page}
    return render(request, "approvals/executions.html", context)


def labelled(events, runs) -> list:
    """Events with `subject_label` (a task run's path, a token's short id) and
    `sentence` (a hand-over or a withdrawal in words)."""
    task_ids = {str(run.pk): run.path for run in runs}
    events = list(events)
    for event in events:
        event.subject_label = task_ids.get(event.subject_id, event.subject_id[:8])
        event.sentence = outcomes.of_event(event)
    return events


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@login_required
def execution(request, execution_id):
    found = get_object_or_404(
        with_live_counts(access.visible_executions(request.user)).select_related(
            "flow", "revision", "created_by", "tenant"
        ),
        pk=execution_id,
    )
    answers = Prefetch("answers", Answer.objects.select_related("user"))
    notified = Exists(Notice.objects.filter(token=OuterRef("pk")))
    tokens = (
        found.tokens.select_related("resolved_by")
        .prefetch_related(answers)
        .annotate(notified=notified)
    )
    answerable = access.answerable_tokens(request.user).filter(execution=found)
    runs = in_tree_order(found.task_runs.order_by("started_at", "path"))
    tokens = list(tokens.order_by("created_at"))
    withdrawn = outcomes.withdrawals([found.pk]).get(found.pk)
    for token in tokens:
        token.outcome = outcomes.of_token(token, token.answers.all(), withdrawn)
    for run in runs:
        run.outcome = outcomes.of_run(run)
    decided = outcomes.latest([t.outcome for t in tokens] + [r.outcome for r in runs])
    states = {run.pk: run.state for run in runs}
    events = labelled(found.events.order_by("at", "pk"), runs)
    context = {
        "execution": found,
        "outcome": decided,
        "ending": outcomes.ending(found, decided, states),
        "task_runs": runs,
        "tokens": tokens,
        "answerable": set(answerable.values_list("pk", flat=True)),
        "events": events,
        # The page polls while the execution can still change (htmx, every 5 s).
        "polling": found.state not in Execution.TERMINAL,
        "live_version": live_version(found),
        "may_hold": access.may_hold_execution(request.user, found),
        "may_withdraw": withdrawal.may_withdraw(request.user, found),
        "ended": found.state in Execution.TERMINAL or bool(found.ending),
        "deliveries": CallbackDelivery.objects.filter(request__execution=found),
        "notices": _notices(found) if any(t.notified for t in tokens) else [],
        "unassigned": [t for t in tokens if not any((t.assignees or {}).values())],
    }
    return render(request, "approvals/execution.html", context)


def _notices(execution) -> list[Notice]:
    """Who was told about its pauses, each with its latest try."""
    notices = list(
        Notice.objects.filter(token__execution=execution)
        .select_related("user")
        .prefetch_related("deliveries")
    )
    for notice in notices:
        notice.last = ([None] + list(notice.deliveries.all()))[-1]
    return notices


@login_required
def execution_live(request, execution_id):
    """The execution page again when it changed since version `v`, else 204: one
    small query."""
    found = get_object_or_404(
        with_live_counts(access.visible_executions(request.user)).only("pk", "state"),
        pk=execution_id,
    )
    if request.GET.get("v") == live_version(found):
        return HttpResponse(status=204)
    return execution(request, execution_id)


def with_live_counts(executions):
    """What the page shows that can change: every change of the execution writes
    an event (the audit trail); sending its mails and calls writes tries, not
    events, so those are counted too."""
    return executions.annotate(
        live_events=_count(ExecutionEvent.objects.filter(execution=OuterRef("pk"))),
        live_notices=_count(
            NoticeDelivery.objects.filter(notice__token__execution=OuterRef("pk"))
        ),
        live_calls=_count(
            CallbackDelivery.objects.filter(request__execution=OuterRef("pk"))
        ),
    )


class _Count(Subquery):
    template = "(SELECT COUNT(*) FROM (%(subquery)s) counted)"
    output_field = IntegerField()


def _count(rows) -> Subquery:
    return _Count(rows.order_by().values("pk"))


def live_version(execution: Execution) -> str:
    """Changes whenever the page would (read off with_live_counts())."""
    counts = (execution.live_events, execution.live_notices, execution.live_calls)
    return ".".join([execution.state, *(str(n or 0) for n in counts)])


def in_tree_order(runs) -> list:
    """Runs depth first, each under its parent, siblings as they started; with
    `depth` (capped at MAX_INDENT) for indenting."""
    children = defaultdict(list)
    for run in runs:
        children[run.parent_id].append(run)
    ordered = []

    def visit(parent_id, depth: int) -> None:
        for run in children.pop(parent_id, []):
            run.depth = min(depth, MAX_INDENT)
            ordered.append(run)
            visit(run.pk, depth + 1)

    visit(None, 0)
    return ordered
