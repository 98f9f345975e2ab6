"""The engine: the only code that writes execution, task run and token states.

    Execution   CREATED ─▶ RUNNING ─▶ PAUSED ─▶ RUNNING ─▶ … ─▶ SUCCESS | WARNING
                   │          │          │                        FAILED | CANCELLED
                   └──────────┴──────────┴─▶ FAILED | CANCELLED
    Task run    RUNNING ─▶ SUCCESS | WARNING | FAILED
                RUNNING ─▶ PAUSED ─▶ SUCCESS | WARNING | FAILED | CANCELLED
    Token       WAITING ─▶ RESUMED | EXPIRED | CANCELLED

Every move is a conditional UPDATE on the expected source state and writes an
ExecutionEvent (transitions.py). Worker-side code locks the execution row first
(runs.py); a resume or an expiry decides its winner on the token row alone
(suspensions.py), so two answers, or an answer and the deadline, never both take
effect. The queue only wakes workers: the rows are the truth, and flows.sweeper
re-enqueues whatever lost its worker or its wake-up message.

Callers use this package's names: `engine.resume(...)`, `engine.advance(...)`.
"""

from django.utils import timezone

from flows.engine.errors import (
    AlreadyConsumed,
    EngineError,
    Expired,
    IllegalMove,
    NotFound,
)
from flows.engine.runs import advance, cancel, start_execution
from flows.engine.suspensions import (
    check_open,
    consume,
    expire,
    expire_due,
    next_due,
    recover_lost,
    resume,
    waiting_token_for,
    wake,
    wake_due,
)


def now():
    """The engine's clock; tests move time by patching this one function."""
    return timezone.now()


__all__ = [
    "AlreadyConsumed",
    "EngineError",
    "Expired",
    "IllegalMove",
    "NotFound",
    "advance",
    "cancel",
    "check_open",
    "consume",
    "expire",
    "expire_due",
    "next_due",
    "now",
    "recover_lost",
    "resume",
    "start_execution",
    "wake",
    "wake_due",
    "waiting_token_for",
]
