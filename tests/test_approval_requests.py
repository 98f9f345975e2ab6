"""POST /api/approval-requests: the one-Pause execution, the signed completion URL,
and the signed, retried callbacks on answer, expiry and cancel."""

import hashlib
import hmac
import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from flows import engine, sweeper
from flows.models import ApprovalRequest, CallbackDelivery, SuspensionToken
from tests.factories import UserFactory
from tests.receivers import Receiver

S = SuspensionToken.State
URL = "/api/approval-requests"


@pytest.fixture
def receiver(settings):
    settings.SIGNOFF_OUTBOUND_ALLOW = ["127.0.0.1"]
    made = []

    def start(statuses=()):
        made.append(Receiver(statuses))
        return made[-1]

    yield start
    for server in made:
        server.close()


@pytest.fixture
def ask(api, run_on_commit):
    """POST an approval request (approval screen, PT4H unless told); its reply."""

    def ask(**fields):
        body = {"message": "Deploy v2.3?", "screen": "approval", "deadline": "PT4H"}
        body.update(fields)
        return run_on_commit(api.post, URL, body, format="json")

    return ask


def complete(run_on_commit, reply, data, sig=None):
    url = reply.data["completeUrl"]
    if sig is not None:
        url = url.split("?sig=")[0] + f"?sig={sig}"
    parts = urlsplit(url)
    return run_on_commit(
        APIClient().post, f"{parts.path}?{parts.query}", data, format="json"
    )


def sweep(run_on_commit):
    return run_on_commit(sweeper.sweep_once)


def verify(headers: dict, body: bytes, secret: str) -> bool:
    fields = dict(
        part.split("=", 1) for part in headers["Signoff-Signature"].split(",")
    )
    signed = f"{fields['t']}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


def test_a_request_waits_on_its_screen_for_its_assignees(ask, tenant, settings):
    settings.SIGNOFF_BASE_URL = "https://signoff.example.com/"
    reply = ask(assignees={"users": ["bob"], "groups": ["ops"]})
    assert reply.status_code == 201, reply.data
    token = SuspensionToken.objects.get(pk=reply.data["tokenId"])
    assert token.state == S.WAITING
    assert token.screen == "approval"
    assert token.message == "Deploy v2.3?"
    assert token.assignees == {"users": ["bob"], "groups": ["ops"]}
    assert token.assignee_rows.count() == 2
    assert token.tenant == tenant
    left = token.expires_at - timezone.now()
    assert timedelta(hours=3, minutes=59) < left <= timedelta(hours=4)
    screen = f"https://signoff.example.com/approvals/{token.pk}/"
    assert reply.data["screenUrl"] == screen
    complete_at = f"https://signoff.example.com/api/approval-requests/{token.pk}/"
    assert reply.data["completeUrl"].startswith(f"{complete_at}complete?sig=")
    assert reply.data["callbackSecret"] is None
    flow = token.execution.flow
    assert (flow.namespace, flow.flow_id) == ("signoff.system", "approval-request")


def test_same_shape_reuses_the_revision_and_another_makes_one(ask):
    first = ask()
    again = ask(message="Another text, same shape")
    form = ask(screen="form", inputs=[{"id": "reason", "type": "STRING"}])
    revisions = [
        SuspensionToken.objects.get(pk=r.data["tokenId"]).execution.revision
        for r in (first, again, form)
    ]
    assert revisions[0] == revisions[1]
    assert revisions[2].revision == revisions[0].revision + 1
    assert revisions[2].definition["tasks"][0]["onResume"][0]["id"] == "reason"


def test_a_message_is_shown_as_written_not_rendered(ask):
    reply = ask(message="Total: {{ 1 + 1 }}")
    token = SuspensionToken.objects.get(pk=reply.data["tokenId"])
    assert token.message == "Total: {{ 1 + 1 }}"


def test_the_signed_url_completes_once_then_409(ask, run_on_commit):
    reply = ask()
    done = complete(run_on_commit, reply, {"decision": "Approved", "comment": "ok"})
    assert done.status_code == 202, done.data
    token = SuspensionToken.objects.get(pk=reply.data["tokenId"])
    assert token.state == S.RESUMED
    assert token.channel == "signed-url"
    assert token.response["decision"] == "Approved"
    token.execution.refresh_from_db()
    assert token.execution.state == "SUCCESS"
    again = complete(run_on_commit, reply, {"decision": "Approved"})
    assert again.status_code == 409
    assert again.data["state"] == S.RESUMED


def test_a_wrong_signature_is_403(ask, run_on_commit):
    reply = ask()
    refused = complete(run_on_commit, reply, {"decision": "Approved"}, sig="0" * 64)
    assert refused.status_code == 403
    none = complete(run_on_commit, reply, {"decision": "Approved"}, sig="")
    assert none.status_code == 403
    token = SuspensionToken.objects.get(pk=reply.data["tokenId"])
    assert token.state == S.WAITING


def test_completion_validates_like_the_resume(ask, run_on_commit):
    reply = ask(screen="form", inputs=[{"id": "budget", "type": "INT", "min": 0}])
    bad = complete(run_on_commit, reply, {"budget": -3})
    assert bad.status_code == 400
    assert "budget" in bad.data["errors"]
    good = complete(run_on_commit, reply, {"budget": 7})
    assert good.status_code == 202
    token = SuspensionToken.objects.get(pk=reply.data["tokenId"])
    assert token.response == {"budget": 7}


def test_completion_after_the_deadline_is_410(ask, run_on_commit, clock):
    reply = ask(deadline="PT1M")
    clock.move(minutes=2)
    late = complete(run_on_commit, reply, {"decision": "Approved"})
    assert late.status_code == 410


def test_a_date_time_deadline_is_absolute(ask):
    at = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    reply = ask(deadline=at.isoformat())
    assert reply.status_code == 201, reply.data
    token = SuspensionToken.objects.get(pk=reply.data["tokenId"])
    assert abs(token.expires_at - at) < timedelta(seconds=5)


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"deadline": "soon"}, "deadline"),
        ({"deadline": "2000-01-01T00:00:00Z"}, "deadline"),
        ({"screen": "dance"}, "screen"),
        ({"inputs": [{"id": "x", "type": "NOPE"}]}, "inputs"),
        ({"assignees": ["ops"]}, "assignees"),
        ({"assignees": {"users": ["{{ inputs.message }}"]}}, "assignees"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_request_is_400_naming_the_field(ask, fields, field):
    reply = ask(**fields)
    assert reply.status_code == 400
    assert field in reply.data["errors"], reply.data
    assert not ApprovalRequest.objects.exists()


def test_a_callback_url_outside_the_allow_list_is_refused(ask, settings):
    settings.SIGNOFF_OUTBOUND_ALLOW = []
    reply = ask(callbackUrl="http://127.0.0.1:9/hooks")
    assert reply.status_code == 400
    assert "SIGNOFF_OUTBOUND_ALLOW" in reply.data["errors"]["callbackUrl"][0]


def test_no_bearer_no_request(run_on_commit):
    reply = APIClient().post(URL, {"screen": "approval", "deadline": "PT1H"})
    assert reply.status_code == 401


def test_the_answer_is_called_back_signed(ask, receiver, run_on_commit):
    server = receiver()
    reply = ask(callbackUrl=server.url)
    assert reply.data["callbackSecret"].startswith("whsec_")
    assert sweep(run_on_commit)["callbacks"] == 0  # still waiting: nothing to say
    complete(run_on_commit, reply, {"decision": "Rejected", "comment": "not now"})
    assert sweep(run_on_commit)["callbacks"] == 1
    [(headers, body)] = server.received
    assert verify(headers, body, reply.data["callbackSecret"])
    assert not verify(headers, body, "whsec_other")
    sent = json.loads(body)
    assert sent["tokenId"] == reply.data["tokenId"]
    assert sent["executionId"] == reply.data["executionId"]
    assert sent["state"] == "RESUMED"
    assert sent["decision"] == "Rejected"
    assert sent["values"] == {"comment": "not now"}
    assert sent["at"]
    assert headers["Idempotency-Key"] == f"approval-request/{reply.data['requestId']}"
    request = ApprovalRequest.objects.get(pk=reply.data["requestId"])
    assert request.callback == ApprovalRequest.Callback.DELIVERED
    assert sweep(run_on_commit)["callbacks"] == 0  # delivered once, not again


def test_a_failing_callback_is_retried_with_the_same_key(
    ask, receiver, run_on_commit, clock, settings
):
    settings.SIGNOFF_CALLBACK_FIRST_DELAY = 10
    server = receiver(statuses=[500, 503])
    reply = ask(callbackUrl=server.url)
    complete(run_on_commit, reply, {"decision": "Approved"})
    sweep(run_on_commit)
    assert sweep(run_on_commit)["callbacks"] == 0  # not due before its backoff
    clock.move(seconds=11)
    sweep(run_on_commit)
    clock.move(seconds=19)
    assert sweep(run_on_commit)["callbacks"] == 0  # the second wait is 20 s
    clock.move(seconds=2)
    sweep(run_on_commit)
    assert len(server.received) == 3
    keys = {headers["Idempotency-Key"] for headers, _ in server.received}
    assert keys == {f"approval-request/{reply.data['requestId']}"}
    bodies = {body for _, body in server.received}
    assert len(bodies) == 1  # the same outcome each time
    deliveries = list(
        CallbackDelivery.objects.filter(request_id=reply.data["requestId"])
    )
    assert [d.status_code for d in deliveries] == [500, 503, 200]
    assert [d.attempt for d in deliveries] == [1, 2, 3]
    assert deliveries[0].next_try_at == deliveries[0].at + timedelta(seconds=10)
    assert deliveries[1].next_try_at == deliveries[1].at + timedelta(seconds=20)
    assert deliveries[2].next_try_at is None


def test_retries_stop_after_the_window(ask, receiver, run_on_commit, clock, settings):
    settings.SIGNOFF_CALLBACK_FIRST_DELAY = 10
    settings.SIGNOFF_CALLBACK_RETRY_SECONDS = 25
    server = receiver(statuses=[500] * 5)
    reply = ask(callbackUrl=server.url)
    complete(run_on_commit, reply, {"decision": "Approved"})
    for _ in range(5):
        sweep(run_on_commit)
        clock.move(seconds=60)
    assert len(server.received) == 2  # 0 s and 10 s; the next (30 s) is past 25 s
    request = ApprovalRequest.objects.get(pk=reply.data["requestId"])
    assert request.callback == ApprovalRequest.Callback.GAVE_UP


def test_a_callback_refused_at_send_time_gives_up(
    ask, receiver, run_on_commit, settings
):
    server = receiver()
    reply = ask(callbackUrl=server.url)
    complete(run_on_commit, reply, {"decision": "Approved"})
    settings.SIGNOFF_OUTBOUND_ALLOW = []  # the allow-list changed since creation
    sweep(run_on_commit)
    assert server.received == []
    [delivery] = CallbackDelivery.objects.all()
    assert "SIGNOFF_OUTBOUND_ALLOW" in delivery.error
    request = ApprovalRequest.objects.get(pk=reply.data["requestId"])
    assert request.callback == ApprovalRequest.Callback.GAVE_UP


def test_expiry_calls_back(ask, receiver, run_on_commit, clock):
    server = receiver()
    reply = ask(callbackUrl=server.url, deadline="PT1M")
    clock.move(minutes=2)
    result = sweep(run_on_commit)
    assert result["expired"] == 1 and result["callbacks"] == 1
    [(headers, body)] = server.received
    assert verify(headers, body, reply.data["callbackSecret"])
    sent = json.loads(body)
    assert sent["state"] == "EXPIRED"
    assert sent["by"] == "system"


def test_cancel_calls_back(ask, receiver, run_on_commit, user):
    server = receiver()
    reply = ask(callbackUrl=server.url)
    run_on_commit(engine.cancel, reply.data["executionId"], actor=user)
    sweep(run_on_commit)
    [(headers, body)] = server.received
    sent = json.loads(body)
    assert sent["state"] == "CANCELLED"
    assert sent["by"] == user.username


def test_deliveries_show_on_the_execution_page(
    ask, receiver, run_on_commit, client, user
):
    server = receiver(statuses=[500])
    reply = ask(callbackUrl=server.url)
    complete(run_on_commit, reply, {"decision": "Approved"})
    sweep(run_on_commit)
    client.force_login(user)
    page = client.get(f"/executions/{reply.data['executionId']}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Callback deliveries" in text
    assert "500" in text


def test_a_user_in_two_tenants_picks_one(api, user, globex, ask):
    user.tenants.add(globex)
    assert ask().status_code == 400
    reply = api.post(
        f"{URL}?tenant=globex",
        {"screen": "review", "deadline": "PT1H"},
        format="json",
    )
    assert reply.status_code == 201, reply.data
    token = SuspensionToken.objects.get(pk=reply.data["tokenId"])
    assert token.tenant == globex


def test_another_tenants_member_cannot_see_the_request(ask, globex):
    reply = ask()
    outsider = UserFactory(username="eve", tenants=[globex])
    from tests.api_support import client_for

    seen = client_for(outsider).get(f"/api/suspensions/{reply.data['tokenId']}")
    assert seen.status_code in (403, 404)


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"callbackUrl": "http://example.com:99999/x"}, "callbackUrl"),
        ({"callbackUrl": "ftp://example.com/x"}, "callbackUrl"),
    ],
)
def test_unstorable_text_and_unusable_urls_are_400(ask, fields, field):
    reply = ask(**fields)
    assert reply.status_code == 400
    assert field in reply.data["errors"], reply.data


def test_a_lone_surrogate_in_the_message_is_400(api):
    body = '{"screen": "review", "deadline": "PT1H", "message": "bad \\ud800"}'
    reply = api.post(URL, body, content_type="application/json")
    assert reply.status_code == 400
    assert "message" in reply.json()["errors"]


def test_a_secret_answer_is_masked_in_the_callback(ask, receiver, run_on_commit):
    server = receiver()
    reply = ask(
        callbackUrl=server.url,
        screen="form",
        inputs=[{"id": "pin", "type": "SECRET"}, {"id": "note", "type": "STRING"}],
    )
    complete(run_on_commit, reply, {"pin": "s3cret-pin", "note": "hi"})
    sweep(run_on_commit)
    [(_, body)] = server.received
    assert b"s3cret-pin" not in body
    assert json.loads(body)["values"] == {"pin": "******", "note": "hi"}


def test_an_unknown_token_is_404(db):
    reply = APIClient().post(
        f"/api/approval-requests/{SuspensionToken().pk}/complete?sig=x", {}
    )
    assert reply.status_code == 404


def test_the_system_flow_is_hidden_and_not_started_by_hand(ask, api, client, user):
    ask()
    client.force_login(user)
    assert "approval-request" not in client.get("/flows/").content.decode()
    started = api.post(
        "/api/flows/signoff.system/approval-request/executions",
        {"inputs": {"deadline": "PT1H"}},
        format="json",
    )
    assert started.status_code == 404
    assert ApprovalRequest.objects.count() == 1


def test_the_admin_shows_a_request_and_its_deliveries_read_only(
    ask, receiver, run_on_commit, client, tenant
):
    server = receiver(statuses=[502])
    reply = ask(callbackUrl=server.url)
    complete(run_on_commit, reply, {"decision": "Approved"})
    sweep(run_on_commit)
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    url = f"/admin/flows/approvalrequest/{reply.data['requestId']}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert "502" in page.content.decode()
    assert client.post(url, {}).status_code == 403  # read-only
