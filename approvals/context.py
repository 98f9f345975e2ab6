"""What an approver is shown: one snapshot for the screen, the API and the trail."""

import hashlib
import json

from flows import secrets
from flows.models import SuspensionToken, TaskRun


def approval_context(token: SuspensionToken) -> dict:
    """Flow, execution inputs, earlier outputs, message, deadline: JSON-safe.

    Secrets show as ******, so the snapshot stored with an answer (and its hash)
    holds none.
    """
    execution = token.execution
    runs = TaskRun.objects.filter(
        execution_id=execution.pk, state__in=TaskRun.DONE
    ).values_list("task_id", "outputs")
    return {
        "flow": {
            "namespace": execution.flow.namespace,
            "id": execution.flow.flow_id,
            "revision": execution.revision.revision,
        },
        "execution": str(execution.pk),
        "inputs": secrets.mask(execution.inputs),
        "outputs": secrets.mask(dict(runs)),
        "message": token.message,
        "deadline": token.expires_at.isoformat() if token.expires_at else None,
    }


def fingerprint(context: dict) -> str:
    """sha256 of the canonical JSON: stored with an answer, it proves what was shown."""
    canonical = json.dumps(context, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
