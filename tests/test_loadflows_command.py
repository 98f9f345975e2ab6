"""manage.py loadflows: all files or none, one line per flow, errors to stderr."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from flows import loader
from flows.models import Flow, FlowRevision, Tenant

EXAMPLES = Path(loader.__file__).resolve().parent / "examples"
VALID = "id: other\nnamespace: ns\ntasks:\n  - id: r\n    type: Return\n"


def loadflows(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("loadflows", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_loads_the_examples_folder_and_prints_one_line_per_flow(settings):
    settings.SIGNOFF_SHELL_TASKS_ENABLED = True
    out, _ = loadflows(EXAMPLES)
    assert out.splitlines() == [
        "company.finance.expense_approval revision 1",
        "company.team.human_in_the_loop revision 1",
        "company.team.pause_warn revision 1",
        "company.people.policy_acknowledgement revision 1",
        "company.engineering.release_signoff revision 1",
        "company.team.vacation_approval_process revision 1",
        "company.team.vacation_request_branching revision 1",
    ]
    tenant = Tenant.objects.get(slug="default")  # created by a migration
    assert tenant.flows.count() == 7


@pytest.mark.django_db
def test_second_load_says_unchanged_and_a_change_makes_revision_two(tmp_path):
    path = tmp_path / "flow.yaml"
    path.write_text(VALID)
    loadflows(path)
    out, _ = loadflows(path)
    assert out == "ns.other revision 1 (unchanged)\n"

    path.write_text(VALID + "    format: changed\n")
    out, _ = loadflows(path)
    assert out == "ns.other revision 2\n"
    assert FlowRevision.objects.filter(flow__flow_id="other").count() == 2


@pytest.mark.django_db
def test_an_invalid_file_saves_nothing_and_names_the_file(settings, tmp_path):
    settings.SIGNOFF_SHELL_TASKS_ENABLED = False
    valid = tmp_path / "valid.yaml"
    valid.write_text(VALID)
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 of 2 flow files are invalid"):
        call_command(
            "loadflows",
            str(valid),
            str(EXAMPLES / "human_in_the_loop.yaml"),
            stdout=out,
            stderr=err,
        )
    assert f"{EXAMPLES / 'human_in_the_loop.yaml'}:9: task 'run_post_approval'" in (
        err.getvalue()
    )
    assert out.getvalue() == ""
    assert not Flow.objects.exists()


@pytest.mark.django_db
def test_every_problem_of_every_file_goes_to_stderr(tmp_path):
    (tmp_path / "a.yaml").write_text("id: a\nnamespace: ns\ntasks: [\n")
    (tmp_path / "b.yaml").write_text(
        "id: b\nnamespace: ns\ntasks:\n  - id: x\n    type: Nope\n  - id: y\n"
    )
    err = StringIO()
    with pytest.raises(CommandError, match="2 of 2 flow files are invalid"):
        call_command("loadflows", str(tmp_path), stdout=StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[0].startswith(f"{tmp_path / 'a.yaml'}:4: invalid YAML")
    assert lines[1:] == [
        f"{tmp_path / 'b.yaml'}:5: task 'x': unknown type 'Nope'",
        f"{tmp_path / 'b.yaml'}:6: task 'y': missing 'type'",
    ]


@pytest.mark.django_db
def test_tenant_option_and_unknown_tenant(tmp_path):
    path = tmp_path / "flow.yaml"
    path.write_text(VALID)
    Tenant.objects.create(slug="acme", name="Acme")

    loadflows("--tenant", "acme", path)
    assert Flow.objects.get().tenant.slug == "acme"
    with pytest.raises(CommandError, match="No tenant 'nobody'"):
        loadflows("--tenant", "nobody", path)


@pytest.mark.django_db
def test_missing_path_and_empty_folder_are_clear_errors(tmp_path):
    with pytest.raises(CommandError, match="No such file or directory: '.*nope.yaml'"):
        loadflows(tmp_path / "nope.yaml")
    with pytest.raises(CommandError, match=r"No \*\.yaml or \*\.yml files in"):
        loadflows(tmp_path)


# Each on line 6, after VALID's five lines.
UNREADABLE = {
    "raw NUL": (b'    format: "a\x00b"\n', "unacceptable character #x0000"),
    "NUL escape": (b'    format: "a\\0b"\n', "NUL characters (\\0) are not allowed"),
    "surrogate escape": (
        b'    format: "a\\ud800b"\n',
        "Lone surrogates (\\ud800) are not allowed",
    ),
    "surrogate in a key": (
        b'    "\\udc00": x\n',
        "Lone surrogates (\\udc00) are not allowed",
    ),
    "5,000-digit integer": (
        b"    format: " + b"9" * 5000 + b"\n",
        "the integer is too long (5000 characters)",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", UNREADABLE)
def test_unreadable_values_are_a_line_error_not_a_traceback(tmp_path, name):
    line, message = UNREADABLE[name]
    path = tmp_path / "flow.yaml"
    path.write_bytes(VALID.encode() + line)
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 of 1 flow files are invalid"):
        call_command("loadflows", str(path), stdout=out, stderr=err)
    assert err.getvalue().startswith(f"{path}:6: invalid YAML: {message}")
    assert not Flow.objects.filter(flow_id="other").exists()


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused_without_reading_it(
    settings, tmp_path, monkeypatch
):
    settings.SIGNOFF_MAX_FLOW_BYTES = 100
    big = tmp_path / "big.yaml"
    big.write_text(VALID + "    format: " + "x" * 100 + "\n")
    small = tmp_path / "small.yaml"
    small.write_text(VALID.replace("other", "small"))
    read = Path.read_text
    monkeypatch.setattr(
        Path, "read_text", lambda p, *a, **k: "" if p == big else read(p, *a, **k)
    )
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 of 2 flow files are invalid"):
        call_command("loadflows", str(tmp_path), stdout=out, stderr=err)
    size = big.stat().st_size
    assert err.getvalue() == (
        f"{big}: the file is {size:,} bytes; a flow may have at most 100 "
        "(SIGNOFF_MAX_FLOW_BYTES)\n"
    )
    assert not Flow.objects.filter(flow_id__in=["other", "small"]).exists()


def test_the_size_limit_defaults_to_1_mb_and_holds_for_text_too(settings):
    assert settings.SIGNOFF_MAX_FLOW_BYTES == 1_000_000
    settings.SIGNOFF_MAX_FLOW_BYTES = len(VALID.encode())
    assert loader.parse_flow(VALID)["id"] == "other"
    with pytest.raises(loader.FlowDefinitionError, match="a flow may have at most"):
        loader.parse_flow(VALID + "#")
