"""No input reaches a 500 on the API: each is a 400 with the `errors` body."""

import json

import pytest

from flows.models import Execution, SuspensionToken
from tests.api_support import FORM, resume_url

KINDS = """
id: kinds
namespace: acme.finance
inputs:
  - id: title
    type: STRING
    required: false
  - id: ratio
    type: FLOAT
    required: false
  - id: doc
    type: JSON
    required: false
  - id: items
    type: ARRAY
    required: false
tasks:
  - id: only
    type: Return
    format: done
"""
START = "/api/flows/acme.finance/kinds/executions"
NUL = "NUL characters (\\0) are not allowed."
SURROGATE = "Lone surrogates (\\ud800) are not allowed."


def refused(response, field: str) -> list[str]:
    """Assert a 400 with the documented body; the messages for `field`."""
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert all(
        isinstance(messages, list) and all(isinstance(m, str) for m in messages)
        for messages in body["errors"].values()
    )
    return body["errors"][field]


def post_raw(api, url, body: str):
    return api.post(url, body, content_type="application/json")


@pytest.fixture
def kinds(make_flow):
    return make_flow(KINDS)


@pytest.fixture
def waiting(pause):
    """A waiting FORM token, so the lists have a row to page through."""
    return pause(FORM)


# ---------------------------------------------------------------- query values


@pytest.mark.parametrize("url", ["/api/executions", "/api/suspensions"])
@pytest.mark.parametrize(
    "query,field",
    [
        ("limit=99999999999999999999", "limit"),
        ("offset=99999999999999999999", "offset"),
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
    ],
)
def test_a_page_out_of_range_is_a_400_naming_it(api, waiting, url, query, field):
    assert refused(api.get(f"{url}?{query}"), field)


def test_a_page_in_range_still_works(api, waiting):
    body = api.get("/api/suspensions?limit=500&offset=0").json()
    assert [item["tokenId"] for item in body["results"]] == [str(waiting.pk)]


@pytest.mark.parametrize("name", ["namespace", "flow", "state"])
def test_nul_in_a_list_filter_is_a_400_naming_it(api, waiting, name):
    assert refused(api.get(f"/api/executions?{name}=acme%00"), name) == [NUL]


def test_nul_in_the_tenant_of_a_start_is_a_400(api, kinds):
    response = api.post(f"{START}?tenant=acme%00", {}, format="json")
    assert refused(response, "tenant") == [NUL]
    assert not Execution.objects.exists()


@pytest.mark.parametrize(
    "url,field",
    [
        ("/api/flows/acme%00/kinds/executions", "namespace"),
        ("/api/flows/acme.finance/kin%00ds/executions", "flow_id"),
    ],
)
def test_nul_in_a_start_url_is_a_400(api, kinds, url, field):
    assert refused(api.post(url, {}, format="json"), field) == [NUL]


def test_nul_in_a_path_id_is_a_400(api, waiting):
    response = api.get(f"/api/executions/{waiting.execution_id}%00/status")
    assert refused(response, "id") == [NUL]


def test_nul_in_a_parameter_name_is_a_400(api, waiting):
    assert refused(api.get("/api/suspensions?a%00=1"), "__all__")


def test_more_than_1000_query_parameters_is_a_json_400(api, waiting):
    query = "&".join(f"p{i}=1" for i in range(1001))
    messages = refused(api.get(f"/api/executions?{query}"), "__all__")
    assert messages == [
        "Too many fields: at most 1,000 query parameters or form fields."
    ]


# ---------------------------------------------------------------- bodies


@pytest.mark.parametrize(
    "body,field,message",
    [
        ('{"inputs": {"title": "a\\u0000b"}}', "title", NUL),
        ('{"inputs": {"title": "a\\ud800b"}}', "title", SURROGATE),
        ('{"inputs": {"doc": {"k": ["a\\u0000"]}}}', "doc", NUL),
        ('{"inputs": {"doc": {"k\\ud800": 1}}}', "doc", SURROGATE),
        ('{"inputs": {"items": ["\\u0000"]}}', "items", NUL),
        ('{"inputs": {"doc": "{\\"k\\": \\"\\\\u0000\\"}"}}', "doc", NUL),
    ],
)
def test_unstorable_text_in_an_input_is_a_field_error(api, kinds, body, field, message):
    assert refused(post_raw(api, START, body), field) == [message]
    assert not Execution.objects.exists()


def test_unstorable_text_in_an_answer_is_a_field_error(api, waiting):
    url = resume_url(waiting.pk)
    response = post_raw(api, url, '{"reason": "fine\\u0000"}')
    assert refused(response, "reason") == [NUL]
    response = post_raw(api, url, '{"reason": "\\udfff"}')
    assert refused(response, "reason") == ["Lone surrogates (\\udfff) are not allowed."]
    waiting.refresh_from_db()
    assert waiting.state == SuspensionToken.State.WAITING


def test_an_unknown_key_with_a_lone_surrogate_is_echoed_escaped(api, waiting):
    response = post_raw(api, resume_url(waiting.pk), '{"reason": "ok", "x\\ud800": 1}')
    assert refused(response, "x\ud800") == [
        "Unknown field; expected one of: reason, budget."
    ]


@pytest.mark.parametrize(
    "labels,field",
    [
        ('{"team": "a\\u0000"}', "labels.team"),
        ('{"team": "\\ud800"}', "labels.team"),
        ('{"te\\u0000am": "a"}', "labels"),
    ],
)
def test_unstorable_text_in_a_label_is_a_400(api, kinds, labels, field):
    response = post_raw(api, START, f'{{"labels": {labels}}}')
    assert refused(response, field)
    assert not Execution.objects.exists()


def test_a_float_given_a_401_digit_integer_is_a_field_error(api, kinds):
    response = post_raw(api, START, '{"inputs": {"ratio": 1' + "0" * 400 + "}}")
    assert refused(response, "ratio") == ["Enter a number."]


@pytest.mark.parametrize("depth", [150, 5000])
def test_a_body_nested_too_deep_is_a_400(api, kinds, depth):
    body = '{"inputs": {"doc": ' + "[" * depth + "1" + "]" * depth + "}}"
    [message] = refused(post_raw(api, START, body), "__all__")
    assert "nested more than 100 levels deep" in message


def test_a_json_input_nested_too_deep_is_a_field_error(api, kinds):
    text = "[" * 5000 + "]" * 5000
    response = api.post(START, {"inputs": {"doc": text}}, format="json")
    [message] = refused(response, "doc")
    assert (
        message == "Enter valid JSON: the document is nested more than 100 levels deep."
    )


def test_malformed_json_has_the_errors_shape(api, kinds):
    [message] = refused(post_raw(api, START, '{"inputs": '), "__all__")
    assert message.startswith("JSON parse error")


def test_a_10_mb_body_is_a_json_400(api, kinds):
    body = json.dumps({"inputs": {"title": "x" * 10_000_000}})
    [message] = refused(post_raw(api, START, body), "__all__")
    assert message == "The request body is too large: at most 2,621,440 bytes."
    assert not Execution.objects.exists()


def test_nul_in_an_idempotency_key_is_a_400(api, waiting):
    response = api.post(
        resume_url(waiting.pk),
        {"reason": "ok"},
        format="json",
        headers={"Idempotency-Key": "k\x00"},
    )
    assert refused(response, "Idempotency-Key") == [NUL]
    waiting.refresh_from_db()
    assert waiting.state == SuspensionToken.State.WAITING


# ---------------------------------------------------------------- docs


def test_options_on_the_docs_page_lists_its_methods(api):
    response = api.options("/api/docs/")
    assert response.status_code == 200
    assert {m.strip() for m in response["Allow"].split(",")} >= {"GET", "OPTIONS"}


def test_the_schema_documents_the_page_bounds_and_every_400(api):
    schema = api.get("/api/schema/?format=json").json()
    for path in ("/api/executions", "/api/suspensions"):
        params = {
            p["name"]: p["schema"] for p in schema["paths"][path]["get"]["parameters"]
        }
        assert params["limit"] == {"type": "integer", "minimum": 1, "maximum": 500}
        assert params["offset"] == {
            "type": "integer",
            "minimum": 0,
            "maximum": 1_000_000_000,
        }
    for methods in schema["paths"].values():
        for operation in methods.values():
            invalid = operation["responses"]["400"]["content"]["application/json"]
            assert invalid["schema"]["$ref"].endswith("/InvalidData")
