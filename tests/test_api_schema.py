"""The OpenAPI schema and Swagger UI, and that the schema matches the real bodies."""

import uuid

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from approvals import serializers as s
from tests.api_support import client_for, poster, starter

ERRORS = {"400", "401", "403", "404", "409", "410"}


@pytest.fixture
def schema(db):
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_openapi_3_with_the_resume_endpoint_and_its_codes(schema):
    assert schema["openapi"].startswith("3.")
    resume = schema["paths"]["/api/executions/{id}/resume"]["post"]
    assert {"202", *ERRORS} <= set(resume["responses"])
    assert resume["responses"]["202"]["headers"]["Location"]
    errors = {code: resume["responses"][code]["content"] for code in ERRORS}
    assert all("application/json" in content for content in errors.values())
    names = [p["name"] for p in resume["parameters"]]
    assert names == ["Idempotency-Key", "If-Match", "id"]
    assert "412" in resume["responses"]


def test_schema_documents_every_operation_and_its_errors(schema):
    operations = {
        (path, method): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    assert set(operations) == {
        ("/api/executions", "get"),
        ("/api/executions/{id}", "get"),
        ("/api/executions/{id}/status", "get"),
        ("/api/executions/{id}/events", "get"),
        ("/api/executions/{id}/resume", "post"),
        ("/api/executions/{id}/pause", "post"),
        ("/api/executions/{id}/unpause", "post"),
        ("/api/executions/{id}/cancel", "post"),
        ("/api/executions/{id}/withdraw", "post"),
        ("/api/flows/{namespace}/{flow_id}", "get"),
        ("/api/flows/{namespace}/{flow_id}/pause", "post"),
        ("/api/flows/{namespace}/{flow_id}/resume", "post"),
        ("/api/flows/{namespace}/{flow_id}/cancel", "post"),
        ("/api/flows/{namespace}/{flow_id}/executions", "post"),
        ("/api/suspensions", "get"),
        ("/api/suspensions/{id}", "get"),
        ("/api/suspensions/bulk-resume", "post"),
        ("/api/suspensions/{id}/delegate", "post"),
        ("/api/flows/{namespace}/{flow_id}/invoke", "post"),
        ("/api/flows/{namespace}/{flow_id}/resume/{execution_id}", "post"),
        ("/api/flow_runs/{id}/resume", "post"),
        ("/api/v1/executions/{id}/resume", "post"),
        ("/api/v1/{tenant}/executions/{id}/resume", "post"),
        ("/api/approval-requests", "post"),
        ("/api/approval-requests/{token}/complete", "post"),
    }
    signed = operations.pop(("/api/approval-requests/{token}/complete", "post"))
    assert not signed.get("security") and "403" in signed["responses"]  # `sig` only
    for key, operation in operations.items():
        assert "401" in operation["responses"], key
        assert {"bearerAuth": []} in operation["security"], key


def test_schema_documents_the_event_stream_and_the_304(schema):
    events = schema["paths"]["/api/executions/{id}/events"]["get"]
    assert list(events["responses"]["200"]["content"]) == ["text/event-stream"]
    assert {"Last-Event-ID", "id"} == {p["name"] for p in events["parameters"]}
    status = schema["paths"]["/api/executions/{id}/status"]["get"]
    assert "304" in status["responses"]
    assert "If-None-Match" in {p["name"] for p in status["parameters"]}
    assert "ETag" in status["responses"]["304"]["headers"]


def test_schema_has_a_bearer_security_scheme(schema):
    scheme = schema["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {"type": "http", "scheme": "bearer"}


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/executions/{id}/resume" in out.read_text()


def test_swagger_ui_renders_and_loads_the_schema(db):
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    assert "swagger-ui" in response.content.decode()
    # The init script comes from its own URL (no inline script under the CSP).
    assert '<script src="/api/docs/?script="></script>' in response.content.decode()
    script = APIClient().get("/api/docs/?script=")
    assert script["Content-Type"] == "application/javascript"
    assert "/api/schema/" in script.content.decode()


@pytest.fixture
def bodies(user, make_flow, run_on_commit):
    """One real body of each kind, to hold the documented shapes against."""
    api, post = client_for(user), poster(run_on_commit)
    token = starter(make_flow, run_on_commit)()
    execution = f"/api/executions/{token.execution_id}"
    found = {
        "status": api.get(f"{execution}/status").json(),
        "suspensions": api.get("/api/suspensions").json(),
        "suspension": api.get(f"/api/suspensions/{token.pk}").json(),
        "executions": api.get("/api/executions").json(),
        "started": post(api, "/api/flows/acme.finance/expense/executions", {}).json(),
        "invalid": api.post(f"{execution}/resume", {}, format="json").json(),
    }
    found["bulk"] = post(
        api, "/api/suspensions/bulk-resume", {"tokens": [str(uuid.uuid4())]}
    ).json()  # an unknown id: its 404, and the suspension stays waiting
    found["accepted"] = post(api, f"{execution}/resume", {"reason": "ok"}).json()
    found["consumed"] = post(api, f"{execution}/resume", {"reason": "ok"}).json()
    return found


def fields(serializer) -> set[str]:
    return set(serializer().fields)


def test_documented_shapes_match_the_bodies(bodies):
    assert fields(s.ExecutionStatusSerializer) == set(bodies["status"])
    assert fields(s.PauseSerializer) == set(bodies["status"]["pause"])
    assert fields(s.PauseRecordSerializer) == set(bodies["status"]["pauses"][0])
    expected = bodies["status"]["pause"]["expected"][0]
    assert fields(s.FieldSchemaSerializer) == set(expected)
    assert fields(s.TaskRunSerializer) == set(bodies["status"]["taskRuns"][0])
    assert fields(s.SuspensionPageSerializer) == set(bodies["suspensions"])
    assert fields(s.SuspensionSerializer) == set(bodies["suspensions"]["results"][0])
    assert fields(s.SuspensionDetailSerializer) == set(bodies["suspension"])
    assert fields(s.ExecutionSummarySerializer) == set(
        bodies["executions"]["results"][0]
    )
    assert fields(s.StartedSerializer) == set(bodies["started"])
    assert fields(s.InvalidDataSerializer) == set(bodies["invalid"])
    assert fields(s.BulkResultSerializer) == set(bodies["bulk"])
    assert fields(s.BulkItemSerializer) == set(bodies["bulk"]["results"][0])
    assert fields(s.ResumeAcceptedSerializer) >= set(bodies["accepted"])
    optional = {"waiting"}  # only when several pauses wait (test_api_several_pauses)
    assert fields(s.ConsumedSerializer) - optional == set(bodies["consumed"])


def test_schema_documents_delegation_and_withdrawal_with_their_codes(schema):
    delegate = schema["paths"]["/api/suspensions/{id}/delegate"]["post"]
    assert set(delegate["responses"]) == {"200", *ERRORS}
    body = delegate["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/Delegate")
    withdraw = schema["paths"]["/api/executions/{id}/withdraw"]["post"]
    assert set(withdraw["responses"]) == {"202", *ERRORS - {"410"}}


def test_documented_hand_over_shapes_match_the_bodies(leave, people, post):
    token = leave()
    handed = post(
        client_for(people["ann"]),
        f"/api/suspensions/{token.pk}/delegate",
        {"to": "bob"},
    ).json()
    assert fields(s.DelegatedSerializer) == set(handed)
    withdrawn = post(
        client_for(people["emp"]), f"/api/executions/{token.execution_id}/withdraw", {}
    ).json()
    assert fields(s.WithdrawnSerializer) == set(withdrawn)
