"""The API's inbox: waiting suspensions the user may see, one at a time too."""

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from approvals import access
from approvals.api import docs, payloads
from approvals.api.common import ApiView, Pagination, Problem, check_visible, parse_uuid
from flows import engine
from flows.models import SuspensionToken


class SuspensionListView(ApiView):
    """Open suspensions the user may see; `?assigned=me`: those they may answer."""

    @extend_schema(**docs.SUSPENSIONS)
    def get(self, request):
        assigned = request.GET.get("assigned", "")
        if assigned not in ("", "me"):
            errors = {"assigned": ['Only "me" is supported.']}
            raise Problem(400, "Invalid filter.", errors=errors)
        if assigned == "me":
            tokens = access.answerable_tokens(request.user)
        else:
            open_ = Q(expires_at__isnull=True) | Q(expires_at__gt=engine.now())
            tokens = access.visible_tokens(request.user).filter(
                open_, state=SuspensionToken.State.WAITING
            )
        tokens = payloads.with_received(payloads.with_execution(tokens))
        paginator = Pagination()
        page = paginator.paginate_queryset(
            tokens.order_by("-created_at", "-pk"), request, view=self
        )
        items = [payloads.suspension(token) for token in page]
        return paginator.get_paginated_response(items)


class SuspensionDetailView(ApiView):
    """One suspension, its assignees, and the fields an answer may carry."""

    @extend_schema(**docs.SUSPENSION)
    def get(self, request, id):
        tokens = payloads.with_received(
            payloads.with_execution(SuspensionToken.objects)
        )
        tokens = access.with_visible(tokens, request.user, "execution_id")
        token = tokens.filter(pk=parse_uuid(id, "suspension")).first()
        if token is None:
            raise Problem(404, "No such suspension.")
        access.check_tenant(request.user, token)
        check_visible(request.user, token, "suspension")
        return Response(payloads.suspension_detail(token))
