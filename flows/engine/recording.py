"""Recording what a step did: done, sleeping, suspended, failed (or retrying).

Every write is conditional on the attempt that ran the step, so a lost worker's
late result is never recorded over the attempt that retook it. What a step writes
is rid of the secrets it could read: logs, errors and messages show ******, and an
output string that holds a secret is stored sealed (flows.secrets).
"""

from django.conf import settings

from flows import hooks, retry, secrets, steps, summaries, walker
from flows.engine.errors import IllegalMove
from flows.engine.transitions import MOVES, E, S, T, audit, move_run, now
from flows.models import Execution, SuspensionToken, TaskRun, TokenAssignee
from flows.tasks.base import Done, SleepUntil, Suspend


def record(execution: Execution, step: steps.Step, outcome: steps.Outcome) -> None:
    """Record a step's outcome; nothing once the execution stopped running."""
    if execution.state != E.RUNNING:
        return
    run, policy = step.run, step.task.get("retry")
    if isinstance(outcome, Done):
        warned = outcome.warning or retry.warns(policy, step.attempt)
        target = walker.tolerated(step.task, T.WARNING if warned else T.SUCCESS)
        _move(
            execution,
            run,
            target,
            owner=step.attempt,
            outputs=secrets.seal_derived(outcome.outputs, step.secrets),
            logs=secrets.scrub(outcome.logs, step.secrets),
            ended_at=now(),
            lease_until=None,
        )
    elif isinstance(outcome, SleepUntil):
        # Not a move: the run stays RUNNING until the sweeper wakes it.
        if run._state.adding:
            run.wake_at, run.lease_until = outcome.wake_at, None
            run.save(force_insert=True)
        elif TaskRun.objects.filter(
            pk=run.pk, state=T.RUNNING, attempt=step.attempt
        ).update(wake_at=outcome.wake_at, lease_until=None):
            run.wake_at = outcome.wake_at
    elif isinstance(outcome, Suspend):
        suspend(execution, step, outcome)
    else:
        fail(execution, step, outcome.error)


def fail(execution, step: steps.Step, error: str) -> None:
    """A failed attempt: retry later, or end FAILED (WARNING with allowFailure)."""
    run, moment = step.run, now()
    error = secrets.scrub(error, step.secrets)
    wait = retry.next_wait(step.task.get("retry"), step.attempt, run.started_at, moment)
    if wait is not None:
        _move(
            execution,
            run,
            T.RETRYING,
            owner=step.attempt,
            data={"error": error, "attempt": step.attempt},
            error=error,
            wake_at=moment + wait,
            lease_until=None,
        )
        return
    _move(
        execution,
        run,
        walker.tolerated(step.task, T.FAILED),
        owner=step.attempt,
        data={"error": error},
        error=error,
        ended_at=moment,
        lease_until=None,
    )


def suspend(execution: Execution, step: steps.Step, pause: Suspend) -> None:
    """Pause the step's run and issue its token (with its assignees)."""
    if not _move(
        execution,
        step.run,
        T.PAUSED,
        owner=step.attempt,
        logs=secrets.scrub(pause.logs, step.secrets),
        lease_until=None,
    ):
        return
    token = SuspensionToken.objects.create(
        tenant_id=execution.tenant_id,
        execution=execution,
        task_run_id=step.task_run_id,
        screen=pause.screen,
        schema=pause.schema,
        message=secrets.scrub(pause.message, step.secrets),
        summary=summaries.summarize(
            execution.revision.definition,
            execution.inputs,
            step.variables,
            step.secrets,
        ),
        assignees=pause.assignees,
        approvals_required=pause.approvals_required,
        allow_self_approval=pause.allow_self_approval,
        behavior=pause.behavior,
        expires_at=pause.expires_at,
        # A chat webhook URL rendered from a secret stays sealed at rest.
        options=secrets.seal_derived(pause.options, step.secrets),
    )
    kinds = {"users": TokenAssignee.Kind.USER, "groups": TokenAssignee.Kind.GROUP}
    TokenAssignee.objects.bulk_create(
        TokenAssignee(token=token, kind=kinds[key], name=name)
        for key, names in pause.assignees.items()
        for name in dict.fromkeys(names)
    )
    deadline = pause.expires_at.isoformat() if pause.expires_at else None
    audit(
        execution.pk,
        SuspensionToken,
        token.pk,
        "",
        S.WAITING,
        data={"expires_at": deadline, "path": step.run.path},
    )
    if pause.options.get("kind") == "approval":
        outputs = {"due": deadline, "url": screen_url(token.pk)}
        TaskRun.objects.filter(pk=step.task_run_id).update(outputs=outputs)
        step.run.outputs = outputs
    hooks.token_waiting(token)  # the notifications' outbox, in this transaction


def _move(execution, run: TaskRun, target, *, owner, data=None, **fields) -> bool:
    """move_run, or for a run made in this transaction and not yet written (an
    inline step: runs._start_run), write it once, already in its new state."""
    if not run._state.adding:
        return move_run(execution, run, target, owner=owner, data=data, **fields)
    if target not in MOVES[TaskRun].get(run.state, set()):
        raise IllegalMove(f"TaskRun cannot move from {run.state} to {target}")
    source, run.state = run.state, target
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(force_insert=True)
    audit(execution.pk, TaskRun, run.pk, source, target, data=data)
    return True


def screen_url(token_id) -> str:
    """The answer screen's address (an Approval's `url` output)."""
    from django.urls import NoReverseMatch, reverse

    try:
        path = reverse("approvals:answer", args=[token_id])
    except NoReverseMatch:
        return ""
    return settings.SIGNOFF_BASE_URL.rstrip("/") + path
