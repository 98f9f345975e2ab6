"""Prefect's POST /api/flow_runs/{id}/resume: ACCEPT 201, REJECT and ABORT 200."""

from datetime import timedelta

from django.utils import timezone

from flows.models import Execution, SuspensionToken

S = SuspensionToken.State


def flow_run_resume(execution_id) -> str:
    return f"/api/flow_runs/{execution_id}/resume"


def test_valid_run_input_is_accepted_with_the_new_running_state(api, pause, post):
    token = pause()
    response = post(
        api, flow_run_resume(token.execution_id), {"run_input": {"reason": "ok"}}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "ACCEPT"
    assert body["details"] == {"type": "accept_details"}
    state = body["state"]
    assert (state["type"], state["name"]) == ("RUNNING", "Running")
    assert state["message"] == "Resumed by alice"
    details = state["state_details"]
    assert details["flow_run_id"] == str(token.execution_id)
    assert details["pause_key"] == "wait"
    assert details["pause_reschedule"] is False
    assert details["run_input_keyset"]["response"] == "paused-wait-response"
    assert details["pause_timeout"] == token.expires_at.isoformat()
    token.refresh_from_db()
    assert token.state == S.RESUMED and token.response["reason"] == "ok"
    assert Execution.objects.get(pk=token.execution_id).state == "SUCCESS"


def test_invalid_run_input_is_rejected_with_the_reason(api, pause, post):
    token = pause()
    response = post(
        api, flow_run_resume(token.execution_id), {"run_input": {"budget": -1}}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "REJECT"
    assert body["details"]["type"] == "reject_details"
    assert "reason" in body["details"]["reason"]
    assert "budget" in body["details"]["reason"]
    assert body["state"]["type"] == "PAUSED"
    token.refresh_from_db()
    assert token.state == S.WAITING


def test_a_run_no_longer_paused_is_aborted(api, pause, post):
    token = pause()
    url = flow_run_resume(token.execution_id)
    assert post(api, url, {"run_input": {"reason": "ok"}}).status_code == 201
    response = post(api, url, {"run_input": {"reason": "again"}})
    assert response.status_code == 200
    assert response.json() == {
        "state": None,
        "status": "ABORT",
        "details": {
            "type": "abort_details",
            "reason": "Cannot resume a flow run that is not paused.",
        },
    }


def test_a_timed_out_pause_is_aborted(api, pause, post):
    token = pause()
    past = timezone.now() - timedelta(seconds=1)
    SuspensionToken.objects.filter(pk=token.pk).update(expires_at=past)
    response = post(
        api, flow_run_resume(token.execution_id), {"run_input": {"reason": "ok"}}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ABORT" and "timed out" in body["details"]["reason"]
    token.refresh_from_db()
    assert token.state != S.RESUMED


def test_unknown_flow_run_is_404_and_a_bad_envelope_400(api, pause, post):
    token = pause()
    missing = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
    assert post(api, flow_run_resume(missing), {"run_input": {}}).status_code == 404
    response = post(api, flow_run_resume(token.execution_id), {"run_input": [1]})
    assert response.status_code == 400 and "run_input" in response.json()["errors"]


def test_status_pause_carries_prefect_state_details(api, pause):
    token = pause()
    status = api.get(f"/api/executions/{token.execution_id}/status").json()
    details = status["pause"]["stateDetails"]
    assert details["flow_run_id"] == str(token.execution_id)
    assert details["pause_key"] == "wait"
    assert set(details["run_input_keyset"]) == {"description", "response", "schema"}
