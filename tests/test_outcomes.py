"""Outcomes in words: each sentence, the execution's latest one and its ending."""

from datetime import timedelta

import pytest

from approvals import answers, outcomes
from flows import engine
from flows.models import Execution, SuspensionToken, TaskRun
from tests.factories import UserFactory

APPROVAL = "screen: approval\nmessage: Take Friday off?"
APPROVAL_TASK = """
id: expense
namespace: acme.finance
tasks:
  - id: sign
    type: Approval
    decisions: [Pay it, Refuse]
    {extra}
  - id: after
    type: Return
    format: done
"""


@pytest.fixture
def manager(tenant):
    return UserFactory(username="manager", tenants=[tenant])


def decide(user, token, run_on_commit, **data):
    values = answers.validate(token, data)
    run_on_commit(answers.answer, user, token, values, channel="web")
    token.refresh_from_db()
    return token


def said(execution_id) -> dict[str, str]:
    """The execution's latest outcome as the list, the page and the API say it."""
    listed = outcomes.attach_latest(
        outcomes.with_latest(Execution.objects.filter(pk=execution_id))
    )[0].outcome
    tokens = SuspensionToken.objects.filter(execution_id=execution_id)
    runs = TaskRun.objects.filter(execution_id=execution_id)
    verdicts = [v for _, v in outcomes.of_tokens(tokens)]
    page = outcomes.latest(verdicts + [outcomes.of_run(run) for run in runs])
    return {"list": str(listed), "page": str(page)}


def one_sentence(execution_id) -> str:
    sentences = set(said(execution_id).values())
    assert len(sentences) == 1, sentences
    return sentences.pop()


def test_approved_by_the_approver(manager, pause_token, run_on_commit):
    token = decide(manager, pause_token(APPROVAL), run_on_commit, decision="Approved")
    assert str(outcomes.of_token(token)) == "Approved by manager"
    assert one_sentence(token.execution_id) == "Approved by manager"


def test_approved_with_a_comment(manager, pause_token, run_on_commit):
    token = pause_token(APPROVAL)
    decide(manager, token, run_on_commit, decision="Approved", comment="enjoy")
    assert one_sentence(token.execution_id) == "Approved by manager: enjoy"


def test_rejected_with_a_comment_and_the_execution_ends_cancelled(
    manager, pause_token, run_on_commit
):
    token = pause_token(APPROVAL)
    decide(manager, token, run_on_commit, decision="Rejected", comment="not this week")
    assert one_sentence(token.execution_id) == "Rejected by manager: not this week"
    execution = Execution.objects.get(pk=token.execution_id)
    verdict = outcomes.of_token(token)
    states = {run.pk: run.state for run in execution.task_runs.all()}
    assert outcomes.ending(execution, verdict, states) == (
        "Cancelled — rejected by manager: not this week"
    )


@pytest.mark.parametrize(
    ("behavior", "banner"),
    [
        ("FAIL", "Failed — rejected by manager"),
        ("WARN", "Warning — rejected by manager"),
        ("CONTINUE", ""),
    ],
)
def test_the_banner_follows_reject_behavior(
    manager, pause_token, run_on_commit, behavior, banner
):
    token = pause_token(f"{APPROVAL}\nrejectBehavior: {behavior}")
    decide(manager, token, run_on_commit, decision="Rejected")
    execution = Execution.objects.get(pk=token.execution_id)
    states = {run.pk: run.state for run in execution.task_runs.all()}
    assert outcomes.ending(execution, outcomes.of_token(token), states) == banner


def test_expired(pause_token, run_on_commit):
    token = pause_token(f"{APPROVAL}\npauseDuration: PT1M\nbehavior: CANCEL")
    run_on_commit(engine.expire, token.pk, token.expires_at)
    token.refresh_from_db()
    assert one_sentence(token.execution_id) == "Expired"
    execution = Execution.objects.get(pk=token.execution_id)
    states = {run.pk: run.state for run in execution.task_runs.all()}
    assert outcomes.ending(execution, outcomes.of_token(token), states) == (
        "Cancelled — expired without an answer"
    )


def test_expired_then_resumed_has_no_banner(pause_token, run_on_commit):
    token = pause_token("pauseDuration: PT1M")  # behavior RESUME: it goes on
    run_on_commit(engine.expire, token.pk, token.expires_at)
    token.refresh_from_db()
    execution = Execution.objects.get(pk=token.execution_id)
    states = {run.pk: run.state for run in execution.task_runs.all()}
    assert execution.state == "SUCCESS"
    assert outcomes.ending(execution, outcomes.of_token(token), states) == ""


def test_auto_approved_without_a_token(make_flow, run_on_commit):
    flow = make_flow(APPROVAL_TASK.format(extra='autoApprove: "true"'))
    execution = run_on_commit(engine.start_execution, flow, {})
    assert not SuspensionToken.objects.filter(execution=execution).exists()
    assert one_sentence(execution.pk) == "Auto-approved"


def test_denied_by_the_approver_of_an_approval_task(manager, make_flow, run_on_commit):
    flow = make_flow(APPROVAL_TASK.format(extra="commentRequired: ON_DENY"))
    execution = run_on_commit(engine.start_execution, flow, {})
    token = SuspensionToken.objects.get(execution=execution)
    decide(manager, token, run_on_commit, decision="Refuse", comment="no receipt")
    assert one_sentence(execution.pk) == "Denied by manager: no receipt"
    execution.refresh_from_db()
    states = {run.pk: run.state for run in execution.task_runs.all()}
    assert outcomes.ending(execution, outcomes.of_token(token), states) == (
        "Cancelled — denied by manager: no receipt"
    )


def test_cancelled_by_who_cancelled_the_execution(tenant, pause_token, run_on_commit):
    admin = UserFactory(username="admin", tenants=[tenant])
    token = pause_token(APPROVAL)
    run_on_commit(engine.cancel, token.execution_id, actor=admin)
    token.refresh_from_db()
    assert one_sentence(token.execution_id) == "Cancelled by admin"


def test_answered_on_a_form_and_reviewed_on_a_review(
    manager, pause_token, run_on_commit
):
    form = pause_token("onResume:\n  - id: reason\n    type: STRING")
    decide(manager, form, run_on_commit, reason="fine")
    assert one_sentence(form.execution_id) == "Answered by manager"
    review = pause_token("screen: review", flow_id="reviewed")
    decide(manager, review, run_on_commit, acknowledged=True, comment="read it")
    assert one_sentence(review.execution_id) == "Reviewed by manager: read it"
    bare = pause_token("", flow_id="bare")
    decide(manager, bare, run_on_commit)
    assert one_sentence(bare.execution_id) == "Resumed by manager"


def test_a_quorum_names_every_approver(tenant, pause_token, run_on_commit):
    ann, bob = (UserFactory(username=n, tenants=[tenant]) for n in ("ann", "bob"))
    token = pause_token(f"{APPROVAL}\napprovals: 2")
    decide(ann, token, run_on_commit, decision="Approved", comment="ok")
    decide(bob, token, run_on_commit, decision="Approved")
    assert one_sentence(token.execution_id) == "Approved by ann, bob"


def test_a_quorum_rejected_names_who_rejected(tenant, pause_token, run_on_commit):
    ann, bob = (UserFactory(username=n, tenants=[tenant]) for n in ("ann", "bob"))
    token = pause_token(f"{APPROVAL}\napprovals: 2")
    decide(ann, token, run_on_commit, decision="Approved")
    decide(bob, token, run_on_commit, decision="Rejected", comment="too much")
    assert one_sentence(token.execution_id) == "Rejected by bob: too much"


PARALLEL = """
id: both
namespace: acme.ops
tasks:
  - id: asks
    type: Parallel
    tasks:
      - id: legal
        type: Pause
        screen: approval
      - id: finance
        type: Pause
        screen: approval
"""


def test_a_reject_is_the_outcome_not_the_cancels_it_caused(
    manager, make_flow, run_on_commit
):
    execution = run_on_commit(engine.start_execution, make_flow(PARALLEL), {})
    legal, finance = SuspensionToken.objects.filter(execution=execution).order_by(
        "task_run__path"
    )
    decide(manager, finance, run_on_commit, decision="Rejected", comment="no")
    legal.refresh_from_db()
    assert legal.state == "CANCELLED"
    assert one_sentence(execution.pk) == "Rejected by manager: no"


def test_a_waiting_token_has_no_outcome_yet(pause_token):
    token = pause_token(APPROVAL)
    assert outcomes.of_token(token) is None
    assert said(token.execution_id) == {"list": "None", "page": "None"}


def test_the_latest_decision_wins(manager, make_flow, run_on_commit, monkeypatch):
    source = """
    id: twice
    namespace: acme.ops
    tasks:
      - id: first
        type: Pause
        screen: approval
      - id: second
        type: Pause
        screen: approval
    """
    execution = run_on_commit(engine.start_execution, make_flow(source), {})
    first = SuspensionToken.objects.get(execution=execution)
    decide(manager, first, run_on_commit, decision="Approved", comment="yes")
    second = SuspensionToken.objects.get(execution=execution, state="WAITING")
    later = engine.now() + timedelta(minutes=5)
    monkeypatch.setattr(engine, "now", lambda: later)
    decide(manager, second, run_on_commit, decision="Rejected", comment="no")
    assert one_sentence(execution.pk) == "Rejected by manager: no"


def test_the_list_selector_adds_no_query_per_row(
    manager, pause_token, run_on_commit, django_assert_num_queries
):
    for n in range(3):
        token = pause_token(APPROVAL, flow_id=f"f{n}")
        decide(manager, token, run_on_commit, decision="Rejected", comment="x")
    rows = outcomes.with_latest(Execution.objects.all())
    with django_assert_num_queries(1):
        executions = outcomes.attach_latest(rows)
    assert {str(e.outcome) for e in executions} == {"Rejected by manager: x"}
