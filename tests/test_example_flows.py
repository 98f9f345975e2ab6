"""The shipped examples that act on a decision: the branching vacation and expense."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from approvals import answers
from flows import engine, inputs, loader
from flows.models import Execution, SuspensionToken, TaskRun
from tests.factories import UserFactory

EXAMPLES = Path(settings.BASE_DIR) / "flows" / "examples"
E, T = Execution.State, TaskRun.State
REQUEST = {
    "request": {"name": "Grace", "start_date": "2042-07-01", "end_date": "2042-07-07"}
}


@pytest.fixture
def manager(tenant):
    person = UserFactory(username="manager", tenants=[tenant])
    Group.objects.create(name="managers").user_set.add(person)
    return person


def start(tenant, name, data, run_on_commit):
    source = (EXAMPLES / name).read_text()
    flow = loader.load_flow(tenant, source, name).flow
    execution = run_on_commit(engine.start_execution, flow, data)
    return SuspensionToken.objects.filter(execution=execution).first(), execution


def decide(token, user, run_on_commit, **data):
    values = answers.validate(token, data)
    run_on_commit(answers.answer, user, token, values, channel="web")
    return Execution.objects.get(pk=token.execution_id)


def logged(execution) -> dict[str, str]:
    runs = TaskRun.objects.filter(execution=execution).exclude(logs=[])
    return {run.task_id: run.logs[0]["message"] for run in runs}


def test_vacation_approved_runs_the_approved_branch(tenant, manager, run_on_commit):
    token, _ = start(tenant, "vacation_request_branching.yaml", REQUEST, run_on_commit)
    assert token.assignees == {"users": [], "groups": ["managers"]}
    execution = decide(token, manager, run_on_commit, decision="Approved")
    assert execution.state == E.SUCCESS
    assert logged(execution) == {
        "approved": "Enjoy your leave, Grace: approved by manager."
    }


def test_vacation_rejected_needs_a_reason_and_says_it(tenant, manager, run_on_commit):
    token, _ = start(tenant, "vacation_request_branching.yaml", REQUEST, run_on_commit)
    with pytest.raises(inputs.InputValidationError) as refused:
        answers.validate(token, {"decision": "Rejected"})
    assert list(refused.value.errors) == ["comment"]
    execution = decide(
        token, manager, run_on_commit, decision="Rejected", comment="team offsite"
    )
    assert execution.state == E.SUCCESS  # rejectBehavior: CONTINUE, then told
    assert logged(execution) == {
        "rejected": "Sorry Grace, manager said no: team offsite"
    }


def test_vacation_expired_runs_the_expiry_branch(
    tenant, manager, run_on_commit, monkeypatch
):
    token, execution = start(
        tenant, "vacation_request_branching.yaml", REQUEST, run_on_commit
    )
    later = token.expires_at + timedelta(seconds=1)
    monkeypatch.setattr(engine, "now", lambda: later)
    assert run_on_commit(engine.expire_due, later) == 1
    execution.refresh_from_db()
    assert execution.state == E.SUCCESS
    assert list(logged(execution)) == ["expired"]


def test_expense_denied_without_a_reason_is_refused_then_cancels(
    tenant, manager, run_on_commit
):
    token, _ = start(tenant, "expense_approval.yaml", {}, run_on_commit)
    assert token.options["decisions"] == ["Approve", "Deny"]
    with pytest.raises(inputs.InputValidationError) as refused:
        answers.validate(token, {"decision": "Deny"})
    assert list(refused.value.errors) == ["comment"]
    execution = decide(
        token, manager, run_on_commit, decision="Deny", comment="no receipt"
    )
    runs = {run.task_id: run for run in TaskRun.objects.filter(execution=execution)}
    assert execution.state == E.CANCELLED
    assert "book" not in runs and runs["close"].state == T.SUCCESS
    assert logged(execution)["explain"] == "Claim denied by manager: no receipt"
    assert logged(execution)["tell_finance"].endswith(f"/approvals/{token.pk}/")


def test_expense_approved_is_booked(tenant, manager, run_on_commit):
    token, _ = start(tenant, "expense_approval.yaml", {}, run_on_commit)
    execution = decide(token, manager, run_on_commit, decision="Approve")
    runs = {run.task_id: run for run in TaskRun.objects.filter(execution=execution)}
    assert execution.state == E.SUCCESS
    assert runs["book"].outputs == {"value": "booked 120.5 EUR for Grace"}
    assert "approved by manager" in logged(execution)["reimburse"]


def test_a_small_expense_is_approved_without_asking(tenant, run_on_commit):
    token, execution = start(
        tenant, "expense_approval.yaml", {"amount": 12}, run_on_commit
    )
    execution.refresh_from_db()
    assert token is None and execution.state == E.SUCCESS
    sign_off = TaskRun.objects.get(execution=execution, task_id="sign_off")
    assert sign_off.outputs["auto"] is True


def test_release_needs_both_approvers(tenant, manager, run_on_commit):
    admin = UserFactory(username="admin", tenants=[tenant])
    token, execution = start(tenant, "release_signoff.yaml", {}, run_on_commit)
    assert token.approvals_required == 2
    assert decide(token, manager, run_on_commit, decision="Approved").state == E.PAUSED
    token.refresh_from_db()
    assert token.state == SuspensionToken.State.WAITING  # one of two so far
    execution = decide(token, admin, run_on_commit, decision="Approved")
    assert execution.state == E.SUCCESS
    assert logged(execution)["deploy"].startswith("Deploying 2.4.0, approved by")


def test_release_stops_at_one_rejection(tenant, manager, run_on_commit):
    token, _ = start(tenant, "release_signoff.yaml", {}, run_on_commit)
    execution = decide(token, manager, run_on_commit, decision="Rejected")
    assert execution.state == E.CANCELLED
    assert not TaskRun.objects.filter(execution=execution, task_id="deploy").exists()


def test_policy_review_is_acknowledged(tenant, manager, run_on_commit):
    token, _ = start(tenant, "policy_acknowledgement.yaml", {}, run_on_commit)
    assert token.screen == SuspensionToken.Screen.REVIEW
    execution = decide(token, manager, run_on_commit, acknowledged=True)
    assert execution.state == E.SUCCESS
    assert logged(execution)["recorded"] == (
        "manager acknowledged the Remote work policy."
    )
