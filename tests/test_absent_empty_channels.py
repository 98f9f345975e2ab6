"""Absent, empty and defaulted inputs through the API and the web forms, per type.

API: a key left out takes its default; `""` or null is empty, refused when required.
Web: the form as shown (pre-filled with the default) carries the default; a field
the person cleared is empty. SECRET and FILE boxes are never pre-filled, so left
empty they keep the default. Flows and cases come from tests/input_cases.py.
"""

import pytest
from django.urls import reverse

from flows import secrets
from flows.models import Execution, SuspensionToken
from tests.api_support import resume_url
from tests.input_cases import (
    EACH_TYPE,
    REFUSED,
    as_submitted,
    on_resume,
    start_flow,
)

START_API = "/api/flows/acme.empty/absent/executions"
START_PAGE = reverse("approvals:start", args=["acme.empty", "absent"])
REQUIRED = pytest.mark.parametrize(
    "required", [True, False], ids=["required", "optional"]
)


def started_inputs(response) -> dict:
    """The stored inputs, in clear (a SECRET one is stored sealed)."""
    assert response.status_code in (201, 302), response.content
    return secrets.reveal(Execution.objects.get().inputs)


def answered(token) -> dict:
    """The stored answer, in clear."""
    token.refresh_from_db()
    assert token.state == SuspensionToken.State.RESUMED
    return secrets.reveal(token.response)


# -- API: start -----------------------------------------------------------------


@EACH_TYPE
@REQUIRED
def test_api_start_without_the_key_takes_the_default(case, required, api, make_flow):
    make_flow(start_flow(case, required=required))
    response = api.post(START_API, {"inputs": {}}, format="json")
    assert started_inputs(response) == {"x": case.stored}


@EACH_TYPE
def test_api_start_refuses_a_blank_or_null_required_input_with_a_default(
    case, api, make_flow
):
    make_flow(start_flow(case))
    for empty in ("", None):
        response = api.post(START_API, {"inputs": {"x": empty}}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"] == {"x": [REFUSED]}, empty
    assert not Execution.objects.exists()


@EACH_TYPE
def test_api_start_stores_an_empty_optional_input_not_the_default(case, api, make_flow):
    make_flow(start_flow(case, required=False))
    response = api.post(START_API, {"inputs": {"x": ""}}, format="json")
    assert started_inputs(response) == {"x": case.blank}


def test_api_start_with_a_blank_name_is_refused_not_started_for_rick_astley(
    api, make_flow
):
    make_flow(
        """
        id: absent
        namespace: acme.empty
        inputs:
          - id: name
            type: STRING
            defaults: Rick Astley
        tasks:
          - id: done
            type: Return
            format: "{{ inputs.name }}"
        """
    )
    response = api.post(START_API, {"inputs": {"name": ""}}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"name": [REFUSED]}


# -- API: resume ------------------------------------------------------------------


@EACH_TYPE
@REQUIRED
def test_api_resume_without_the_key_takes_the_default(
    case, required, api, pause_token, post
):
    token = pause_token(on_resume(case, required=required))
    assert post(api, resume_url(token.pk), {}).status_code == 202
    assert answered(token) == {"x": case.stored}


@EACH_TYPE
def test_api_resume_refuses_a_blank_or_null_required_answer_with_a_default(
    case, api, pause_token, post
):
    token = pause_token(on_resume(case))
    for empty in ("", None):
        response = post(api, resume_url(token.pk), {"x": empty})
        assert response.status_code == 400
        assert response.json()["errors"] == {"x": [REFUSED]}, empty
    token.refresh_from_db()
    assert token.state == SuspensionToken.State.WAITING


@EACH_TYPE
def test_api_resume_stores_an_empty_optional_answer_not_the_default(
    case, api, pause_token, post
):
    token = pause_token(on_resume(case, required=False))
    assert post(api, resume_url(token.pk), {"x": ""}).status_code == 202
    assert answered(token) == {"x": case.blank}


# -- web: the start form ------------------------------------------------------------


@EACH_TYPE
def test_start_form_sent_as_shown_keeps_the_prefilled_default(
    case, client, user, make_flow
):
    make_flow(start_flow(case))
    client.force_login(user)
    shown = as_submitted(client.get(START_PAGE).content.decode(), "x")
    assert started_inputs(client.post(START_PAGE, shown)) == {"x": case.stored}


@EACH_TYPE
@REQUIRED
def test_start_form_with_the_field_cleared_is_empty_never_the_default(
    case, required, client, user, make_flow
):
    make_flow(start_flow(case, required=required))
    client.force_login(user)
    sent = as_submitted(client.get(START_PAGE).content.decode(), "x")
    sent["x"] = case.cleared
    response = client.post(START_PAGE, sent)
    expected = case.cleared_required if required else case.cleared_optional
    if expected == REFUSED:
        assert response.status_code == 200
        assert response.context["form"].errors["x"] == [REFUSED]
        assert not Execution.objects.exists()
    else:
        assert started_inputs(response) == {"x": expected}


def test_start_form_with_the_name_cleared_is_refused_not_rick_astley(
    client, user, make_flow
):
    make_flow(
        """
        id: absent
        namespace: acme.empty
        inputs:
          - id: name
            type: STRING
            defaults: Rick Astley
        tasks:
          - id: done
            type: Return
            format: "{{ inputs.name }}"
        """
    )
    client.force_login(user)
    page = client.get(START_PAGE).content.decode()
    assert 'value="Rick Astley"' in page
    response = client.post(START_PAGE, {**as_submitted(page, "name"), "name": ""})
    assert response.context["form"].errors["name"] == [REFUSED]
    assert not Execution.objects.exists()


# -- web: the answer screen ---------------------------------------------------------


def screen(token) -> str:
    return reverse("approvals:answer", args=[token.pk])


@EACH_TYPE
def test_answer_screen_sent_as_shown_keeps_the_prefilled_default(
    case, client, user, pause_token
):
    token = pause_token(on_resume(case))
    client.force_login(user)
    shown = as_submitted(client.get(screen(token)).content.decode(), "x")
    assert client.post(screen(token), shown).status_code == 302
    assert answered(token) == {"x": case.stored}


@EACH_TYPE
@REQUIRED
def test_answer_screen_with_the_field_cleared_is_empty_never_the_default(
    case, required, client, user, pause_token
):
    token = pause_token(on_resume(case, required=required))
    client.force_login(user)
    sent = as_submitted(client.get(screen(token)).content.decode(), "x")
    sent["x"] = case.cleared
    response = client.post(screen(token), sent)
    expected = case.cleared_required if required else case.cleared_optional
    if expected == REFUSED:
        assert response.status_code == 200
        assert response.context["form"].errors["x"] == [REFUSED]
        token.refresh_from_db()
        assert token.state == SuspensionToken.State.WAITING
    else:
        assert response.status_code == 302
        assert answered(token) == {"x": expected}


VACATION = """
onResume:
  - id: reason
    type: STRING
    defaults: Well-deserved vacation
"""


def test_cleared_reason_is_refused_not_stored_as_the_default(client, user, pause_token):
    token = pause_token(VACATION)
    client.force_login(user)
    page = client.get(screen(token)).content.decode()
    assert 'value="Well-deserved vacation"' in page
    response = client.post(
        screen(token), {**as_submitted(page, "reason"), "reason": ""}
    )
    assert response.context["form"].errors["reason"] == [REFUSED]
    assert "This field is required." in response.content.decode()
    token.refresh_from_db()
    assert token.state == SuspensionToken.State.WAITING and token.response is None


def test_a_secret_default_is_never_shown_and_an_empty_box_keeps_it(
    client, user, pause_token
):
    token = pause_token(
        'onResume: [{"id": "key", "type": "SECRET", "defaults": "hunter2"}]'
    )
    client.force_login(user)
    page = client.get(screen(token)).content.decode()
    assert "hunter2" not in page
    assert 'placeholder="Leave empty for the default"' in page
    assert client.post(screen(token), as_submitted(page, "key")).status_code == 302
    assert answered(token) == {"key": "hunter2"}


def test_a_required_field_is_marked_required_even_when_prefilled(
    client, user, pause_token
):
    token = pause_token(VACATION)
    client.force_login(user)
    response = client.get(screen(token))
    assert response.context["form"].fields["reason"].required
