"""Who may see and answer what: tenant membership, assignees, self-approval.

Every page and endpoint scopes its queries through these functions, so a user
never sees or answers anything outside their tenants.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from approvals.models import Answer
from flows.models import Execution, Flow, SuspensionToken, TokenAssignee


class Denied(Exception):
    """The user may not do this; the message says why (shown with a 403)."""


def tenant_ids(user) -> list[int]:
    if not user.is_authenticated:
        return []
    if not hasattr(user, "_signoff_tenant_ids"):
        user._signoff_tenant_ids = list(user.tenants.values_list("pk", flat=True))
    return user._signoff_tenant_ids


def names_of(user) -> list[str]:
    """The names an assignee list may use for this user: username and groups."""
    if not hasattr(user, "_signoff_names"):
        groups = user.groups.values_list("name", flat=True)
        user._signoff_names = [user.get_username(), *groups]
    return user._signoff_names


def visible_flows(user) -> QuerySet[Flow]:
    return Flow.objects.filter(tenant_id__in=tenant_ids(user))


def visible_executions(user) -> QuerySet[Execution]:
    return Execution.objects.filter(tenant_id__in=tenant_ids(user))


def visible_tokens(user) -> QuerySet[SuspensionToken]:
    return SuspensionToken.objects.filter(tenant_id__in=tenant_ids(user))


def answerable_tokens(user) -> QuerySet[SuspensionToken]:
    """Waiting, unexpired tokens of the user's tenants that they may still answer."""
    assigned = TokenAssignee.objects.filter(token=OuterRef("pk"))
    answered = Answer.objects.filter(token=OuterRef("pk"), user=user)
    return (
        visible_tokens(user)
        .filter(state=SuspensionToken.State.WAITING)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .filter(~Exists(assigned) | Exists(assigned.filter(name__in=names_of(user))))
        .exclude(Exists(answered))
        .exclude(Q(allow_self_approval=False) & Q(execution__created_by=user))
    )


def check_tenant(user, token: SuspensionToken) -> None:
    if token.tenant_id not in tenant_ids(user):
        raise Denied("This suspension belongs to another tenant.")


def check_may_answer(user, token: SuspensionToken) -> None:
    """Raise Denied unless `user` may answer `token` (tenant checked separately)."""
    names = token.assignees or []
    if names and not set(names) & set(names_of(user)):
        raise Denied(f"Only {', '.join(names)} may answer this.")
    started_by = token.execution.created_by_id
    if (
        not token.allow_self_approval
        and started_by is not None
        and started_by == user.pk
    ):
        raise Denied("You started this execution, so you may not approve it.")
