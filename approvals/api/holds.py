"""Pause, resume and cancel a whole flow, or one execution (flows.engine.holds)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from approvals import access
from approvals.api import docs
from approvals.api.common import (
    ApiView,
    Problem,
    check_tenant,
    check_visible,
    parse_uuid,
    status_url,
)
from approvals.api.executions import find_flow
from flows import engine
from flows.models import Execution, Flow

H = Execution.Hold


def flow_state(flow: Flow) -> dict:
    """The flow's state and how many of its executions wait on its pause."""
    unfinished = flow.executions.exclude(state__in=Execution.TERMINAL)
    queued = unfinished.filter(state=Execution.State.QUEUED).count()
    return {
        "namespace": flow.namespace,
        "flowId": flow.flow_id,
        "tenant": flow.tenant.slug,
        "state": engine.flow_state(flow),
        "latestRevision": flow.latest_revision,
        "executions": {
            "queued": queued,
            "held": unfinished.exclude(hold="").count() - queued,
            "unfinished": unfinished.count(),
        },
    }


class FlowView(ApiView):
    """GET /api/flows/{ns}/{flowId}: active or paused, and what waits on it."""

    @extend_schema(**docs.FLOW)
    def get(self, request, namespace, flow_id):
        flow = find_flow(request.user, namespace, flow_id, request.GET.get("tenant"))
        return Response(flow_state(flow))


class FlowHoldView(ApiView):
    """One engine call on the whole flow, for a user who may."""

    operation = staticmethod(engine.pause_flow)
    status = 200

    def post(self, request, namespace, flow_id):
        flow = find_flow(request.user, namespace, flow_id, request.GET.get("tenant"))
        access.check_may_hold_flow(request.user)
        affected = type(self).operation(flow.pk, actor=request.user, channel="api")
        flow.refresh_from_db()
        return Response({**flow_state(flow), "affected": affected}, self.status)


class PauseFlowView(FlowHoldView):
    @extend_schema(**docs.PAUSE_FLOW)
    def post(self, request, namespace, flow_id):
        return super().post(request, namespace, flow_id)


class ResumeFlowView(FlowHoldView):
    operation = staticmethod(engine.resume_flow)

    @extend_schema(**docs.RESUME_FLOW)
    def post(self, request, namespace, flow_id):
        return super().post(request, namespace, flow_id)


class CancelFlowView(FlowHoldView):
    operation = staticmethod(engine.cancel_flow)
    status = 202

    @extend_schema(**docs.CANCEL_FLOW)
    def post(self, request, namespace, flow_id):
        return super().post(request, namespace, flow_id)


def find_execution(user, raw_id) -> Execution:
    execution = Execution.objects.filter(pk=parse_uuid(raw_id, "execution")).first()
    if execution is None:
        raise Problem(404, "No such execution.")
    check_tenant(user, execution, "execution")
    check_visible(user, execution, "execution")
    return execution


def execution_hold(execution: Execution) -> dict:
    execution.refresh_from_db(fields=["state", "hold"])
    return {
        "executionId": str(execution.pk),
        "state": execution.state,
        "hold": execution.hold,
        "statusUrl": status_url(execution.pk),
    }


class ExecutionHoldView(ApiView):
    """One engine call on one execution, for its starter or a user who may."""

    operation = staticmethod(engine.pause_execution)
    status = 200

    def post(self, request, id):
        execution = find_execution(request.user, id)
        access.check_may_hold_execution(request.user, execution)
        type(self).operation(execution.pk, actor=request.user, channel="api")
        return Response(execution_hold(execution), self.status)


class PauseExecutionView(ExecutionHoldView):
    @extend_schema(**docs.PAUSE_EXECUTION)
    def post(self, request, id):
        return super().post(request, id)


class UnpauseExecutionView(ExecutionHoldView):
    operation = staticmethod(engine.unpause_execution)

    @extend_schema(**docs.UNPAUSE_EXECUTION)
    def post(self, request, id):
        return super().post(request, id)


class CancelExecutionView(ExecutionHoldView):
    operation = staticmethod(engine.cancel_execution)
    status = 202

    @extend_schema(**docs.CANCEL_EXECUTION)
    def post(self, request, id):
        return super().post(request, id)
