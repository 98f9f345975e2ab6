"""The engine: the only code that writes execution, task run and token states.

    Execution   CREATED ─▶ RUNNING ─▶ PAUSED ─▶ RUNNING ─▶ … ─▶ SUCCESS | WARNING
                   │          │          │                        FAILED | CANCELLED
                   └──────────┴──────────┴─▶ FAILED | CANCELLED
                (QUEUED while its flow is held; KILLED by an Approval's KILL)
                held (Execution.hold, flows.engine.holds): no step starts
    Task run    RUNNING ─▶ SUCCESS | WARNING | FAILED | SKIPPED (runIf) | CANCELLED
                RUNNING ─▶ RETRYING ─▶ RUNNING (retry)
                RUNNING ─▶ PAUSED ─▶ SUCCESS | WARNING | FAILED | CANCELLED (Pause)
                RUNNING ─▶ PAUSED ─▶ RUNNING ─▶ … (Approval: decided, runs a branch)
    Token       WAITING ─▶ RESUMED | EXPIRED | CANCELLED

Every move is a conditional UPDATE on the expected source state and writes an
ExecutionEvent (transitions.py). Every writer locks the execution row first, then
moves its token or task run (transitions.lock_execution): a resume, an expiry and
a cancel of one execution queue up and exactly one of them wins. flows.walker says
what the task tree needs next; runs.py applies it. The queue only wakes workers:
the rows are the truth, and flows.sweeper re-enqueues whatever lost its worker or
its wake-up message.

Callers use this package's names: `engine.resume(...)`, `engine.advance(...)`.
"""

from django.utils import timezone

from flows.engine.endings import cancel
from flows.engine.errors import (
    AlreadyConsumed,
    EngineError,
    Expired,
    HoldConflict,
    IllegalMove,
    NotFound,
    Reassigned,
    SeveralWaiting,
)
from flows.engine.holds import (
    cancel_execution,
    cancel_flow,
    flow_state,
    pause_execution,
    pause_flow,
    resume_flow,
    unpause_execution,
)
from flows.engine.runs import advance, start_execution, start_executions
from flows.engine.suspensions import (
    check_open,
    consume,
    expire,
    expire_due,
    locking,
    next_due,
    note_waiting,
    recover_lost,
    resume,
    token_for,
    wake,
    wake_due,
)
from flows.engine.transitions import lock_execution


def now():
    """The engine's clock; tests move time by patching this one function."""
    return timezone.now()


__all__ = [
    "AlreadyConsumed",
    "EngineError",
    "Expired",
    "HoldConflict",
    "IllegalMove",
    "cancel_execution",
    "cancel_flow",
    "flow_state",
    "pause_execution",
    "pause_flow",
    "resume_flow",
    "unpause_execution",
    "NotFound",
    "Reassigned",
    "advance",
    "cancel",
    "check_open",
    "consume",
    "expire",
    "expire_due",
    "lock_execution",
    "locking",
    "next_due",
    "now",
    "note_waiting",
    "recover_lost",
    "resume",
    "SeveralWaiting",
    "start_execution",
    "start_executions",
    "token_for",
    "wake",
    "wake_due",
]
