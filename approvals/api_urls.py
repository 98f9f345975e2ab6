"""REST API routes, mounted at /api/ (namespace `api`)."""

from django.urls import path

from approvals.api.docs import DocsView, SchemaView
from approvals.api.executions import (
    ExecutionDetailView,
    ExecutionListView,
    ExecutionStatusView,
    StartExecutionView,
)
from approvals.api.requests import (
    CompleteApprovalRequestView,
    CreateApprovalRequestView,
)
from approvals.api.resume import ResumeView
from approvals.api.suspensions import SuspensionDetailView, SuspensionListView

app_name = "api"

urlpatterns = [
    path("executions", ExecutionListView.as_view(), name="executions"),
    path("executions/<str:id>", ExecutionDetailView.as_view(), name="execution"),
    path(
        "executions/<str:id>/status",
        ExecutionStatusView.as_view(),
        name="execution-status",
    ),
    path("executions/<str:id>/resume", ResumeView.as_view(), name="resume"),
    path(
        "flows/<str:namespace>/<str:flow_id>/executions",
        StartExecutionView.as_view(),
        name="start",
    ),
    path(
        "approval-requests",
        CreateApprovalRequestView.as_view(),
        name="approval-requests",
    ),
    path(
        "approval-requests/<str:token>/complete",
        CompleteApprovalRequestView.as_view(),
        name="approval-request-complete",
    ),
    path("suspensions", SuspensionListView.as_view(), name="suspensions"),
    path("suspensions/<str:id>", SuspensionDetailView.as_view(), name="suspension"),
    path("schema/", SchemaView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script from its own URL, so the page
    # needs no inline script under the Content-Security-Policy.
    path(
        "docs/",
        DocsView.as_view(
            url_name="api:schema", template_name="approvals/api_docs.html"
        ),
        name="docs",
    ),
]
