"""Forms built from input definitions: widgets per type, one set of rules."""

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict

from approvals.forms import answer_form, error_dict, start_form
from flows import secrets

# type, extra definition, widget marker in the HTML, valid form value, invalid value
TYPES = [
    ("STRING", {"validator": "[A-Z]+"}, 'type="text"', "ABC", "abc"),
    ("INT", {"min": 1, "max": 5}, 'type="number"', "3", "9"),
    ("FLOAT", {"min": 0}, 'step="any"', "2.5", "-1"),
    ("BOOLEAN", {}, 'type="checkbox"', "on", None),
    ("DATE", {}, 'type="date"', "2042-07-01", "2042-13-01"),
    ("DATETIME", {}, 'type="datetime-local"', "2042-07-01T10:30", "yesterday"),
    ("TIME", {}, 'type="time"', "10:30", "25:00"),
    ("DURATION", {}, 'placeholder="PT5M"', "PT5M", "5 minutes"),
    ("ENUM", {"values": ["A", "B"]}, "<select", "A", "C"),
    ("MULTISELECT", {"values": ["A", "B"]}, 'type="checkbox"', ["A", "B"], ["Z"]),
    ("ARRAY", {}, "<textarea", '["x", "y"]', "[oops"),
    ("JSON", {}, "<textarea", '{"a": 1}', "{oops"),
    ("YAML", {}, "<textarea", "a: 1", "a: [1"),
    ("URI", {}, 'type="url"', "https://example.com/x", "not a uri"),
    ("EMAIL", {}, 'type="email"', "ada@example.com", "ada@"),
    ("SECRET", {}, 'type="password"', "s3cret", None),
    ("FILE", {}, 'type="file"', None, None),
]


WITH_TEXT_VALUE = [t for t in TYPES if t[3] is not None]
WITH_INVALID_VALUE = [t for t in TYPES if t[4] is not None]


def token_with(field: dict, screen: str = "form"):
    return SimpleNamespace(screen=screen, schema=[{"id": "value", **field}], options={})


def web_data(value) -> QueryDict:
    data = QueryDict(mutable=True)
    if isinstance(value, list):
        data.setlist("value", value)
    elif value is not None:
        data["value"] = value
    return data


@pytest.mark.parametrize(("kind", "extra", "marker", "valid", "invalid"), TYPES)
def test_each_type_renders_its_widget_with_label_and_help(
    kind, extra, marker, valid, invalid
):
    field = {"type": kind, "description": "Help for <value>", **extra}
    html = str(answer_form(token_with(field)))
    assert marker in html
    labelled = 'for="id_value"' in html or "<legend>Value" in html  # groups: fieldset
    assert labelled and "Value" in html
    assert "Help for &lt;value&gt;" in html  # descriptions are escaped


@pytest.mark.parametrize(
    ("kind", "extra", "marker", "valid", "invalid"), WITH_TEXT_VALUE
)
def test_valid_values_give_the_same_result_on_screen_and_api(
    kind, extra, marker, valid, invalid
):
    token = token_with({"type": kind, **extra})
    web = answer_form(token, web_data(valid))
    api = answer_form(token, {"value": valid}, api=True)
    assert web.is_valid(), web.errors
    assert api.is_valid(), api.errors
    # SECRET values come sealed, each with its own ciphertext: compare them in clear.
    assert secrets.reveal(web.values) == secrets.reveal(api.values)


@pytest.mark.parametrize(
    ("kind", "extra", "marker", "valid", "invalid"), WITH_INVALID_VALUE
)
def test_invalid_values_get_the_same_message_on_screen_and_api(
    kind, extra, marker, valid, invalid
):
    token = token_with({"type": kind, **extra})
    web = answer_form(token, web_data(invalid))
    api = answer_form(token, {"value": invalid}, api=True)
    assert not web.is_valid() and not api.is_valid()
    assert web.errors["value"] == error_dict(api)["value"]
    assert error_dict(api)["value"][0].endswith(".")


def test_missing_required_value_is_named_in_both_channels():
    token = token_with({"type": "STRING"})
    web, api = answer_form(token, QueryDict()), answer_form(token, {}, api=True)
    assert not web.is_valid() and not api.is_valid()
    assert (
        web.errors["value"] == error_dict(api)["value"] == ["This field is required."]
    )


def test_defaults_fill_in_what_the_api_leaves_out():
    token = token_with({"type": "INT", "defaults": 4})
    form = answer_form(token, {}, api=True)
    assert form.is_valid() and form.values == {"value": 4}
    assert 'value="4"' in str(answer_form(token))  # shown as the initial value


def test_unknown_api_keys_are_named():
    form = answer_form(token_with({"type": "INT"}), {"value": 1, "oops": 2}, api=True)
    assert not form.is_valid()
    assert "oops" in error_dict(form)


def test_a_non_object_api_body_is_refused():
    form = answer_form(token_with({"type": "INT"}), ["not", "a", "map"], api=True)
    assert not form.is_valid()
    assert "JSON object" in str(error_dict(form))


def test_approval_screen_asks_for_a_decision_and_comment_first():
    form = answer_form(token_with({"type": "INT", "defaults": 1}, screen="approval"))
    assert list(form.fields)[:2] == ["decision", "comment"]
    rejected = answer_form(
        token_with({"type": "INT", "defaults": 1}, screen="approval"),
        {"decision": "Rejected", "comment": "no"},
        api=True,
    )
    assert rejected.is_valid() and rejected.values["decision"] == "Rejected"
    maybe = answer_form(token_with({"type": "INT"}, "approval"), {"decision": "Maybe"})
    assert not maybe.is_valid() and "decision" in maybe.errors


def test_review_screen_needs_the_acknowledgement():
    token = SimpleNamespace(screen="review", schema=[], options={})
    assert not answer_form(token, QueryDict()).is_valid()
    form = answer_form(token, {"acknowledged": True, "comment": "seen"}, api=True)
    assert form.is_valid() and form.values == {"acknowledged": True, "comment": "seen"}


@pytest.mark.django_db
def test_uploaded_file_is_stored_and_referenced(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    token = token_with({"type": "FILE"})
    upload = SimpleUploadedFile("report.pdf", b"%PDF-1.4 test")
    form = answer_form(token, QueryDict(), {"value": upload})
    assert form.is_valid(), form.errors
    reference = form.values["value"]
    assert reference.startswith("storage://inputs/") and reference.endswith(
        "report.pdf"
    )
    stored = tmp_path / reference.removeprefix("storage://")
    assert stored.read_bytes() == b"%PDF-1.4 test"


@pytest.mark.django_db
def test_start_form_nests_dotted_inputs(make_flow):
    flow = make_flow(
        """
        id: leave
        namespace: acme.hr
        inputs:
          - id: request.name
            type: STRING
          - id: request.start
            type: DATE
        tasks:
          - id: r
            type: Return
            format: ok
        """
    )
    form = start_form(flow, {"request.name": "Ada", "request.start": "2042-07-01"})
    assert form.is_valid(), form.errors
    assert form.values == {"request": {"name": "Ada", "start": "2042-07-01"}}
    nested = start_form(flow, {"request": {"name": "Ada", "start": "x"}}, api=True)
    assert not nested.is_valid() and list(error_dict(nested)) == ["request.start"]
