"""SECRET inputs and answers: encrypted at rest, ****** everywhere, clear to tasks."""

import os
import stat

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from approvals import answers, context
from approvals.models import Answer
from flows import engine, secrets
from flows.models import Execution, ExecutionEvent, SuspensionToken, TaskRun
from tests.api_support import client_for, resume_url, runs
from tests.factories import UserFactory

PASSWORD, PIN = "hunter2", "s3cr3t-pin"
START = "/api/flows/acme.vault/login/executions"
FLOW = """
id: login
namespace: acme.vault
inputs:
  - id: user
    type: STRING
  - id: password
    type: SECRET
tasks:
  - id: echo
    type: Return
    format: "{{ inputs.password }}"
  - id: say
    type: Log
    message: "logging in {{ inputs.user }} with {{ inputs.password }}"
  - id: oops
    type: Fail
    allowFailure: true
    errorMessage: "refused {{ inputs.password }}"
  - id: ask
    type: Pause
    allowSelfApproval: true
    message: "Is {{ inputs.password }} right for {{ inputs.user }}?"
    onResume:
      - id: pin
        type: SECRET
      - id: note
        type: STRING
        required: false
  - id: use
    type: Return
    format: "{{ outputs.ask.onResume.pin }}/{{ outputs.echo.value }}"
"""


@pytest.fixture
def staff(tenant):
    return UserFactory(
        username="root", is_staff=True, is_superuser=True, tenants=[tenant]
    )


@pytest.fixture
def started(make_flow, staff, post):
    """The login flow started through the API, waiting at `ask`."""
    make_flow(FLOW)
    response = post(
        client_for(staff), START, {"inputs": {"user": "ada", "password": PASSWORD}}
    )
    assert response.status_code == 201, response.content
    return Execution.objects.get(pk=response.json()["executionId"])


@pytest.fixture
def answered(started, staff, post):
    """`started`, answered through the API with a SECRET pin; returns the reply."""
    token = SuspensionToken.objects.get(execution=started)
    key = {"Idempotency-Key": "answer-1"}
    reply = post(client_for(staff), resume_url(token.pk), {"pin": PIN}, **key)
    assert reply.status_code == 202, reply.content
    return reply


def everything_stored() -> str:
    """Every row of every Signoff table, as the database holds it."""
    tables = [
        model._meta.db_table
        for label in ("flows", "approvals")
        for model in apps.get_app_config(label).get_models()
    ]
    with connection.cursor() as cursor:
        rows = []
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows.extend(map(str, cursor.fetchall()))
    return "\n".join(rows)


def test_stored_rows_hold_no_plaintext_but_sealed_values(answered, started):
    stored = everything_stored()
    assert PASSWORD not in stored and PIN not in stored
    with connection.cursor() as cursor:
        cursor.execute("SELECT inputs FROM flows_execution")
        (raw,) = cursor.fetchone()
    assert '"$secret"' in str(raw) and '"ada"' in str(raw)
    started.refresh_from_db()
    assert secrets.reveal(started.inputs) == {"user": "ada", "password": PASSWORD}
    token = SuspensionToken.objects.get(execution=started)
    assert secrets.is_sealed(token.response["pin"])
    assert secrets.reveal(Answer.objects.get().values)["pin"] == PIN


def test_tasks_read_the_real_values_and_their_own_output_is_sealed(answered, started):
    task_runs = runs(started.pk)
    echo, use = task_runs["echo"].outputs["value"], task_runs["use"].outputs["value"]
    assert secrets.is_sealed(echo) and secrets.is_sealed(use)
    assert secrets.reveal(use) == f"{PIN}/{PASSWORD}"  # read through expressions
    assert task_runs["say"].logs[0]["message"] == "logging in ada with ******"
    assert task_runs["oops"].error == "refused ******"
    token = SuspensionToken.objects.get(execution=started)
    assert token.message == "Is ****** right for ada?"
    started.refresh_from_db()
    assert started.state == Execution.State.WARNING  # `oops` was allowed to fail


def test_events_and_answer_snapshots_hold_the_masked_form(answered, started):
    created = ExecutionEvent.objects.get(execution=started, to_state="CREATED")
    assert created.data["inputs"] == {"user": "ada", "password": secrets.MASK}
    resumed = ExecutionEvent.objects.get(execution=started, to_state="RESUMED")
    assert resumed.data["response"]["pin"] == secrets.MASK
    answer = Answer.objects.get()
    assert answer.shown_context["inputs"]["password"] == secrets.MASK
    # An API answer without If-Match keeps the suspension's own context; the
    # whole one, earlier outputs included, is masked the same way.
    assert "outputs" not in answer.shown_context
    token = SuspensionToken.objects.get(execution=started)
    shown = context.approval_context(token)
    assert shown["outputs"]["echo"] == {"value": secrets.MASK}
    assert answer.shown_hash == context.fingerprint(answer.shown_context)


def bodies(client, urls) -> dict[str, str]:
    fetched = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        fetched[url] = response.content.decode()
    return fetched


def assert_masked(fetched: dict[str, str], *, shown: list[str]) -> None:
    for url, body in fetched.items():
        assert PASSWORD not in body and PIN not in body, url
        assert "gAAAAA" not in body, url  # no Fernet token either
    for url in shown:
        assert secrets.MASK in fetched[url], url


def test_every_page_and_api_body_shows_stars_while_waiting(started, staff, client):
    token = SuspensionToken.objects.get(execution=started)
    client.force_login(staff)
    answer_page = reverse("approvals:answer", args=[token.pk])
    status = f"/api/executions/{started.pk}/status"
    suspension = f"/api/suspensions/{token.pk}"
    pages = [answer_page, reverse("approvals:inbox"), reverse("approvals:executions")]
    fetched = bodies(client, pages)
    api = [status, f"/api/executions/{started.pk}", "/api/suspensions", suspension]
    fetched.update(bodies(client_for(staff), api))
    assert_masked(fetched, shown=[answer_page, status])
    assert "ada" in fetched[answer_page]  # only the secret is hidden


def test_every_page_api_body_and_admin_view_shows_stars_once_answered(
    answered, started, staff, client, post
):
    token = SuspensionToken.objects.get(execution=started)
    events = ExecutionEvent.objects.filter(execution=started)
    page = reverse("approvals:execution", args=[started.pk])
    admin = [
        reverse("admin:flows_execution_change", args=[started.pk]),
        reverse("admin:flows_suspensiontoken_change", args=[token.pk]),
        reverse("admin:flows_executionevent_changelist"),
        *(reverse("admin:flows_executionevent_change", args=[e.pk]) for e in events),
    ]
    client.force_login(staff)
    fetched = bodies(client, [page, reverse("approvals:inbox"), *admin])
    status = f"/api/executions/{started.pk}/status"
    api = client_for(staff)
    fetched.update(bodies(api, [status, f"/api/executions/{started.pk}"]))
    fetched.update(bodies(api, ["/api/executions?limit=5"]))
    replayed = post(
        api, resume_url(token.pk), {"pin": PIN}, **{"Idempotency-Key": "answer-1"}
    )
    assert replayed.headers["Idempotent-Replayed"] == "true"
    fetched["replay"] = replayed.content.decode() + answered.content.decode()
    assert_masked(fetched, shown=[page, status, admin[0], admin[1]])
    assert fetched[page].count(secrets.MASK) >= 6  # inputs, outputs, logs, response


def test_a_secret_default_is_not_in_the_api_and_a_timeout_seals_it(
    make_flow, run_on_commit, api
):
    flow = make_flow(
        """
        id: late
        namespace: acme.vault
        tasks:
          - id: ask
            type: Pause
            pauseDuration: PT1M
            onResume: [{id: pin, type: SECRET, defaults: "0000-default"}]
          - id: use
            type: Return
            format: "{{ outputs.ask.onResume.pin }}"
        """
    )
    execution = run_on_commit(engine.start_execution, flow, {})
    token = SuspensionToken.objects.get(execution=execution)
    body = api.get(f"/api/suspensions/{token.pk}").content.decode()
    assert "0000-default" not in body and secrets.MASK in body
    run_on_commit(engine.expire, token.pk, token.expires_at)
    use = TaskRun.objects.get(execution=execution, task_id="use")
    assert "0000-default" not in str(runs(execution.pk)["ask"].outputs)
    assert secrets.reveal(use.outputs["value"]) == "0000-default"


def test_a_quorum_answer_is_stored_sealed_before_the_quorum(pause_token, tenant):
    token = pause_token(
        """
        approvals: 2
        allowSelfApproval: true
        onResume: [{id: pin, type: SECRET}]
        """
    )
    bob = UserFactory(username="bob", tenants=[tenant])
    outcome = answers.answer(bob, token, {"pin": PIN}, channel="api")
    assert not outcome.resumed
    assert PIN not in str(Answer.objects.values_list("values", flat=True).get())


def test_rotation_first_key_encrypts_every_listed_key_decrypts(
    settings, make_flow, run_on_commit
):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SIGNOFF_ENCRYPTION_KEY = old
    flow = make_flow(FLOW)
    inputs = {"user": "ada", "password": PASSWORD}
    execution = run_on_commit(engine.start_execution, flow, inputs)
    settings.SIGNOFF_ENCRYPTION_KEY = f"{new}, {old}"
    token = SuspensionToken.objects.get(execution=execution)
    run_on_commit(engine.resume, token, {"pin": PIN})
    use = runs(execution.pk)["use"].outputs["value"]
    assert secrets.reveal(use) == f"{PIN}/{PASSWORD}"  # the old input still reads
    token.refresh_from_db()
    Fernet(new).decrypt(token.response["pin"][secrets.MARK])  # the new key wrote it
    settings.SIGNOFF_ENCRYPTION_KEY = new  # the old key dropped too soon
    execution.refresh_from_db()
    assert isinstance(secrets.reveal(execution.inputs)["password"], secrets.Unreadable)


def test_a_secret_the_key_cannot_read_fails_the_task_that_uses_it(
    settings, make_flow, run_on_commit
):
    flow = make_flow(FLOW)
    inputs = {"user": "ada", "password": PASSWORD}
    settings.SIGNOFF_ENCRYPTION_KEY = Fernet.generate_key().decode()
    execution = run_on_commit(engine.start_execution, flow, inputs)
    settings.SIGNOFF_ENCRYPTION_KEY = Fernet.generate_key().decode()
    token = SuspensionToken.objects.get(execution=execution)
    run_on_commit(engine.resume, token, {"pin": PIN})
    use = runs(execution.pk)["use"]
    assert use.state == TaskRun.State.FAILED
    assert "SIGNOFF_ENCRYPTION_KEY" in use.error


def test_without_a_key_a_flow_with_a_secret_is_refused_saying_what_to_set(
    settings, make_flow, api, client, user
):
    settings.SIGNOFF_ENCRYPTION_KEY, settings.DEBUG = "", False
    make_flow(FLOW)
    body = {"inputs": {"user": "a", "password": PASSWORD}}
    response = api.post(START, body, format="json")
    assert response.status_code == 400
    (message,) = response.json()["errors"]["password"]
    assert "set SIGNOFF_ENCRYPTION_KEY" in message
    client.force_login(user)
    page = client.post(
        reverse("approvals:start", args=["acme.vault", "login"]),
        {"user": "a", "password": PASSWORD},
    )
    assert "set SIGNOFF_ENCRYPTION_KEY" in page.content.decode()
    assert not Execution.objects.exists()


def test_without_a_key_an_onresume_secret_is_refused_at_start_others_run(
    settings, make_flow, run_on_commit
):
    settings.SIGNOFF_ENCRYPTION_KEY, settings.DEBUG = "", False
    asks = make_flow(
        "id: asks\nnamespace: acme.vault\ntasks:\n  - id: ask\n    type: Pause\n"
        "    onResume: [{id: pin, type: SECRET}]\n"
    )
    with pytest.raises(secrets.KeyMissing) as refused:
        engine.start_execution(asks, {})
    (message,) = refused.value.errors["pin"]
    assert "set SIGNOFF_ENCRYPTION_KEY" in message
    plain = make_flow(
        "id: plain\nnamespace: acme.vault\n"
        "tasks:\n  - {id: r, type: Return, format: ok}\n"
    )
    assert run_on_commit(engine.start_execution, plain, {}).pk


def test_with_debug_and_no_key_a_development_key_is_used(
    settings, make_flow, run_on_commit
):
    settings.SIGNOFF_ENCRYPTION_KEY, settings.DEBUG = "", True
    execution = run_on_commit(
        engine.start_execution, make_flow(FLOW), {"user": "a", "password": PASSWORD}
    )
    execution.refresh_from_db()
    assert PASSWORD not in str(execution.inputs)
    assert secrets.reveal(execution.inputs)["password"] == PASSWORD


def test_a_malformed_key_stops_startup_without_showing_it(settings):
    settings.SIGNOFF_ENCRYPTION_KEY = f"{Fernet.generate_key().decode()},not-a-key"
    (error,) = secrets.check_key_setting()
    assert error.id == "signoff.E010" and "key 2 of 2" in error.msg
    assert "not-a-key" not in error.msg + error.hint
    settings.SIGNOFF_ENCRYPTION_KEY = ""
    assert secrets.check_key_setting() == []
    assert [w.id for w in secrets.check_key_deployed()] == ["signoff.W010"]


@pytest.mark.django_db
def test_demo_writes_its_key_once_private_and_never_prints_it(
    settings, tmp_path, monkeypatch, capsys
):
    settings.SIGNOFF_ENCRYPTION_KEY, settings.VAR_DIR = "", tmp_path
    monkeypatch.delenv("SIGNOFF_ENCRYPTION_KEY")
    call_command("demo", "--no-serve", "--password", "pw-demo-1234")
    key_file = tmp_path / "encryption.key"
    key = key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (
        os.environ["SIGNOFF_ENCRYPTION_KEY"] == key == settings.SIGNOFF_ENCRYPTION_KEY
    )
    Fernet(key)  # a valid key
    settings.SIGNOFF_ENCRYPTION_KEY = ""
    call_command("demo", "--no-serve", "--password", "pw-demo-1234")
    assert key_file.read_text().strip() == key  # made once
    printed = capsys.readouterr()
    assert key not in printed.out + printed.err
    assert str(key_file) in printed.out


def test_a_sealed_looking_value_from_outside_is_refused(make_flow, api):
    make_flow(FLOW.replace("    type: STRING\n", "    type: JSON\n", 1))
    forged = {"user": {"a": {"$secret": "gAAAAA-copied"}}, "password": PASSWORD}
    response = api.post(START, {"inputs": forged}, format="json")
    assert response.status_code == 400
    assert "reserved" in response.json()["errors"]["user"][0]
    assert not Execution.objects.exists()
