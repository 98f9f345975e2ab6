"""Flows the user can start, each revision's YAML, and the start page built from
the flow's inputs."""

from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header

from approvals import access, flow_source, forms
from approvals.views import refused
from flows import engine
from flows.inputs import InputValidationError
from flows.models import FlowRevision


@login_required
def flows(request):
    numbers = FlowRevision.objects.only("id", "flow_id", "revision")
    found = access.visible_flows(request.user).select_related("tenant")
    rows = list(found.prefetch_related(Prefetch("revisions", queryset=numbers)))
    names = Counter((flow.namespace, flow.flow_id) for flow in rows)
    for flow in rows:
        several = names[flow.namespace, flow.flow_id] > 1
        flow.start_url = start_url(flow, several)
        flow.yaml_urls = [
            (revision.revision, yaml_url(flow, revision.revision, several))
            for revision in flow.revisions.all()
        ]
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


def yaml_url(flow, number: int, with_tenant: bool) -> str:
    url = reverse("approvals:flow-yaml", args=[flow.namespace, flow.flow_id, number])
    return f"{url}?tenant={flow.tenant.slug}" if with_tenant else url


def _one_flow(request, namespace, flow_id, link):
    """(the visible flow, None) or (None, the 404 / choose-a-tenant page)."""
    found = access.visible_flows(request.user).select_related("tenant")
    found = found.filter(namespace=namespace, flow_id=flow_id)
    if request.GET.get("tenant"):
        found = found.filter(tenant__slug=request.GET["tenant"])
    found = list(found[:10])
    if not found:
        return None, refused(request, 404, "No such flow", f"{namespace}.{flow_id}")
    if len(found) > 1:
        choices = [(f"In {f.tenant.name}", link(f)) for f in found]
        detail = "This flow exists in several of your tenants; choose one."
        return None, refused(request, 400, "Choose a tenant", detail, choices=choices)
    return found[0], None


@login_required
def start(request, namespace, flow_id):
    flow, refusal = _one_flow(request, namespace, flow_id, lambda f: start_url(f, True))
    return refusal or _start(request, flow)


@login_required
def revision_yaml(request, namespace, flow_id, number):
    """One revision's YAML as written (SECRET defaults masked), as text/plain."""
    flow, refusal = _one_flow(
        request, namespace, flow_id, lambda f: yaml_url(f, number, True)
    )
    if refusal:
        return refusal
    revision = flow.revisions.filter(revision=number).only("source").first()
    if revision is None:
        detail = (
            f"{flow} has no revision {number}; its latest is {flow.latest_revision}."
        )
        return refused(request, 404, "No such revision", detail)
    shown = flow_source.shown_source(revision.source)
    if shown is None:
        return refused(request, 404, "This revision cannot be shown", str(flow))
    response = HttpResponse(shown, content_type="text/plain; charset=utf-8")
    name = f"{flow.namespace}.{flow.flow_id}.r{number}.yaml"
    response["Content-Disposition"] = content_disposition_header(False, name)
    return response


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
