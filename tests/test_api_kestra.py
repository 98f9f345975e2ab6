"""Kestra's POST /api/v1[/{tenant}]/executions/{id}/resume: multipart or JSON, 204."""

from django.core.files.uploadedfile import SimpleUploadedFile

from flows.models import Execution, SuspensionToken
from tests.api_support import runs

S = SuspensionToken.State

WITH_FILE = """
id: invoice
namespace: acme.finance
tasks:
  - id: wait_for_approval
    type: Pause
    onResume:
      - id: approved
        type: BOOLEAN
        defaults: true
      - id: scan
        type: FILE
  - id: after
    type: Return
    format: "{{ outputs.wait_for_approval.onResume.scan }}"
"""


def kestra_url(execution_id, tenant=None) -> str:
    prefix = f"/api/v1/{tenant}" if tenant else "/api/v1"
    return f"{prefix}/executions/{execution_id}/resume"


def test_multipart_resume_with_a_file_input_is_204(
    api, pause, run_on_commit, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    token = pause(WITH_FILE)
    upload = SimpleUploadedFile("scan.pdf", b"%PDF-1.4 invoice")
    response = run_on_commit(
        api.post,
        kestra_url(token.execution_id),
        {"approved": "true", "scan": upload},
        format="multipart",
    )
    assert response.status_code == 204 and response.content == b""
    token.refresh_from_db()
    assert token.state == S.RESUMED and token.channel == "api"
    reference = token.response["scan"]
    assert reference.startswith("storage://inputs/") and reference.endswith("scan.pdf")
    stored = tmp_path / reference.removeprefix("storage://")
    assert stored.read_bytes() == b"%PDF-1.4 invoice"
    assert runs(token.execution_id)["after"].outputs == {"value": reference}
    assert Execution.objects.get(pk=token.execution_id).state == "SUCCESS"


def test_json_resume_under_the_tenant_route_is_204(api, pause, post):
    token = pause(WITH_FILE)
    body = {"approved": False, "scan": "s3://bucket/scan.pdf"}
    response = post(api, kestra_url(token.execution_id, "acme"), body)
    assert response.status_code == 204
    token.refresh_from_db()
    assert token.response == {"approved": False, "scan": "s3://bucket/scan.pdf"}


def test_invalid_inputs_are_422_with_kestras_error_body(api, pause, run_on_commit):
    token = pause(WITH_FILE)
    response = run_on_commit(
        api.post,
        kestra_url(token.execution_id),
        {"approved": "true"},
        format="multipart",
    )
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "Invalid response data."
    assert [error["path"] for error in body["_embedded"]["errors"]] == ["scan"]
    token.refresh_from_db()
    assert token.state == S.WAITING


def test_not_paused_is_409_and_another_tenant_path_404(api, pause, post):
    token = pause(WITH_FILE)
    body = {"scan": "s3://bucket/a.pdf"}
    wrong_tenant = post(api, kestra_url(token.execution_id, "globex"), body)
    assert wrong_tenant.status_code == 404 and "message" in wrong_tenant.json()
    assert post(api, kestra_url(token.execution_id), body).status_code == 204
    again = post(api, kestra_url(token.execution_id), body)
    assert again.status_code == 409
    assert again.json()["state"] == "RESUMED" and "message" in again.json()
