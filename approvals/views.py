"""Helpers shared by the page modules (views_inbox, views_answer, views_executions,
views_flows): the refusal page and pagination. Each page is a short function there.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.paginator import Page, Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.functional import cached_property

PAGE_SIZE = 25
COUNT_CAP = 1000


class CappedPaginator(Paginator):
    """Counts at most `COUNT_CAP` rows: a huge list costs one bounded COUNT.

    Past the cap the pages cover the first COUNT_CAP rows and `capped` is true
    ("1000+ in all"); filters narrow the rest.
    """

    @cached_property
    def count(self) -> int:
        seen = self.object_list.order_by().values("pk")[: COUNT_CAP + 1].count()
        self.capped = seen > COUNT_CAP
        return min(seen, COUNT_CAP)

    capped = False


def refused(request, status: int, heading: str, detail: str = "", **extra):
    """A clear page saying why the request was refused, with that status code."""
    context = {"status": status, "heading": heading, "detail": detail, **extra}
    return render(request, "approvals/refused.html", context, status=status)


def bad_request(request, exception=None):
    """handler400: what Django refuses before a view runs (too many fields, a body
    too big), as the API's `errors` body on /api/ and as a clear page elsewhere."""
    if isinstance(exception, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        detail = f"Too many fields: at most {limit:,} query parameters or form fields."
    elif isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = f"The request body is too large: at most {limit:,} bytes."
    else:
        detail = "The request could not be understood."
    return refused_input(request, detail, {"__all__": [detail]})


def refused_input(request, detail: str, errors: dict[str, list[str]]):
    """A 400 for bad input: JSON `{"detail", "errors"}` on /api/, a page elsewhere."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": detail, "errors": errors}, status=400)
    shown = {
        name: problems for name, problems in errors.items() if problems != [detail]
    }
    return refused(request, 400, "Bad request", detail, errors=shown)


def paginate(request, queryset) -> Page:
    """One page of `queryset` (?page=N; out of range gives the nearest page)."""
    page = CappedPaginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    page.nearby_numbers = page.paginator.get_elided_page_range(
        page.number, on_each_side=2, on_ends=1
    )
    return page


def styled(form):
    """Give a filter form's widgets Bootstrap's classes (small, inline)."""
    for field in form.fields.values():
        widget = field.widget
        css = "form-select" if widget.input_type == "select" else "form-control"
        widget.attrs.setdefault("class", f"{css} {css}-sm")
    return form
