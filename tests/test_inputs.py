import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from flows import inputs, yaml_lines
from flows.inputs import InputDefinitionError, InputValidationError


def one(type_, **props):
    return inputs.parse_definitions([{"id": "x", "type": type_, **props}])


def clean(type_, value, **props):
    return inputs.validate(one(type_, **props), {"x": value})["x"]


def error(type_, value, **props):
    with pytest.raises(InputValidationError) as caught:
        inputs.validate(one(type_, **props), {"x": value})
    return caught.value.errors["x"][0]


def definition_error(raw, **kwargs):
    with pytest.raises(InputDefinitionError) as caught:
        inputs.parse_definitions(raw, **kwargs)
    return caught.value


ABC = {"values": ["A", "B"]}


@pytest.mark.parametrize(
    ("type_", "value", "expected", "props"),
    [
        ("STRING", "hi", "hi", {}),
        ("STRING", 42, "42", {}),
        ("STRING", 1.5, "1.5", {}),
        ("STRING", "ABC", "ABC", {"validator": "[A-Z]{3}"}),
        ("SECRET", "s3cret", "s3cret", {}),
        ("INT", 5, 5, {}),
        ("INT", " -7 ", -7, {}),
        ("INT", 5.0, 5, {}),
        ("FLOAT", 1.5, 1.5, {}),
        ("FLOAT", "2.5", 2.5, {}),
        ("FLOAT", 3, 3.0, {}),
        ("FLOAT", "1e3", 1000.0, {}),
        ("BOOLEAN", True, True, {}),
        ("BOOLEAN", "yes", True, {}),
        ("BOOLEAN", "OFF", False, {}),
        ("BOOLEAN", "1", True, {}),
        ("BOOLEAN", 0, False, {}),
        ("BOOL", "true", True, {}),
        ("DATE", "2042-07-01", "2042-07-01", {}),
        ("DATE", dt.date(2042, 7, 1), "2042-07-01", {}),
        ("DATETIME", "2042-07-01T10:00:00Z", "2042-07-01T10:00:00+00:00", {}),
        ("DATETIME", "2042-07-01T10:00+02:00", "2042-07-01T10:00:00+02:00", {}),
        ("DATETIME", "2042-07-01T10:00", "2042-07-01T10:00:00+00:00", {}),
        ("DATETIME", dt.datetime(2042, 7, 1, 10), "2042-07-01T10:00:00+00:00", {}),
        ("TIME", "10:30", "10:30:00", {}),
        ("TIME", "10:30:15", "10:30:15", {}),
        ("TIME", dt.time(9, 5), "09:05:00", {}),
        ("DURATION", "PT60M", "PT1H", {}),
        ("DURATION", dt.timedelta(days=1), "P1D", {}),
        ("ENUM", "A", "A", ABC),
        ("SELECT", "B", "B", ABC),
        ("MULTISELECT", ["A", "B"], ["A", "B"], ABC),
        ("MULTISELECT", "B, A", ["B", "A"], ABC),
        ("MULTISELECT", '["B"]', ["B"], ABC),
        ("MULTISELECT", ["A", "A"], ["A"], ABC),
        ("ARRAY", [1, "a"], [1, "a"], {}),
        ("ARRAY", "[1, 2]", [1, 2], {}),
        ("ARRAY", ["1", 2], [1, 2], {"itemType": "INT"}),
        ("ARRAY", ["2042-07-01"], ["2042-07-01"], {"itemType": "DATE"}),
        ("JSON", {"a": 1}, {"a": 1}, {}),
        ("JSON", '{"a": [1, 2]}', {"a": [1, 2]}, {}),
        ("JSON", "3", 3, {}),
        ("YAML", "a: 1\nb: [x]", {"a": 1, "b": ["x"]}, {}),
        ("YAML", "day: 2042-07-01", {"day": "2042-07-01"}, {}),
        ("YAML", {"a": [1]}, {"a": [1]}, {}),
        ("URI", "https://x/y", "https://x/y", {}),
        ("URI", "s3://bucket/key", "s3://bucket/key", {}),
        ("URI", "file:///tmp/x", "file:///tmp/x", {}),
        ("EMAIL", " ann@example.com ", "ann@example.com", {}),
        ("FILE", "s3://bucket/report.pdf", "s3://bucket/report.pdf", {}),
    ],
)
def test_each_type_converts_valid_values_to_json(type_, value, expected, props):
    assert clean(type_, value, **props) == expected


@pytest.mark.parametrize(
    ("type_", "value", "message", "props"),
    [
        ("STRING", {"a": 1}, "Enter text, not a list or a map.", {}),
        ("STRING", ["a"], "Enter text, not a list or a map.", {}),
        ("STRING", "abc", "Must match the pattern [A-Z]+.", {"validator": "[A-Z]+"}),
        ("STRING", "abc1", "Must match the pattern [a-z]+.", {"validator": "[a-z]+"}),
        ("SECRET", "ab", "Must match the pattern .{8,}.", {"validator": ".{8,}"}),
        ("INT", "abc", "Enter a whole number.", {}),
        ("INT", True, "Enter a whole number.", {}),
        ("INT", 1.5, "Enter a whole number.", {}),
        ("INT", "1.5", "Enter a whole number.", {}),
        ("FLOAT", "abc", "Enter a number.", {}),
        ("FLOAT", "nan", "Enter a number.", {}),
        ("FLOAT", float("inf"), "Enter a number.", {}),
        ("FLOAT", True, "Enter a number.", {}),
        ("BOOLEAN", "maybe", "Enter true or false.", {}),
        ("BOOLEAN", 2, "Enter true or false.", {}),
        ("DATE", "tomorrow", "Enter a valid date (YYYY-MM-DD).", {}),
        ("DATE", "2042-13-01", "Enter a valid date (YYYY-MM-DD).", {}),
        ("DATE", "20420701", "Enter a valid date (YYYY-MM-DD).", {}),
        ("DATE", dt.datetime(2042, 7, 1), "Enter a valid date (YYYY-MM-DD).", {}),
        ("DATETIME", "soon", "Enter a valid date and time (ISO 8601).", {}),
        ("TIME", "25:00", "Enter a valid time (HH:MM or HH:MM:SS).", {}),
        ("TIME", "10", "Enter a valid time (HH:MM or HH:MM:SS).", {}),
        ("DURATION", "5 minutes", "'5 minutes' is not an ISO 8601 duration", {}),
        ("DURATION", "P1M", "'P1M' uses years or months", {}),
        ("DURATION", 300, "Enter an ISO 8601 duration", {}),
        ("ENUM", "C", "Select a valid choice: 'C' is not one of A, B.", ABC),
        ("MULTISELECT", ["A", "C"], "Select a valid choice: 'C' is not", ABC),
        ("MULTISELECT", 5, "Select one or more choices.", ABC),
        ("ARRAY", "a,b", "Enter a list", {}),
        ("ARRAY", {"a": 1}, "Enter a list", {}),
        ("ARRAY", ["x"], "Item 1: Enter a whole number.", {"itemType": "INT"}),
        ("JSON", "{bad", "Enter valid JSON: Expecting property name", {}),
        ("YAML", "a: [", "Enter valid YAML:", {}),
        ("URI", "not a uri", "Enter a valid URI.", {}),
        ("URI", "http://", "Enter a valid URI.", {}),
        ("URI", "http://a b/c", "Enter a valid URI.", {}),
        ("EMAIL", "nope", "Enter a valid email address.", {}),
        ("FILE", 42, "Upload a file or give a file URI.", {}),
    ],
)
def test_each_type_rejects_invalid_values_with_a_message(type_, value, message, props):
    assert error(type_, value, **props).startswith(message)


@pytest.mark.parametrize(
    ("type_", "props", "low", "ok", "high", "messages"),
    [
        ("INT", {"min": 3, "max": 10}, 2, 10, 11, ("at least 3.", "at most 10.")),
        ("FLOAT", {"min": 0.5}, 0.4, 0.5, None, ("at least 0.5.", None)),
        (
            "DATE",
            {"after": dt.date(2042, 1, 1), "before": "2042-12-31"},
            "2041-12-31",
            "2042-01-01",
            "2043-01-01",
            ("on or after 2042-01-01.", "on or before 2042-12-31."),
        ),
        (
            "TIME",
            {"min": "09:00", "max": "17:00"},
            "08:59",
            "17:00",
            "17:01",
            ("on or after 09:00:00.", "on or before 17:00:00."),
        ),
        (
            "DATETIME",
            {"min": "2042-07-01T00:00:00Z"},
            "2042-07-01T01:00:00+02:00",
            "2042-07-01T02:00:00+02:00",
            None,
            ("on or after 2042-07-01T00:00:00+00:00.", None),
        ),
        (
            "DURATION",
            {"min": "PT1M", "max": "PT1H"},
            "PT30S",
            "PT60M",
            "PT61M",
            ("at least PT1M.", "at most PT1H."),
        ),
    ],
)
def test_ranges_are_checked_inclusively(type_, props, low, ok, high, messages):
    assert inputs.validate(one(type_, **props), {"x": ok})["x"] is not None
    assert error(type_, low, **props) == f"Must be {messages[0]}"
    if high is not None:
        assert error(type_, high, **props) == f"Must be {messages[1]}"


# -- defaults, required, optional ---------------------------------------------


def test_missing_required_value_without_default_is_an_error():
    assert error("STRING", None) == "This field is required."
    with pytest.raises(InputValidationError) as caught:
        inputs.validate(one("STRING"), {})
    assert caught.value.errors == {"x": ["This field is required."]}


@pytest.mark.parametrize("blank", [None, ""])
def test_missing_value_takes_the_default_but_a_blank_one_does_not(blank):
    defs = one("INT", defaults=5)
    assert inputs.validate(defs, {})["x"] == 5
    assert inputs.validate(defs, {"x": "6"})["x"] == 6
    with pytest.raises(InputValidationError) as caught:
        inputs.validate(defs, {"x": blank})
    assert caught.value.errors == {"x": ["This field is required."]}


def test_missing_optional_value_without_default_is_present_as_none():
    defs = inputs.parse_definitions(
        [{"id": "a.b", "type": "STRING", "required": False}]
    )
    assert inputs.validate(defs, None) == {"a": {"b": None}}


def test_partial_validation_allows_missing_required_fields():
    defs = one("STRING")
    assert inputs.validate(defs, {}, partial=True) == {"x": None}
    assert error("INT", "abc") == "Enter a whole number."


def test_defaults_returns_every_input_nested():
    defs = inputs.parse_definitions(
        [
            {"id": "approved", "type": "BOOLEAN", "defaults": True},
            {"id": "request.reason", "type": "STRING", "defaults": "ok"},
            {"id": "request.days", "type": "INT", "required": False},
        ]
    )
    assert inputs.defaults(defs) == {
        "approved": True,
        "request": {"reason": "ok", "days": None},
    }


def test_yaml_typed_defaults_are_converted_to_json_form():
    raw = yaml_lines.load(
        """
        - {id: start, type: DATE, defaults: 2042-07-01}
        - {id: ok, type: BOOLEAN, defaults: true}
        - {id: at, type: DATETIME, defaults: 2042-07-01T10:00:00Z}
        - {id: n, type: STRING, defaults: 42}
        - {id: pick, type: ENUM, values: [yes, no], defaults: yes}
        """
    )
    defs = inputs.parse_definitions(raw)
    assert [d.default for d in defs] == [
        "2042-07-01",
        True,
        "2042-07-01T10:00:00+00:00",
        "42",
        "yes",
    ]
    assert all(d.has_default for d in defs)
    assert defs[4].values == ("yes", "no")  # YAML 1.2: yes/no are text


def test_null_default_means_no_default():
    (defn,) = one("STRING", defaults=None)
    assert defn.has_default is False
    assert defn.default is None


def test_unquoted_yaml_time_default_is_read_as_a_time():
    (defn,) = inputs.parse_definitions(
        yaml_lines.load("- {id: at, type: TIME, defaults: 10:30}")
    )
    assert defn.default == "10:30:00"  # YAML 1.1 read 10:30 as the number 630


# -- dotted ids and submissions -------------------------------------------------


@pytest.fixture
def request_defs():
    return inputs.parse_definitions(
        [
            {"id": "request.name", "type": "STRING"},
            {"id": "request.start_date", "type": "DATE"},
            {"id": "note", "type": "STRING", "required": False},
        ]
    )


@pytest.mark.parametrize(
    "data",
    [
        {"request.name": "Ann", "request.start_date": "2042-07-01"},
        {"request": {"name": "Ann", "start_date": "2042-07-01"}},
        {"request": {"name": "Ann"}, "request.start_date": "2042-07-01"},
    ],
)
def test_flat_nested_and_mixed_submissions_give_a_nested_result(request_defs, data):
    assert inputs.validate(request_defs, data) == {
        "request": {"name": "Ann", "start_date": "2042-07-01"},
        "note": None,
    }


def test_errors_for_dotted_inputs_use_the_dotted_id(request_defs):
    with pytest.raises(InputValidationError) as caught:
        inputs.validate(request_defs, {"request": {"start_date": "nope"}})
    assert caught.value.errors == {
        "request.name": ["This field is required."],
        "request.start_date": ["Enter a valid date (YYYY-MM-DD)."],
    }


def test_group_given_a_non_map_is_an_error(request_defs):
    with pytest.raises(InputValidationError) as caught:
        inputs.validate(request_defs, {"request": "Ann"})
    assert caught.value.errors["request"] == [
        "Expected a map with request.name, request.start_date."
    ]


def test_json_input_values_are_not_flattened():
    defs = inputs.parse_definitions(
        [{"id": "cfg", "type": "JSON"}, {"id": "req.payload", "type": "YAML"}]
    )
    data = {"cfg": {"a": {"b": 1}}, "req": {"payload": {"c": {}}}}
    assert inputs.validate(defs, data) == data


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"surname": "x"}, "surname"),
        ({"request.age": 3}, "request.age"),
        ({"request": {"age": 3}}, "request.age"),
    ],
)
def test_unknown_keys_are_errors_listing_expected_fields(request_defs, data, key):
    data = {"request": {"name": "Ann", "start_date": "2042-07-01"}} | data
    if key.startswith("request."):
        data = {"request.name": "Ann", "request.start_date": "2042-07-01"} | data
    with pytest.raises(InputValidationError) as caught:
        inputs.validate(request_defs, data)
    assert caught.value.errors == {
        key: ["Unknown field; expected one of: request.name, request.start_date, note."]
    }


def test_all_errors_are_collected_in_one_exception():
    defs = inputs.parse_definitions(
        [
            {"id": "n", "type": "INT", "min": 1},
            {"id": "ok", "type": "BOOLEAN"},
            {"id": "when", "type": "DATE"},
        ]
    )
    with pytest.raises(InputValidationError) as caught:
        inputs.validate(defs, {"n": 0, "ok": "perhaps", "extra": 1})
    errors = caught.value.errors
    assert set(errors) == {"n", "ok", "when", "extra"}
    assert errors["n"] == ["Must be at least 1."]
    assert "ok: Enter true or false." in str(caught.value)


def test_data_that_is_not_a_map_is_rejected():
    with pytest.raises(InputValidationError) as caught:
        inputs.validate(one("STRING"), ["x"])
    assert caught.value.errors == {"__all__": ["Expected a map of input values."]}


# -- round trips -------------------------------------------------------------------

ALL_TYPES = [
    {"id": "s", "type": "STRING", "validator": "[a-z]+"},
    {"id": "secret", "type": "SECRET"},
    {"id": "i", "type": "INT", "min": 0},
    {"id": "f", "type": "FLOAT"},
    {"id": "b", "type": "BOOL"},
    {"id": "d.day", "type": "DATE", "after": "2000-01-01"},
    {"id": "d.at", "type": "DATETIME"},
    {"id": "d.time", "type": "TIME"},
    {"id": "d.wait", "type": "DURATION", "max": "P1D"},
    {"id": "e", "type": "SELECT", "values": ["A", "B"], "displayName": "Pick"},
    {"id": "m", "type": "MULTISELECT", "values": ["A", "B"], "defaults": ["B"]},
    {"id": "arr", "type": "ARRAY", "itemType": "FLOAT"},
    {"id": "j", "type": "JSON"},
    {"id": "y", "type": "YAML"},
    {"id": "u", "type": "URI"},
    {"id": "mail", "type": "EMAIL", "description": "Who to tell"},
    {"id": "file", "type": "FILE", "required": False},
]
ALL_VALUES = {
    "s": "abc",
    "secret": "hunter2",
    "i": "4",
    "f": "0.25",
    "b": "on",
    "d": {"day": "2042-07-01", "at": "2042-07-01T10:00Z", "time": "10:00"},
    "d.wait": "PT90M",
    "e": "A",
    "arr": "[1, 2.5]",
    "j": '{"k": [1, null]}',
    "y": "when: 2042-07-01\nlist: [a]",
    "u": "https://example.com/x?y=1",
    "mail": "ann@example.com",
}


def test_validated_output_validates_to_itself():
    defs = inputs.parse_definitions(ALL_TYPES)
    first = inputs.validate(defs, ALL_VALUES)
    assert first["d"]["wait"] == "PT1H30M"
    assert first["m"] == ["B"]
    assert first["file"] is None
    assert json.loads(json.dumps(first)) == first
    assert inputs.validate(defs, first) == first


def test_schema_round_trips_through_parse_definitions():
    defs = inputs.parse_definitions(ALL_TYPES)
    schema = inputs.to_schema(defs)
    assert json.loads(json.dumps(schema)) == schema
    assert inputs.parse_definitions(schema) == defs
    assert schema[9]["type"] == "ENUM"
    assert schema[10]["defaults"] == ["B"]


def test_to_python_gives_python_values():
    defs = {d.id: d for d in inputs.parse_definitions(ALL_TYPES)}
    assert inputs.to_python(defs["d.day"], "2042-07-01") == dt.date(2042, 7, 1)
    at = inputs.to_python(defs["d.at"], "2042-07-01T10:00:00+00:00")
    assert at == dt.datetime(2042, 7, 1, 10, tzinfo=dt.UTC)
    assert inputs.to_python(defs["d.time"], "10:00:00") == dt.time(10)
    assert inputs.to_python(defs["d.wait"], "PT5M") == dt.timedelta(minutes=5)
    assert inputs.to_python(defs["i"], 4) == 4
    assert inputs.to_python(defs["i"], None) is None


def test_nest_and_flatten_are_inverse():
    flat = {"a.b": 1, "a.c.d": 2, "e": 3}
    assert inputs.nest(flat) == {"a": {"b": 1, "c": {"d": 2}}, "e": 3}
    assert inputs.flatten(inputs.nest(flat)) == flat


def test_nest_refuses_a_key_that_is_also_a_group():
    with pytest.raises(ValueError, match="conflicts"):
        inputs.nest({"a": 1, "a.b": 2})


def test_flatten_with_groups_only_unfolds_those():
    nested = {"req": {"body": {"k": 1}}, "cfg": {"k": 2}}
    assert inputs.flatten(nested, groups={"req"}) == {
        "req.body": {"k": 1},
        "cfg": {"k": 2},
    }


def test_label_uses_display_name_or_humanised_id():
    defs = inputs.parse_definitions(
        ALL_TYPES + [{"id": "r.start_date", "type": "DATE"}]
    )
    assert defs[9].label == "Pick"
    assert defs[-1].label == "Start date"


# -- definition errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "fragment"),
    [
        ({}, "input 'x': missing type; expected one of: ARRAY, BOOL, BOOLEAN"),
        ({"type": "STRNG"}, "input 'x': unknown type 'STRNG'; expected"),
        ({"type": "ENUM"}, "input 'x': ENUM needs a non-empty list"),
        ({"type": "MULTISELECT", "values": []}, "needs a non-empty list"),
        ({"type": "ENUM", "values": ["a", "a"]}, "duplicates"),
        ({"type": "STRING", "values": ["a"]}, "values are only allowed"),
        ({"type": "STRING", "validator": "[a-"}, "not a valid regular expression"),
        ({"type": "INT", "validator": "\\d+"}, "validator is only allowed"),
        ({"type": "INT", "min": 5, "max": 1}, "min 5 is greater than max 1"),
        ({"type": "DATE", "after": "2042-02-01", "before": "2042-01-01"}, "greater"),
        ({"type": "DATE", "min": "2042-01-01", "after": "2042-01-01"}, "either min"),
        ({"type": "STRING", "min": 1}, "min is only allowed on"),
        ({"type": "INT", "min": "three"}, "min 'three' is not valid: Enter a whole"),
        ({"type": "STRING", "itemType": "INT"}, "itemType is only allowed on ARRAY"),
        ({"type": "ARRAY", "itemType": "FILE"}, "itemType 'FILE' is not one of"),
        ({"type": "STRING", "required": "yes"}, "required must be true or false"),
        ({"type": "STRING", "description": 3}, "description must be text"),
        ({"type": "STRING", "colour": "red"}, "unknown property 'colour'; allowed:"),
        ({"type": "STRING", "default": "a"}, "(did you mean 'defaults'?)"),
        (
            {"type": "DATE", "defaults": "tomorrow"},
            "input 'x': the default 'tomorrow' is not valid: Enter a valid date",
        ),
        (
            {"type": "ENUM", "values": ["A"], "defaults": "B"},
            "the default 'B' is not valid: Select a valid choice",
        ),
        (
            {"type": "STRING", "validator": "a+", "defaults": "b"},
            "the default 'b' is not valid: Must match the pattern a+.",
        ),
        (
            {"type": "INT", "max": 3, "defaults": 4},
            "the default 4 is not valid: Must be at most 3.",
        ),
    ],
)
def test_definition_errors_name_the_input_and_the_problem(props, fragment):
    exc = definition_error([{"id": "x", **props}])
    assert fragment in str(exc)
    assert str(exc).startswith("input 'x': ")
    assert str(exc).endswith(".") and not str(exc).endswith("..")
    assert exc.input_id == "x"


def test_definitions_must_be_a_list_of_maps():
    assert "inputs must be a list of inputs, not a dict" in str(definition_error({}))
    assert "inputs[1] must be a map" in str(
        definition_error([{"id": "a", "type": "INT"}, "b"])
    )


@pytest.mark.parametrize("bad_id", ["1abc", "a..b", "a b", "a.", ".a", 3])
def test_invalid_ids_are_rejected(bad_id):
    exc = definition_error([{"id": bad_id, "type": "STRING"}])
    assert f"inputs[0] has an invalid id {bad_id!r}" in str(exc)


def test_missing_id_is_rejected():
    assert "inputs[0] has no id" in str(definition_error([{"type": "STRING"}]))


def test_duplicate_ids_are_rejected():
    exc = definition_error([{"id": "a", "type": "INT"}, {"id": "a", "type": "INT"}])
    assert str(exc) == "inputs: the id 'a' is used twice."


def test_an_id_cannot_also_be_a_group():
    raw = [{"id": "request", "type": "JSON"}, {"id": "request.name", "type": "STRING"}]
    exc = definition_error(raw)
    assert "'request' cannot be both an input and the group of 'request.name'" in str(
        exc
    )


def test_where_names_the_onresume_inputs():
    exc = definition_error(
        [{"id": "approved", "type": "BOOLEAN", "defaults": "maybe"}], where="onResume"
    )
    assert str(exc) == (
        "onResume input 'approved': the default 'maybe' is not valid: "
        "Enter true or false."
    )


def test_kestra_extras_are_ignored_and_name_is_an_alias_of_id():
    raw = [
        {"name": "old", "type": "string", "prefill": "x", "dependsOn": {"inputs": []}},
        {"id": "s", "type": "SELECT", "values": ["a"], "allowCustomValue": True},
    ]
    defs = inputs.parse_definitions(raw)
    assert [(d.id, d.type) for d in defs] == [("old", "STRING"), ("s", "ENUM")]
    assert inputs.parse_definitions(None) == []


# -- files ---------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_uploaded_file_is_stored_and_referenced(media):
    upload = SimpleUploadedFile("../my report.pdf", b"%PDF-data")
    value = inputs.validate(one("FILE"), {"x": upload})["x"]
    assert value.startswith("storage://inputs/")
    assert value.endswith("/my_report.pdf")
    saved = media / value.removeprefix("storage://")
    assert saved.read_bytes() == b"%PDF-data"
    assert inputs.validate(one("FILE"), {"x": value})["x"] == value


def test_upload_is_not_stored_when_other_fields_are_invalid(media):
    defs = inputs.parse_definitions(
        [{"id": "doc", "type": "FILE"}, {"id": "n", "type": "INT"}]
    )
    upload = SimpleUploadedFile("a.txt", b"x")
    with pytest.raises(InputValidationError) as caught:
        inputs.validate(defs, {"doc": upload, "n": "abc"})
    assert caught.value.errors == {"n": ["Enter a whole number."]}
    with pytest.raises(InputValidationError) as caught:
        inputs.validate(defs, {"doc": upload, "n": 1, "extra": 2})
    assert list(caught.value.errors) == ["extra"]
    assert list(media.iterdir()) == []
