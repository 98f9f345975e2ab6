"""Refusals the engine raises; the API and the screens map each to a status code."""

from flows.models import SuspensionToken


class EngineError(Exception):
    """A refused operation."""


class NotFound(EngineError):
    """No such token or execution (404)."""


class AlreadyConsumed(EngineError):
    """The token was already resumed or cancelled (409)."""

    def __init__(self, token: SuspensionToken):
        super().__init__(f"suspension {token.pk} was already {token.state.lower()}")
        self.token = token


class Expired(EngineError):
    """The token's deadline has passed, swept or not (410)."""

    def __init__(self, token: SuspensionToken):
        super().__init__(
            f"suspension {token.pk} expired at {token.expires_at.isoformat()}"
        )
        self.token = token


class SeveralWaiting(EngineError):
    """An execution id was given while several of its pauses wait (409)."""

    def __init__(self, execution_id, tokens: list[SuspensionToken]):
        super().__init__(
            f"execution {execution_id} waits on {len(tokens)} suspensions; "
            "answer one by its token id"
        )
        self.execution_id = execution_id
        self.tokens = tokens


class NoAssigneeLeft(EngineError):
    """A change of assignees that would leave none: the token would be open to
    every member of the tenant (409)."""

    def __init__(self, token: SuspensionToken):
        super().__init__(f"suspension {token.pk} would have no assignee left")
        self.token = token


class Reassigned(EngineError):
    """The answerer is no longer among the token's assignees: a delegation (or
    another change) won the row lock while the answer was on its way (409)."""

    def __init__(self, token: SuspensionToken):
        super().__init__(f"suspension {token.pk} was handed to someone else")
        self.token = token


class IllegalMove(EngineError):
    """A transition the state tables do not allow: a bug, not user input."""


class HoldConflict(EngineError):
    """A pause, resume or cancel the flow's or execution's state refuses (409).

    `state` is what the caller is told it is in (active, paused, SUCCESS, ...).
    """

    def __init__(self, what: str, state: str, detail: str, by: str = ""):
        super().__init__(detail)
        self.what = what
        self.state = state
        self.by = by  # who ended it, for an execution already cancelled
