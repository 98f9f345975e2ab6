"""Entry points that django-q2 workers call. They take ids and are idempotent."""

from flows import engine


def advance(execution_id: str) -> None:
    """Run an execution's next steps (delivered at least once by the queue)."""
    engine.advance(execution_id)
