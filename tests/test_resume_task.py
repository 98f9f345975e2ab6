"""The io.kestra.plugin.core.execution.Resume task: one flow resumes another."""

from flows import engine
from flows.models import Execution, SuspensionToken, TaskRun
from tests.api_support import FORM, runs
from tests.factories import TenantFactory

S, T = SuspensionToken.State, TaskRun.State

RESUMER = """
id: resumer
namespace: acme.ops
inputs:
  - id: target
    type: STRING
tasks:
  - id: go
    type: io.kestra.plugin.core.execution.Resume
    executionId: "{{ inputs.target }}"
    namespace: acme.finance
    inputs:
      reason: "resumed by a flow"
      budget: 3
"""


def run_resumer(make_flow, run_on_commit, target, *, source=RESUMER, into=None):
    flow = make_flow(source, into=into)
    execution = run_on_commit(engine.start_execution, flow, {"target": str(target)})
    return runs(execution.pk)["go"]


def test_resume_task_resumes_a_paused_execution_of_the_same_tenant(
    pause, make_flow, run_on_commit
):
    token = pause(FORM)
    step = run_resumer(make_flow, run_on_commit, token.execution_id)
    assert step.state == T.SUCCESS
    assert step.outputs == {
        "executionId": str(token.execution_id),
        "tokenId": str(token.pk),
    }
    token.refresh_from_db()
    assert token.state == S.RESUMED
    assert (token.channel, token.resolved_by_name) == ("task", "system")
    assert token.response == {"reason": "resumed by a flow", "budget": 3}
    assert Execution.objects.get(pk=token.execution_id).state == "SUCCESS"


def test_resume_task_refuses_another_tenants_execution(pause, make_flow, run_on_commit):
    token = pause(FORM, into=TenantFactory(slug="globex"))
    step = run_resumer(make_flow, run_on_commit, token.execution_id)
    assert step.state == T.FAILED and "to resume in this tenant" in step.error
    token.refresh_from_db()
    assert token.state == S.WAITING


def test_resume_task_fails_on_invalid_inputs_and_wrong_namespace(
    pause, make_flow, run_on_commit
):
    token = pause(FORM)
    bad = RESUMER.replace("budget: 3", "budget: -3").replace("id: resumer", "id: bad")
    assert (
        run_resumer(make_flow, run_on_commit, token.execution_id, source=bad).state
        == T.FAILED
    )
    elsewhere = RESUMER.replace("acme.finance", "acme.other").replace(
        "id: resumer", "id: other"
    )
    step = run_resumer(make_flow, run_on_commit, token.execution_id, source=elsewhere)
    assert step.state == T.FAILED and "to resume in this tenant" in step.error
    token.refresh_from_db()
    assert token.state == S.WAITING
