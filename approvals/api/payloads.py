"""The API's JSON bodies, built from rows fetched with a fixed number of queries."""

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from approvals import context, outcomes
from approvals.answers import APPROVING
from approvals.api.common import iso, resume_url, status_url
from approvals.models import Answer
from flows import inputs, screens, secrets, steps
from flows.models import Execution, ExecutionEvent, SuspensionToken, TaskRun

# Executions carry their revision's whole definition and source; no body needs them.
HEAVY = ("revision__definition", "revision__source")


def with_flow(executions: QuerySet[Execution]) -> QuerySet[Execution]:
    """Executions joined with what a body shows of their tenant, flow and revision."""
    return executions.select_related("tenant", "flow", "revision").defer(*HEAVY)


def with_execution(tokens: QuerySet[SuspensionToken]) -> QuerySet[SuspensionToken]:
    """Tokens joined with their execution, flow and revision (one query, no N+1)."""
    return tokens.select_related(
        "execution", "execution__flow", "execution__revision"
    ).defer(*(f"execution__{field}" for field in HEAVY))


def with_received(tokens: QuerySet[SuspensionToken]) -> QuerySet[SuspensionToken]:
    """Annotate each token with its number of approving answers (`received`)."""
    approving = (
        Answer.objects.filter(token=OuterRef("pk"), decision__in=APPROVING)
        .order_by()
        .values("token")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return tokens.annotate(received=Coalesce(Subquery(approving), 0))


def flow_ref(execution: Execution) -> dict:
    return {
        "namespace": execution.flow.namespace,
        "id": execution.flow.flow_id,
        "revision": execution.revision.revision,
    }


def execution_summary(execution: Execution) -> dict:
    return {
        "executionId": str(execution.pk),
        "state": execution.state,
        "tenant": execution.tenant.slug,
        "flow": flow_ref(execution),
        "createdAt": iso(execution.created_at),
        "startedAt": iso(execution.started_at),
        "endedAt": iso(execution.ended_at),
        "statusUrl": status_url(execution.pk),
    }


def execution_status(
    execution: Execution, runs: list[TaskRun], tokens: list[SuspensionToken]
) -> dict:
    """Everything a poller needs: state, outcome, outputs, task runs, the pauses.

    `tokens` are every suspension of the execution, oldest first, with `received`.
    """
    decided = outcomes.of_tokens(tokens)
    verdicts = [verdict for _, verdict in decided]
    latest = outcomes.latest(verdicts + [outcomes.of_run(run) for run in runs])
    waiting = [t for t in tokens if t.state == SuspensionToken.State.WAITING]
    paths = {run.pk: run.path for run in runs}
    return {
        **execution_summary(execution),
        "outcome": latest.sentence if latest else None,
        "inputs": secrets.mask(execution.inputs),
        "outputs": secrets.mask(steps.outputs_of(runs)),
        "taskRuns": [
            {
                "taskId": run.task_id,
                "path": run.path,
                "state": run.state,
                "attempt": run.attempt,
                "startedAt": iso(run.started_at),
                "endedAt": iso(run.ended_at),
            }
            for run in runs
        ],
        # The oldest waiting one, when several wait (Parallel, ForEach).
        "pause": pause(waiting[0], paths, execution, runs) if waiting else None,
        "pauses": [
            pause_record(token, verdict, paths.get(token.task_run_id))
            for token, verdict in decided
        ],
    }


def pause_record(token: SuspensionToken, verdict, path: str | None) -> dict:
    """One suspension of an execution, open or resolved, with its outcome."""
    return {
        "tokenId": str(token.pk),
        "path": path,
        "screen": token.screen,
        "state": token.state,
        "outcome": verdict.sentence if verdict else None,
        "resolvedBy": token.resolved_by_name or None,
        "resolvedAt": iso(token.resolved_at),
    }


def pause(token: SuspensionToken, paths: dict, execution=None, runs=None) -> dict:
    """An open suspension as the status body shows it, with the fingerprint of
    what its screen shows (send it back as `If-Match`) and Prefect's pause details."""
    if execution is not None:
        token.execution = execution  # approval_context reads its flow and revision
    path = paths.get(token.task_run_id, "")
    return {
        "tokenId": str(token.pk),
        "path": path,
        "screen": token.screen,
        "message": token.message,
        "deadline": iso(token.expires_at),
        "expected": expected(token),
        "approvals": approvals(token),
        "assignees": assignees(token),
        "resumeUrl": resume_url(token.pk),
        "fingerprint": context.fingerprint(context.approval_context(token, runs)),
        "stateDetails": state_details(token, path),
    }


def state_details(token: SuspensionToken, path: str) -> dict:
    """A pause as Prefect's `state_details` describe one (flow run = execution).

    `run_input_keyset` names where Prefect keeps a pause's input; here it is only
    present when the pause expects fields, like Prefect's `wait_for_input`.
    """
    base = f"paused-{path}"
    keyset = (
        {key: f"{base}-{key}" for key in ("description", "response", "schema")}
        if token.schema
        else None
    )
    return {
        "flow_run_id": str(token.execution_id),
        "pause_timeout": iso(token.expires_at),
        "pause_key": path,
        "run_input_keyset": keyset,
        "pause_reschedule": False,
    }


def suspension(token: SuspensionToken) -> dict:
    """One inbox item."""
    return {
        "tokenId": str(token.pk),
        "executionId": str(token.execution_id),
        "flow": flow_ref(token.execution),
        "screen": token.screen,
        "message": token.message,
        "deadline": iso(token.expires_at),
        "createdAt": iso(token.created_at),
        "approvals": approvals(token),
    }


def suspension_detail(token: SuspensionToken) -> dict:
    """An inbox item with its state, assignees and the fields an answer may carry."""
    return {
        **suspension(token),
        "state": token.state,
        "assignees": assignees(token),
        "expected": expected(token),
        "resumeUrl": resume_url(token.pk),
    }


def assignees(token: SuspensionToken) -> dict:
    """Who may answer: `{"users": [...], "groups": [...]}` (both empty: anyone)."""
    given = token.assignees or {}
    return {"users": given.get("users", []), "groups": given.get("groups", [])}


def approvals(token: SuspensionToken) -> dict:
    return {"required": token.approvals_required, "received": token.received}


def expected(token: SuspensionToken) -> list[dict]:
    """The answer's fields: the screen's own, then the Pause's onResume inputs."""
    fields = screens.response_fields(token.screen, token.schema)
    return secrets.mask_schema(inputs.to_schema(fields))


def event_record(event: ExecutionEvent) -> dict:
    """One audit event as the API shows it (the event stream's `data`).

    `event.subject_label` is set by approvals.views_executions.labelled: the task
    run's path, or a token's short id.
    """
    return {
        "seq": event.seq,
        "at": iso(event.at),
        "subject": event.subject,
        "subjectId": event.subject_id,
        "label": event.subject_label,
        "from": event.from_state or None,
        "to": event.to_state,
        "actor": event.actor_name or None,
        "channel": event.channel or None,
        "data": secrets.mask(event.data),
    }
