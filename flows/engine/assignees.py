"""Who may answer a waiting token: the one writer of its assignees once it waits.

Escalation adds approvers, delegation hands an assignment to someone else; both
lock the execution row first, change the token only while it is WAITING, and
write one event on the token's trail naming what changed and why.
"""

from flows.engine.errors import AlreadyConsumed, Expired, NoAssigneeLeft, NotFound
from flows.engine.transitions import S, atomic, audit, lock_execution, now
from flows.models import SuspensionToken, TokenAssignee

KINDS = {"users": TokenAssignee.Kind.USER, "groups": TokenAssignee.Kind.GROUP}


def change(
    token_id,
    *,
    event: str,
    add: dict | None = None,
    remove: dict | None = None,
    actor=None,
    channel: str = "",
    data: dict | None = None,
) -> SuspensionToken:
    """Add and remove assignees of a waiting token; `event` names the change
    ("escalated", "delegated") on the trail. `add` and `remove` are
    {"users": [...], "groups": [...]}. Returns the token as changed.

    Raises NotFound (no such token), AlreadyConsumed (not waiting), Expired (its
    deadline passed, swept or not) and NoAssigneeLeft (the change would leave no
    one assigned, which would open it to every member); nothing changes then.
    """
    add, remove = _names(add), _names(remove)
    execution_id = (
        SuspensionToken.objects.filter(pk=token_id)
        .values_list("execution_id", flat=True)
        .first()
    )
    if execution_id is None:
        raise NotFound(token_id)
    with atomic():
        lock_execution(execution_id, full=False)
        token = SuspensionToken.objects.select_for_update().get(pk=token_id)
        refusal = _refusal(token, add, remove)
        if refusal is None:
            _write(token, add, remove)
            detail = {"event": event, "added": add, "removed": remove, **(data or {})}
            audit(
                execution_id,
                SuspensionToken,
                token.pk,
                S.WAITING,
                S.WAITING,
                actor=actor,
                channel=channel,
                data=detail,
            )
    if refusal is not None:  # raised outside: the caller's transaction stays usable
        raise refusal
    return token


def _names(spec: dict | None) -> dict:
    spec = spec or {}
    return {key: list(dict.fromkeys(spec.get(key) or [])) for key in KINDS}


def _refusal(token: SuspensionToken, add: dict, remove: dict):
    if token.state != S.WAITING:
        return AlreadyConsumed(token)
    if token.expires_at and token.expires_at <= now():
        return Expired(token)
    if token.assignees and not any(_merged(token, add, remove).values()):
        # No assignee means open to every member: never reached by removal.
        return NoAssigneeLeft(token)
    return None


def _merged(token: SuspensionToken, add: dict, remove: dict) -> dict:
    current = token.assignees or {}
    merged = {
        key: [
            name
            for name in dict.fromkeys([*(current.get(key) or []), *add[key]])
            if name not in remove[key] or name in add[key]
        ]
        for key in KINDS
    }
    return {key: names for key, names in merged.items() if names}


def _write(token: SuspensionToken, add: dict, remove: dict) -> None:
    """The JSON shown and the rows access checks match, changed together."""
    for key, kind in KINDS.items():
        if remove[key]:
            token.assignee_rows.filter(kind=kind, name__in=remove[key]).delete()
        TokenAssignee.objects.bulk_create(
            [TokenAssignee(token=token, kind=kind, name=name) for name in add[key]],
            ignore_conflicts=True,
        )
    token.assignees = _merged(token, add, remove)
    SuspensionToken.objects.filter(pk=token.pk).update(assignees=token.assignees)
