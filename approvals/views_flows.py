"""Flows the user can start, and the start page built from the flow's inputs."""

from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse

from approvals import access, forms
from approvals.views import refused
from flows import engine
from flows.inputs import InputValidationError


@login_required
def flows(request):
    rows = list(access.visible_flows(request.user).select_related("tenant"))
    names = Counter((flow.namespace, flow.flow_id) for flow in rows)
    for flow in rows:
        several = names[flow.namespace, flow.flow_id] > 1
        flow.start_url = start_url(flow, several)
        flow.hold_urls = {
            verb: start_url(flow, several, f"approvals:flow-{verb}")
            for verb in ("pause", "resume", "cancel")
        }
    tenants = {flow.tenant_id for flow in rows}
    context = {
        "flows": rows,
        "show_tenant": len(tenants) > 1,
        "may_hold": access.may_hold_flow(request.user),
    }
    return render(request, "approvals/flows.html", context)


def start_url(flow, with_tenant: bool, name: str = "approvals:start") -> str:
    url = reverse(name, args=[flow.namespace, flow.flow_id])
    return f"{url}?tenant={flow.tenant.slug}" if with_tenant else url


@login_required
def start(request, namespace, flow_id):
    found = access.visible_flows(request.user).select_related("tenant")
    found = found.filter(namespace=namespace, flow_id=flow_id)
    if request.GET.get("tenant"):
        found = found.filter(tenant__slug=request.GET["tenant"])
    found = list(found[:10])
    if not found:
        return refused(request, 404, "No such flow", f"{namespace}.{flow_id}")
    if len(found) > 1:
        choices = [(f"In {f.tenant.name}", start_url(f, True)) for f in found]
        detail = "This flow exists in several of your tenants; choose one."
        return refused(request, 400, "Choose a tenant", detail, choices=choices)
    return _start(request, found[0])


def _start(request, flow):
    data = request.POST if request.method == "POST" else None
    form = forms.start_form(flow, data, request.FILES or None)
    if form.is_valid():
        try:
            execution = engine.start_execution(flow, form.values, actor=request.user)
        except InputValidationError as exc:
            for name, errors in exc.errors.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
        except engine.HoldConflict as exc:
            return refused(request, 409, "This flow was cancelled", str(exc))
        else:
            if execution.state == execution.State.QUEUED:
                note = f"Execution of {flow} queued because the flow is paused."
                messages.warning(request, note)
            else:
                messages.success(request, f"Execution of {flow} started.")
            return redirect("approvals:execution", execution.pk)
    return render(request, "approvals/start.html", {"flow": flow, "form": form})
