"""Okta Workflows' API endpoint: invoke a flow and get its Pause, then resume it.

`invoke` starts the flow and waits (bounded by `?wait=`) until the execution pauses
or ends, polling its row; `resume/{executionId}` answers the pause through the main
resume path, with its codes and validation.
"""

import time

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from approvals import context
from approvals.api import docs, payloads, resume
from approvals.api.common import (
    ApiView,
    Problem,
    field_errors,
    parse_uuid,
    status_url,
)
from approvals.api.executions import find_flow, start
from approvals.serializers import InvokeQuerySerializer
from flows.models import Execution, SuspensionToken, TaskRun

DEFAULT_WAIT = 30  # seconds; InvokeQuerySerializer caps ?wait= at 60
POLL_INTERVAL = 0.05
SETTLED = {Execution.State.PAUSED, *Execution.TERMINAL}


class InvokeView(ApiView):
    """Start the flow and answer once it pauses or ends (or the wait is over)."""

    @extend_schema(**docs.OKTA_INVOKE)
    def post(self, request, namespace, flow_id):
        query = InvokeQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise Problem(400, "Invalid query.", errors=field_errors(query.errors))
        wait = query.validated_data.get("wait", DEFAULT_WAIT)
        flow = find_flow(
            request.user, namespace, flow_id, query.validated_data.get("tenant")
        )
        started = start(request.user, flow, request.data)
        execution = wait_until_settled(started.pk, wait)
        body = {
            "executionId": str(execution.pk),
            "state": execution.state,
            "statusUrl": status_url(execution.pk),
            "pause": None,
        }
        if execution.state == Execution.State.PAUSED:
            body["pause"] = invoked_pause(execution, namespace, flow_id)
        code = 200 if execution.state in SETTLED else 202
        return Response(
            body, status=code, headers={"X-Execution-Id": body["executionId"]}
        )


def wait_until_settled(execution_id, seconds: float) -> Execution:
    """The execution once it is PAUSED or ended, or as it is after `seconds`.

    Each look is one autocommit query, so a worker's commits are seen; nothing is
    held open between looks.
    """
    deadline = time.monotonic() + seconds
    while True:
        execution = Execution.objects.only("state").get(pk=execution_id)
        if execution.state in SETTLED or time.monotonic() >= deadline:
            return execution
        time.sleep(POLL_INTERVAL)


def invoked_pause(execution: Execution, namespace: str, flow_id: str) -> dict | None:
    """The waiting pause's values for the caller: message, fields, onPause outputs."""
    tokens = payloads.with_execution(
        SuspensionToken.objects.filter(
            execution_id=execution.pk, state=SuspensionToken.State.WAITING
        )
    ).select_related("task_run")
    token = tokens.order_by("created_at").first()
    if token is None:  # resumed between the look and now
        return None
    path = token.task_run.path if token.task_run_id else ""
    preludes = TaskRun.objects.filter(
        execution_id=execution.pk, path__startswith=f"{path}.onPause."
    ).values_list("task_id", "outputs")
    return {
        "tokenId": str(token.pk),
        "message": token.message,
        "expected": payloads.expected(token),
        "onPause": dict(preludes),
        "fingerprint": context.fingerprint(context.approval_context(token)),
        "resumeUrl": reverse(
            "api:okta-resume", args=[namespace, flow_id, str(execution.pk)]
        ),
    }


class OktaResumeView(ApiView):
    """Answer the pause of this flow's execution with the output fields (JSON)."""

    @extend_schema(**docs.OKTA_RESUME)
    def post(self, request, namespace, flow_id, execution_id):
        flow = find_flow(request.user, namespace, flow_id, request.GET.get("tenant"))
        pk = parse_uuid(execution_id, "execution")
        if not Execution.objects.filter(pk=pk, flow=flow).exists():
            # Worded like any id the user may not see, so it tells nothing.
            raise Problem(404, "No such suspension or execution.")
        return resume.answer(
            request.user, str(pk), request.data, "", resume.if_match(request)
        )
