"""Search by content: a few words matched against what an item shows.

It only narrows a queryset that access.py already scoped, so it can never reveal
an execution the user may not see. Matched, case-insensitively: the execution's
inputs and labels (as JSON text; a SECRET input is sealed there, so its value is
never matched), its flow's namespace and id, and its pauses' messages and
summaries.
"""

import json

from django.db.models import Exists, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast

from flows.models import SuspensionToken

MAX_LENGTH = 100


def executions(rows: QuerySet, query: str) -> QuerySet:
    """Executions whose content matches `query`."""
    return _matching(rows, query, "")


def tokens(rows: QuerySet, query: str) -> QuerySet:
    """Suspension tokens whose own text or execution matches `query`."""
    own = Q(message__icontains=query) | Q(summary__icontains=query)
    return _matching(rows, query, "execution__", own)


def answers(rows: QuerySet, query: str) -> QuerySet:
    """Answers whose token's text or execution matches `query`."""
    own = Q(token__message__icontains=query) | Q(token__summary__icontains=query)
    return _matching(rows, query, "token__execution__", own)


def _json_forms(query: str) -> set[str]:
    """The query as it may appear inside JSON text: as typed, and escaped (SQLite
    keeps "Zoë" as "Zo\\u00eb"; both databases escape a quote)."""
    return {query, json.dumps(query)[1:-1]}


def _matching(rows: QuerySet, query: str, execution: str, own: Q | None = None):
    if not query:
        return rows
    rows = rows.annotate(
        _search_inputs=Cast(f"{execution}inputs", TextField()),
        _search_labels=Cast(f"{execution}labels", TextField()),
    )
    found = Q(**{f"{execution}flow__flow_id__icontains": query}) | Q(
        **{f"{execution}flow__namespace__icontains": query}
    )
    for form in _json_forms(query):
        found |= Q(_search_inputs__icontains=form) | Q(_search_labels__icontains=form)
    if own is not None:
        return rows.filter(found | own)
    said = SuspensionToken.objects.filter(execution=OuterRef("pk")).filter(
        Q(message__icontains=query) | Q(summary__icontains=query)
    )
    return rows.filter(found | Exists(said))
