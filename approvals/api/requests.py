"""POST /api/approval-requests, and its completion URL for machines without a key."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from approvals import access, requests
from approvals.api import docs
from approvals.api.common import ApiView, Problem, field_errors, parse_uuid
from approvals.forms import answer_form, error_dict
from approvals.serializers import ApprovalRequestSerializer
from flows import callbacks, engine
from flows.inputs import InputValidationError
from flows.models import ApprovalRequest, Tenant


class CreateApprovalRequestView(ApiView):
    """Make a one-Pause execution; 201 with the token, its screen and completion URL."""

    @extend_schema(**docs.APPROVAL_REQUEST)
    def post(self, request):
        body = ApprovalRequestSerializer(data=request.data)
        if not body.is_valid():
            raise Problem(
                400, "Invalid approval request.", errors=field_errors(body.errors)
            )
        tenant = caller_tenant(request.user, request.GET.get("tenant"))
        try:
            made = requests.create(tenant, body.validated_data, actor=request.user)
        except requests.Invalid as exc:
            raise Problem(400, "Invalid approval request.", errors=exc.errors) from None
        except InputValidationError as exc:
            raise Problem(400, "Invalid approval request.", errors=exc.errors) from None
        return Response(created(made), status=201)


def caller_tenant(user, slug: str | None) -> Tenant:
    """The caller's tenant; `?tenant=` picks one when the user is in several."""
    tenants = Tenant.objects.filter(pk__in=access.tenant_ids(user)).order_by("slug")
    if slug:
        tenants = tenants.filter(slug=slug)
    found = list(tenants[:2])
    if not found:
        raise Problem(403, "You are not a member of this tenant.")
    if len(found) > 1:
        raise Problem(
            400,
            "You are in several tenants; pick one with ?tenant=<slug>.",
            errors={"tenant": ["Required when you are in several tenants."]},
        )
    return found[0]


def created(made: ApprovalRequest) -> dict:
    token = made.token
    base = settings.SIGNOFF_BASE_URL.rstrip("/")  # as in notifications' links
    return {
        "requestId": str(made.pk),
        "tokenId": str(token.pk),
        "executionId": str(made.execution_id),
        "state": token.state,
        "expiresAt": token.expires_at.isoformat() if token.expires_at else None,
        "screenUrl": base + requests.screen_url(made),
        "completeUrl": base + requests.complete_url(made),
        "callbackSecret": callbacks.callback_secret(made.pk)
        if made.callback_url
        else None,
    }


class CompleteApprovalRequestView(ApiView):
    """Answer by the signed URL: the `sig` is the credential, no bearer token."""

    authentication_classes = []
    permission_classes = []

    @extend_schema(**docs.APPROVAL_REQUEST_COMPLETE)
    def post(self, request, token):
        made = (
            ApprovalRequest.objects.select_related("token")
            .filter(token_id=parse_uuid(token, "approval request"))
            .first()
        )
        if made is None:
            raise Problem(404, "No such approval request.")
        if not callbacks.check_completion(made.pk, request.GET.get("sig", "")):
            raise Problem(403, "The signature does not match this approval request.")
        engine.check_open(made.token)  # 409 once resolved, 410 past the deadline
        form = answer_form(made.token, request.data, api=True)
        if not form.is_valid():
            raise Problem(400, "Invalid response data.", errors=error_dict(form))
        engine.consume(made.token, form.values, channel="signed-url")
        return Response(
            {"executionId": str(made.execution_id), "status": "Resuming"}, status=202
        )
