"""Withdrawal: the requester takes a waiting request back; it ends CANCELLED."""

import pytest
from django.test import Client

from approvals import access, answers, outcomes, withdrawal
from flows import engine
from flows.models import Execution, ExecutionEvent, SuspensionToken, TaskRun


def fresh(token) -> SuspensionToken:
    return SuspensionToken.objects.select_related("execution", "tenant").get(
        pk=token.pk
    )


def withdraw(run_on_commit, user, token, reason="no longer needed"):
    run_on_commit(withdrawal.withdraw, user, token.execution, reason, channel="web")
    return fresh(token)


def test_withdrawing_cancels_the_token_runs_finally_and_ends_cancelled(
    leave, people, run_on_commit
):
    token = withdraw(run_on_commit, people["emp"], leave())
    assert token.state == SuspensionToken.State.CANCELLED
    assert token.resolved_by_name == "emp"
    execution = Execution.objects.get(pk=token.execution_id)
    assert execution.state == Execution.State.CANCELLED
    runs = dict(execution.task_runs.values_list("task_id", "state"))
    assert runs["tidy"] == TaskRun.State.SUCCESS  # `finally` ran, as for a cancel
    assert runs["ask"] == TaskRun.State.CANCELLED
    assert "after" not in runs


def test_the_trail_says_who_withdrew_it_and_why(leave, people, run_on_commit):
    token = withdraw(run_on_commit, people["emp"], leave())
    event = ExecutionEvent.objects.get(
        execution_id=token.execution_id, data__has_key="withdrawn"
    )
    assert (event.actor_name, event.channel) == ("emp", "web")
    assert event.data["reason"] == "no longer needed"
    assert outcomes.of_event(event) == "Withdrawn by emp: no longer needed"


def test_the_outcome_is_withdrawn_on_the_token_the_list_and_the_status(
    leave, people, run_on_commit
):
    token = withdraw(run_on_commit, people["emp"], leave())
    [(_, verdict)] = outcomes.of_tokens([token])
    assert verdict.sentence == "Withdrawn by emp: no longer needed"
    [row] = outcomes.attach_latest(
        outcomes.with_latest(Execution.objects.filter(pk=token.execution_id))
    )
    assert row.outcome.sentence == "Withdrawn by emp: no longer needed"


def test_the_execution_page_shows_the_withdrawal_in_words(leave, people, run_on_commit):
    token = withdraw(run_on_commit, people["emp"], leave())
    client = Client()
    client.force_login(people["emp"])
    page = client.get(f"/executions/{token.execution_id}/").content.decode()
    assert "Cancelled — withdrawn by emp: no longer needed" in page
    assert 'class="small event-sentence">Withdrawn by emp: no longer needed' in page
    listed = client.get("/executions/").content.decode()
    assert "Withdrawn by emp: no longer needed" in listed


def test_without_a_reason_it_says_only_who(leave, people, run_on_commit):
    token = withdraw(run_on_commit, people["emp"], leave(), reason="  ")
    [(_, verdict)] = outcomes.of_tokens([token])
    assert verdict.sentence == "Withdrawn by emp"


def test_a_late_answer_after_a_withdrawal_is_a_409(leave, people, run_on_commit):
    token = withdraw(run_on_commit, people["emp"], leave())
    with pytest.raises(engine.AlreadyConsumed):
        answers.check_can_answer(people["ann"], token)
    client = Client()
    client.force_login(people["ann"])
    page = client.post(f"/approvals/{token.pk}/", {"decision": "Approved"})
    assert page.status_code == 409
    assert "emp cancelled it" in page.content.decode()


@pytest.mark.parametrize("who", ["ann", "mia"])
def test_only_the_requester_may_withdraw(leave, people, who):
    token = leave()
    with pytest.raises(access.Denied, match="started this request"):
        withdrawal.withdraw(people[who], token.execution, channel="web")
    assert fresh(token).state == SuspensionToken.State.WAITING


def test_staff_cancel_rather_than_withdraw(leave, people):
    people["carol"].is_staff = True
    people["carol"].save()
    token = leave()
    with pytest.raises(access.Denied):
        withdrawal.withdraw(people["carol"], token.execution, channel="web")


def test_an_answered_request_cannot_be_withdrawn(leave, people, run_on_commit):
    token = leave()
    run_on_commit(
        answers.answer, people["ann"], token, {"decision": "Approved"}, channel="web"
    )
    execution = Execution.objects.get(pk=token.execution_id)
    with pytest.raises(engine.HoldConflict) as caught:
        withdrawal.withdraw(people["emp"], execution, channel="web")
    assert caught.value.state == Execution.State.SUCCESS
    assert not ExecutionEvent.objects.filter(data__has_key="withdrawn").exists()


def test_withdrawing_twice_is_a_409_naming_who(leave, people, run_on_commit):
    token = withdraw(run_on_commit, people["emp"], leave())
    execution = Execution.objects.get(pk=token.execution_id)
    with pytest.raises(engine.HoldConflict) as caught:
        withdrawal.withdraw(people["emp"], execution, channel="web")
    assert caught.value.state == Execution.State.CANCELLED
    assert caught.value.by == "emp"


def test_a_running_execution_with_nothing_waiting_is_a_409(
    make_flow, people, run_on_commit
):
    flow = make_flow(SLEEPY)
    execution = run_on_commit(engine.start_execution, flow, {}, actor=people["emp"])
    execution.refresh_from_db()
    with pytest.raises(engine.HoldConflict, match="Nothing waits") as caught:
        withdrawal.withdraw(people["emp"], execution, channel="web")
    assert caught.value.state == execution.state


SLEEPY = """
id: sleepy
namespace: acme.hr
tasks:
  - id: nap
    type: Sleep
    duration: PT1H
"""


def test_the_confirmation_step_then_the_post(leave, people, run_on_commit):
    token = leave()
    client = Client()
    client.force_login(people["emp"])
    page = client.get(f"/executions/{token.execution_id}/")
    assert f'href="/executions/{token.execution_id}/withdraw"' in page.content.decode()
    confirm = client.get(f"/executions/{token.execution_id}/withdraw")
    assert confirm.status_code == 200
    assert "Withdraw this request?" in confirm.content.decode()
    assert fresh(token).state == SuspensionToken.State.WAITING  # GET changes nothing
    done = run_on_commit(
        client.post,
        f"/executions/{token.execution_id}/withdraw",
        {"reason": "no longer needed"},
        follow=True,
    )
    assert done.redirect_chain[-1][0] == f"/executions/{token.execution_id}/"
    text = done.content.decode()
    assert "Withdrawn: the request is cancelled." in text
    assert "Withdraw request</a>" not in text
    assert fresh(token).state == SuspensionToken.State.CANCELLED


def test_the_screen_refuses_others_and_a_too_long_reason(leave, people):
    token = leave()
    url = f"/executions/{token.execution_id}/withdraw"
    client = Client()
    client.force_login(people["ann"])
    assert client.get(url).status_code == 403
    client.force_login(people["emp"])
    long = client.post(url, {"reason": "x" * 1001})
    assert long.status_code == 400
    assert "at most 1000 characters" in long.content.decode()
    assert fresh(token).state == SuspensionToken.State.WAITING
    page = Client()
    page.force_login(people["ann"])
    shown = page.get(f"/executions/{token.execution_id}/").content.decode()
    assert "Withdraw request" not in shown
