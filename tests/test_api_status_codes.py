"""Every row of the resume API's status-code table, with its body, in its order.

401 -> 404 -> 403 (tenant) -> 404 (an execution the user may not see) -> 409
(consumed) -> 410 (expired) -> 403 (not allowed) -> 400 (invalid data) -> 202; and
422 for an Idempotency-Key reused elsewhere. The 403 "not allowed" needs someone
who sees the execution without being entitled to answer: an auditor
(`flows.view_execution`) here; anyone else gets the 404.
"""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from approvals.models import Answer, ApiToken, IdempotentReply
from flows import engine
from flows.models import SuspensionToken
from tests.api_support import (
    FORM,
    client_for,
    form_with,
    resume_url,
)
from tests.dbutil import in_threads
from tests.factories import UserFactory, give_permissions

S = SuspensionToken.State

NO_PAUSE = """
id: quick
namespace: acme.finance
tasks:
  - id: only
    type: Return
    format: done
"""


@pytest.fixture
def bob(tenant):
    return UserFactory(username="bob", tenants=[tenant])


def after_deadline(monkeypatch, token):
    """Move the engine's clock past the token's deadline (no sweeper runs)."""
    later = token.expires_at + timedelta(seconds=1)
    monkeypatch.setattr(engine, "now", lambda: later)
    return later


def waiting(token) -> bool:
    token.refresh_from_db()
    return token.state == S.WAITING and not Answer.objects.filter(token=token).exists()


# ---------------------------------------------------------------- 401


def test_no_credentials_is_401_even_for_a_missing_id(db):
    response = APIClient().post(resume_url(uuid.uuid4()), {}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert "credentials were not provided" in response.json()["detail"]


def test_an_unknown_key_is_401(pause):
    token = pause()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-key")
    response = client.post(resume_url(token.pk), {"reason": "x"}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked token."}
    assert waiting(token)


def test_an_inactive_users_key_is_401(user, pause):
    token, client = pause(), client_for(user)
    user.is_active = False
    user.save()
    response = client.post(resume_url(token.pk), {"reason": "x"}, format="json")
    assert response.status_code == 401
    assert waiting(token)


# ---------------------------------------------------------------- 404


@pytest.mark.parametrize(
    "missing", ["6f1c8f2e-3b7a-4c55-9d0e-2a1b3c4d5e6f", "not-a-uuid"]
)
def test_an_unknown_or_malformed_id_is_404(api, missing):
    response = api.post(resume_url(missing), {}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such suspension or execution."}


# ---------------------------------------------------------------- 403 tenant


def test_another_tenants_token_is_403(api, pause, globex):
    token = pause(into=globex)
    response = api.post(resume_url(token.pk), {"reason": "x"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "This suspension belongs to another tenant."}
    assert waiting(token)


def test_another_tenants_token_is_403_even_when_consumed(
    api, pause, globex, run_on_commit
):
    token = pause(into=globex)
    run_on_commit(engine.resume, token, {"reason": "theirs"})
    response = api.post(resume_url(token.pk), {"reason": "x"}, format="json")
    assert response.status_code == 403
    assert "resolvedBy" not in response.json()


def test_another_tenants_token_is_403_even_when_expired(
    api, pause, globex, monkeypatch
):
    token = pause(into=globex)
    after_deadline(monkeypatch, token)
    response = api.post(resume_url(token.pk), {"reason": "x"}, format="json")
    assert response.status_code == 403


def test_another_tenants_execution_with_nothing_to_answer_is_403(
    api, make_flow, globex, run_on_commit
):
    execution = run_on_commit(engine.start_execution, make_flow(NO_PAUSE, globex))
    response = api.post(resume_url(execution.pk), {}, format="json")
    assert response.status_code == 403


# ---------------------------------------------------------------- 409


def test_a_consumed_token_is_409_with_who_resolved_it(api, bob, pause, post):
    token = pause()
    first = post(client_for(bob), resume_url(token.pk), {"reason": "x"})
    assert first.status_code == 202
    response = post(api, resume_url(token.pk), {"reason": "late"})
    assert response.status_code == 409
    token.refresh_from_db()
    body = response.json()
    assert body["state"] == "RESUMED"
    assert body["resolvedBy"] == "bob"
    assert body["resolvedAt"] == token.resolved_at.isoformat()
    assert body["executionId"] == str(token.execution_id)
    assert "already resumed" in body["detail"]


def test_a_cancelled_token_is_409(api, pause):
    token = pause()
    engine.cancel(token.execution_id)
    response = api.post(resume_url(token.pk), {"reason": "x"}, format="json")
    assert response.status_code == 409
    assert response.json()["state"] == "CANCELLED"


def test_consumed_is_reported_before_expired(api, pause, run_on_commit, monkeypatch):
    token = pause()
    run_on_commit(engine.resume, token, {"reason": "x"})
    after_deadline(monkeypatch, token)
    response = api.post(resume_url(token.pk), {"reason": "y"}, format="json")
    assert response.status_code == 409


def test_an_execution_with_nothing_to_answer_is_409(
    api, user, make_flow, run_on_commit
):
    flow = make_flow(NO_PAUSE)
    execution = run_on_commit(engine.start_execution, flow, actor=user)
    response = api.post(resume_url(execution.pk), {}, format="json")
    assert response.status_code == 409
    assert response.json()["state"] == "SUCCESS"


# ---------------------------------------------------------------- 410


def test_an_expired_token_is_410_before_the_sweeper_ran(api, pause, monkeypatch):
    token = pause()
    after_deadline(monkeypatch, token)
    response = api.post(resume_url(token.pk), {"reason": "x"}, format="json")
    assert response.status_code == 410
    assert response.json()["expiredAt"] == token.expires_at.isoformat()
    assert "expired" in response.json()["detail"]
    assert waiting(token)  # the sweeper, not the API, applies the behavior


def test_an_expired_token_is_410_after_the_sweeper_ran(api, pause, run_on_commit):
    token = pause()
    assert run_on_commit(engine.expire, token.pk, token.expires_at)
    response = api.post(resume_url(token.pk), {"reason": "x"}, format="json")
    assert response.status_code == 410


def test_expired_is_reported_before_not_allowed(api, user, pause, monkeypatch):
    give_permissions(user, "flows.view_execution")
    token = pause(form_with("assignees: {users: [bob]}"))
    after_deadline(monkeypatch, token)
    response = api.post(resume_url(token.pk), {"reason": "x"}, format="json")
    assert response.status_code == 410


# ---------------------------------------------------------------- 403 not allowed


def test_someone_not_assigned_is_403(api, user, pause):
    give_permissions(user, "flows.view_execution")  # sees it, may not answer it
    token = pause(form_with("assignees: {users: [bob]}"))
    response = api.post(resume_url(token.pk), {"reason": "x"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only bob may answer this."}
    assert waiting(token)


def test_a_member_of_an_assigned_group_may_answer(api, user, pause, post):
    user.groups.add(Group.objects.create(name="finance"))
    token = pause(form_with("assignees: {groups: [finance]}"))
    assert post(api, resume_url(token.pk), {"reason": "x"}).status_code == 202


def test_self_approval_is_403(api, user, pause):
    token = pause(actor=user)
    response = api.post(resume_url(token.pk), {"reason": "x"}, format="json")
    assert response.status_code == 403
    assert "you may not approve it" in response.json()["detail"]
    assert waiting(token)


def test_self_approval_when_the_flow_allows_it(api, user, pause, post):
    token = pause(form_with("allowSelfApproval: true"), actor=user)
    assert post(api, resume_url(token.pk), {"reason": "x"}).status_code == 202


def test_not_allowed_is_reported_before_bad_data(api, user, pause):
    give_permissions(user, "flows.view_execution")
    token = pause(form_with("assignees: {users: [bob]}"))
    response = api.post(resume_url(token.pk), {"budget": "many"}, format="json")
    assert response.status_code == 403


# ---------------------------------------------------------------- 400


def test_bad_data_is_400_naming_each_field(api, pause):
    token = pause()
    data = {"budget": -1, "oops": 1}
    response = api.post(resume_url(token.pk), data, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid response data."
    assert set(body["errors"]) == {"reason", "budget", "oops"}
    assert body["errors"]["reason"] == ["This field is required."]
    assert waiting(token)


def test_a_non_object_body_is_400(api, pause):
    token = pause(FORM)
    response = api.post(resume_url(token.pk), ["fine"], format="json")
    assert response.status_code == 400
    assert "JSON object" in str(response.json()["errors"])
    assert waiting(token)


def test_malformed_json_is_400(api, pause):
    token = pause()
    response = api.post(
        resume_url(token.pk), data="{oops", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert waiting(token)


def test_an_overlong_idempotency_key_is_400(api, pause):
    token = pause()
    response = api.post(
        resume_url(token.pk),
        {"reason": "x"},
        format="json",
        headers={"Idempotency-Key": "k" * 201},
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert waiting(token)


# ---------------------------------------------------------------- idempotency keys


def test_unknown_token_with_a_key_is_still_404(api, post):
    response = post(api, resume_url(uuid.uuid4()), {}, **{"Idempotency-Key": "n"})
    assert response.status_code == 404


def test_a_key_reused_for_another_suspension_is_422(api, pause, post):
    first, second = pause(), pause()
    key = {"Idempotency-Key": "same"}
    assert post(api, resume_url(first.pk), {"reason": "a"}, **key).status_code == 202
    reused = post(api, resume_url(second.pk), {"reason": "b"}, **key)
    assert reused.status_code == 422
    assert reused.json()["tokenId"] == str(first.pk)
    assert "another suspension" in reused.json()["detail"]
    second.refresh_from_db()
    assert second.state == S.WAITING


# ---------------------------------------------------------------- races


def bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.mark.django_db(transaction=True)
def test_concurrent_answers_get_one_202_and_the_rest_409(tenant, pause):
    token = pause()
    keys = [
        ApiToken.issue(UserFactory(username=f"racer{i}", tenants=[tenant]))[1]
        for i in range(8)
    ]

    def answer(i):
        response = bearer(keys[i]).post(
            resume_url(token.pk), {"reason": f"r{i}"}, format="json"
        )
        return response.status_code

    codes = in_threads(8, answer)
    assert sorted(codes) == [202] + [409] * 7
    assert Answer.objects.filter(token=token).count() == 1
    token.refresh_from_db()
    assert token.state == S.RESUMED


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_all_get_the_first_reply(user, pause):
    token = pause()
    _, key = ApiToken.issue(user)

    def retry(i):
        response = bearer(key).post(
            resume_url(token.pk),
            {"reason": "same"},
            format="json",
            headers={"Idempotency-Key": "once"},
        )
        return response.status_code, response.json()

    replies = in_threads(8, retry)
    assert {code for code, _ in replies} == {202}
    assert all(body == replies[0][1] for _, body in replies)
    assert Answer.objects.filter(token=token).count() == 1
    assert IdempotentReply.objects.filter(user=user, key="once").count() == 1
