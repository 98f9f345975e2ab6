"""If-Match: an answer applies only to what the approver was shown (412 otherwise)."""

import pytest

from flows.models import SuspensionToken
from tests.api_support import resume_url

S = SuspensionToken.State


def shown_fingerprint(api, token) -> str:
    status = api.get(f"/api/executions/{token.execution_id}/status").json()
    return status["pause"]["fingerprint"]


def change_what_is_shown(token) -> None:
    SuspensionToken.objects.filter(pk=token.pk).update(message="Approve 1,000,000?")


def test_status_and_answer_screen_give_the_same_fingerprint(api, user, client, pause):
    token = pause()
    fingerprint = shown_fingerprint(api, token)
    assert len(fingerprint) == 64
    client.force_login(user)
    page = client.get(f"/approvals/{token.pk}/").content.decode()
    assert f'data-fingerprint="{fingerprint}"' in page
    assert f'name="_fingerprint" value="{fingerprint}"' in page


def test_matching_if_match_is_accepted(api, pause, post):
    token = pause()
    fingerprint = shown_fingerprint(api, token)
    response = post(
        api, resume_url(token.pk), {"reason": "ok"}, **{"If-Match": f'"{fingerprint}"'}
    )
    assert response.status_code == 202
    token.refresh_from_db()
    assert token.state == S.RESUMED


def test_changed_context_is_refused_with_412_and_the_token_still_waits(
    api, pause, post
):
    token = pause()
    seen = shown_fingerprint(api, token)
    change_what_is_shown(token)
    response = post(api, resume_url(token.pk), {"reason": "ok"}, **{"If-Match": seen})
    assert response.status_code == 412
    body = response.json()
    assert "changed" in body["detail"]
    assert body["fingerprint"] == shown_fingerprint(api, token) != seen
    token.refresh_from_db()
    assert token.state == S.WAITING


def test_without_if_match_a_changed_context_is_still_answered(api, pause, post):
    token = pause()
    change_what_is_shown(token)
    assert post(api, resume_url(token.pk), {"reason": "ok"}).status_code == 202


def test_if_match_comes_after_409_and_before_400(api, pause, post):
    token = pause()
    stale = {"If-Match": "0" * 64}
    assert post(api, resume_url(token.pk), {}, **stale).status_code == 412
    assert post(api, resume_url(token.pk), {"reason": "ok"}).status_code == 202
    assert post(api, resume_url(token.pk), {}, **stale).status_code == 409


@pytest.mark.parametrize(
    "url",
    [
        "/api/flow_runs/{execution}/resume",
        "/api/v1/executions/{execution}/resume",
        "/api/v1/acme/executions/{execution}/resume",
        "/api/flows/acme.finance/expense/resume/{execution}",
    ],
)
def test_every_seed_route_refuses_a_stale_fingerprint(api, pause, post, url):
    token = pause()
    seen = shown_fingerprint(api, token)
    change_what_is_shown(token)
    body = {"run_input": {"reason": "ok"}} if "flow_runs" in url else {"reason": "ok"}
    target = url.format(execution=token.execution_id)
    response = post(api, target, body, **{"If-Match": seen})
    assert response.status_code == 412
    token.refresh_from_db()
    assert token.state == S.WAITING


def test_answer_screen_refuses_a_post_of_a_page_whose_content_changed(
    api, user, client, pause, run_on_commit
):
    token = pause()
    seen = shown_fingerprint(api, token)
    change_what_is_shown(token)
    client.force_login(user)
    url = f"/approvals/{token.pk}/"
    stale = client.post(url, {"reason": "ok", "_fingerprint": seen})
    assert stale.status_code == 412
    token.refresh_from_db()
    assert token.state == S.WAITING
    current = shown_fingerprint(api, token)
    fresh = run_on_commit(client.post, url, {"reason": "ok", "_fingerprint": current})
    assert fresh.status_code == 302
    token.refresh_from_db()
    assert token.state == S.RESUMED
