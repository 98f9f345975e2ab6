"""flows.loader: parsing, validation with lines and task ids, revisions."""

import json
import textwrap
from pathlib import Path

import pytest

from flows import loader
from flows.loader import FlowDefinitionError, Problem, iter_tasks, parse_flow
from flows.models import Execution, Flow, FlowRevision, Tenant
from tests.dbutil import in_threads

EXAMPLES = Path(loader.__file__).resolve().parent / "examples"
PAUSE = "io.kestra.plugin.core.flow.Pause"
RETURN = "io.kestra.plugin.core.debug.Return"


def problems_of(source: str, filename: str = "flow.yaml") -> list[str]:
    with pytest.raises(FlowDefinitionError) as caught:
        parse_flow(textwrap.dedent(source), filename)
    assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
    return [str(p) for p in caught.value.problems]


def flow_with(tasks_yaml: str) -> str:
    return "id: f\nnamespace: ns\ntasks:\n" + textwrap.dedent(tasks_yaml)


def example(name: str) -> str:
    return (EXAMPLES / name).read_text()


# -- the Kestra examples --------------------------------------------------------


def test_examples_are_the_shared_files_unchanged():
    shared = Path("/work/shared/examples")
    if not shared.is_dir():
        pytest.skip("the shared examples folder is not on this machine")
    for path in shared.glob("*.yaml"):
        assert (EXAMPLES / path.name).read_text() == path.read_text()


def test_vacation_example_parses_to_canonical_json():
    definition = parse_flow(example("vacation_approval_process.yaml"))

    assert definition["id"] == "vacation_approval_process"
    assert definition["namespace"] == "company.team"
    types = [task["type"] for task in definition["tasks"]]
    assert types == [
        "io.kestra.plugin.notifications.slack.SlackIncomingWebhook",
        PAUSE,
        "io.kestra.plugin.core.http.Request",
        "io.kestra.plugin.core.log.Log",
    ]
    start = next(i for i in definition["inputs"] if i["id"] == "request.start_date")
    assert start["defaults"] == "2042-07-01"
    on_resume = definition["tasks"][1]["onResume"]
    assert [field["id"] for field in on_resume] == ["approved", "reason"]
    assert json.loads(json.dumps(definition)) == definition


def test_pause_warn_example_keeps_duration_and_behavior():
    pause = parse_flow(example("pause_warn.yaml"))["tasks"][0]
    assert pause == {
        "id": "pause",
        "type": PAUSE,
        "pauseDuration": "PT5M",
        "behavior": "WARN",
    }


def test_shell_example_is_refused_while_shell_tasks_are_disabled(settings):
    settings.SIGNOFF_SHELL_TASKS_ENABLED = False
    with pytest.raises(FlowDefinitionError) as caught:
        parse_flow(example("human_in_the_loop.yaml"), "human_in_the_loop.yaml")
    (problem,) = caught.value.problems
    assert (problem.line, problem.task_id) == (9, "run_post_approval")
    assert str(problem).startswith("human_in_the_loop.yaml:9: task 'run_post_approval'")
    assert "SIGNOFF_SHELL_TASKS_ENABLED" in problem.message


def test_shell_example_loads_when_shell_tasks_are_enabled(settings):
    settings.SIGNOFF_SHELL_TASKS_ENABLED = True
    definition = parse_flow(example("human_in_the_loop.yaml"))
    shell = definition["tasks"][2]
    assert shell["type"] == "io.kestra.plugin.scripts.shell.Commands"
    assert shell["commands"] == [
        'echo "Manual approval received! Continuing the execution..."'
    ]


# -- normalisation ----------------------------------------------------------------


def test_short_alias_is_stored_under_its_canonical_name():
    definition = parse_flow(flow_with("  - id: r\n    type: Return\n    format: 42\n"))
    assert definition["tasks"] == [{"id": "r", "type": RETURN, "format": "42"}]


def test_kestra_label_list_becomes_a_map_and_dates_become_text():
    definition = parse_flow(
        textwrap.dedent("""\
        id: f
        namespace: Company.Team
        description: Approvals
        labels:
          - key: team
            value: finance
          - key: level
            value: 2
        variables:
          since: 2042-07-01
        tasks:
          - id: r
            type: Return
        """)
    )
    assert definition["namespace"] == "Company.Team"
    assert definition["labels"] == {"team": "finance", "level": "2"}
    assert definition["variables"] == {"since": "2042-07-01"}
    assert definition["description"] == "Approvals"
    assert definition["disabled"] is False


def test_templated_duration_is_accepted_as_written():
    task = parse_flow(
        flow_with(
            "  - id: p\n    type: Pause\n    pauseDuration: '{{ inputs.wait }}'\n"
        )
    )["tasks"][0]
    assert task["pauseDuration"] == "{{ inputs.wait }}"


def test_nested_task_is_validated_and_walked_in_order():
    definition = parse_flow(
        flow_with("""\
          - id: p
            type: Pause
            onPause:
              id: notify
              type: Log
              message: waiting
          - id: after
            type: Return
        """)
    )
    assert definition["tasks"][0]["onPause"]["type"] == "io.kestra.plugin.core.log.Log"
    assert [t["id"] for t in iter_tasks(definition["tasks"])] == [
        "p",
        "notify",
        "after",
    ]


# -- problems ----------------------------------------------------------------------


def test_problem_reads_file_line_task_and_message():
    problem = Problem("flows/x.yaml", 12, "pause", "unknown type 'io.kestra.Nope'")
    assert (
        str(problem) == "flows/x.yaml:12: task 'pause': unknown type 'io.kestra.Nope'"
    )
    assert str(Problem("x.yaml", None, None, "empty")) == "x.yaml: empty"


def test_yaml_syntax_error_names_its_line():
    (problem,) = problems_of("id: f\nnamespace: ns\ntasks:\n  - id: a\n    type: [x\n")
    assert problem.startswith("flow.yaml:6: invalid YAML")


def test_bad_indentation_is_a_problem_not_a_traceback():
    (problem,) = problems_of("id: f\nnamespace: ns\n  tasks: x\n")
    assert problem.startswith("flow.yaml:3: invalid YAML: mapping values")


def test_empty_file_and_non_mapping_are_refused():
    assert problems_of("") == [
        "flow.yaml: the file is empty; a flow needs id, namespace and tasks"
    ]
    (problem,) = problems_of("- id: f\n")
    assert problem.startswith("flow.yaml:1: a flow must be a YAML mapping")


def test_recursive_alias_is_refused_without_recursing_forever():
    (problem,) = problems_of("id: f\nnamespace: ns\nx: &a [*a]\ntasks: []\n")
    assert "recursive alias" in problem


def test_alias_bomb_is_refused():
    lines = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    (problem,) = problems_of("\n".join(lines))
    assert "expands to more than" in problem


def test_missing_flow_id_and_invalid_namespace():
    problems = problems_of("namespace: 'bad ns'\ntasks:\n  - id: r\n    type: Return\n")
    assert problems == [
        "flow.yaml:1: missing 'id': the flow needs one",
        "flow.yaml:1: invalid namespace 'bad ns': use letters, digits, '.', '_' and "
        "'-', starting with a letter or digit, at most 150 characters",
    ]


def test_unsupported_and_unknown_top_level_keys_are_named():
    problems = problems_of(
        flow_with("  - id: r\n    type: Return\n")
        + "triggers:\n  - id: t\n    type: Schedule\ndescriptoin: x\n"
    )
    assert problems == [
        "flow.yaml:6: 'triggers' is not supported by Signoff yet",
        "flow.yaml:9: unknown top-level key 'descriptoin' "
        "(did you mean 'description'?)",
    ]


def test_tasks_must_be_a_non_empty_list():
    assert problems_of("id: f\nnamespace: ns\ntasks: []\n") == [
        "flow.yaml:3: 'tasks' must list at least one task"
    ]
    assert problems_of("id: f\nnamespace: ns\n") == [
        "flow.yaml:1: missing 'tasks': a flow needs at least one task"
    ]


def test_task_without_id_or_type():
    problems = problems_of(flow_with("  - type: Return\n  - id: t\n  - just text\n"))
    assert problems == [
        "flow.yaml:4: missing 'id': a task needs one",
        "flow.yaml:5: task 't': missing 'type'",
        "flow.yaml:6: a task must be a mapping with id and type, not 'just text'",
    ]


def test_invalid_task_id_is_named():
    (problem,) = problems_of(flow_with("  - id: 'bad id'\n    type: Return\n"))
    assert problem.startswith("flow.yaml:4: invalid id 'bad id': use letters")


def test_duplicate_task_id_anywhere_in_the_tree_names_the_first_line():
    problems = problems_of(
        flow_with("""\
          - id: p
            type: Pause
            onPause:
              id: ping
              type: Return
          - id: ping
            type: Return
        """)
    )
    assert problems == [
        "flow.yaml:9: task 'ping': duplicate task id 'ping' (first at line 7)"
    ]


def test_unknown_type_with_and_without_a_suggestion():
    problems = problems_of(
        flow_with("""\
          - id: pause
            type: io.kestra.Nope
          - id: wait
            type: io.kestra.plugin.core.flow.Paus
        """)
    )
    assert problems == [
        "flow.yaml:5: task 'pause': unknown type 'io.kestra.Nope'",
        f"flow.yaml:7: task 'wait': unknown type 'io.kestra.plugin.core.flow.Paus' "
        f"(did you mean '{PAUSE}'?)",
    ]


def test_unknown_property_names_the_type_and_the_key_line():
    problems = problems_of(
        flow_with("  - id: r\n    type: Return\n    format: x\n    foo: 1\n")
    )
    assert problems == ["flow.yaml:7: task 'r': unknown property 'foo' for type Return"]


def test_missing_required_property():
    (problem,) = problems_of(flow_with("  - id: log\n    type: Log\n"))
    assert problem == "flow.yaml:4: task 'log': missing required property 'message'"


def test_bad_duration_names_value_key_task_and_line():
    problems = problems_of(
        flow_with("  - id: pause\n    type: Pause\n    pauseDuration: PT5X\n")
    )
    assert problems == [
        "flow.yaml:6: task 'pause': bad ISO 8601 duration 'PT5X' for "
        "'pauseDuration' (e.g. PT5M, P1D)"
    ]


def test_common_timeout_must_be_a_duration():
    (problem,) = problems_of(
        flow_with("  - id: r\n    type: Return\n    timeout: 5 minutes\n")
    )
    assert problem.startswith(
        "flow.yaml:6: task 'r': bad ISO 8601 duration '5 minutes' for 'timeout'"
    )


def test_property_kinds_are_checked():
    problems = problems_of(
        flow_with("""\
          - id: pause
            type: Pause
            behavior: warn
            allowSelfApproval: maybe
            approvals: two
            assignees: alice
            delay: 300
          - id: call
            type: io.kestra.plugin.core.http.Request
            uri: http://example.test
            headers: none
        """)
    )
    assert problems == [
        "flow.yaml:6: task 'pause': 'behavior' must be one of RESUME, WARN, FAIL, "
        "CANCEL, not 'warn' (did you mean 'WARN'?)",
        "flow.yaml:7: task 'pause': 'allowSelfApproval' must be true or false, "
        "not 'maybe'",
        "flow.yaml:8: task 'pause': 'approvals' must be a whole number, not 'two'",
        "flow.yaml:9: task 'pause': 'assignees' must be a mapping with 'users' "
        "and/or 'groups', e.g. {groups: [managers]}, not 'alice'",
        "flow.yaml:10: task 'pause': 'delay' must be an ISO 8601 duration such as "
        "PT5M, not 300",
        "flow.yaml:14: task 'call': 'headers' must be a mapping, not 'none'",
    ]


def test_template_property_refuses_a_mapping():
    (problem,) = problems_of(
        flow_with("  - id: r\n    type: Return\n    format: {a: 1}\n")
    )
    assert problem == "flow.yaml:6: task 'r': 'format' must be text, not a mapping"


def test_type_check_problems_are_reported_on_the_task():
    (problem,) = problems_of(
        flow_with("  - id: p\n    type: Pause\n    approvals: 0\n")
    )
    assert problem == "flow.yaml:4: task 'p': 'approvals' must be at least 1"


def test_bad_on_resume_input_names_the_task_and_the_input_line():
    (problem,) = problems_of(
        flow_with("""\
          - id: wait
            type: Pause
            onResume:
              - id: ok
                type: BOOLEAN
              - id: size
                type: NUMBERISH
        """)
    )
    assert problem.startswith("flow.yaml:9: task 'wait': onResume input 'size'")


def test_bad_flow_input_names_its_line():
    source = "id: f\nnamespace: ns\ninputs:\n  - id: when\n    type: DATE\n"
    source += "    defaults: soon\ntasks:\n  - id: r\n    type: Return\n"
    (problem,) = problems_of(source)
    assert problem.startswith("flow.yaml:4: input 'when'")


def test_duplicate_yaml_key_is_reported():
    problems = problems_of(
        flow_with("  - id: r\n    type: Return\n    format: a\n    format: b\n")
    )
    assert problems == [
        "flow.yaml:7: task 'r': duplicate key 'format' (first at line 6)"
    ]


def test_every_problem_is_reported_together():
    problems = problems_of(
        """\
        id: f
        namespace: ns
        triggers: []
        tasks:
          - id: a
            type: Nope
          - id: b
            type: Pause
            pauseDuration: PT5X
            onPause:
              id: c
              type: Return
              colour: red
          - id: a
            type: Log
        """,
        "flows/many.yaml",
    )
    assert problems == [
        "flows/many.yaml:3: 'triggers' is not supported by Signoff yet",
        "flows/many.yaml:6: task 'a': unknown type 'Nope'",
        "flows/many.yaml:9: task 'b': bad ISO 8601 duration 'PT5X' for "
        "'pauseDuration' (e.g. PT5M, P1D)",
        "flows/many.yaml:13: task 'c': unknown property 'colour' for type Return",
        "flows/many.yaml:14: task 'a': duplicate task id 'a' (first at line 5)",
        "flows/many.yaml:14: task 'a': missing required property 'message'",
    ]


# -- saving and revisions -------------------------------------------------------------


@pytest.mark.django_db
def test_same_source_twice_keeps_revision_one(default_tenant):
    source = example("pause_warn.yaml")
    first = loader.load_flow(default_tenant, source)
    again = loader.load_flow(default_tenant, source + "\n# a comment only\n")

    assert first.created_revision and not again.created_revision
    assert again.revision.pk == first.revision.pk
    assert first.revision.revision == 1
    flow = Flow.objects.get(tenant=default_tenant, namespace="company.team")
    assert flow.flow_id == "pause_warn" and flow.latest_revision == 1
    assert first.revision.checksum == loader.checksum_of(first.revision.definition)
    assert FlowRevision.objects.filter(flow=flow).count() == 1


@pytest.mark.django_db
def test_changed_definition_makes_revision_two_and_executions_keep_theirs(
    default_tenant,
):
    source = example("pause_warn.yaml")
    first = loader.load_flow(default_tenant, source)
    execution = Execution.objects.create(
        tenant=default_tenant, flow=first.flow, revision=first.revision
    )
    second = loader.load_flow(default_tenant, source.replace("PT5M", "PT10M"))

    assert second.created_revision and second.revision.revision == 2
    assert second.flow.pk == first.flow.pk
    assert Flow.objects.get(pk=first.flow.pk).latest_revision == 2
    execution.refresh_from_db()
    assert execution.revision.revision == 1
    assert execution.revision.definition["tasks"][0]["pauseDuration"] == "PT5M"
    assert second.revision.definition["tasks"][0]["pauseDuration"] == "PT10M"
    assert execution.revision.source == source


@pytest.mark.django_db
def test_same_flow_in_two_tenants_is_two_flows(default_tenant):
    other = Tenant.objects.create(slug="other", name="Other")
    source = example("pause_warn.yaml")
    loader.load_flow(default_tenant, source)
    result = loader.load_flow(other, source)
    assert result.created_revision and result.revision.revision == 1
    assert Flow.objects.filter(flow_id="pause_warn").count() == 2


@pytest.mark.django_db
def test_invalid_flow_saves_nothing(default_tenant):
    with pytest.raises(FlowDefinitionError):
        loader.load_flow(default_tenant, flow_with("  - id: x\n    type: Nope\n"))
    assert not Flow.objects.exists()


@pytest.mark.django_db
def test_load_paths_reports_each_file_and_saves_the_valid_ones(
    default_tenant, tmp_path, settings
):
    settings.SIGNOFF_SHELL_TASKS_ENABLED = False
    nested = tmp_path / "nested"
    nested.mkdir()
    (nested / "b.yml").write_text(flow_with("  - id: r\n    type: Return\n"))
    (tmp_path / "a.yaml").write_text(flow_with("  - id: r\n    type: Nope\n"))
    (tmp_path / "notes.txt").write_text("not a flow")

    outcomes = loader.load_paths(default_tenant, [tmp_path])

    assert [path.name for path, _ in outcomes] == ["a.yaml", "b.yml"]
    assert isinstance(outcomes[0][1], FlowDefinitionError)
    assert str(outcomes[0][1]).startswith(f"{tmp_path / 'a.yaml'}:5: task 'r'")
    assert isinstance(outcomes[1][1], loader.LoadResult)
    assert Flow.objects.get().flow_id == "f"


@pytest.mark.django_db
def test_one_flow_in_two_files_is_refused(default_tenant, tmp_path):
    for name in ("one.yaml", "two.yaml"):
        (tmp_path / name).write_text(flow_with("  - id: r\n    type: Return\n"))
    outcomes = loader.load_paths(default_tenant, [tmp_path])
    error = outcomes[1][1]
    assert isinstance(error, FlowDefinitionError)
    assert f"flow ns.f is also defined in {tmp_path / 'one.yaml'}" in str(error)


@pytest.mark.django_db(transaction=True)
def test_concurrent_loaders_never_share_a_revision_number(default_tenant):
    tenant = default_tenant
    count = 8

    def load(i):
        source = flow_with(f"  - id: r\n    type: Return\n    format: v{i}\n")
        return loader.load_flow(tenant, source).revision.revision

    results = in_threads(count, load)
    assert sorted(results) == list(range(1, count + 1))
    flow = Flow.objects.get(tenant=tenant, flow_id="f")
    assert flow.latest_revision == count
