"""Kestra's `POST /api/v1[/{tenant}]/executions/{executionId}/resume`.

Inputs come as multipart form data (FILE inputs as file parts), as Kestra's UI and
SDKs send them, or as a JSON object; either goes through the main resume path.
Kestra answers 204 No Content. Errors carry Kestra's `message` beside Signoff's
`detail`: 404, 409 (not paused), 422 (invalid inputs, with `_embedded.errors`),
plus Signoff's 400, 401, 403, 410 and 412.
"""

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from approvals.api import docs, resume
from approvals.api.common import ApiView, Problem, as_problem, parse_uuid
from flows.models import Execution


class KestraResumeView(ApiView):
    """Resume a paused execution with its onResume inputs; 204 when accepted."""

    parser_classes = [MultiPartParser, FormParser, *ApiView.parser_classes]

    @extend_schema(**docs.KESTRA_RESUME)
    def post(self, request, id, tenant=None):
        user = request.user
        if tenant is not None:
            pk = parse_uuid(id, "execution")
            if not Execution.objects.filter(pk=pk, tenant__slug=tenant).exists():
                # Worded like any id the user may not see, so it tells nothing.
                raise Problem(404, "No such suspension or execution.")
        token = resume.find_token(user, id)
        if request.content_type.startswith("application/json"):
            values = resume.checked_values(
                user, token, request.data, if_match=resume.if_match(request)
            )
        else:  # form fields and files, read as the answer screen reads them
            values = resume.checked_values(
                user,
                token,
                request.POST,
                request.FILES,
                api=False,
                if_match=resume.if_match(request),
            )
        resume.accept(user, token, values, "")
        return HttpResponse(status=204)

    def handle_exception(self, exc):
        problem = as_problem(exc)
        if problem is None:
            return super().handle_exception(exc)
        status, body = problem.status, dict(problem.body)
        body["message"] = body["detail"]
        if status == 400 and body["message"] == resume.INVALID_DATA:
            status = 422  # Kestra's code for inputs that fail validation
            body["_embedded"] = {
                "errors": [
                    {"path": name, "message": message}
                    for name, messages in body["errors"].items()
                    for message in messages
                ]
            }
        return Response(body, status=status)


class KestraTenantResumeView(KestraResumeView):
    """The same, with the tenant's slug in the path (404 when it is not the
    execution's)."""

    @extend_schema(**docs.KESTRA_TENANT_RESUME)
    def post(self, request, id, tenant=None):
        return super().post(request, id, tenant)
