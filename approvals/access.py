"""Who may see and answer what: tenants, need-to-know visibility, assignees.

Every page and endpoint scopes its queries through these functions. In one of
their tenants, a user sees an execution (and its task runs, tokens, answers and
events) when they started it, answered one of its pauses, are or were entitled to
answer one (assigned by user name or by a group they are in now; a pause with no
assignees is open to every member; one they handed on, by its "delegated" event),
or hold `flows.view_execution`. Each rule is one queryset filter (Exists
subqueries: a list stays one query), and the checks on a single object run the
same filter.
"""

from django.contrib.auth.models import Group
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.utils import timezone

from approvals.models import Answer
from approvals.requests import NAMESPACE as SYSTEM_NAMESPACE
from flows.models import (
    Execution,
    ExecutionEvent,
    Flow,
    SuspensionToken,
    Tenant,
    TokenAssignee,
)

SEE_ALL = "flows.view_execution"


class Denied(Exception):
    """The user may not do this; the message says why (shown with a 403)."""


class Invisible(Exception):
    """The user may not see this execution: answered as if it did not exist (404)."""


def tenant_ids(user) -> list[int]:
    if not user.is_authenticated:
        return []
    if not hasattr(user, "_signoff_tenant_ids"):
        user._signoff_tenant_ids = list(user.tenants.values_list("pk", flat=True))
    return user._signoff_tenant_ids


def sees_all(user) -> bool:
    """Auditors and admins: every execution of their tenants (superusers too)."""
    return user.is_authenticated and user.has_perm(SEE_ALL)


def names_of(user) -> Q:
    """The assignee rows that name `user`: their user name, or a group they are in.

    Two lookups, never one: a user called like a group is not that group.
    """
    groups = Group.objects.filter(user=user).values("name")
    return Q(kind=TokenAssignee.Kind.USER, name=user.get_username()) | Q(
        kind=TokenAssignee.Kind.GROUP, name__in=groups
    )


def entitled(user) -> Q:
    """Tokens `user` is (or was) entitled to answer: open to all, or assigned."""
    assigned = TokenAssignee.objects.filter(token=OuterRef("pk"))
    return ~Exists(assigned) | Exists(assigned.filter(names_of(user)))


def visible_flows(user) -> QuerySet[Flow]:
    """The user's tenants' flows, less the hidden one approval requests run on
    (not listed, not started by hand: each of its executions has its request)."""
    flows = Flow.objects.filter(tenant_id__in=tenant_ids(user))
    return flows.exclude(namespace=SYSTEM_NAMESPACE)


def visible_executions(user) -> QuerySet[Execution]:
    """Executions of the user's tenants that they have a reason to see."""
    executions = Execution.objects.filter(tenant_id__in=tenant_ids(user))
    if not user.is_authenticated:
        return executions.none()
    if sees_all(user):
        return executions
    return executions.filter(reasons_to_see(user))


def reasons_to_see(user) -> Q:
    """Executions `user` sees without `flows.view_execution`: started, answered,
    assigned (or open to all), or handed on."""
    tokens = SuspensionToken.objects.filter(execution=OuterRef("pk"))
    return mine(user) | Exists(tokens.filter(entitled(user))) | handed_on(user)


def is_member(user, tenant: str = "tenant_id") -> Exists:
    """Whether `user` is a member of the row's tenant (`tenant` names its id)."""
    memberships = Tenant.members.through.objects.filter(
        tenant_id=OuterRef(tenant), user_id=user.pk
    )
    return Exists(memberships)


def handed_on(user) -> Q:
    """Executions with a pause `user` delegated: they were one of its assignees.

    Only a current assignee delegates (approvals.delegation), so the event's actor
    is the one who was assigned; a late answer of theirs gets its 403, not a 404.
    """
    delegated = ExecutionEvent.objects.filter(
        execution=OuterRef("pk"), actor=user, data__event="delegated"
    )
    return Q(Exists(delegated))


def mine(user) -> Q:
    """Executions `user` started or answered (the list's "Mine" filter)."""
    answered = Answer.objects.filter(token__execution=OuterRef("pk"), user=user)
    return Q(created_by=user) | Exists(answered)


def visible_tokens(user) -> QuerySet[SuspensionToken]:
    """Tokens of the executions the user sees (any state)."""
    tokens = SuspensionToken.objects.filter(tenant_id__in=tenant_ids(user))
    if sees_all(user):
        return tokens
    seen = visible_executions(user).filter(pk=OuterRef("execution_id"))
    return tokens.filter(Exists(seen))


def with_visible(queryset: QuerySet, user, execution: str = "pk") -> QuerySet:
    """Annotate each row with `visible`: whether the user has a reason to see its
    execution other than `flows.view_execution`, and `member`: whether the row's
    tenant is one of theirs.

    For lookups that must tell "another tenant's" (403) from "not yours to see"
    (404) in the query that fetches the row; `execution` names its execution id.
    check_visible asks for the permission only when there is no other reason, so
    an assignee's answer costs no permission lookup.
    """
    if not user.is_authenticated:
        return queryset.annotate(visible=Value(False), member=Value(False))
    seen = Execution.objects.filter(
        reasons_to_see(user), is_member(user), pk=OuterRef(execution)
    )
    return queryset.annotate(visible=Exists(seen), member=is_member(user))


def with_answer_checks(tokens: QuerySet, user) -> QuerySet[SuspensionToken]:
    """Annotate each token with what answering it checks first: `member` (its
    tenant is one of the user's) and `may_answer` (the user is entitled to answer
    it, and so sees its execution: check_visible needs no more for them)."""
    may_answer = ExpressionWrapper(entitled(user), output_field=BooleanField())
    return tokens.annotate(member=is_member(user), may_answer=may_answer)


def answerable_tokens(user) -> QuerySet[SuspensionToken]:
    """Waiting, unexpired tokens of the user's tenants that they may still answer.

    Whoever may answer a token sees its execution, so no visibility filter here.
    """
    answered = Answer.objects.filter(token=OuterRef("pk"), user=user)
    return (
        SuspensionToken.objects.filter(tenant_id__in=tenant_ids(user))
        .filter(state=SuspensionToken.State.WAITING)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .filter(entitled(user))
        .exclude(Exists(answered))
        .exclude(Q(allow_self_approval=False) & Q(execution__created_by=user))
    )


def in_tenant(user, row) -> bool:
    """Whether `row`'s tenant is one of the user's (its `member` annotation, from
    with_visible() or with_answer_checks(), when present)."""
    member = getattr(row, "member", None)
    return row.tenant_id in tenant_ids(user) if member is None else member


def check_tenant(user, token: SuspensionToken) -> None:
    if not in_tenant(user, token):
        raise Denied("This suspension belongs to another tenant.")


def check_visible(user, row, execution_id=None) -> None:
    """Raise Invisible unless `user` sees the execution of `row` (a token or an
    execution); uses the `visible` annotation of with_visible(), or the
    `may_answer` one of with_answer_checks(), when present."""
    seen = getattr(row, "visible", None)
    if seen is None and getattr(row, "may_answer", False):
        seen = True  # entitled to answer one of its pauses: they see it
    if seen is None:
        target = execution_id or getattr(row, "execution_id", row.pk)
        seen = visible_executions(user).filter(pk=target).exists()
    elif not seen:  # no reason of their own: an auditor of this tenant still sees it
        seen = sees_all(user) and in_tenant(user, row)
    if not seen:
        raise Invisible(f"No such execution for {user.get_username()}.")


def check_may_answer(user, token: SuspensionToken) -> None:
    """Raise Denied unless `user` may answer `token` (tenant checked separately);
    uses the `may_answer` annotation of with_answer_checks() when present."""
    entitled_to = getattr(token, "may_answer", None)
    if entitled_to is None:
        assigned = SuspensionToken.objects.filter(pk=token.pk).filter(entitled(user))
        entitled_to = assigned.exists()
    if not entitled_to:
        raise Denied(f"Only {describe(token.assignees)} may answer this.")
    started_by = token.execution.created_by_id
    if (
        not token.allow_self_approval
        and started_by is not None
        and started_by == user.pk
    ):
        raise Denied("You started this execution, so you may not approve it.")


def describe(assignees) -> str:
    """ "ann, bob or members of managers": a token's assignees in words ("": none)."""
    assignees = assignees or {}
    if isinstance(assignees, list):  # a token stored before assignees had kinds
        return ", ".join(assignees)
    users = ", ".join(assignees.get("users", []))
    groups = ", ".join(assignees.get("groups", []))
    groups = f"members of {groups}" if groups else ""
    return " or ".join(part for part in (users, groups) if part)


HOLD_FLOWS = "flows.change_flow"
HOLD_EXECUTIONS = "flows.change_execution"


def may_hold_flow(user) -> bool:
    """Pause, resume or cancel a whole flow: staff, or `flows.change_flow`."""
    return user.is_authenticated and (user.is_staff or user.has_perm(HOLD_FLOWS))


def may_hold_execution(user, execution: Execution) -> bool:
    """Pause, unpause or cancel one execution: its starter, staff, or
    `flows.change_execution`."""
    if not user.is_authenticated:
        return False
    if execution.created_by_id == user.pk:
        return True
    return user.is_staff or user.has_perm(HOLD_EXECUTIONS)


def check_may_hold_flow(user) -> None:
    if not may_hold_flow(user):
        raise Denied("Only staff or holders of flows.change_flow may do this.")


def check_may_hold_execution(user, execution: Execution) -> None:
    if not may_hold_execution(user, execution):
        raise Denied(
            "Only its starter, staff or holders of flows.change_execution may do this."
        )
