"""Absent, empty and defaulted inputs in flows.inputs, the CLI and the timeout path.

An absent key takes its default; a key sent empty stays empty and is refused when
required. The API and web channels are in test_absent_empty_channels.py.
"""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from flows import inputs, screens, secrets
from flows.inputs import InputValidationError
from flows.models import Execution
from tests.input_cases import EACH_TYPE, REFUSED, definition, start_flow


def defs_for(case, **options):
    return inputs.parse_definitions([definition(case, **options)])


def refusal(defs, data) -> dict:
    with pytest.raises(InputValidationError) as caught:
        inputs.validate(defs, data)
    return caught.value.errors


# -- flows.inputs.validate, for each type ------------------------------------------


@EACH_TYPE
@pytest.mark.parametrize("required", [True, False], ids=["required", "optional"])
def test_absent_key_takes_the_default(case, required):
    defs = defs_for(case, required=required)
    assert inputs.validate(defs, {}) == {"x": case.stored}


@EACH_TYPE
def test_absent_required_key_without_default_is_refused(case):
    defs = defs_for(case, with_default=False)
    assert refusal(defs, {}) == {"x": [REFUSED]}


@EACH_TYPE
def test_absent_optional_key_without_default_is_null(case):
    defs = defs_for(case, required=False, with_default=False)
    assert inputs.validate(defs, {}) == {"x": None}


@EACH_TYPE
@pytest.mark.parametrize("empty", ["", None], ids=["blank", "null"])
def test_empty_required_value_is_refused_even_with_a_default(case, empty):
    assert refusal(defs_for(case), {"x": empty}) == {"x": [REFUSED]}


@EACH_TYPE
def test_blank_optional_value_is_stored_empty_not_as_the_default(case):
    defs = defs_for(case, required=False)
    assert inputs.validate(defs, {"x": ""}) == {"x": case.blank}


@EACH_TYPE
def test_null_optional_value_is_stored_as_null_not_as_the_default(case):
    defs = defs_for(case, required=False)
    assert inputs.validate(defs, {"x": None}) == {"x": None}


@EACH_TYPE
def test_given_value_is_kept_over_the_default(case):
    defs = defs_for(case, with_default=False)
    assert inputs.validate(defs, {"x": case.stored}) == {"x": case.stored}


@EACH_TYPE
@pytest.mark.parametrize("empty", ["", None], ids=["blank", "null"])
def test_stored_empty_value_validates_to_itself(case, empty):
    defs = defs_for(case, required=False)
    first = inputs.validate(defs, {"x": empty})
    assert inputs.validate(defs, first) == first


# -- what counts as empty -----------------------------------------------------------


MULTI = {"id": "x", "type": "MULTISELECT", "values": ["A", "B"], "defaults": ["B"]}


def test_multiselect_with_nothing_chosen_is_refused_when_required():
    defs = inputs.parse_definitions([MULTI])
    assert refusal(defs, {"x": []}) == {"x": [REFUSED]}


def test_multiselect_with_nothing_chosen_is_stored_as_an_empty_list():
    defs = inputs.parse_definitions([{**MULTI, "required": False}])
    assert inputs.validate(defs, {"x": []}) == {"x": []}


def test_an_empty_array_is_a_given_list_not_an_empty_value():
    defs = inputs.parse_definitions([{"id": "x", "type": "ARRAY", "defaults": [1]}])
    assert inputs.validate(defs, {"x": []}) == {"x": []}


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("BOOLEAN", False, False),
        ("INT", 0, 0),
        ("FLOAT", "0", 0.0),
        ("STRING", "0", "0"),
    ],
)
def test_false_and_zero_are_values_not_empty(kind, value, stored):
    defs = inputs.parse_definitions([{"id": "x", "type": kind, "defaults": 1}])
    assert inputs.validate(defs, {"x": value}) == {"x": stored}


def test_an_optional_blank_string_is_not_checked_against_the_validator():
    defs = inputs.parse_definitions(
        [{"id": "x", "type": "STRING", "validator": "[A-Z]+", "required": False}]
    )
    assert inputs.validate(defs, {"x": ""}) == {"x": ""}


def test_a_dotted_input_sent_empty_is_refused_by_its_id():
    defs = inputs.parse_definitions(
        [
            {"id": "request.name", "type": "STRING", "defaults": "Rick Astley"},
            {"id": "request.days", "type": "INT", "defaults": 3},
        ]
    )
    assert refusal(defs, {"request": {"name": ""}}) == {"request.name": [REFUSED]}
    assert inputs.validate(defs, {"request": {"days": 4}}) == {
        "request": {"name": "Rick Astley", "days": 4}
    }


def test_partial_validation_keeps_an_empty_required_value_without_refusing():
    defs = inputs.parse_definitions([{"id": "x", "type": "STRING", "defaults": "d"}])
    assert inputs.validate(defs, {"x": ""}, partial=True) == {"x": ""}


def test_the_vacation_reason_cleared_is_refused_not_stored_as_the_default():
    defs = inputs.parse_definitions(
        [{"id": "reason", "type": "STRING", "defaults": "Well-deserved vacation"}]
    )
    assert refusal(defs, {"reason": ""}) == {"reason": [REFUSED]}
    assert inputs.validate(defs, {}) == {"reason": "Well-deserved vacation"}


# -- what a web form's widgets send -------------------------------------------------


def test_web_form_keys_not_posted_are_absent_and_cleared_ones_are_empty():
    defs = inputs.parse_definitions(
        [
            {"id": "name", "type": "STRING", "defaults": "Rick Astley"},
            {"id": "note", "type": "STRING", "required": False},
            {"id": "ok", "type": "BOOLEAN", "defaults": True},
            {"id": "tags", "type": "MULTISELECT", "values": ["a"], "required": False},
        ]
    )
    sent = {"name": None, "note": "", "ok": False, "tags": []}
    assert inputs.from_web_form(defs, sent) == {"note": "", "ok": False, "tags": []}


def test_web_form_empty_secret_and_file_count_as_absent():
    defs = inputs.parse_definitions(
        [
            {"id": "key", "type": "SECRET", "defaults": "hunter2"},
            {"id": "doc", "type": "FILE", "defaults": "storage://inputs/plan.pdf"},
        ]
    )
    raw = inputs.from_web_form(defs, {"key": "", "doc": None})
    assert raw == {}
    assert inputs.validate(defs, raw) == {
        "key": "hunter2",
        "doc": "storage://inputs/plan.pdf",
    }
    assert inputs.from_web_form(defs, {"key": "typed"}) == {"key": "typed"}


# -- the timeout path still answers with the defaults ---------------------------


def test_timeout_answer_takes_every_default_and_null_for_the_rest():
    schema = [
        {"id": "reason", "type": "STRING", "defaults": "Well-deserved vacation"},
        {"id": "days", "type": "INT", "required": False},
        {"id": "tags", "type": "MULTISELECT", "values": ["a", "b"], "defaults": ["b"]},
    ]
    assert screens.timeout_response("form", schema) == {
        "reason": "Well-deserved vacation",
        "days": None,
        "tags": ["b"],
    }


# -- the CLI ----------------------------------------------------------------------

CLI_FLOW = """
id: leave
namespace: acme.hr
inputs:
  - id: name
    type: STRING
    defaults: Rick Astley
  - id: note
    type: STRING
    required: false
    defaults: nothing to add
  - id: days
    type: INT
    required: false
    defaults: 3
tasks:
  - id: wait
    type: Pause
    onResume:
      - id: reason
        type: STRING
        defaults: Well-deserved vacation
  - id: done
    type: Return
    format: "{{ outputs.wait.onResume.reason }}"
"""


def start_cli(*pairs, flow_id="leave", namespace="acme.hr") -> Execution:
    out = StringIO()
    args = ["startexecution", namespace, flow_id, "--tenant", "acme"]
    for pair in pairs:
        args += ["--input", pair]
    call_command(*args, stdout=out)
    return Execution.objects.get(pk=out.getvalue().strip().splitlines()[-1])


@pytest.fixture
def cli_flow(make_flow):
    return make_flow(CLI_FLOW)


def test_startexecution_input_given_as_nothing_is_empty_not_the_default(cli_flow):
    execution = start_cli("name=Ada", "note=", "days=")
    assert execution.inputs == {"name": "Ada", "note": "", "days": None}


def test_startexecution_refuses_a_required_input_given_as_nothing(cli_flow):
    with pytest.raises(CommandError) as raised:
        start_cli("name=")
    assert f"name: {REFUSED}" in str(raised.value)
    assert not Execution.objects.exists()


def test_startexecution_inputs_left_out_take_their_defaults(cli_flow):
    execution = start_cli()
    assert execution.inputs == {
        "name": "Rick Astley",
        "note": "nothing to add",
        "days": 3,
    }


@EACH_TYPE
def test_startexecution_empty_input_of_each_type_is_empty(case, make_flow):
    make_flow(start_flow(case, required=False))
    execution = start_cli("x=", flow_id="absent", namespace="acme.empty")
    assert secrets.reveal(execution.inputs) == {"x": case.blank}


def resume_cli(execution, data: dict) -> None:
    call_command("resume", str(execution.pk), "--data", json.dumps(data))


def test_cli_resume_with_a_blank_reason_is_refused(cli_flow, run_on_commit):
    execution = run_on_commit(start_cli)
    with pytest.raises(CommandError) as raised:
        resume_cli(execution, {"reason": ""})
    assert f"reason: {REFUSED}" in str(raised.value)
    assert execution.tokens.get().state == "WAITING"


def test_cli_resume_without_the_reason_takes_the_default(cli_flow, run_on_commit):
    execution = run_on_commit(start_cli)
    run_on_commit(resume_cli, execution, {})
    token = execution.tokens.get()
    assert token.state == "RESUMED"
    assert token.response == {"reason": "Well-deserved vacation"}
