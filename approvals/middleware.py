"""Refusals every page and endpoint shares, before any view sees the request."""

from approvals.views import refused_input
from flows import text


class RefuseUnstorableText:
    """400 for a NUL in a query value or a URL part (`/flows/<ns>/...`).

    No database can look such text up (PostgreSQL refuses NUL in a query), so it
    is refused once here, naming the parameter, instead of in each view.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        query = [(k, v) for k, values in request.GET.lists() for v in values]
        errors: dict[str, list[str]] = {}
        for name, value in [*view_kwargs.items(), *query]:
            if problem := text.problem(name):
                errors["__all__"] = [f"A parameter name: {problem}"]
            elif problem := text.problem(str(value)):
                errors[name] = [problem]
        if errors:
            return refused_input(request, "Invalid request.", errors)
        return None
