"""Answers: who may answer, quorum, rejection, the record of what was shown."""

import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from approvals import access, answers, context
from approvals.models import Answer
from flows import engine
from flows.models import SuspensionToken, TaskRun
from tests.factories import TenantFactory, UserFactory

QUORUM = """
id: spend
namespace: acme.finance
inputs:
  - id: amount
    type: INT
tasks:
  - id: approve
    type: Pause
    screen: approval
    approvals: {approvals}
    assignees: {assignees}
    message: "Approve spending {{{{ inputs.amount }}}}"
  - id: after
    type: Return
    format: "{{{{ outputs.approve.decision }}}}"
"""


@pytest.fixture
def pause(make_flow, run_on_commit):
    def start(approvals=1, assignees="[]", actor=None):
        flow = make_flow(QUORUM.format(approvals=approvals, assignees=assignees))
        execution = run_on_commit(
            engine.start_execution, flow, {"amount": 5}, actor=actor
        )
        return SuspensionToken.objects.get(execution=execution)

    return start


def approve(user, token, run_on_commit, decision="Approved", comment=None):
    values = answers.validate(token, {"decision": decision, "comment": comment})
    return run_on_commit(answers.answer, user, token, values, channel="web")


def members(tenant, *names):
    return [UserFactory(username=name, tenants=[tenant]) for name in names]


def test_one_approval_resumes_and_records_what_was_shown(pause, tenant, run_on_commit):
    (ann,) = members(tenant, "ann")
    token = pause()
    outcome = approve(ann, token, run_on_commit, comment="fine")
    token.refresh_from_db()
    answer = Answer.objects.get()
    assert outcome.resumed and token.state == "RESUMED"
    assert answer.shown_message == "Approve spending 5"
    assert answer.shown_context["inputs"] == {"amount": 5}
    assert answer.shown_hash == context.fingerprint(answer.shown_context)
    after = TaskRun.objects.get(execution_id=token.execution_id, task_id="after")
    assert after.outputs["value"] == "Approved"


def test_quorum_waits_for_distinct_approvers(pause, tenant, run_on_commit):
    ann, bob = members(tenant, "ann", "bob")
    token = pause(approvals=2)
    first = approve(ann, token, run_on_commit)
    assert not first.resumed and (first.approvals, first.required) == (1, 2)
    with pytest.raises(answers.AlreadyAnswered):
        approve(ann, token, run_on_commit)
    token.refresh_from_db()
    assert token.state == "WAITING"
    second = approve(bob, token, run_on_commit)
    token.refresh_from_db()
    assert second.resumed and token.state == "RESUMED"
    pause_run = TaskRun.objects.get(execution_id=token.execution_id, task_id="approve")
    assert [a["by"] for a in pause_run.outputs["answers"]] == ["ann", "bob"]


def test_one_rejection_ends_the_pause_at_once_and_cancels_by_default(
    pause, tenant, run_on_commit
):
    ann, bob = members(tenant, "ann", "bob")
    token = pause(approvals=3)
    approve(ann, token, run_on_commit)
    outcome = approve(bob, token, run_on_commit, decision="Rejected", comment="no")
    token.refresh_from_db()
    assert outcome.resumed and token.response["decision"] == "Rejected"
    assert token.execution.state == "CANCELLED"
    paused_run = TaskRun.objects.get(execution_id=token.execution_id, task_id="approve")
    assert paused_run.state == "CANCELLED" and paused_run.error == "rejected by bob: no"
    assert not TaskRun.objects.filter(execution_id=token.execution_id, task_id="after")


def test_an_approver_cannot_reject_after_approving(pause, tenant, run_on_commit):
    ann, bob = members(tenant, "ann", "bob")
    token = pause(approvals=2)
    approve(ann, token, run_on_commit)
    with pytest.raises(answers.AlreadyAnswered):
        approve(ann, token, run_on_commit, decision="Rejected")
    token.refresh_from_db()
    assert token.state == "WAITING"
    assert Answer.objects.filter(token=token).count() == 1


def test_assignees_by_user_or_group(pause, tenant):
    ann, bob, cat = members(tenant, "ann", "bob", "cat")
    Group.objects.create(name="managers").user_set.add(bob)
    token = pause(assignees="{users: [ann], groups: [managers]}")
    access.check_may_answer(ann, token)
    access.check_may_answer(bob, token)
    with pytest.raises(access.Denied, match="Only ann or members of managers"):
        access.check_may_answer(cat, token)
    assert set(access.answerable_tokens(bob)) == {token}
    assert not access.answerable_tokens(cat).exists()


def test_the_starter_may_not_approve_their_own_execution(pause, tenant):
    (ann,) = members(tenant, "ann")
    token = pause(actor=ann)
    with pytest.raises(access.Denied, match="You started this execution"):
        access.check_may_answer(ann, token)
    assert not access.answerable_tokens(ann).exists()


def test_other_tenants_see_nothing(pause):
    outsider = UserFactory(username="eve", tenants=[TenantFactory(slug="other")])
    token = pause()
    with pytest.raises(access.Denied, match="another tenant"):
        access.check_tenant(outsider, token)
    assert not access.answerable_tokens(outsider).exists()
    assert not access.visible_executions(outsider).exists()


def test_answered_and_expired_tokens_leave_the_inbox(pause, tenant, run_on_commit):
    ann, bob = members(tenant, "ann", "bob")
    token = pause(approvals=2)
    approve(ann, token, run_on_commit)
    assert not access.answerable_tokens(ann).exists()
    assert set(access.answerable_tokens(bob)) == {token}


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_approvers_resume_it_exactly_once(make_flow, tenant):
    users = members(tenant, *(f"approver{i}" for i in range(10)))
    flow = make_flow(QUORUM.format(approvals=2, assignees="[]"))
    execution = engine.start_execution(flow, {"amount": 1})
    token = SuspensionToken.objects.get(execution=execution)
    values = answers.validate(token, {"decision": "Approved"})
    barrier = threading.Barrier(10)
    results = [None] * 10

    def answer(i):
        try:
            barrier.wait()
            fresh = SuspensionToken.objects.get(pk=token.pk)
            results[i] = answers.answer(users[i], fresh, values, channel="api")
        except engine.EngineError as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    resumed = [r for r in results if isinstance(r, answers.Outcome) and r.resumed]
    refused = [r for r in results if isinstance(r, engine.AlreadyConsumed)]
    waiting = [r for r in results if isinstance(r, answers.Outcome) and not r.resumed]
    assert len(resumed) == 1 and len(waiting) == 1 and len(refused) == 8
    assert Answer.objects.filter(token=token).count() == 2
    after = TaskRun.objects.filter(execution_id=execution.pk, task_id="after")
    assert after.count() == 1
