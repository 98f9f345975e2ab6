"""Kestra's Approval task, and a Pause's `screen: approval` acting on a Reject."""

from datetime import timedelta

import pytest

from approvals import access, answers
from flows import engine, inputs
from flows.models import Execution, SuspensionToken, TaskRun
from tests.factories import UserFactory

E, T, S = Execution.State, TaskRun.State, SuspensionToken.State

APPROVAL = """
id: expense
namespace: acme.finance
tasks:
  - id: sign
    type: io.kestra.plugin.core.flow.Approval
    message: "Refund 40 EUR?"
    timeout: PT1H
    decisions: [Pay it, Refuse]
    commentRequired: ON_DENY
    {behaviors}
    inputs:
      - id: cost_centre
        type: STRING
    onWait:
      - id: notified
        type: Return
        format: asked
    onApprove:
      - id: pay
        type: Return
        format: "paid by {{{{ outputs.sign.by }}}}"
    onDeny:
      - id: tell
        type: Return
        format: "refused: {{{{ outputs.sign.comment }}}}"
  - id: after
    type: Return
    format: "{{{{ outputs.sign.decision }}}}"
"""


@pytest.fixture
def approval(make_flow, run_on_commit):
    def start(behaviors=""):
        flow = make_flow(APPROVAL.format(behaviors=behaviors))
        execution = run_on_commit(engine.start_execution, flow, {})
        return SuspensionToken.objects.get(execution=execution)

    return start


def runs_of(execution_id) -> dict[str, TaskRun]:
    return {r.path: r for r in TaskRun.objects.filter(execution_id=execution_id)}


def decide(token, user, run_on_commit, **data):
    values = answers.validate(token, data)
    run_on_commit(answers.answer, user, token, values, channel="api")
    return Execution.objects.get(pk=token.execution_id)


def test_approval_waits_with_its_screen_and_runs_on_wait(approval, user):
    token = approval()
    runs = runs_of(token.execution_id)
    assert token.screen == "approval" and token.state == S.WAITING
    assert token.options["decisions"] == ["Pay it", "Refuse"]
    assert token.behavior == "CANCEL"  # expireBehavior's default
    assert runs["sign"].state == T.PAUSED
    assert runs["sign.onWait.notified"].state == T.SUCCESS
    assert runs["sign"].outputs["url"].endswith(f"/approvals/{token.pk}/")
    assert runs["sign"].outputs["due"] == token.expires_at.isoformat()
    assert Execution.objects.get(pk=token.execution_id).state == E.PAUSED


def test_approve_runs_on_approve_and_continues(approval, user, run_on_commit):
    token = approval()
    execution = decide(token, user, run_on_commit, decision="Pay it", cost_centre="X1")
    runs = runs_of(token.execution_id)
    assert execution.state == E.SUCCESS
    sign = runs["sign"].outputs
    assert sign["decision"] == "APPROVED" and sign["auto"] is False
    assert sign["by"] == "alice" and sign["inputs"] == {"cost_centre": "X1"}
    assert runs["sign.onApprove.pay"].outputs == {"value": "paid by alice"}
    assert "sign.onDeny.tell" not in runs
    assert runs["after"].outputs == {"value": "APPROVED"}


def test_deny_needs_a_comment_when_comment_required_on_deny(approval):
    token = approval()
    with pytest.raises(inputs.InputValidationError) as refused:
        answers.validate(token, {"decision": "Refuse"})
    assert list(refused.value.errors) == ["comment"]
    # A denial asks none of the approval's own fields.
    values = answers.validate(token, {"decision": "Refuse", "comment": "no receipt"})
    assert values["decision"] == "Rejected" and values["cost_centre"] is None


def test_deny_runs_on_deny_and_cancels_by_default(approval, user, run_on_commit):
    token = approval()
    execution = decide(
        token, user, run_on_commit, decision="DENIED", comment="no receipt"
    )
    runs = runs_of(token.execution_id)
    assert runs["sign.onDeny.tell"].outputs == {"value": "refused: no receipt"}
    assert runs["sign"].state == T.CANCELLED
    assert execution.state == E.CANCELLED and "after" not in runs


# Each behavior on each outcome: (the task run's state, the execution's state).
OUTCOMES = {
    "CONTINUE": (T.SUCCESS, E.SUCCESS),
    "WARN": (T.WARNING, E.WARNING),
    "FAIL": (T.FAILED, E.FAILED),
    "SUCCEED": (T.SUCCESS, E.SUCCESS),
    "CANCEL": (T.CANCELLED, E.CANCELLED),
    "KILL": (T.KILLED, E.KILLED),
}
GOES_ON = {"CONTINUE", "WARN"}


@pytest.mark.parametrize("behavior", OUTCOMES)
@pytest.mark.parametrize("decision", ["approve", "deny", "expire"])
def test_each_behavior_ends_as_kestra_says(
    approval, user, run_on_commit, monkeypatch, behavior, decision
):
    key = {"approve": "approveBehavior", "deny": "denyBehavior"}.get(
        decision, "expireBehavior"
    )
    token = approval(behaviors=f"{key}: {behavior}")
    if decision == "approve":
        decide(token, user, run_on_commit, decision="Approved", cost_centre="A")
    elif decision == "deny":
        decide(token, user, run_on_commit, decision="Rejected", comment="no")
    else:
        later = engine.now() + timedelta(hours=2)
        monkeypatch.setattr(engine, "now", lambda: later)
        assert run_on_commit(engine.expire_due, later) == 1
    execution = Execution.objects.get(pk=token.execution_id)
    runs = runs_of(token.execution_id)
    task_state, execution_state = OUTCOMES[behavior]
    assert runs["sign"].state == task_state
    assert execution.state == execution_state
    assert ("after" in runs) is (behavior in GOES_ON)
    expected = {"approve": "APPROVED", "deny": "DENIED", "expire": "EXPIRED"}
    assert runs["sign"].outputs["decision"] == expected[decision]


def test_auto_approve_skips_the_pause(make_flow, run_on_commit):
    source = APPROVAL.format(behaviors='autoApprove: "{{ 40 < 100 }}"')
    execution = run_on_commit(engine.start_execution, make_flow(source), {})
    execution.refresh_from_db()
    runs = runs_of(execution.pk)
    assert execution.state == E.SUCCESS
    assert not SuspensionToken.objects.filter(execution=execution).exists()
    assert runs["sign"].outputs["auto"] is True
    assert runs["sign"].outputs["decision"] == "APPROVED"
    assert "sign.onApprove.pay" in runs and "sign.onWait.notified" not in runs


def test_approval_uses_quorum_and_self_approval_rules(make_flow, tenant, run_on_commit):
    starter = UserFactory(username="sam", tenants=[tenant])
    source = APPROVAL.format(behaviors="approvals: 2")
    execution = run_on_commit(
        engine.start_execution, make_flow(source), {}, actor=starter
    )
    token = SuspensionToken.objects.get(execution=execution)
    with pytest.raises(access.Denied):
        access.check_may_answer(starter, token)
    ann, bob = (UserFactory(username=n, tenants=[tenant]) for n in ("ann", "bob"))
    assert (
        decide(token, ann, run_on_commit, decision="Approved", cost_centre="A").state
        == E.PAUSED
    )
    token.refresh_from_db()
    assert (
        decide(token, bob, run_on_commit, decision="Approved", cost_centre="B").state
        == E.SUCCESS
    )


REJECTABLE = """
id: spend
namespace: acme.finance
tasks:
  - id: approve
    type: Pause
    screen: approval
    {reject}
    onResume:
      - id: amount
        type: INT
  - id: after
    type: Return
    format: "{{{{ outputs.approve.decision }}}}"
"""


@pytest.mark.parametrize(
    ("behavior", "task_state", "execution_state", "goes_on"),
    [
        ("", T.CANCELLED, E.CANCELLED, False),
        ("rejectBehavior: CONTINUE", T.SUCCESS, E.SUCCESS, True),
        ("rejectBehavior: WARN", T.WARNING, E.WARNING, True),
        ("rejectBehavior: FAIL", T.FAILED, E.FAILED, False),
        ("rejectBehavior: CANCEL", T.CANCELLED, E.CANCELLED, False),
    ],
)
def test_a_pause_reject_follows_reject_behavior(
    make_flow, user, run_on_commit, behavior, task_state, execution_state, goes_on
):
    flow = make_flow(REJECTABLE.format(reject=behavior))
    execution = run_on_commit(engine.start_execution, flow, {})
    token = SuspensionToken.objects.get(execution=execution)
    # Rejecting needs none of the required onResume fields.
    execution = decide(token, user, run_on_commit, decision="Rejected", comment="later")
    runs = runs_of(execution.pk)
    assert runs["approve"].state == task_state
    assert execution.state == execution_state
    assert ("after" in runs) is goes_on
    if task_state != T.SUCCESS:
        assert runs["approve"].error == "rejected by alice: later"


def test_a_pause_approve_still_needs_its_required_fields(make_flow, run_on_commit):
    flow = make_flow(REJECTABLE.format(reject=""))
    execution = run_on_commit(engine.start_execution, flow, {})
    token = SuspensionToken.objects.get(execution=execution)
    with pytest.raises(inputs.InputValidationError) as refused:
        answers.validate(token, {"decision": "Approved"})
    assert list(refused.value.errors) == ["amount"]


def test_retry_waits_its_interval_then_tries_again(
    make_flow, run_on_commit, monkeypatch
):
    source = """
    id: retried
    namespace: acme.tree
    tasks:
      - id: flaky
        type: Fail
        errorMessage: "attempt {{ taskrun.attemptsCount }}"
        retry:
          type: exponential
          interval: PT1M
          maxInterval: PT10M
          maxAttempts: 3
    """
    execution = run_on_commit(engine.start_execution, make_flow(source), {})
    run = TaskRun.objects.get(execution=execution)
    assert run.state == T.RETRYING and run.error == "attempt 0"
    first_wait = run.wake_at - run.started_at
    assert timedelta(seconds=59) < first_wait <= timedelta(seconds=61)
    assert run_on_commit(engine.wake_due, run.started_at + timedelta(seconds=30)) == 0
    moment = run.wake_at
    monkeypatch.setattr(engine, "now", lambda: moment)
    assert run_on_commit(engine.wake_due, moment) == 1
    run.refresh_from_db()
    assert run.state == T.RETRYING and run.attempt == 2 and run.error == "attempt 1"
    assert run.wake_at - moment == timedelta(minutes=2)  # exponential: twice as long
    moment = run.wake_at
    assert run_on_commit(engine.wake_due, moment) == 1
    run.refresh_from_db()
    execution.refresh_from_db()
    assert run.state == T.FAILED and run.attempt == 3 and run.error == "attempt 2"
    assert execution.state == E.FAILED


def test_a_task_that_succeeds_on_retry_warns_with_warning_on_retry(
    make_flow, run_on_commit, monkeypatch
):
    source = """
    id: recovers
    namespace: acme.tree
    tasks:
      - id: flaky
        type: Return
        format: "{{ 1 / (taskrun.attemptsCount) }}"
        retry:
          type: constant
          interval: PT1S
          maxAttempts: 2
          warningOnRetry: true
    """
    execution = run_on_commit(engine.start_execution, make_flow(source), {})
    run = TaskRun.objects.get(execution=execution)
    assert run.state == T.RETRYING and "division by zero" in run.error
    moment = run.wake_at
    monkeypatch.setattr(engine, "now", lambda: moment)
    run_on_commit(engine.wake_due, moment)
    run.refresh_from_db()
    execution.refresh_from_db()
    assert run.state == T.WARNING and run.attempt == 2 and run.outputs["value"] == "1.0"
    assert execution.state == E.WARNING
