"""Approval requests from other systems: a one-Pause execution, no flow to write.

Each tenant has one hidden flow, `signoff.system` / `approval-request`, created on
first use. Its definition is built from the request (the screen, the onResume
inputs, the assignees, the deadline's behavior) and saved through the loader like
any flow, so it is checked the same way, revisioned (a new revision only when the
definition differs from the latest) and pinned by each execution. The onResume
inputs cannot be templated (they are validated when the flow loads), which is why
the definition, not only the inputs, comes from the request. The caller's free
text (the message) and the deadline go in the execution's inputs and the Pause
reads them through templates: text a caller sends is never itself a template.
"""

import json
from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from flows import callbacks, engine, inputs, loader, outbound, text
from flows.durations import parse_duration
from flows.models import ApprovalRequest, SuspensionToken
from flows.tasks.pause import parse_assignees

NAMESPACE = "signoff.system"
FLOW_ID = "approval-request"
TASK_ID = "request"


class Invalid(ValueError):
    """A request refused before anything was made: {field: [messages]}."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {v[0]}" for k, v in errors.items()))
        self.errors = errors


def definition(screen: str, schema: list, assignees: dict, behavior: str) -> dict:
    pause = {
        "id": TASK_ID,
        "type": "Pause",
        "screen": screen,
        "message": "{{ inputs.message }}",
        "pauseDuration": "{{ inputs.deadline }}",
        "behavior": behavior,
        "assignees": assignees,
    }
    if schema:
        pause["onResume"] = schema
    return {
        "id": FLOW_ID,
        "namespace": NAMESPACE,
        "description": "Approval requests from other systems (/api/approval-requests).",
        "inputs": [
            {"id": "message", "type": "STRING", "required": False, "defaults": ""},
            {"id": "deadline", "type": "STRING"},
        ],
        "tasks": [pause],
    }


def check(data: dict) -> tuple[dict, str]:
    """The flow definition and the deadline (as a duration); Invalid names the field."""
    for field in ("message", "inputs", "assignees", "deadline", "callbackUrl"):
        if found := text.first_problem(data[field]):
            raise Invalid({field: [found]})
    try:
        inputs.parse_definitions(data["inputs"], where="inputs")
    except inputs.InputDefinitionError as exc:
        raise Invalid({"inputs": [str(exc)]}) from None
    try:
        assignees = parse_assignees(data["assignees"])
    except ValueError as exc:
        raise Invalid({"assignees": [str(exc)]}) from None
    if any("{" in name for names in assignees.values() for name in names):
        raise Invalid({"assignees": ["Names may not contain '{'."]})
    if data["callbackUrl"]:
        check_callback(data["callbackUrl"])
    deadline = as_duration(data["deadline"])
    return definition(
        data["screen"], data["inputs"], assignees, data["behavior"]
    ), deadline


def as_duration(raw: str) -> str:
    """An ISO 8601 duration as is, or a date-time as the seconds until then."""
    try:
        parse_duration(raw)
        return raw
    except ValueError:
        pass
    moment = parse_datetime(raw) if "T" in raw else None
    if moment is None:
        raise Invalid(
            {"deadline": ["An ISO 8601 duration (PT4H) or date-time is required."]}
        )
    if timezone.is_naive(moment):
        raise Invalid({"deadline": ["A date-time needs its offset (Z or +hh:mm)."]})
    seconds = int((moment - engine.now()) / timedelta(seconds=1))
    if seconds < 1:
        raise Invalid({"deadline": ["The deadline has passed."]})
    return f"PT{seconds}S"


def check_callback(url: str) -> None:
    """The allow-list, at creation (and again at each send, by flows.outbound)."""
    try:
        parts = outbound.httpx.URL(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except (outbound.httpx.InvalidURL, ValueError) as exc:
        raise Invalid({"callbackUrl": [f"Not a usable URL: {exc}"]}) from None
    if parts.scheme not in ("http", "https"):
        raise Invalid({"callbackUrl": ["Only http and https URLs."]})
    try:
        outbound.vet(parts.host, port)
    except outbound.Refused as exc:
        raise Invalid({"callbackUrl": [str(exc)]}) from None
    except outbound.httpx.HTTPError as exc:
        raise Invalid({"callbackUrl": [str(exc)]}) from None


def create(tenant, data: dict, *, actor) -> ApprovalRequest:
    """Save the revision, start the execution, walk it to its Pause: the request."""
    flow_definition, deadline = check(data)
    source = json.dumps(flow_definition, indent=2)  # JSON is YAML: the loader reads it
    try:
        parsed = loader.parse_flow(source, f"{NAMESPACE}.{FLOW_ID}")
    except loader.FlowDefinitionError as exc:
        raise Invalid({"inputs": [str(p) for p in exc.problems]}) from None
    with transaction.atomic():  # the flow's row lock keeps this revision the latest
        flow = loader.save_flow(tenant, source, parsed).flow
        execution = engine.start_execution(
            flow, {"message": data["message"], "deadline": deadline}, actor=actor
        )
    engine.advance(execution.pk)  # a Pause runs inline: no I/O, the token is made
    token = SuspensionToken.objects.filter(execution=execution).first()
    if token is None:  # the Pause failed to suspend (not expected after check())
        execution.refresh_from_db()
        raise Invalid({"__all__": [f"The request ended {execution.state}."]})
    return ApprovalRequest.objects.create(
        tenant=tenant,
        execution=execution,
        token=token,
        callback_url=data["callbackUrl"],
        callback=(
            ApprovalRequest.Callback.PENDING
            if data["callbackUrl"]
            else ApprovalRequest.Callback.NONE
        ),
    )


def complete_url(request: ApprovalRequest) -> str:
    path = reverse("api:approval-request-complete", args=[request.token_id])
    return f"{path}?sig={callbacks.completion_signature(request.pk)}"


def screen_url(request: ApprovalRequest) -> str:
    return reverse("approvals:answer", args=[request.token_id])
