"""Prefect's `POST /flow_runs/{id}/resume`: the answer as an orchestration result.

Prefect answers 201 when a new state was created (ACCEPT) and 200 otherwise: REJECT
(invalid `run_input`, the run stays PAUSED) and ABORT (not paused, or the pause
timed out; no state). Refusals Prefect has no words for keep the main endpoint's
codes: 401, 403 (tenant, may not answer), 404, 412 (If-Match).
"""

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from approvals.api import docs, payloads, resume
from approvals.api.common import ApiView, Problem, field_errors, iso
from approvals.serializers import PrefectResumeSerializer
from flows import engine
from flows.models import SuspensionToken

NOT_PAUSED = "Cannot resume a flow run that is not paused."
TIMED_OUT = "The flow run pause has timed out and can no longer be resumed."


class FlowRunResumeView(ApiView):
    """Resume a paused flow run (an execution, or one pause by its token id)."""

    @extend_schema(**docs.PREFECT_RESUME)
    def post(self, request, id):
        body = PrefectResumeSerializer(data=request.data)
        if not body.is_valid():
            raise Problem(400, "Invalid body.", errors=field_errors(body.errors))
        user, run_input = request.user, body.validated_data["run_input"]
        try:
            token = resume.find_token(user, id)
            values = resume.checked_values(
                user, token, run_input, if_match=resume.if_match(request)
            )
        except engine.AlreadyConsumed:
            return abort(NOT_PAUSED)
        except engine.Expired:
            return abort(TIMED_OUT)
        except Problem as problem:
            if problem.status == 409:  # the execution is not waiting
                return abort(NOT_PAUSED)
            if problem.status == 400:
                return reject(token, problem.body["errors"])
            raise
        try:
            resume.accept(user, token, values, "")
        except engine.AlreadyConsumed:  # lost the race to another answer
            return abort(NOT_PAUSED)
        except engine.Expired:
            return abort(TIMED_OUT)
        token.refresh_from_db()
        if token.state == SuspensionToken.State.WAITING:  # a quorum needs more
            return Response(result("ACCEPT", paused_state(token)))
        return Response(result("ACCEPT", running_state(token)), status=201)


def result(status: str, state: dict | None, reason: str | None = None) -> dict:
    details = {"type": f"{status.lower()}_details"}
    if reason:
        details["reason"] = reason
    return {"state": state, "status": status, "details": details}


def abort(reason: str) -> Response:
    return Response(result("ABORT", None, reason))


def reject(token: SuspensionToken, errors: dict) -> Response:
    reasons = "; ".join(
        f"{name}: {' '.join(messages)}" for name, messages in errors.items()
    )
    return Response(result("REJECT", paused_state(token), f"Reason: {reasons}"))


def paused_state(token: SuspensionToken) -> dict:
    return state(token, "PAUSED", "Paused", token.created_at, token.message or None)


def running_state(token: SuspensionToken) -> dict:
    by = token.resolved_by_name or "system"
    return state(token, "RUNNING", "Running", token.resolved_at, f"Resumed by {by}")


def state(token, kind: str, name: str, moment, message) -> dict:
    path = token.task_run.path if token.task_run_id else ""
    return {
        # A state has its own id in Prefect; this one is stable per token and type.
        "id": str(uuid.uuid5(token.pk, kind)),
        "type": kind,
        "name": name,
        "timestamp": iso(moment),
        "message": message,
        "state_details": payloads.state_details(token, path),
    }
