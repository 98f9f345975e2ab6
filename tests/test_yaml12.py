"""flows.yaml_lines reads YAML 1.2 (core schema), as Kestra does."""

import textwrap
import time

import pytest

from flows import input_types, inputs, yaml_lines
from flows.loader import FlowDefinitionError, parse_flow


def load(source: str):
    return yaml_lines.load(textwrap.dedent(source))


def problems_of(source: str) -> list[str]:
    with pytest.raises(FlowDefinitionError) as caught:
        parse_flow(textwrap.dedent(source), "flow.yaml")
    return [str(p) for p in caught.value.problems]


def invalid(source: str) -> yaml_lines.InvalidYAML:
    with pytest.raises(yaml_lines.InvalidYAML) as caught:
        yaml_lines.load(source)
    return caught.value


def lol_bomb() -> str:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


FLOW_WITH_INPUTS = """\
    id: f
    namespace: ns
    inputs:
    {inputs}
    tasks:
      - id: r
        type: Return
    """


def flow_inputs(inputs_yaml: str) -> list[inputs.InputDef]:
    indented = textwrap.indent(textwrap.dedent(inputs_yaml), "  ")
    source = textwrap.dedent(FLOW_WITH_INPUTS).replace("{inputs}\n", indented)
    return inputs.parse_definitions(parse_flow(source)["inputs"])


# -- scalars ----------------------------------------------------------------------


def test_yes_and_no_in_values_stay_text():
    assert load("values: [yes, no]")["values"] == ["yes", "no"]


def test_country_code_no_stays_text():
    assert load("values: [NO, SE, DK]")["values"] == ["NO", "SE", "DK"]


def test_off_as_a_default_stays_text():
    assert load("defaults: off")["defaults"] == "off"


def test_on_as_an_id_stays_text():
    assert load("- id: on")[0]["id"] == "on"


def test_time_is_text_not_a_sexagesimal_number():
    assert load("defaults: 10:30")["defaults"] == "10:30"


def test_true_and_false_stay_booleans_in_every_spelling():
    data = load("a: [true, True, TRUE]\nb: [false, False, FALSE]\n")
    assert data == {"a": [True, True, True], "b": [False, False, False]}
    assert all(type(v) is bool for v in data["a"] + data["b"])


def test_nulls_and_numbers_follow_the_core_schema():
    data = load(
        "v: [null, Null, ~, 12, -3, 012, 0o17, 0x1F, 1.5, 1e3, .inf, 1_000]\ne:"
    )
    assert data["e"] is None
    assert data["v"][:3] == [None, None, None]
    assert data["v"][3:11] == [12, -3, 12, 15, 31, 1.5, 1000.0, float("inf")]
    assert data["v"][11] == "1_000"  # underscores in numbers are YAML 1.1


def test_a_yaml_1_1_directive_does_not_bring_back_yaml_1_1():
    assert load("%YAML 1.1\n---\na: yes\n") == {"a": "yes"}


def test_date_looking_default_stays_text_and_validates_as_a_date():
    assert load("defaults: 2042-07-01")["defaults"] == "2042-07-01"
    (start,) = flow_inputs("- {id: start, type: DATE, defaults: 2042-07-01}\n")
    assert inputs.validate([start], {}) == {"start": "2042-07-01"}
    assert inputs.validate([start], {"start": "2042-08-01"}) == {"start": "2042-08-01"}


def test_bad_date_default_is_still_refused_as_a_date():
    source = (
        "id: f\nnamespace: ns\ninputs:\n  - {id: d, type: DATE, defaults: 2042-13-45}"
    )
    (problem,) = problems_of(source + "\ntasks:\n  - id: r\n    type: Return\n")
    assert problem.startswith("flow.yaml:4: input 'd': the default '2042-13-45'")


def test_enum_of_yes_and_no_loads_and_accepts_yes():
    (pick,) = flow_inputs("- id: pick\n  type: ENUM\n  values: [yes, no]\n")
    assert pick.values == ("yes", "no")
    assert inputs.validate([pick], {"pick": "yes"}) == {"pick": "yes"}
    with pytest.raises(inputs.InputValidationError):
        inputs.validate([pick], {"pick": "true"})


# -- mappings -----------------------------------------------------------------------


def test_duplicate_keys_are_recorded_with_both_lines():
    data = load("a: 1\nb: 2\na: 3\n")
    assert data.duplicates == [("a", 1, 3)]
    assert data.line_of("a") == 1


def test_duplicate_key_in_a_flow_is_a_problem_with_both_lines():
    problems = problems_of("id: f\nnamespace: ns\nid: g\ntasks: []\n")
    assert "flow.yaml:3: duplicate key 'id' (first at line 1)" in problems


def test_merge_keys_merge_and_own_keys_win():
    data = load("""\
        base: &base
          x: 1
          y: 2
        task:
          <<: *base
          y: 3
        """)
    assert data["task"] == {"x": 1, "y": 3}
    assert data["task"].line_of("x") == 2  # where the merged key is written
    assert data["task"].duplicates == []


def test_merge_bomb_stays_as_small_as_its_keys():
    lines = ["a: &a {k: 1}"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        sources = ", ".join([f"*{prev}"] * 9)
        lines.append(f"{name}: &{name} {{<<: [{sources}], {name}: 1}}")
    started = time.perf_counter()
    data = yaml_lines.load("\n".join(lines))
    assert time.perf_counter() - started < 2
    assert len(data["i"]) == 9
    assert yaml_lines.check_size(data) is None


def test_mapping_merging_itself_is_an_error_not_a_hang():
    problem = invalid("t: &t {<<: *t}\n")
    assert problem.problem == "a mapping merges itself (a recursive alias)"
    assert problem.line == 1


# -- refusals -----------------------------------------------------------------------


def test_alias_bomb_is_refused_quickly():
    started = time.perf_counter()
    data = yaml_lines.load(lol_bomb())
    too_big = yaml_lines.check_size(data)
    assert time.perf_counter() - started < 2
    assert too_big == f"the document expands to more than {yaml_lines.MAX_NODES} values"


def test_alias_bomb_in_a_flow_is_one_clear_problem():
    assert problems_of(lol_bomb()) == [
        f"flow.yaml: the document expands to more than {yaml_lines.MAX_NODES} values"
    ]


def test_yaml_syntax_error_names_the_line():
    source = "id: f\nnamespace: ns\ntasks:\n  - id: a\n    type: Return\n   bad: [x\n"
    (problem,) = problems_of(source)
    assert problem.startswith("flow.yaml:6: invalid YAML: ")


def test_raw_nul_character_is_a_message_with_its_line():
    (problem,) = problems_of("id: f\nnamespace: ns\ndescription: a\0b\ntasks: []\n")
    assert problem == (
        "flow.yaml:3: invalid YAML: unacceptable character #x0000: "
        "special characters are not allowed"
    )


def test_escaped_nul_character_is_a_message_with_its_line():
    (problem,) = problems_of('id: f\nnamespace: ns\ndescription: "a\\0b"\ntasks: []\n')
    assert problem == "flow.yaml:3: invalid YAML: NUL characters (\\0) are not allowed"


def test_invalid_escape_is_a_message_with_its_line():
    (problem,) = problems_of('id: f\nnamespace: ns\ndescription: "a\\qb"\ntasks: []\n')
    assert problem.startswith(
        "flow.yaml:3: invalid YAML: found unknown escape character 'q'"
    )


def test_too_deep_nesting_is_refused_by_the_parser_with_its_line():
    problem = invalid("a: 1\nb: " + "[" * 5000 + "]" * 5000 + "\n")
    assert problem.problem == "the document is nested more than 100 levels deep"
    assert problem.line == 2


def test_python_tags_are_refused():
    problem = invalid("a: !!python/object/apply:os.system [echo hi]\n")
    assert "could not determine a constructor" in problem.problem


# -- YAML input values --------------------------------------------------------------


def test_yaml_input_value_is_read_as_yaml_1_2_into_plain_containers():
    value = input_types.to_yaml("answer: yes\nat: 10:30\nitems: [on, off]\n")
    assert value == {"answer": "yes", "at": "10:30", "items": ["on", "off"]}
    assert type(value) is dict
    assert type(value["items"]) is list


def test_yaml_input_alias_bomb_is_refused():
    with pytest.raises(ValueError, match="Enter valid YAML: the document expands"):
        input_types.to_yaml(lol_bomb())


def test_yaml_input_duplicate_key_is_refused():
    with pytest.raises(ValueError, match=r"duplicate key 'a' \(lines 1 and 2\)"):
        input_types.to_yaml("a: 1\na: 2\n")
