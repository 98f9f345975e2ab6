"""Entry points that django-q2 workers call. They take ids and are idempotent."""

import logging

from flows import engine

logger = logging.getLogger(__name__)


def advance(execution_id: str) -> None:
    """Run an execution's next steps (delivered at least once by the queue)."""
    engine.advance(execution_id)


def advance_each(execution_ids: list[str]) -> None:
    """Walk executions started together, one after the other.

    One that fails does not hold up the rest: its lease lapses and the sweeper
    sends it a wake-up of its own.
    """
    for execution_id in execution_ids:
        try:
            engine.advance(execution_id)
        except Exception:
            logger.exception("walk of execution %s failed", execution_id)
