"""The engine walks a task tree: If, Switch, Sequential, Parallel, ForEach, nesting."""

import pytest

from flows import engine
from flows.models import Execution, SuspensionToken, TaskRun

E, T, S = Execution.State, TaskRun.State, SuspensionToken.State


@pytest.fixture
def start(make_flow, run_on_commit):
    """Load a flow and run it in-process until it pauses or ends."""

    def run(source, data=None):
        execution = run_on_commit(engine.start_execution, make_flow(source), data or {})
        execution.refresh_from_db()
        return execution

    return run


def runs_of(execution) -> dict[str, TaskRun]:
    return {run.path: run for run in TaskRun.objects.filter(execution=execution)}


def answer(token, run_on_commit, data=None):
    run_on_commit(engine.resume, token, data or {})
    token.execution.refresh_from_db()
    return token.execution


IF_FLOW = """
id: branch
namespace: acme.tree
inputs:
  - id: paid
    type: BOOLEAN
tasks:
  - id: route
    type: io.kestra.plugin.core.flow.If
    condition: "{{ inputs.paid }}"
    then:
      - id: paid
        type: Return
        format: thanks
    else:
      - id: unpaid
        type: Return
        format: reminder
  - id: after
    type: Return
    format: >-
      {{ outputs.paid.value if outputs.paid is defined else outputs.unpaid.value }}
"""


@pytest.mark.parametrize(
    ("paid", "branch", "value"), [(True, "then", "thanks"), (False, "else", "reminder")]
)
def test_if_runs_the_branch_its_condition_picks(start, paid, branch, value):
    execution = start(IF_FLOW, {"paid": paid})
    runs = runs_of(execution)
    assert execution.state == E.SUCCESS
    child = runs[f"route.{branch}.{'paid' if paid else 'unpaid'}"]
    assert child.parent_id == runs["route"].pk and child.branch == branch
    assert runs["route"].state == T.SUCCESS and runs["route"].outputs["result"] is paid
    assert len(runs) == 3 and runs["after"].outputs == {"value": value}


SWITCH_FLOW = """
id: switch
namespace: acme.tree
inputs:
  - id: colour
    type: STRING
tasks:
  - id: pick
    type: Switch
    value: "{{ inputs.colour }}"
    cases:
      red:
        - id: stop
          type: Return
          format: stop
      green:
        - id: go
          type: Return
          format: go
    defaults:
      - id: wait
        type: Return
        format: wait
"""


@pytest.mark.parametrize(
    ("colour", "path"),
    [
        ("red", "pick.red.stop"),
        ("green", "pick.green.go"),
        ("blue", "pick.defaults.wait"),
    ],
)
def test_switch_runs_the_matching_case_or_the_defaults(start, colour, path):
    execution = start(SWITCH_FLOW, {"colour": colour})
    runs = runs_of(execution)
    assert execution.state == E.SUCCESS
    assert set(runs) == {"pick", path}
    assert runs["pick"].outputs == {"value": colour, "defaults": colour == "blue"}


PARALLEL_FLOW = """
id: parallel
namespace: acme.tree
tasks:
  - id: both
    type: Parallel
    tasks:
      - id: left
        type: Sequential
        tasks:
          - id: l1
            type: Return
            format: l1
          - id: l2
            type: Return
            format: "{{ outputs.l1.value }}-l2"
      - id: right
        type: Return
        format: right
  - id: joined
    type: Return
    format: "{{ outputs.l2.value }}+{{ outputs.right.value }}"
"""


def test_parallel_runs_every_lane_and_settles_after_the_last(start):
    execution = start(PARALLEL_FLOW)
    runs = runs_of(execution)
    assert execution.state == E.SUCCESS
    assert runs["both.left.l2"].outputs == {"value": "l1-l2"}
    assert runs["both"].state == T.SUCCESS
    assert runs["both"].ended_at >= runs["both.left.l2"].ended_at
    assert runs["joined"].outputs == {"value": "l1-l2+right"}


FOREACH_FLOW = """
id: each
namespace: acme.tree
tasks:
  - id: each
    type: ForEach
    values: ["a", "b", {"k": 1}]
    concurrencyLimit: 0
    tasks:
      - id: shout
        type: Return
        format: "{{ taskrun.value }}!"
  - id: after
    type: Return
    format: "{{ outputs.shout['b'].value }}"
"""


def test_foreach_runs_once_per_value_with_taskrun_value(start):
    execution = start(FOREACH_FLOW)
    runs = runs_of(execution)
    assert execution.state == E.SUCCESS
    assert runs["each.0.shout"].outputs == {"value": "a!"}
    assert runs["each.2.shout"].outputs == {"value": '{"k": 1}!'}
    assert runs["each.1.shout"].loop == ["b"]
    assert runs["after"].outputs == {"value": "b!"}


def test_foreach_values_may_come_from_an_expression(start):
    source = FOREACH_FLOW.replace(
        'values: ["a", "b", {"k": 1}]', "values: \"{{ ['x', 'b'] | tojson }}\""
    )
    execution = start(source)
    runs = runs_of(execution)
    assert execution.state == E.SUCCESS
    assert runs["each.0.shout"].outputs == {"value": "x!"}


def test_foreach_values_that_are_not_a_list_fail_the_task(start):
    execution = start(FOREACH_FLOW.replace('["a", "b", {"k": 1}]', '"{{ 5 }}"'))
    runs = runs_of(execution)
    assert execution.state == E.FAILED
    assert runs["each"].state == T.FAILED and "list" in runs["each"].error


NESTED = """
id: nested
namespace: acme.tree
tasks:
  - id: par
    type: Parallel
    tasks:
      - id: each
        type: ForEach
        values: ["x", "y"]
        tasks:
          - id: check
            type: If
            condition: "{{ taskrun.value == 'y' }}"
            then:
              - id: ask
                type: Pause
                onResume:
                  - id: ok
                    type: BOOLEAN
      - id: other
        type: Pause
  - id: done
    type: Return
    format: "{{ outputs.ask['y'].onResume.ok }}"
"""


def test_pauses_inside_nested_flowables_wait_together(start, run_on_commit):
    execution = start(NESTED)
    assert execution.state == E.PAUSED
    waiting = SuspensionToken.objects.filter(execution=execution, state=S.WAITING)
    paths = sorted(token.task_run.path for token in waiting)
    assert paths == ["par.each.1.check.then.ask", "par.other"]
    runs = runs_of(execution)
    assert runs["par.each.0.check"].state == T.SUCCESS  # 'x' took the else branch
    with pytest.raises(engine.SeveralWaiting) as refused:
        engine.token_for(execution.pk)
    assert len(refused.value.tokens) == 2
    ask = waiting.get(task_run__path="par.each.1.check.then.ask")
    assert answer(ask, run_on_commit, {"ok": True}).state == E.PAUSED
    other = SuspensionToken.objects.get(execution=execution, state=S.WAITING)
    assert engine.token_for(execution.pk) == other
    assert answer(other, run_on_commit).state == E.SUCCESS
    assert runs_of(execution)["done"].outputs == {"value": "True"}


def test_foreach_concurrency_limit_runs_lanes_one_at_a_time(start, run_on_commit):
    source = """
    id: one_by_one
    namespace: acme.tree
    tasks:
      - id: each
        type: ForEach
        values: [1, 2, 3]
        tasks:
          - id: ask
            type: Pause
    """
    execution = start(source)
    for expected in range(3):
        token = SuspensionToken.objects.get(execution=execution, state=S.WAITING)
        assert token.task_run.path == f"each.{expected}.ask"
        answer(token, run_on_commit)
    execution.refresh_from_db()
    assert execution.state == E.SUCCESS


FAILING_DEEP = """
id: deep
namespace: acme.tree
tasks:
  - id: outer
    type: Sequential
    tasks:
      - id: inner
        type: Sequential
        tasks:
          - id: boom
            type: Fail
            errorMessage: broken
          - id: never
            type: Return
            format: never
    errors:
      - id: handle
        type: Return
        format: "handled"
    finally:
      - id: tidy
        type: Return
        format: tidy
  - id: skipped_after_failure
    type: Return
    format: no
errors:
  - id: flow_handler
    type: Log
    message: "flow failed"
finally:
  - id: flow_finally
    type: Log
    message: "always"
"""


def test_errors_two_levels_down_go_to_the_nearest_handler_then_up(start):
    execution = start(FAILING_DEEP)
    runs = runs_of(execution)
    assert execution.state == E.FAILED
    assert runs["outer.inner.boom"].error == "broken"
    assert "outer.inner.never" not in runs
    assert runs["outer.inner"].state == T.FAILED
    assert runs["outer.errors.handle"].state == T.SUCCESS
    assert runs["outer.finally.tidy"].state == T.SUCCESS
    assert runs["outer"].state == T.FAILED  # handled, but still a failure (Kestra)
    assert "skipped_after_failure" not in runs
    assert runs["errors.flow_handler"].state == T.SUCCESS
    assert runs["finally.flow_finally"].state == T.SUCCESS
    handled = runs["outer.errors.handle"].ended_at
    assert handled <= runs["errors.flow_handler"].ended_at


def test_allow_failure_on_a_flowable_ends_it_warning_and_goes_on(start):
    source = FAILING_DEEP.replace(
        "  - id: outer\n    type: Sequential\n",
        "  - id: outer\n    type: Sequential\n    allowFailure: true\n",
    )
    execution = start(source)
    runs = runs_of(execution)
    assert runs["outer"].state == T.WARNING
    assert runs["skipped_after_failure"].state == T.SUCCESS
    assert "errors.flow_handler" not in runs
    assert execution.state == E.WARNING


def test_allow_failure_on_a_task_keeps_its_error_and_goes_on(start):
    source = """
    id: tolerant
    namespace: acme.tree
    tasks:
      - id: flaky
        type: Fail
        errorMessage: nope
        allowFailure: true
      - id: next
        type: Return
        format: went on
    """
    execution = start(source)
    runs = runs_of(execution)
    assert runs["flaky"].state == T.WARNING and runs["flaky"].error == "nope"
    assert runs["next"].state == T.SUCCESS
    assert execution.state == E.WARNING


def test_run_if_false_skips_the_task(start):
    source = """
    id: conditional
    namespace: acme.tree
    inputs:
      - id: go
        type: BOOLEAN
    tasks:
      - id: maybe
        type: Return
        format: ran
        runIf: "{{ inputs.go }}"
      - id: after
        type: Return
        format: "{{ outputs.maybe is defined }}"
    """
    skipped = start(source, {"go": False})
    runs = runs_of(skipped)
    assert (
        runs["maybe"].state == T.SKIPPED and runs["after"].outputs["value"] == "False"
    )
    assert skipped.state == E.SUCCESS
    ran = runs_of(start(source, {"go": True}))
    assert ran["maybe"].state == T.SUCCESS and ran["after"].outputs["value"] == "True"


def test_finally_runs_after_a_cancel(start, run_on_commit):
    source = """
    id: cancellable
    namespace: acme.tree
    tasks:
      - id: wait
        type: Pause
      - id: after
        type: Return
        format: never
    finally:
      - id: cleanup
        type: Return
        format: cleaned
    """
    execution = start(source)
    assert execution.state == E.PAUSED
    assert run_on_commit(engine.cancel, execution.pk)
    execution.refresh_from_db()
    runs = runs_of(execution)
    assert execution.state == E.CANCELLED
    assert runs["wait"].state == T.CANCELLED and "after" not in runs
    assert runs["finally.cleanup"].outputs == {"value": "cleaned"}
    token = SuspensionToken.objects.get(execution=execution)
    assert token.state == S.CANCELLED
    assert not run_on_commit(engine.cancel, execution.pk)  # already over


def test_disabled_tasks_are_passed_over(start):
    source = """
    id: disabled
    namespace: acme.tree
    tasks:
      - id: group
        type: Sequential
        tasks:
          - id: off
            type: Fail
            disabled: true
          - id: on
            type: Return
            format: ran
    """
    execution = start(source)
    assert execution.state == E.SUCCESS
    assert set(runs_of(execution)) == {"group", "group.on"}


def test_a_bad_condition_fails_the_if_with_the_render_error(start):
    execution = start(
        IF_FLOW.replace("{{ inputs.paid }}", "{{ inputs.nope }}"), {"paid": True}
    )
    runs = runs_of(execution)
    assert execution.state == E.FAILED
    assert runs["route"].state == T.FAILED and "nope" in runs["route"].error


def test_allow_warning_turns_a_warning_into_a_success(start):
    source = """
    id: tolerant
    namespace: acme.tree
    tasks:
      - id: flaky
        type: Fail
        allowFailure: true
        allowWarning: true
    """
    execution = start(source)
    flaky = runs_of(execution)["flaky"]
    assert flaky.state == T.SUCCESS and flaky.error == "Task failure"
    assert execution.state == E.SUCCESS


PAUSE_INSIDE = {
    "If": ("condition: 'yes'\n    then:", "wrap.then.ask"),
    "Switch": ("value: a\n    cases:\n      a:", "wrap.a.ask"),
    "Sequential": ("tasks:", "wrap.ask"),
    "Parallel": ("tasks:", "wrap.ask"),
    "ForEach": ("values: [one]\n    tasks:", "wrap.0.ask"),
}


@pytest.mark.parametrize("kind", PAUSE_INSIDE)
def test_a_pause_inside_each_flowable_waits_and_resumes(start, run_on_commit, kind):
    header, path = PAUSE_INSIDE[kind]
    indent = "      " if kind == "Switch" else "    "
    source = f"""
id: inside
namespace: acme.tree
tasks:
  - id: wrap
    type: {kind}
    {header}
{indent}  - id: ask
{indent}    type: Pause
  - id: after
    type: Return
    format: after
"""
    execution = start(source)
    token = SuspensionToken.objects.get(execution=execution)
    assert execution.state == E.PAUSED and token.task_run.path == path
    assert runs_of(execution)["wrap"].state == T.RUNNING
    assert answer(token, run_on_commit).state == E.SUCCESS
    runs = runs_of(execution)
    assert runs["wrap"].state == T.SUCCESS and runs["after"].state == T.SUCCESS
