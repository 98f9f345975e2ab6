"""The buttons that pause, resume or cancel a whole flow, or one execution."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from approvals import access
from approvals.views import refused
from flows import engine

FLOW_OPERATIONS = {
    "pause": (engine.pause_flow, "Paused {flow}: no new step starts."),
    "resume": (engine.resume_flow, "Resumed {flow}: {count} execution(s) go on."),
    "cancel": (engine.cancel_flow, "Cancelled {count} execution(s) of {flow}."),
}
EXECUTION_OPERATIONS = {
    "pause": (engine.pause_execution, "Paused: no new step starts."),
    "unpause": (engine.unpause_execution, "Unpaused."),
    "cancel": (engine.cancel_execution, "Cancelled."),
}


@require_POST
@login_required
def flow_hold(request, namespace, flow_id, verb):
    found = access.visible_flows(request.user).filter(
        namespace=namespace, flow_id=flow_id
    )
    if request.GET.get("tenant"):
        found = found.filter(tenant__slug=request.GET["tenant"])
    flow = found.first()
    if flow is None:
        return refused(request, 404, "No such flow", f"{namespace}.{flow_id}")
    if not access.may_hold_flow(request.user):
        detail = "Only staff or holders of flows.change_flow may."
        return refused(request, 403, "Not allowed", detail)
    operation, done = FLOW_OPERATIONS[verb]
    try:
        count = operation(flow.pk, actor=request.user, channel="web")
    except engine.HoldConflict as exc:
        messages.warning(request, f"{flow}: {exc}")
    else:
        messages.success(request, done.format(flow=flow, count=count))
    return redirect("approvals:flows")


@require_POST
@login_required
def execution_hold(request, execution_id, verb):
    execution = get_object_or_404(
        access.visible_executions(request.user), pk=execution_id
    )
    if not access.may_hold_execution(request.user, execution):
        detail = "Only its starter, staff or holders of flows.change_execution may."
        return refused(request, 403, "Not allowed", detail)
    operation, done = EXECUTION_OPERATIONS[verb]
    try:
        operation(execution.pk, actor=request.user, channel="web")
    except engine.HoldConflict as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("approvals:execution", execution.pk)
