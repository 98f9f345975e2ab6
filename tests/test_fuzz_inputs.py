"""flows.inputs.validate with every type, fed random values: an answer is either
stored as JSON any database holds, or refused with messages naming the field."""

import json
import os
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows import inputs
from flows.input_types import CONVERTERS

FUZZ = settings(
    # A longer hunt: SIGNOFF_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz_inputs.py
    max_examples=int(os.environ.get("SIGNOFF_FUZZ_EXAMPLES", 150)),
    deadline=timedelta(seconds=2),
    database=None,  # no .hypothesis/ folder in the work tree
    suppress_health_check=[HealthCheck.too_slow],
)

# Every type, and the options that change how a value is read.
EXTRA = {
    "ENUM": {"values": ["a", "b", "yes", "1"]},
    "MULTISELECT": {"values": ["a", "b", "yes", "1"]},
    "STRING": {"validator": "[a-z]*"},
}
BOUNDS = {
    "INT": (-5, 5),
    "FLOAT": (-0.5, 1e300),
    "DATE": ("2000-01-01", "2100-12-31"),
    "DATETIME": ("2000-01-01T00:00:00+00:00", "2100-01-01T00:00:00+00:00"),
    "TIME": ("08:00", "18:00"),
    "DURATION": ("PT1S", "P10D"),
}
DEFINITIONS = (
    [{"id": "field", "type": t, **EXTRA.get(t, {})} for t in sorted(CONVERTERS)]
    + [{"id": "field", "type": "ARRAY", "itemType": t} for t in ("INT", "DATE")]
    + [
        {"id": "field", "type": t, "min": lo, "max": hi}
        for t, (lo, hi) in BOUNDS.items()
    ]
    + [
        {"id": "field", "type": t, "required": False, **EXTRA.get(t, {})}
        for t in sorted(CONVERTERS)
    ]
)

# Text that hunts for trouble: NUL, lone surrogates, huge numbers, odd dates.
NASTY_TEXT = st.one_of(
    st.text(),
    # st.text never draws surrogates; mix them in by hand.
    st.lists(
        st.characters() | st.integers(0xD800, 0xDFFF).map(chr) | st.just("\x00"),
        max_size=20,
    ).map("".join),
    st.sampled_from(
        [
            "\x00",
            "\ud800",
            "a\udfffb",
            "9" * 401,
            "9" * 5000,
            "1e999",
            "-0",
            "nan",
            "inf",
            "9999-12-31",
            "0001-01-01",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+23:59",
            "24:00",
            "P99999999999999999999D",
            "PT99999999999999999999S",
            "P1W" * 50,
            "[" * 5000,
            "[" * 500 + "]" * 500,
            '{"a": "\\u0000"}',
            '["\\ud800"]',
            "a: &x [*x]",
            "yes",
            "storage://x",
            "mailto:a@b",
            "a@b.c\x00",
        ]
    ),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**450),
    st.floats(allow_nan=True, allow_infinity=True),
    NASTY_TEXT,
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(NASTY_TEXT, children, max_size=4),
    ),
    max_leaves=20,
)


def nested(depth: int):
    value = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def storable(result) -> None:
    """What validate returns goes into a jsonb column and onto pages."""
    text = json.dumps(result, allow_nan=False, ensure_ascii=False)
    text.encode("utf-8")  # a lone surrogate has no UTF-8 form
    assert not any("\x00" in s for s in strings(result))  # jsonb refuses NUL


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def refused_by_field(exc: inputs.InputValidationError, ids: set[str]) -> None:
    assert exc.errors and set(exc.errors) <= ids, exc.errors
    for messages in exc.errors.values():
        assert messages and all(isinstance(m, str) and m for m in messages)
        for message in messages:
            message.encode("utf-8")  # shown on a page: must have a UTF-8 form
            assert "\x00" not in message


@FUZZ
@given(definition=st.sampled_from(DEFINITIONS), value=VALUES)
def test_every_type_stores_json_or_names_the_field(definition, value):
    [defn] = inputs.parse_definitions([definition])
    try:
        result = inputs.validate([defn], {"field": value})
    except inputs.InputValidationError as exc:
        refused_by_field(exc, {"field"})
    else:
        storable(result)


@FUZZ
@given(
    definition=st.sampled_from(DEFINITIONS),
    depth=st.integers(min_value=90, max_value=3000),
)
def test_deep_values_are_refused_by_field(definition, depth):
    [defn] = inputs.parse_definitions([definition])
    for value in (nested(depth), "[" * depth + '"leaf"' + "]" * depth):
        try:
            result = inputs.validate([defn], {"field": value})
        except inputs.InputValidationError as exc:
            refused_by_field(exc, {"field"})
        else:
            storable(result)


@FUZZ
@given(data=st.dictionaries(NASTY_TEXT, VALUES, max_size=5) | VALUES)
def test_any_submission_to_nested_inputs_names_its_fields(data):
    defs = inputs.parse_definitions(
        [
            {"id": "request.name", "type": "STRING", "required": False},
            {"id": "request.days", "type": "INT", "required": False},
            {"id": "note", "type": "JSON", "required": False},
        ]
    )
    try:
        result = inputs.validate(defs, data)
    except inputs.InputValidationError as exc:
        keys = data if isinstance(data, dict) else {}
        ids = {"request.name", "request.days", "note", "request", "__all__"}
        refused_by_field(exc, ids | set(inputs.flatten(keys)) | set(keys))
    else:
        storable(result)
