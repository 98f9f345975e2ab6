"""What the API tests share: flows, a bearer client, and start/post helpers."""

from rest_framework.test import APIClient

from approvals.models import ApiToken
from flows import engine
from flows.models import SuspensionToken, TaskRun

S = SuspensionToken.State

FORM = """
id: expense
namespace: acme.finance
inputs:
  - id: amount
    type: INT
    defaults: 10
tasks:
  - id: wait
    type: Pause
    pauseDuration: PT1H
    message: "Approve {{ inputs.amount }}?"
    onResume:
      - id: reason
        type: STRING
      - id: budget
        type: INT
        min: 0
        required: false
  - id: after
    type: Return
    format: "{{ outputs.wait.onResume.reason }} by {{ outputs.wait.resumed.by }}"
"""

APPROVAL = """
id: contract
namespace: acme.legal
tasks:
  - id: sign
    type: Pause
    screen: approval
    approvals: 2
    message: Sign the contract?
  - id: after
    type: Return
    format: "{{ outputs.sign.decision }}"
"""

REVIEW = """
id: report
namespace: acme.legal
tasks:
  - id: read
    type: Pause
    screen: review
  - id: after
    type: Return
    format: done
"""

TWO_PAUSES = """
id: twice
namespace: acme.finance
tasks:
  - id: first
    type: Pause
  - id: second
    type: Pause
  - id: after
    type: Return
    format: done
"""


def form_with(*lines: str) -> str:
    """FORM with extra Pause properties, e.g. form_with("assignees: [bob]")."""
    extra = "".join(f"    {line}\n" for line in lines)
    return FORM.replace(
        "    pauseDuration: PT1H\n", f"    pauseDuration: PT1H\n{extra}"
    )


def client_for(user) -> APIClient:
    """An API client sending `user`'s bearer key."""
    _, key = ApiToken.issue(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def resume_url(pk) -> str:
    return f"/api/executions/{pk}/resume"


def runs(execution_id) -> dict[str, TaskRun]:
    return {r.task_id: r for r in TaskRun.objects.filter(execution_id=execution_id)}


def starter(make_flow, run_on_commit):
    """start(yaml, into=tenant, actor=user): run a flow to its Pause; its token."""

    def start(source=FORM, *, into=None, actor=None, inputs=None):
        flow = make_flow(source, into=into)
        execution = run_on_commit(engine.start_execution, flow, inputs, actor=actor)
        return SuspensionToken.objects.get(execution=execution, state=S.WAITING)

    return start


def poster(run_on_commit):
    """send(client, url, data): POST JSON, then run what it enqueued, like a worker."""

    def send(client, url, data, **headers):
        return run_on_commit(client.post, url, data, format="json", headers=headers)

    return send
