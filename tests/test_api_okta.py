"""Okta's invoke (waits for the Pause or the end) and resume/{executionId}."""

import time

import pytest

from flows import loader
from flows.models import Execution, SuspensionToken
from tests.api_support import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the advance runs at commit

PAUSED = """
id: onboard
namespace: acme.hr
inputs:
  - id: name
    type: STRING
tasks:
  - id: ask
    type: Pause
    message: "Provision {{ inputs.name }}?"
    onPause:
      id: lookup
      type: Return
      format: "desk for {{ inputs.name }}"
    onResume:
      - id: laptop
        type: STRING
  - id: after
    type: Return
    format: "{{ outputs.ask.onResume.laptop }}"
"""

FINISHED = """
id: quick
namespace: acme.hr
tasks:
  - id: only
    type: Return
    format: done
"""

SLEEPING = """
id: slow
namespace: acme.hr
tasks:
  - id: nap
    type: Sleep
    duration: PT1H
"""


@pytest.fixture
def okta(tenant, user):
    def load(source):
        loader.load_flow(tenant, source)
        return client_for(user)

    return load


def test_invoke_answers_with_the_pause_values_and_the_execution_id(okta):
    api = okta(PAUSED)
    response = api.post(
        "/api/flows/acme.hr/onboard/invoke", {"name": "Jane"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert response["X-Execution-Id"] == body["executionId"]
    assert body["state"] == "PAUSED"
    pause = body["pause"]
    assert pause["message"] == "Provision Jane?"
    assert [field["id"] for field in pause["expected"]] == ["laptop"]
    assert pause["onPause"] == {"lookup": {"value": "desk for Jane"}}
    assert pause["resumeUrl"] == (
        f"/api/flows/acme.hr/onboard/resume/{body['executionId']}"
    )
    assert len(pause["fingerprint"]) == 64


def test_invoke_of_a_flow_that_ends_answers_its_final_state(okta):
    api = okta(FINISHED)
    response = api.post("/api/flows/acme.hr/quick/invoke", {}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "SUCCESS"
    assert response.json()["pause"] is None


def test_invoke_still_running_at_the_bound_is_202_with_its_state(okta):
    api = okta(SLEEPING)
    began = time.monotonic()
    response = api.post("/api/flows/acme.hr/slow/invoke?wait=1", {}, format="json")
    waited = time.monotonic() - began
    assert response.status_code == 202
    assert 1 <= waited < 5
    body = response.json()
    assert body["state"] == "RUNNING" and body["pause"] is None
    assert Execution.objects.get(pk=response["X-Execution-Id"]).state == "RUNNING"


def test_invoke_validates_inputs_and_the_wait_bound(okta):
    api = okta(PAUSED)
    assert (
        api.post("/api/flows/acme.hr/onboard/invoke", {}, format="json").status_code
        == 400
    )
    response = api.post(
        "/api/flows/acme.hr/onboard/invoke?wait=61", {"name": "J"}, format="json"
    )
    assert response.status_code == 400 and "wait" in response.json()["errors"]
    assert not Execution.objects.filter(inputs__name="J").exists()
    missing = api.post("/api/flows/acme.hr/nope/invoke", {}, format="json")
    assert missing.status_code == 404


def test_resume_url_takes_the_output_fields_and_the_flow_goes_on(okta, tenant):
    invoked = (
        okta(PAUSED)
        .post("/api/flows/acme.hr/onboard/invoke", {"name": "Jane"}, format="json")
        .json()
    )
    url = invoked["pause"]["resumeUrl"]
    # The invoker may not approve its own request (self-approval): another does.
    api = client_for(UserFactory(username="bob", tenants=[tenant]))
    refused = api.post(url, {}, format="json")
    assert refused.status_code == 400 and "laptop" in refused.json()["errors"]
    response = api.post(url, {"laptop": "ThinkPad"}, format="json")
    assert response.status_code == 202
    assert response.json()["executionId"] == invoked["executionId"]
    execution = Execution.objects.get(pk=invoked["executionId"])
    assert execution.state == "SUCCESS"
    token = SuspensionToken.objects.get(execution=execution)
    assert token.response == {"laptop": "ThinkPad"}
    assert api.post(url, {"laptop": "again"}, format="json").status_code == 409


def test_resume_of_an_execution_of_another_flow_is_404(okta, tenant):
    api = okta(PAUSED)
    loader.load_flow(tenant, FINISHED)
    invoked = api.post(
        "/api/flows/acme.hr/onboard/invoke", {"name": "Jane"}, format="json"
    ).json()
    url = f"/api/flows/acme.hr/quick/resume/{invoked['executionId']}"
    assert api.post(url, {"laptop": "x"}, format="json").status_code == 404
    assert SuspensionToken.objects.get().state == "WAITING"
