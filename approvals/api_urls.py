"""REST API routes, mounted at /api/ (namespace `api`)."""

from django.urls import path

from approvals.api.bulk import BulkResumeView
from approvals.api.docs import DocsView, SchemaView
from approvals.api.events import ExecutionEventsView
from approvals.api.executions import (
    ExecutionDetailView,
    ExecutionListView,
    ExecutionStatusView,
    StartExecutionView,
)
from approvals.api.handoffs import DelegateView, WithdrawView
from approvals.api.holds import (
    CancelExecutionView,
    CancelFlowView,
    FlowView,
    PauseExecutionView,
    PauseFlowView,
    ResumeFlowView,
    UnpauseExecutionView,
)
from approvals.api.kestra import KestraResumeView, KestraTenantResumeView
from approvals.api.okta import InvokeView, OktaResumeView
from approvals.api.prefect import FlowRunResumeView
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
    path(
        "executions/<str:id>/events",
        ExecutionEventsView.as_view(),
        name="execution-events",
    ),
    path("executions/<str:id>/resume", ResumeView.as_view(), name="resume"),
    path("executions/<str:id>/pause", PauseExecutionView.as_view(), name="pause"),
    path("executions/<str:id>/unpause", UnpauseExecutionView.as_view(), name="unpause"),
    path("executions/<str:id>/cancel", CancelExecutionView.as_view(), name="cancel"),
    path("executions/<str:id>/withdraw", WithdrawView.as_view(), name="withdraw"),
    path("flows/<str:namespace>/<str:flow_id>", FlowView.as_view(), name="flow"),
    path(
        "flows/<str:namespace>/<str:flow_id>/pause",
        PauseFlowView.as_view(),
        name="flow-pause",
    ),
    path(
        "flows/<str:namespace>/<str:flow_id>/resume",
        ResumeFlowView.as_view(),
        name="flow-resume",
    ),
    path(
        "flows/<str:namespace>/<str:flow_id>/cancel",
        CancelFlowView.as_view(),
        name="flow-cancel",
    ),
    path(
        "flows/<str:namespace>/<str:flow_id>/executions",
        StartExecutionView.as_view(),
        name="start",
    ),
    # The seeds' own routes (DESIGN.md "Resume API"), on top of the main one.
    path(
        "flows/<str:namespace>/<str:flow_id>/invoke",
        InvokeView.as_view(),
        name="okta-invoke",
    ),
    path(
        "flows/<str:namespace>/<str:flow_id>/resume/<str:execution_id>",
        OktaResumeView.as_view(),
        name="okta-resume",
    ),
    path(
        "flow_runs/<str:id>/resume", FlowRunResumeView.as_view(), name="prefect-resume"
    ),
    path(
        "v1/executions/<str:id>/resume",
        KestraResumeView.as_view(),
        name="kestra-resume",
    ),
    path(
        "v1/<str:tenant>/executions/<str:id>/resume",
        KestraTenantResumeView.as_view(),
        name="kestra-tenant-resume",
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
    path("suspensions/bulk-resume", BulkResumeView.as_view(), name="bulk-resume"),
    path("suspensions/<str:id>", SuspensionDetailView.as_view(), name="suspension"),
    path("suspensions/<str:id>/delegate", DelegateView.as_view(), name="delegate"),
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
