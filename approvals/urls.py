"""Signoff's pages (the API's routes are in config/urls.py)."""

from django.urls import path
from django.views.generic import RedirectView

from approvals import (
    views_answer,
    views_bulk,
    views_executions,
    views_flows,
    views_handoffs,
    views_holds,
    views_inbox,
    views_links,
    views_profile,
)

app_name = "approvals"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="approvals:inbox"), name="home"),
    path("approvals/", views_inbox.inbox, name="inbox"),
    path("approvals/live", views_inbox.inbox_live, name="inbox-live"),
    path("approvals/badge", views_inbox.inbox_badge, name="inbox-badge"),
    path("approvals/bulk", views_bulk.bulk_answer, name="bulk"),
    path("approvals/<uuid:token_id>/", views_answer.answer, name="answer"),
    path("l/<uuid:link_id>/<str:secret>/", views_links.link, name="link"),
    # Kestra's UI address for an execution (links in Kestra flows' messages).
    path(
        "ui/executions/<str:namespace>/<str:flow_id>/<uuid:execution_id>",
        views_links.kestra_execution,
        name="kestra-execution",
    ),
    path(
        "approvals/<uuid:token_id>/delegate",
        views_handoffs.delegate,
        name="delegate",
    ),
    path("executions/", views_executions.executions, name="executions"),
    path(
        "executions/<uuid:execution_id>/", views_executions.execution, name="execution"
    ),
    path(
        "executions/<uuid:execution_id>/live",
        views_executions.execution_live,
        name="execution-live",
    ),
    path(
        "executions/<uuid:execution_id>/withdraw",
        views_handoffs.withdraw,
        name="withdraw",
    ),
    *[
        path(
            f"executions/<uuid:execution_id>/{verb}",
            views_holds.execution_hold,
            {"verb": verb},
            name=f"execution-{verb}",
        )
        for verb in views_holds.EXECUTION_OPERATIONS
    ],
    path("profile/", views_profile.profile, name="profile"),
    path("flows/", views_flows.flows, name="flows"),
    *[
        path(
            f"flows/<str:namespace>/<str:flow_id>/{verb}",
            views_holds.flow_hold,
            {"verb": verb},
            name=f"flow-{verb}",
        )
        for verb in views_holds.FLOW_OPERATIONS
    ],
    path("flows/<str:namespace>/<str:flow_id>/start", views_flows.start, name="start"),
    path(
        "flows/<str:namespace>/<str:flow_id>/revisions/<int:number>.yaml",
        views_flows.revision_yaml,
        name="flow-yaml",
    ),
]
