"""Flows whose tasks are a tree: nested tasks are checked like top-level ones."""

import textwrap

import pytest

from flows.loader import FlowDefinitionError, iter_tasks, parse_flow


def problems_of(source: str) -> list[str]:
    with pytest.raises(FlowDefinitionError) as exc:
        parse_flow(textwrap.dedent(source), "flows/tree.yaml")
    return [str(p) for p in exc.value.problems]


def test_a_problem_deep_in_the_tree_names_its_line_and_task():
    problems = problems_of(
        """\
        id: tree
        namespace: ns
        tasks:
          - id: par
            type: Parallel
            tasks:
              - id: each
                type: ForEach
                values: [1, 2]
                tasks:
                  - id: route
                    type: If
                    condition: "{{ true }}"
                    then:
                      - id: deep
                        type: Retrn
        """
    )
    assert problems == [
        "flows/tree.yaml:16: task 'deep': unknown type 'Retrn' (did you mean 'Return'?)"
    ]


def test_flowable_properties_are_checked():
    problems = problems_of(
        """\
        id: tree
        namespace: ns
        tasks:
          - id: sw
            type: Switch
            value: "{{ inputs.x }}"
            cases: [not, a, mapping]
          - id: if
            type: If
            then: []
          - id: each
            type: ForEach
            values: 5
            tasks:
              - id: x
                type: Return
        """
    )
    assert problems == [
        "flows/tree.yaml:7: task 'sw': 'cases' must map each value to a list of "
        "tasks, not a list",
        "flows/tree.yaml:8: task 'if': missing required property 'condition'",
        "flows/tree.yaml:10: task 'if': 'then' must list at least one task",
        "flows/tree.yaml:11: task 'each': 'values' must be a list or an expression "
        "giving one",
    ]


def test_retry_policies_are_checked_where_they_are_written():
    problems = problems_of(
        """\
        id: tree
        namespace: ns
        tasks:
          - id: call
            type: Return
            retry:
              type: sometimes
              interval: soon
        """
    )
    assert problems == [
        "flows/tree.yaml:6: task 'call': retry 'type' must be one of constant, "
        "exponential, random",
        "flows/tree.yaml:6: task 'call': retry 'interval' must be an ISO 8601 duration",
        "flows/tree.yaml:6: task 'call': a retry needs 'maxAttempts', "
        "'maxDuration' or both",
    ]


def test_errors_and_finally_are_task_lists_at_flow_and_task_level():
    definition = parse_flow(
        textwrap.dedent(
            """\
            id: tree
            namespace: ns
            tasks:
              - id: group
                type: Sequential
                tasks:
                  - id: a
                    type: Return
                errors:
                  - id: b
                    type: Return
                finally:
                  - id: c
                    type: Return
            errors:
              - id: d
                type: Return
            finally:
              - id: e
                type: Return
            """
        )
    )
    walked = [t["id"] for t in iter_tasks(definition["tasks"])]
    assert walked == ["group", "a", "b", "c"]
    assert [t["id"] for t in definition["errors"]] == ["d"]
    assert [t["id"] for t in definition["finally"]] == ["e"]


def test_errors_on_a_task_that_holds_no_tasks_is_refused():
    problems = problems_of(
        """\
        id: tree
        namespace: ns
        tasks:
          - id: a
            type: Return
            errors:
              - id: b
                type: Return
        """
    )
    assert problems == [
        "flows/tree.yaml:6: task 'a': unknown property 'errors' for type Return"
    ]


def test_task_ids_are_unique_across_the_whole_tree():
    problems = problems_of(
        """\
        id: tree
        namespace: ns
        tasks:
          - id: a
            type: Sequential
            tasks:
              - id: a
                type: Return
        """
    )
    assert problems == [
        "flows/tree.yaml:7: task 'a': duplicate task id 'a' (first at line 4)"
    ]


def test_the_approval_task_checks_its_decisions():
    problems = problems_of(
        """\
        id: tree
        namespace: ns
        tasks:
          - id: sign
            type: Approval
            decisions: [only one]
            denyBehavior: EXPLODE
        """
    )
    assert problems == [
        "flows/tree.yaml:7: task 'sign': 'denyBehavior' must be one of CONTINUE, "
        "WARN, FAIL, SUCCEED, CANCEL, KILL, not 'EXPLODE'",
    ]
