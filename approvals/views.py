"""Helpers shared by the page modules (views_inbox, views_answer, views_executions,
views_flows): the refusal page and pagination. Each page is a short function there.
"""

from django.core.paginator import Page, Paginator
from django.shortcuts import render

PAGE_SIZE = 25


def refused(request, status: int, heading: str, detail: str = "", **extra):
    """A clear page saying why the request was refused, with that status code."""
    context = {"status": status, "heading": heading, "detail": detail, **extra}
    return render(request, "approvals/refused.html", context, status=status)


def paginate(request, queryset) -> Page:
    """One page of `queryset` (?page=N; out of range gives the nearest page)."""
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def styled(form):
    """Give a filter form's widgets Bootstrap's classes (small, inline)."""
    for field in form.fields.values():
        widget = field.widget
        css = "form-select" if widget.input_type == "select" else "form-control"
        widget.attrs.setdefault("class", f"{css} {css}-sm")
    return form
