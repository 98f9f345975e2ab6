"""Delegate a suspension, withdraw an execution: the screens' services over JSON.

Both validate with the screens' forms (approvals.delegation.DelegateForm,
approvals.withdrawal.WithdrawForm), so the rules and messages are the same.
"""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from approvals import access, delegation, outcomes, withdrawal
from approvals.api import docs, payloads
from approvals.api.common import (
    ApiView,
    Problem,
    check_tenant,
    check_visible,
    parse_uuid,
)
from approvals.api.holds import execution_hold, find_execution
from flows.models import SuspensionToken


def _valid(request, form_class) -> dict:
    """The body through the screen's form: 400 naming each bad field."""
    if not isinstance(request.data, dict):
        raise Problem(400, "Invalid data.", errors={"__all__": ["Send a JSON object."]})
    form = form_class(request.data)
    if not form.is_valid():
        errors = {name: list(messages) for name, messages in form.errors.items()}
        raise Problem(400, "Invalid data.", errors=errors)
    return form.cleaned_data


class DelegateView(ApiView):
    """POST /api/suspensions/{id}/delegate: hand a waiting suspension on."""

    @extend_schema(**docs.DELEGATE)
    def post(self, request, id):
        tokens = access.with_visible(
            SuspensionToken.objects.select_related("execution", "tenant"),
            request.user,
            "execution_id",
        )
        token = tokens.filter(pk=parse_uuid(id, "suspension")).first()
        if token is None:
            raise Problem(404, "No such suspension.")
        check_tenant(request.user, token, "suspension")
        check_visible(request.user, token, "suspension")
        delegation.check_may_delegate(request.user, token)  # 409, 410, 403
        body = _valid(request, delegation.DelegateForm)
        try:
            handed = delegation.delegate(
                request.user, token, body["to"], body["note"], channel="api"
            )
        except delegation.Refused as exc:
            raise Problem(400, str(exc), errors={exc.field: [str(exc)]}) from exc
        return Response(
            {
                "tokenId": str(token.pk),
                "executionId": str(token.execution_id),
                "state": handed.token.state,
                "assignees": payloads.assignees(handed.token),
                "delegatedTo": handed.to,
                "stillAssigned": handed.still_assigned,
            }
        )


class WithdrawView(ApiView):
    """POST /api/executions/{id}/withdraw: the requester takes the request back."""

    @extend_schema(**docs.WITHDRAW)
    def post(self, request, id):
        execution = find_execution(request.user, id)
        withdrawal.check_may_withdraw(request.user, execution)
        body = _valid(request, withdrawal.WithdrawForm)
        withdrawal.withdraw(request.user, execution, body["reason"], channel="api")
        verdict = outcomes.withdrawals([execution.pk]).get(execution.pk)
        return Response(
            {**execution_hold(execution), "outcome": verdict.sentence}, status=202
        )
