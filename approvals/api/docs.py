"""OpenAPI descriptions of each operation (drf-spectacular `extend_schema` kwargs)."""

from django.views import View
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from approvals import serializers as s


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """`Authorization: Bearer <key>`; keys come from `manage.py drf_create_token`."""

    target_class = "approvals.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object("Authorization", "Bearer")


@extend_schema_view(get=extend_schema(exclude=True))
class SchemaView(SpectacularAPIView):
    """/api/schema/: the OpenAPI document, which does not list itself."""


class DocsView(SpectacularSwaggerSplitView):
    """/api/docs/: Swagger UI. OPTIONS answers with `Allow` only: the page's HTML
    renderer cannot draw DRF's metadata (it was a 500)."""

    def options(self, request, *args, **kwargs):
        return View.options(self, request, *args, **kwargs)


def _error(description: str, serializer=s.ErrorSerializer) -> OpenApiResponse:
    return OpenApiResponse(serializer, description=description)


UNAUTHORIZED = _error("No valid credentials; the reply has `WWW-Authenticate: Bearer`.")
OTHER_TENANT = _error("The object belongs to a tenant the user is not a member of.")
INVALID = _error(
    "Invalid data; `errors` names each bad field or parameter (a NUL character in "
    "any of them, a malformed body, more than 1,000 query parameters).",
    s.InvalidDataSerializer,
)

FLOW_CANCELLED = _error(
    "The flow was cancelled (`state`: cancelled); a new revision makes it usable.",
    s.HoldConflictSerializer,
)

EXECUTION_ID = OpenApiParameter(
    "id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="An execution's id."
)
TOKEN_ID = OpenApiParameter(
    "id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="A suspension's id."
)
PAGE = [s.PageQuerySerializer]
LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="URL to poll: the execution's status.",
    response=[202],
)

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The pause's `fingerprint` (status API, answer screen): answer "
    "only if it still shows what it showed then; 412 otherwise.",
)
CONTEXT_CHANGED = _error(
    "If-Match was sent and what the suspension shows has changed since.",
    s.ContextChangedSerializer,
)
RESUME_REFUSALS = {
    401: UNAUTHORIZED,
    403: _error(
        "Another tenant's suspension, or the user may not answer it "
        "(not an assignee, or started the execution: self-approval)."
    ),
    404: _error(
        "No such suspension or execution, or one the user may not see (the same body)."
    ),
    409: _error(
        "Already consumed (resumed or cancelled), the execution is not waiting, "
        "several of its pauses wait (`waiting` lists them), "
        "this user already answered a quorum, or it was handed to someone else "
        "(delegated) while the answer was on its way.",
        s.ConsumedSerializer,
    ),
    410: _error("The deadline has passed.", s.ExpiredSerializer),
    412: CONTEXT_CHANGED,
}

RESUME = {
    "operation_id": "resume_suspension",
    "summary": "Answer a suspension and resume its execution",
    "description": (
        "`{id}` is a suspension token's id (the correlation id given to channels) "
        "or an execution's id (its waiting suspension). The body is the answer: "
        "`decision` and `comment` on an approval screen, the onResume fields on a "
        "form, `acknowledged` on a review. Refusals are checked in this order: "
        "401, 404, 403 (tenant), 404 (an execution the user may not see: neither "
        "started, answered, assigned nor `flows.view_execution`), 409, 410, 403 "
        "(not an assignee / self-approval), 400. The execution continues "
        "asynchronously; poll the `Location`.\n\n"
        "With an `Idempotency-Key` header, a retry with the same key gets the first "
        "reply again (even though the suspension is consumed by then); reusing a key "
        "for another suspension is refused with 422."
    ),
    "parameters": [
        OpenApiParameter(
            "id",
            OpenApiTypes.UUID,
            OpenApiParameter.PATH,
            description="A suspension token's id, or an execution's id.",
        ),
        OpenApiParameter(
            "Idempotency-Key",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            description="Any unique string (at most 200 characters) per answer.",
        ),
        IF_MATCH,
        LOCATION,
    ],
    "request": {"application/json": OpenApiTypes.OBJECT},
    "examples": [
        OpenApiExample(
            "Approval",
            value={"decision": "Approved", "comment": "Terms are acceptable for Q3."},
            request_only=True,
        ),
        OpenApiExample(
            "Form",
            value={"employeeName": "Jane Doe", "startDate": "2026-06-01"},
            request_only=True,
        ),
        OpenApiExample(
            "Review",
            value={"acknowledged": True, "comment": "Seen."},
            request_only=True,
        ),
        OpenApiExample(
            "Resuming",
            value={
                "executionId": "3f9c4b2a-7e8d-4c1f-a3b6-9d0e1f2a3b4c",
                "status": "Resuming",
            },
            response_only=True,
            status_codes=["202"],
        ),
        OpenApiExample(
            "Waiting for more approvers",
            value={
                "executionId": "3f9c4b2a-7e8d-4c1f-a3b6-9d0e1f2a3b4c",
                "status": "Waiting",
                "approvals": 1,
                "required": 2,
            },
            response_only=True,
            status_codes=["202"],
        ),
    ],
    "responses": {
        202: OpenApiResponse(
            s.ResumeAcceptedSerializer,
            description="Accepted; the execution continues on a worker.",
        ),
        400: INVALID,
        **RESUME_REFUSALS,
        422: _error(
            "The Idempotency-Key was used for another suspension.",
            s.KeyReusedSerializer,
        ),
    },
}

BULK_RESUME = {
    "operation_id": "bulk_resume_suspensions",
    "summary": "Answer several suspensions at once with the same answer",
    "description": (
        "Each id is answered as `POST /api/executions/{id}/resume` would answer it, "
        "with every check in the same order; each accepted one is its own answer "
        "and its own event, and one refusal never stops the others. The reply is "
        "200 with one result per id, in order, carrying the status code and body "
        "the single resume would have given. With an `Idempotency-Key`, each item "
        "uses `<key>/<id>`, so a retried request replays each accepted answer."
    ),
    "parameters": [
        OpenApiParameter(
            "Idempotency-Key",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            description="Any unique string (at most 163 characters) per request.",
        ),
    ],
    "request": s.BulkResumeSerializer,
    "examples": [
        OpenApiExample(
            "Approve two",
            value={
                "tokens": [
                    "3f9c4b2a-7e8d-4c1f-a3b6-9d0e1f2a3b4c",
                    "5a1d2e3f-4b5c-4d6e-8f70-8192a3b4c5d6",
                ],
                "data": {"decision": "Approved", "comment": "Batch of Monday."},
            },
            request_only=True,
        ),
    ],
    "responses": {
        200: s.BulkResultSerializer,
        400: INVALID,
        401: UNAUTHORIZED,
    },
}

STATUS = {
    "operation_id": "get_execution_status",
    "summary": "An execution's state, outputs, task runs and open pause (for polling)",
    "description": (
        "`outcome` is the latest decision in words, the same sentence the pages "
        'show: "Approved by ann", "Approved by ann, bob" (a quorum), "Rejected '
        'by manager: not this week", "Denied by manager" (an Approval task), '
        '"Expired", "Auto-approved", "Cancelled by admin", "Answered by ann" (a '
        'form), "Reviewed by ann"; null until a pause is resolved. `pauses` lists '
        "every suspension with its own `outcome`; `pause` is the open one.\n\n"
        "Poll with `If-None-Match: <the last ETag>`: an unchanged execution is a "
        "304 with no body, answered after the lookup and visibility check alone. "
        "For pushed updates, read `/events` instead."
    ),
    "parameters": [
        EXECUTION_ID,
        OpenApiParameter(
            "If-None-Match",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            description="The `ETag` of an earlier reply: 304 if nothing changed.",
        ),
        OpenApiParameter(
            "ETag",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            description="Changes with every transition and answer of the execution.",
            response=[200, 304],
        ),
    ],
    "examples": [
        OpenApiExample(
            "Rejected",
            summary="A Pause rejected with the default rejectBehavior (CANCEL)",
            value={
                "executionId": "3f9c4b2a-7e8d-4c1f-a3b6-9d0e1f2a3b4c",
                "state": "CANCELLED",
                "outcome": "Rejected by manager: not this week",
                "pause": None,
                "pauses": [
                    {
                        "tokenId": "9b2e7c1d-4a3f-4e8b-9c0d-1e2f3a4b5c6d",
                        "path": "approve",
                        "screen": "approval",
                        "state": "RESUMED",
                        "outcome": "Rejected by manager: not this week",
                        "resolvedBy": "manager",
                        "resolvedAt": "2026-05-04T09:30:00+00:00",
                    }
                ],
            },
            response_only=True,
            status_codes=["200"],
        )
    ],
    "responses": {
        200: s.ExecutionStatusSerializer,
        304: OpenApiResponse(
            description="Unchanged since the reply whose ETag was in If-None-Match."
        ),
        400: INVALID,
        401: UNAUTHORIZED,
        403: OTHER_TENANT,
        404: _error("No such execution, or one the user may not see."),
    },
}

EXECUTIONS = {
    "operation_id": "list_executions",
    "summary": "Executions the user may see, newest first",
    "description": (
        "In the user's tenants: those they started or answered, those with a "
        "pause they are or were entitled to answer (assigned to them or to a "
        "group they are in, or with no assignees), and all of them with the "
        "`flows.view_execution` permission."
    ),
    "parameters": [
        OpenApiParameter("state", OpenApiTypes.STR, description="e.g. PAUSED"),
        OpenApiParameter("namespace", OpenApiTypes.STR),
        OpenApiParameter("flow", OpenApiTypes.STR, description="A flow id."),
        *PAGE,
    ],
    "responses": {200: s.ExecutionPageSerializer, 400: INVALID, 401: UNAUTHORIZED},
}

START = {
    "operation_id": "start_execution",
    "summary": "Start an execution of a flow",
    "description": (
        "The flow is looked up in the user's tenants; when several of them have it, "
        "`?tenant=<slug>` picks one (400 otherwise). Inputs are validated like on "
        "the start screen."
    ),
    "parameters": [
        OpenApiParameter("tenant", OpenApiTypes.STR, description="A tenant's slug."),
        OpenApiParameter(
            "X-Execution-Id",
            OpenApiTypes.UUID,
            OpenApiParameter.HEADER,
            response=[201],
        ),
        OpenApiParameter(
            "Location", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[201]
        ),
    ],
    "request": s.StartExecutionSerializer,
    "responses": {
        201: s.StartedSerializer,
        400: INVALID,
        401: UNAUTHORIZED,
        404: _error("No such flow in the user's tenants."),
        409: FLOW_CANCELLED,
    },
}

SUSPENSIONS = {
    "operation_id": "list_suspensions",
    "summary": "Waiting suspensions of the executions the user may see",
    "parameters": [
        OpenApiParameter(
            "assigned",
            OpenApiTypes.STR,
            enum=["me"],
            description="`me`: only those the user may answer now.",
        ),
        *PAGE,
    ],
    "responses": {200: s.SuspensionPageSerializer, 400: INVALID, 401: UNAUTHORIZED},
}

SUSPENSION = {
    "operation_id": "get_suspension",
    "summary": "One suspension with the fields an answer may carry",
    "parameters": [TOKEN_ID],
    "responses": {
        200: s.SuspensionDetailSerializer,
        400: INVALID,
        401: UNAUTHORIZED,
        403: OTHER_TENANT,
        404: _error("No such suspension, or one the user may not see."),
    },
}

EXECUTION = {
    **STATUS,
    "operation_id": "get_execution",
    "summary": "An execution (the same body as its status)",
}

FLOW_PATH = [
    OpenApiParameter("namespace", OpenApiTypes.STR, OpenApiParameter.PATH),
    OpenApiParameter("flow_id", OpenApiTypes.STR, OpenApiParameter.PATH),
    OpenApiParameter("tenant", OpenApiTypes.STR, description="A tenant's slug."),
]
NO_FLOW = _error("No such flow in the user's tenants.")
MAY_NOT_HOLD_FLOW = _error("Only staff or holders of `flows.change_flow` may.")
MAY_NOT_HOLD = _error(
    "Only the execution's starter, staff or holders of `flows.change_execution` may."
)


def _flow_hold(verb: str, summary: str, conflict: str, code: int = 200) -> dict:
    return {
        "operation_id": f"{verb}_flow",
        "summary": summary,
        "parameters": FLOW_PATH,
        "request": None,
        "responses": {
            code: s.FlowHoldSerializer,
            400: INVALID,
            401: UNAUTHORIZED,
            403: MAY_NOT_HOLD_FLOW,
            404: NO_FLOW,
            409: _error(conflict, s.HoldConflictSerializer),
        },
    }


FLOW = {
    "operation_id": "get_flow",
    "summary": "A flow's state: active or paused, latest revision, held executions",
    "parameters": FLOW_PATH,
    "responses": {
        200: s.FlowStateSerializer,
        400: INVALID,
        401: UNAUTHORIZED,
        404: NO_FLOW,
    },
}
PAUSE_FLOW = _flow_hold(
    "pause",
    "Pause a flow: steps in flight finish, no new step starts, new runs queue",
    "The flow is already paused; `state` says so.",
)
RESUME_FLOW = _flow_hold(
    "resume",
    "Resume a paused flow: held and queued executions go on",
    "The flow is not paused; `state` says so.",
)
CANCEL_FLOW = _flow_hold(
    "cancel",
    "Cancel every unfinished execution of the flow (its pause state stays)",
    "The flow has no unfinished execution; `state` is the flow's.",
    code=202,
)


def _execution_hold(verb: str, summary: str, conflict: str, code: int = 200) -> dict:
    return {
        "operation_id": f"{verb}_execution",
        "summary": summary,
        "parameters": [EXECUTION_ID],
        "request": None,
        "responses": {
            code: s.ExecutionHoldSerializer,
            400: INVALID,
            401: UNAUTHORIZED,
            403: MAY_NOT_HOLD,
            404: _error("No such execution, or one the user may not see."),
            409: _error(conflict, s.HoldConflictSerializer),
        },
    }


PAUSE_EXECUTION = _execution_hold(
    "pause",
    "Pause one execution: its steps in flight finish, no new step starts",
    "Already paused, or ended (`state`; `by` names who cancelled it).",
)
UNPAUSE_EXECUTION = _execution_hold(
    "unpause",
    "Let a paused execution go on (`resume` answers a suspension instead)",
    "Not paused by itself (held by its flow, or running), or ended.",
)
CANCEL_EXECUTION = _execution_hold(
    "cancel",
    "Cancel one execution: its waiting pauses become CANCELLED",
    "Already ended or ending (`state`; `by` names who cancelled it).",
    code=202,
)


DELEGATE = {
    "operation_id": "delegate_suspension",
    "summary": "Hand a waiting suspension to another member of its tenant",
    "description": (
        "For someone who may answer it now and has not: a user assignee is "
        "replaced by `to`; one matched through a group adds `to` as a user and "
        "the group stays (`stillAssigned`). The trail records who, to whom and "
        "the note; `to` is told."
    ),
    "parameters": [TOKEN_ID],
    "request": s.DelegateSerializer,
    "responses": {
        200: s.DelegatedSerializer,
        400: _error(
            "`to` is no active member of the tenant, is the caller, started the "
            "execution (self-approval), already answered it or may already answer "
            "it; or `note` is too long. `errors` names the field.",
            s.InvalidDataSerializer,
        ),
        401: UNAUTHORIZED,
        403: _error(
            "Another tenant's suspension, or the caller may not hand it on (not an "
            "assignee, its requester, already answered, or it is open to everyone)."
        ),
        404: _error("No such suspension, or one the user may not see."),
        409: _error(
            "Not waiting (resumed or cancelled), or handed on by someone else first.",
            s.ConsumedSerializer,
        ),
        410: _error("The deadline has passed.", s.ExpiredSerializer),
    },
}

WITHDRAW = {
    "operation_id": "withdraw_execution",
    "summary": "Withdraw a waiting request: it ends CANCELLED, withdrawn by you",
    "description": (
        "For the user who started the execution, while one of its pauses waits. "
        "Its waiting suspensions are cancelled and its `finally` tasks run; the "
        'outcome reads "Withdrawn by <name>: <reason>".'
    ),
    "parameters": [EXECUTION_ID],
    "request": s.WithdrawSerializer,
    "responses": {
        202: s.WithdrawnSerializer,
        400: INVALID,
        401: UNAUTHORIZED,
        403: _error("Another tenant's execution, or the caller did not start it."),
        404: _error("No such execution, or one the user may not see."),
        409: _error(
            "Nothing waits for an answer, or it has ended or is ending (`state`).",
            s.HoldConflictSerializer,
        ),
    },
}


EVENTS = {
    "operation_id": "stream_execution_events",
    "summary": "The execution's events as server-sent events (live status)",
    "description": (
        "A `text/event-stream` of the execution's audit trail, oldest first: each "
        "event has `id: <seq>`, `event: <subject>.<to state>` (e.g. "
        "`task_run.PAUSED`, `token.RESUMED`, `execution.SUCCESS`) and `data:` the "
        "event as JSON: `seq`, `at`, `subject` (execution, task_run, token), "
        "`subjectId`, `label` (the task's path or the token's short id), `from`, "
        "`to`, `actor`, `channel` and `data` (secrets shown as ******). A stream "
        "sends the events after `Last-Event-ID`, then new ones as they happen "
        "for a few seconds (`SIGNOFF_EVENTS_WINDOW_SECONDS`, 5 s by default), "
        "and ends; its `retry:` line makes EventSource reconnect with "
        "`Last-Event-ID`, so nothing is missed or repeated. It ends at once when "
        "the execution has ended; a reconnect after its last event is a 204, "
        "which stops EventSource."
    ),
    "parameters": [
        EXECUTION_ID,
        OpenApiParameter(
            "Last-Event-ID",
            OpenApiTypes.INT,
            OpenApiParameter.HEADER,
            description="The last event id received: only later events are sent.",
        ),
    ],
    "responses": {
        (200, "text/event-stream"): OpenApiResponse(
            s.ServerSentEventSerializer,
            description="The stream (the schema is each event's); `data` is JSON.",
            examples=[
                OpenApiExample(
                    "A resume",
                    value=(
                        "retry: 3000\n\n"
                        "id: 7\nevent: token.RESUMED\n"
                        'data: {"seq":7,"at":"2026-05-04T09:30:00+00:00",'
                        '"subject":"token","subjectId":'
                        '"9b2e7c1d-4a3f-4e8b-9c0d-1e2f3a4b5c6d","label":"9b2e7c1d",'
                        '"from":"WAITING","to":"RESUMED","actor":"manager",'
                        '"channel":"api","data":{}}\n\n'
                    ),
                )
            ],
        ),
        204: OpenApiResponse(
            description="The execution has ended and the client has its last event."
        ),
        400: INVALID,
        401: UNAUTHORIZED,
        403: OTHER_TENANT,
        404: _error("No such execution, or one the user may not see."),
    },
}


ACCEPTED = OpenApiResponse(
    s.ResumeAcceptedSerializer,
    description="Accepted; the execution continues on a worker.",
)

OKTA_INVOKE = {
    "operation_id": "okta_invoke_flow",
    "summary": "Start a flow and wait for its Pause (Okta Workflows' invoke)",
    "description": (
        "The body is the flow's inputs, validated like the start endpoint. The "
        "call waits up to `?wait=` seconds (default 30, at most 60) until the "
        "execution pauses or ends: 200 with `pause` (the rendered message, the "
        "expected fields, onPause outputs, the resume URL) or with the final "
        "state; 202 when it is still running at the bound (poll `statusUrl`). "
        "The execution id is in the body and in `X-Execution-Id`."
    ),
    "parameters": [
        OpenApiParameter(
            "wait",
            OpenApiTypes.INT,
            description="Seconds to wait (0 to 60, default 30).",
        ),
        OpenApiParameter("tenant", OpenApiTypes.STR, description="A tenant's slug."),
        OpenApiParameter(
            "X-Execution-Id",
            OpenApiTypes.UUID,
            OpenApiParameter.HEADER,
            response=[200, 202],
        ),
    ],
    "request": {"application/json": OpenApiTypes.OBJECT},
    "responses": {
        200: OpenApiResponse(
            s.InvokedSerializer, description="Paused (`pause` set) or ended."
        ),
        202: OpenApiResponse(
            s.InvokedSerializer, description="Still running when the wait ran out."
        ),
        400: INVALID,
        401: UNAUTHORIZED,
        404: _error("No such flow in the user's tenants."),
        409: FLOW_CANCELLED,
    },
}

OKTA_RESUME = {
    "operation_id": "okta_resume_flow",
    "summary": "Resume a flow's paused execution with its output fields (Okta)",
    "description": (
        "The body is the Pause's output fields as JSON key/value pairs; the same "
        "validation and codes as `POST /api/executions/{id}/resume`, and 404 when "
        "the execution is not one of this flow's."
    ),
    "parameters": [
        OpenApiParameter("execution_id", OpenApiTypes.UUID, OpenApiParameter.PATH),
        OpenApiParameter("tenant", OpenApiTypes.STR, description="A tenant's slug."),
        IF_MATCH,
        LOCATION,
    ],
    "request": {"application/json": OpenApiTypes.OBJECT},
    "responses": {202: ACCEPTED, 400: INVALID, **RESUME_REFUSALS},
}

PREFECT_RESUME = {
    "operation_id": "prefect_resume_flow_run",
    "summary": "Resume a paused flow run (Prefect's orchestration result)",
    "description": (
        "`{id}` is an execution's id (a flow run) or a suspension's. As Prefect: "
        "201 with `status: ACCEPT` and the new RUNNING `state`; 200 with "
        "`REJECT` (invalid `run_input`; `details.reason` says why, `state` is the "
        "PAUSED one) or `ABORT` (not paused, already resumed, or the pause timed "
        "out; `state` null). 200 with ACCEPT and the PAUSED state when a quorum "
        "still needs more approvers."
    ),
    "parameters": [
        OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH),
        IF_MATCH,
    ],
    "request": s.PrefectResumeSerializer,
    "responses": {
        200: OpenApiResponse(
            s.OrchestrationResultSerializer, description="REJECT, ABORT (or a quorum)."
        ),
        201: OpenApiResponse(
            s.OrchestrationResultSerializer, description="ACCEPT: resumed."
        ),
        400: INVALID,
        401: UNAUTHORIZED,
        403: RESUME_REFUSALS[403],
        404: RESUME_REFUSALS[404],
        409: _error(
            "This user already answered this quorum, or it was handed to someone "
            "else while the answer was on its way."
        ),
        412: CONTEXT_CHANGED,
    },
}


def _kestra(description: str) -> OpenApiResponse:
    return OpenApiResponse(s.KestraErrorSerializer, description=description)


KESTRA_RESUME = {
    "operation_id": "kestra_resume_execution",
    "summary": "Resume a paused execution with its onResume inputs (Kestra)",
    "description": (
        "Inputs as multipart form data (a FILE input as a file part) or as a "
        "JSON object. 204 No Content when accepted, as Kestra answers; errors "
        "carry Kestra's `message` (and Signoff's other fields)."
    ),
    "parameters": [
        OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH),
        IF_MATCH,
    ],
    "request": {
        "multipart/form-data": OpenApiTypes.OBJECT,
        "application/x-www-form-urlencoded": OpenApiTypes.OBJECT,
        "application/json": OpenApiTypes.OBJECT,
    },
    "responses": {
        204: OpenApiResponse(description="Resumed."),
        400: INVALID,
        401: UNAUTHORIZED,
        403: _kestra("Another tenant's execution, or the user may not answer it."),
        404: _kestra("No such execution (in this tenant)."),
        409: _kestra("The execution is not paused (or was already resumed)."),
        410: _kestra("The pause's deadline has passed."),
        412: _kestra("If-Match was sent and what the pause shows has changed."),
        422: _kestra("Invalid inputs; `_embedded.errors` lists them."),
    },
}

KESTRA_TENANT_RESUME = {
    **KESTRA_RESUME,
    "operation_id": "kestra_resume_tenant_execution",
    "parameters": [
        OpenApiParameter("tenant", OpenApiTypes.STR, OpenApiParameter.PATH),
        *KESTRA_RESUME["parameters"],
    ],
}

APPROVAL_REQUEST = {
    "operation_id": "create_approval_request",
    "summary": "Ask people for an approval, a form or a review, with no flow to write",
    "description": (
        "Makes a one-Pause execution of the tenant's hidden `signoff.system` / "
        "`approval-request` flow (a revision per distinct screen, inputs, "
        "assignees and behavior). The reply holds the token id, the screen URL for "
        "people, and a completion URL whose `sig` is its only credential. With a "
        "`callbackUrl` (allowed by `SIGNOFF_OUTBOUND_ALLOW` like any outbound "
        "call), the outcome is POSTed there once the token is answered, expires "
        "or is cancelled, signed `Signoff-Signature: t=<ts>,v1=<hex HMAC-SHA256 "
        'of "<ts>.<body>" under callbackSecret>`, with the same `Idempotency-Key` '
        "on every retry. `?tenant=<slug>` picks the tenant when the caller is in "
        "several."
    ),
    "parameters": [
        OpenApiParameter("tenant", OpenApiTypes.STR, description="A tenant's slug."),
    ],
    "request": s.ApprovalRequestSerializer,
    "examples": [
        OpenApiExample(
            "Approval",
            value={
                "message": "Deploy v2.3 to production?",
                "screen": "approval",
                "assignees": {"groups": ["ops"]},
                "deadline": "PT4H",
                "callbackUrl": "https://ci.example.com/hooks/signoff",
            },
            request_only=True,
        ),
    ],
    "responses": {
        201: s.ApprovalRequestCreatedSerializer,
        400: INVALID,
        401: UNAUTHORIZED,
        403: _error("The caller is not a member of this tenant."),
    },
}

APPROVAL_REQUEST_COMPLETE = {
    "operation_id": "complete_approval_request",
    "summary": "Answer an approval request by its signed completion URL",
    "description": (
        "No API key: the `sig` from the creation reply is the credential. The body "
        "and its validation are the main resume's (`decision` and `comment` on an "
        "approval, the onResume fields on a form, `acknowledged` on a review)."
    ),
    "auth": [],
    "parameters": [
        OpenApiParameter(
            "token",
            OpenApiTypes.UUID,
            OpenApiParameter.PATH,
            description="The approval request's token id.",
        ),
        OpenApiParameter(
            "sig",
            OpenApiTypes.STR,
            required=True,
            description="The completion URL's signature.",
        ),
    ],
    "request": {"application/json": OpenApiTypes.OBJECT},
    "responses": {
        202: s.ResumeAcceptedSerializer,
        400: INVALID,
        403: _error("The signature does not match this approval request."),
        404: _error("No such approval request."),
        409: _error("Already answered, expired or cancelled.", s.ConsumedSerializer),
        410: _error("The deadline has passed.", s.ExpiredSerializer),
    },
}
