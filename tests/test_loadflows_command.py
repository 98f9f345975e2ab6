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
        "company.team.vacation_approval_process revision 1",
        "company.team.vacation_request_branching revision 1",
    ]
    tenant = Tenant.objects.get(slug="default")  # created by a migration
    assert tenant.flows.count() == 5


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
