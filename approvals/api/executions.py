"""Start executions, list them, and poll one (`/status`)."""

from hashlib import sha256

from django.utils.http import parse_etags
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from approvals import access
from approvals.api import docs, payloads
from approvals.api.common import (
    ApiView,
    Pagination,
    Problem,
    check_tenant,
    check_visible,
    execution_url,
    field_errors,
    parse_uuid,
    status_url,
)
from approvals.forms import error_dict, start_form
from approvals.serializers import StartExecutionSerializer
from flows import engine
from flows.inputs import InputValidationError
from flows.models import Execution, Flow


class StartExecutionView(ApiView):
    """Start the flow with `inputs`; 201 with the execution's id and status URL."""

    @extend_schema(**docs.START)
    def post(self, request, namespace, flow_id):
        flow = find_flow(request.user, namespace, flow_id, request.GET.get("tenant"))
        body = StartExecutionSerializer(data=request.data)
        if not body.is_valid():
            raise Problem(400, "Invalid inputs.", errors=field_errors(body.errors))
        execution = start(
            request.user,
            flow,
            body.validated_data["inputs"],
            labels=body.validated_data["labels"],
        )
        started = {
            "executionId": str(execution.pk),
            "state": execution.state,
            "statusUrl": status_url(execution.pk),
            "queued": None,
        }
        if execution.state == Execution.State.QUEUED:
            started["queued"] = "Queued because the flow is paused."
        headers = {
            "Location": execution_url(execution.pk),
            "X-Execution-Id": str(execution.pk),
        }
        return Response(started, status=201, headers=headers)


def start(user, flow: Flow, data, *, labels=None) -> Execution:
    """Validate `data` like the start screen, then start the flow (400 if invalid)."""
    form = start_form(flow, data, api=True)
    if not form.is_valid():
        raise Problem(400, "Invalid inputs.", errors=error_dict(form))
    try:
        return engine.start_execution(flow, form.values, actor=user, labels=labels)
    except InputValidationError as exc:
        raise Problem(400, "Invalid inputs.", errors=exc.errors) from exc


def find_flow(user, namespace: str, flow_id: str, tenant: str | None) -> Flow:
    """The user's flow by namespace and id; `tenant` picks one when several match."""
    flows = access.visible_flows(user).filter(namespace=namespace, flow_id=flow_id)
    if tenant:
        flows = flows.filter(tenant__slug=tenant)
    found = list(flows.select_related("tenant").order_by("tenant__slug")[:10])
    if not found:
        raise Problem(404, f"No flow {namespace}/{flow_id} in your tenants.")
    if len(found) > 1:
        slugs = ", ".join(flow.tenant.slug for flow in found)
        raise Problem(
            400,
            f"Flow {namespace}/{flow_id} exists in several of your tenants; "
            "name one with ?tenant=<slug>.",
            errors={"tenant": [f"Choose one of: {slugs}."]},
        )
    return found[0]


class ExecutionListView(ApiView):
    """Executions the user may see, newest first, filtered and paginated."""

    @extend_schema(**docs.EXECUTIONS)
    def get(self, request):
        executions = access.visible_executions(request.user)
        state = request.GET.get("state", "").upper()
        if state and state not in Execution.State.values:
            allowed = ", ".join(Execution.State.values)
            errors = {"state": [f"Unknown state; expected one of: {allowed}."]}
            raise Problem(400, "Invalid filter.", errors=errors)
        if state:
            executions = executions.filter(state=state)
        if namespace := request.GET.get("namespace"):
            executions = executions.filter(flow__namespace=namespace)
        if flow_id := request.GET.get("flow"):
            executions = executions.filter(flow__flow_id=flow_id)
        executions = payloads.with_flow(executions).order_by("-created_at", "-pk")
        paginator = Pagination()
        page = paginator.paginate_queryset(executions, request, view=self)
        items = [payloads.execution_summary(execution) for execution in page]
        return paginator.get_paginated_response(items)


class ExecutionStatusView(ApiView):
    """State, outcome, inputs, outputs, task runs and pauses: what a poller needs.

    With `If-None-Match` holding the reply's `ETag`, an unchanged execution is a
    304 after the lookup and visibility check alone (no task runs, no tokens).
    """

    @extend_schema(**docs.STATUS)
    def get(self, request, id):
        execution = visible_execution(request.user, id, payloads.with_flow)
        tag = etag(execution)
        headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
        if matches(request.headers.get("If-None-Match", ""), tag):
            return Response(status=304, headers=headers)
        runs = list(execution.task_runs.defer("logs").order_by("started_at", "path"))
        tokens = payloads.with_received(execution.tokens.order_by("created_at", "pk"))
        body = payloads.execution_status(execution, runs, list(tokens))
        return Response(body, headers=headers)


def visible_execution(user, raw_id: str, joined=lambda rows: rows) -> Execution:
    """The execution `raw_id` if the user may see it: 404 if not (or no such one),
    403 for another tenant's. `joined` adds what the caller needs to the query."""
    executions = access.with_visible(joined(Execution.objects), user)
    execution = executions.filter(pk=parse_uuid(raw_id, "execution")).first()
    if execution is None:
        raise Problem(404, "No such execution.")
    check_tenant(user, execution, "execution")
    check_visible(user, execution, "execution")
    return execution


def etag(execution: Execution) -> str:
    """Changes whenever the status body can: every transition and every answer
    appends to the audit trail, whose last seq and hash the execution row keeps."""
    key = f"{execution.pk}:{execution.state}:{execution.last_event_seq}:"
    key += execution.last_event_hash
    return f'"{execution.last_event_seq}-{sha256(key.encode()).hexdigest()[:20]}"'


def matches(if_none_match: str, tag: str) -> bool:
    """Weak comparison, as RFC 9110 asks for If-None-Match (`*` matches too)."""
    tags = parse_etags(if_none_match)
    return "*" in tags or tag.removeprefix("W/") in {t.removeprefix("W/") for t in tags}


class ExecutionDetailView(ExecutionStatusView):
    """GET /api/executions/{id}: the same body as its status."""

    @extend_schema(**docs.EXECUTION)
    def get(self, request, id):
        return super().get(request, id)
