"""The web screen and the API judge an answer with the same rules and messages."""

import pytest
from django.utils.html import escape

from tests.api_support import resume_url

SCHEMA = """
    onResume:
      - id: days
        type: INT
        min: 1
        max: 30
      - id: start
        type: DATE
      - id: kind
        type: ENUM
        values: [annual, sick]
      - id: email
        type: EMAIL
        required: false
"""

BAD = {"days": "0", "start": "2042-02-30", "kind": "party", "email": "nope@"}


@pytest.fixture
def token(pause_token):
    return pause_token(SCHEMA)


def test_bad_answer_gets_the_same_messages_on_screen_and_api(
    client, api, user, token, post
):
    client.force_login(user)
    screen = client.post(f"/approvals/{token.pk}/", BAD)
    form = screen.context["form"]
    via_api = post(api, resume_url(token.pk), BAD)
    assert via_api.status_code == 400
    api_errors = via_api.json()["errors"]
    assert set(api_errors) == set(BAD) == set(form.errors)
    for field in BAD:
        assert api_errors[field] == form.errors[field], field
        shown = escape(form.errors[field][0])
        assert shown in screen.content.decode()  # rendered beside the field
    token.refresh_from_db()
    assert token.state == "WAITING"


def test_good_answer_is_stored_identically_from_either_channel(
    client, api, user, pause_token, post, run_on_commit
):
    good = {"days": "3", "start": "2042-07-01", "kind": "annual", "email": ""}
    by_screen, by_api = pause_token(SCHEMA), pause_token(SCHEMA)
    client.force_login(user)
    run_on_commit(client.post, f"/approvals/{by_screen.pk}/", good)
    post(api, resume_url(by_api.pk), {**good, "days": 3, "email": None})
    by_screen.refresh_from_db()
    by_api.refresh_from_db()
    assert by_screen.channel == "web" and by_api.channel == "api"
    assert by_screen.response == by_api.response
    assert by_screen.response["days"] == 3
