"""What an approver is shown: one snapshot for the screen, the API and the trail."""

import hashlib
import json

from flows import secrets
from flows.models import SuspensionToken, TaskRun


def approval_context(token: SuspensionToken, runs=None) -> dict:
    """Flow, execution inputs, earlier outputs, message, deadline: JSON-safe.

    Secrets show as ******, so the snapshot stored with an answer (and its hash)
    holds none. `runs`: the execution's task runs already fetched, ordered by
    start and path (the status API has them), to save the query.
    """
    execution = token.execution
    if runs is None:
        runs = (
            TaskRun.objects.filter(execution_id=execution.pk)
            .only("task_id", "outputs", "state")
            .order_by("started_at", "path")
        )
    # In start order, so a task run twice (a loop) shows its latest outputs.
    runs = [(run.task_id, run.outputs) for run in runs if run.state in TaskRun.DONE]
    return {**own_context(token), "outputs": secrets.mask(dict(runs))}


def own_context(token: SuspensionToken) -> dict:
    """The part of the context the suspension and its execution row hold: the
    approval context without the earlier tasks' outputs (no query of its own)."""
    execution = token.execution
    return {
        "flow": {
            "namespace": execution.flow.namespace,
            "id": execution.flow.flow_id,
            "revision": execution.revision.revision,
        },
        "execution": str(execution.pk),
        "inputs": secrets.mask(execution.inputs),
        "message": token.message,
        "deadline": token.expires_at.isoformat() if token.expires_at else None,
    }


def shown_through_api(token: SuspensionToken, if_match: str) -> dict:
    """What an API answer is recorded as having been shown.

    The API shows nothing as it takes an answer; a client proves what it read by
    sending the fingerprint as If-Match (checked before: check_unchanged), and
    then the whole context it matched is kept. Without one, what the answer is
    bound to is the suspension itself: its own context, without the outputs of
    earlier tasks (which the client may never have fetched).
    """
    return approval_context(token) if if_match else own_context(token)


def fingerprint(context: dict) -> str:
    """sha256 of the canonical JSON: stored with an answer, it proves what was shown."""
    canonical = json.dumps(context, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class Changed(Exception):
    """What the suspension shows is no longer what the answerer was shown (412)."""

    def __init__(self, token: SuspensionToken, current: str):
        super().__init__(f"the context of {token.pk} changed")
        self.token, self.fingerprint = token, current


def check_unchanged(token: SuspensionToken, expected: str) -> None:
    """Raise Changed unless `expected` (an If-Match value: one or more quoted
    fingerprints, or `*`) names what `token` shows now; an empty one passes."""
    if not expected:
        return
    current = fingerprint(approval_context(token))
    sent = {tag.strip().removeprefix("W/").strip('"') for tag in expected.split(",")}
    if current not in sent and "*" not in sent:
        raise Changed(token, current)
