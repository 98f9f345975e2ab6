"""Rendered output is capped, and values past the cap are refused before they exist."""

import time
import tracemalloc

import pytest

from flows import engine
from flows.models import TaskRun
from flows.templating import RenderError, render_string


def render(text: str) -> str:
    return render_string(text, {"inputs": {"word": "ab"}})


def test_a_billion_character_repetition_fails_at_once_without_the_memory():
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(RenderError, match="SIGNOFF_MAX_RENDER_BYTES"):
            render("{{ 'a' * 10**9 }}")
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 0.5
    assert peak < 10_000_000  # a gigabyte string was never built


@pytest.mark.parametrize(
    "text",
    [
        "{{ 'a' * 1001 }}",
        "{{ 1001 * inputs.word }}",
        "{{ [0] * 2000 }}",
        "{{ 2 ** (10 ** 6) }}",
        "{% set x = 'a' * 600 %}{{ x + x }}",
        "{% set x = 'a' * 600 %}{{ x ~ x }}",
        "{% set x = 'a' * 600 %}{% set y = x ~ x %}ok",
        "{% for i in range(11) %}{{ 'a' * 100 }}{% endfor %}",
        "{% set x %}{% for i in range(11) %}{{ 'a' * 100 }}{% endfor %}{% endset %}",
        "{{ 'é' * 600 }}",  # 600 characters, 1200 bytes
    ],
)
def test_output_past_the_cap_is_refused_naming_the_setting(text, settings):
    settings.SIGNOFF_MAX_RENDER_BYTES = 1000
    with pytest.raises(RenderError, match=r"SIGNOFF_MAX_RENDER_BYTES \(1000\)"):
        render(text)


def test_output_up_to_the_cap_renders(settings):
    settings.SIGNOFF_MAX_RENDER_BYTES = 1000
    assert render("{{ 'a' * 1000 }}") == "a" * 1000
    assert render("{{ 'é' * 500 }}") == "é" * 500
    assert render("{{ inputs.word ~ '-' ~ 3 * 4 ~ '-' ~ 2 ** 10 }}") == "ab-12-1024"
    assert render("{{ [1, 2] + [3] }} {{ 'x' + 'y' }} {{ 1.5 * 2 }}") == (
        "[1, 2, 3] xy 3.0"
    )


def test_the_sandbox_still_refuses_huge_ranges():
    with pytest.raises(RenderError, match="Range too big"):
        render("{% for i in range(10**6) %}{% endfor %}")


def test_a_task_whose_output_is_too_large_fails_with_the_reason(
    make_flow, run_on_commit, settings
):
    settings.SIGNOFF_MAX_RENDER_BYTES = 1000
    flow = make_flow(
        "id: big\nnamespace: acme\ntasks:\n"
        "  - id: big\n    type: Return\n    format: \"{{ 'a' * 5000 }}\"\n"
    )
    execution = run_on_commit(engine.start_execution, flow, {})
    execution.refresh_from_db()
    run = TaskRun.objects.get(execution=execution)
    assert execution.state == "FAILED" and run.state == "FAILED"
    assert "SIGNOFF_MAX_RENDER_BYTES (1000)" in run.error
