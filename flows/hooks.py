"""What the human side adds to the engine's work, without the engine importing it.

`flows` never imports `approvals`, yet a token that starts waiting must have its
notifications written in the same transaction, and the sweeper must send, retry
and remind on its clock. approvals registers those functions here from its
AppConfig.ready(): registering in code (rather than a setting naming dotted paths)
means an installed approvals app always has them, so no deployment can leave a
pause silently unannounced by forgetting a setting.
"""

from collections.abc import Callable
from datetime import datetime

_on_waiting: list[Callable] = []
_sweeps: dict[str, tuple[Callable, Callable | None]] = {}


def on_waiting(func: Callable) -> None:
    """`func(token)` runs inside the transaction that issued a waiting token."""
    if func not in _on_waiting:
        _on_waiting.append(func)


def on_sweep(name: str, sweep: Callable, next_due: Callable | None = None) -> None:
    """`sweep(moment) -> int` runs on every sweeper pass; `next_due() -> datetime`
    lets the sweeper wake for what it will have to do next."""
    _sweeps[name] = (sweep, next_due)


def token_waiting(token) -> None:
    for func in _on_waiting:
        func(token)


def sweep(moment: datetime) -> dict[str, int]:
    return {name: run(moment) for name, (run, _) in _sweeps.items()}


def next_due() -> datetime | None:
    due = (when() for _, when in _sweeps.values() if when is not None)
    return min((d for d in due if d), default=None)
