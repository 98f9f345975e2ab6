"""Bulk answers: the inbox's form and POST /api/suspensions/bulk-resume.

Each item is answered exactly as alone: its own checks, answer and event.
"""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from approvals import answers
from approvals.models import Answer
from flows.models import ExecutionEvent, SuspensionToken
from tests.api_support import client_for, resume_url
from tests.factories import UserFactory

BULK = reverse("approvals:bulk")
BULK_API = "/api/suspensions/bulk-resume"
APPROVAL = "screen: approval\nassignees:\n  users: [bob]"


@pytest.fixture
def approver(tenant):
    return UserFactory(username="bob", tenants=[tenant])


@pytest.fixture
def sam(tenant):
    return UserFactory(username="sam", tenants=[tenant])


@pytest.fixture
def mixed(tenant, pause_token, approver, sam, run_on_commit):
    """Two answerable approvals, then an expired one, an answered one, one for
    someone else (which bob may not even see) and one bob started himself."""
    good = [pause_token(APPROVAL, actor=sam) for _ in range(2)]
    expired = pause_token(APPROVAL, actor=sam)
    SuspensionToken.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    answered = pause_token(APPROVAL, actor=sam)
    run_on_commit(
        answers.answer, approver, answered, {"decision": "Approved"}, channel="api"
    )
    others = pause_token("screen: approval\nassignees:\n  users: [carol]", actor=sam)
    own = pause_token("screen: approval", actor=approver)
    return {
        "good": good,
        "expired": expired,
        "answered": answered,
        "others": others,
        "own": own,
    }


def _answers(token) -> list[Answer]:
    return list(Answer.objects.filter(token=token))


def _resumed_events(token) -> int:
    return ExecutionEvent.objects.filter(
        subject_id=str(token.pk), to_state=SuspensionToken.State.RESUMED
    ).count()


def test_bulk_approve_answers_each_alone_and_says_why_the_others_were_refused(
    client, approver, mixed, run_on_commit
):
    client.force_login(approver)
    order = [
        *mixed["good"],
        mixed["expired"],
        mixed["answered"],
        mixed["others"],
        mixed["own"],
    ]
    data = {
        "action": "approve",
        "comment": "fine",
        "tokens": [str(t.pk) for t in order],
    }
    response = run_on_commit(client.post, BULK, data)
    assert response.status_code == 302 and response.url == BULK
    page = client.get(BULK).content.decode()
    for token in mixed["good"]:
        token.refresh_from_db()
        assert token.state == SuspensionToken.State.RESUMED
        [answer] = _answers(token)
        assert (answer.decision, answer.values["comment"], answer.channel) == (
            "Approved",
            "fine",
            "web",
        )
        assert _resumed_events(token) == 1
    assert "2 answered, 4 refused" in page
    assert page.count("bulk-done") == 2
    assert "Expired: its deadline passed on" in page
    assert "already resumed by bob" in page
    assert "No such suspension or execution." in page  # carol's: not bob's to see
    assert "You started this execution" in page
    assert _answers(mixed["others"]) == [] and _answers(mixed["own"]) == []


def test_resume_is_refused_for_approvals_and_approve_for_forms(
    client, approver, pause_token, sam
):
    approval = pause_token(APPROVAL, actor=sam)
    form = pause_token("onResume:\n  - id: size\n    type: INT", actor=sam)
    client.force_login(approver)
    ids = [str(approval.pk), str(form.pk)]
    client.post(BULK, {"action": "resume", "tokens": ids})
    page = client.get(BULK).content.decode()
    assert "This is an approval: choose Approve or Reject." in page
    assert "needs the field size" in page
    client.post(BULK, {"action": "approve", "tokens": [str(form.pk)]})
    assert "not an approval: use Resume." in client.get(BULK).content.decode()
    assert _answers(approval) == [] and _answers(form) == []


def test_resume_takes_the_defaults_of_a_form_and_acknowledges_a_review(
    client, approver, pause_token, sam, run_on_commit
):
    form = pause_token(
        "onResume:\n  - id: size\n    type: INT\n    defaults: 3", actor=sam
    )
    review = pause_token("screen: review", actor=sam)
    client.force_login(approver)
    data = {
        "action": "resume",
        "comment": "seen",
        "tokens": [str(form.pk), str(review.pk)],
    }
    run_on_commit(client.post, BULK, data)
    assert _answers(form)[0].values == {"size": 3}  # forms have no comment field
    assert _answers(review)[0].values == {"acknowledged": True, "comment": "seen"}


def test_reject_with_a_required_comment_missing_is_refused_per_item(
    client, approver, pause_token, sam
):
    strict = pause_token(APPROVAL + "\ncommentRequired: ALWAYS", actor=sam)
    client.force_login(approver)
    client.post(BULK, {"action": "reject", "tokens": [str(strict.pk)]})
    assert "A comment is required" in client.get(BULK).content.decode()
    assert _answers(strict) == []


def test_bad_bulk_forms_are_400_naming_the_field(client, approver):
    client.force_login(approver)
    bad = client.post(BULK, {"action": "approve", "tokens": ["nope"]})
    assert bad.status_code == 400 and "tokens" in bad.content.decode()
    many = [str(uuid.uuid4()) for _ in range(101)]
    too_many = client.post(BULK, {"action": "approve", "tokens": many})
    assert too_many.status_code == 400 and "At most 100" in too_many.content.decode()
    no_action = client.post(BULK, {"action": "explode", "tokens": [str(uuid.uuid4())]})
    assert no_action.status_code == 400 and "action" in no_action.content.decode()
    nothing = client.post(BULK, {"action": "approve"})
    assert nothing.status_code == 302 and nothing.url == reverse("approvals:inbox")


def test_the_results_page_never_shows_a_request_the_user_may_not_see(
    client, tenant, approver, pause_token, sam
):
    hidden = pause_token(
        "screen: approval\nassignees:\n  users: [carol]\nmessage: Secret merger",
        actor=sam,
    )
    client.force_login(approver)
    client.post(BULK, {"action": "approve", "tokens": [str(hidden.pk)]})
    page = client.get(BULK).content.decode()
    assert "Secret merger" not in page and "No such suspension" in page


# ------------------------------------------------------------------ the API


def test_api_gives_each_id_the_single_resumes_code_and_body(
    approver, mixed, run_on_commit, globex
):
    api = client_for(approver)
    missing = uuid.uuid4()
    order = [
        *mixed["good"],
        mixed["expired"],
        mixed["answered"],
        mixed["others"],
        mixed["own"],
    ]
    ids = [str(t.pk) for t in order] + [str(missing)]
    body = {"tokens": ids, "data": {"decision": "Approved", "comment": "ok"}}
    response = run_on_commit(api.post, BULK_API, body, format="json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["tokenId"] for r in results] == ids
    assert [r["status"] for r in results] == [202, 202, 410, 409, 404, 403, 404]
    assert response.json()["accepted"] == 2 and response.json()["refused"] == 5
    assert results[0]["body"] == {
        "executionId": str(mixed["good"][0].execution_id),
        "status": "Resuming",
    }
    # The same bodies as the single resume now gives for the same ids.
    for result in results[2:]:
        single = api.post(resume_url(result["tokenId"]), body["data"], format="json")
        assert single.status_code == result["status"]
        if result["status"] != 409:  # the first two are consumed now, not these
            assert single.json() == result["body"]
    for token in mixed["good"]:
        assert len(_answers(token)) == 1 and _resumed_events(token) == 1
        assert _answers(token)[0].channel == "api"


def test_api_invalid_data_is_each_items_400(approver, pause_token, sam):
    token = pause_token(APPROVAL, actor=sam)
    api = client_for(approver)
    response = api.post(
        BULK_API,
        {"tokens": [str(token.pk)], "data": {"decision": "Maybe"}},
        format="json",
    )
    [result] = response.json()["results"]
    assert result["status"] == 400 and "decision" in result["body"]["errors"]


def test_api_other_tenants_suspension_is_its_403(approver, pause_token, globex):
    outsider = UserFactory(username="olga", tenants=[globex])
    token = pause_token("", actor=outsider, into=globex)
    response = client_for(approver).post(
        BULK_API, {"tokens": [str(token.pk)], "data": {}}, format="json"
    )
    assert response.json()["results"][0]["status"] == 403
    assert "another tenant" in response.json()["results"][0]["body"]["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tokens": "abc"}, "tokens"),
        ({"tokens": []}, "tokens"),
        ({"tokens": ["not-a-uuid"]}, "tokens"),
        ({"tokens": [str(uuid.uuid4()) for _ in range(101)]}, "tokens"),
        ({"tokens": [str(uuid.uuid4())], "data": [1]}, "data"),
        ({}, "tokens"),
        ([1, 2], "__all__"),
    ],
)
def test_api_bad_bodies_are_400_naming_the_field(approver, body, field):
    response = client_for(approver).post(BULK_API, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_api_idempotency_key_replays_each_accepted_item(
    approver, pause_token, sam, run_on_commit
):
    token = pause_token(APPROVAL, actor=sam)
    api = client_for(approver)
    body = {"tokens": [str(token.pk)], "data": {"decision": "Approved"}}
    first = run_on_commit(
        api.post, BULK_API, body, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    again = api.post(BULK_API, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.json()["results"][0]["status"] == 202
    assert again.json() == first.json()
    other = api.post(BULK_API, body, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert other.json()["results"][0]["status"] == 409
    long_key = api.post(BULK_API, body, format="json", HTTP_IDEMPOTENCY_KEY="x" * 170)
    assert (
        long_key.status_code == 400 and "Idempotency-Key" in long_key.json()["errors"]
    )
    assert len(_answers(token)) == 1


def test_api_needs_credentials(client):
    response = client.post(BULK_API, {"tokens": []}, content_type="application/json")
    assert response.status_code == 401


def test_repeated_ids_are_answered_once(approver, pause_token, sam, run_on_commit):
    token = pause_token(APPROVAL, actor=sam)
    body = {"tokens": [str(token.pk)] * 2, "data": {"decision": "Approved"}}
    response = run_on_commit(client_for(approver).post, BULK_API, body, format="json")
    assert [r["status"] for r in response.json()["results"]] == [202]


def test_a_quorum_item_counts_the_approval_and_says_so(
    client, approver, pause_token, sam, run_on_commit
):
    quorum = pause_token(APPROVAL + "\napprovals: 2", actor=sam)
    client.force_login(approver)
    run_on_commit(client.post, BULK, {"action": "approve", "tokens": [str(quorum.pk)]})
    assert "Your approval is recorded: 1 of 2." in client.get(BULK).content.decode()
    quorum.refresh_from_db()
    assert quorum.state == SuspensionToken.State.WAITING and len(_answers(quorum)) == 1
    assert (
        ExecutionEvent.objects.filter(
            subject_id=str(quorum.pk), from_state="WAITING", to_state="WAITING"
        ).count()
        == 1
    )


def test_a_request_seen_but_not_assigned_is_refused_with_who_may_answer(
    client, tenant, pause_token, sam, run_on_commit
):
    auditor = UserFactory(username="audrey", tenants=[tenant])
    auditor.user_permissions.add(Permission.objects.get(codename="view_execution"))
    theirs = pause_token(APPROVAL, actor=sam)  # assigned to bob only
    open_to_all = pause_token("screen: approval", actor=sam)
    client.force_login(auditor)
    ids = [str(theirs.pk), str(open_to_all.pk)]
    run_on_commit(client.post, BULK, {"action": "approve", "tokens": ids})
    page = client.get(BULK).content.decode()
    assert "Only bob may answer this." in page and "1 answered, 1 refused" in page
    response = client_for(auditor).post(
        BULK_API,
        {"tokens": [str(theirs.pk)], "data": {"decision": "Approved"}},
        format="json",
    )
    assert response.json()["results"][0]["status"] == 403
    assert _answers(theirs) == [] and len(_answers(open_to_all)) == 1
