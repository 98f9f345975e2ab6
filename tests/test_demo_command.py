from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from flows.models import FlowRevision, Tenant

PASSWORD = "pw-12345678"


def run_demo(*extra: str) -> str:
    buf = StringIO()
    call_command("demo", "--no-serve", *extra, stdout=buf)
    return buf.getvalue()


@pytest.fixture
def shell_disabled(settings):
    settings.SIGNOFF_SHELL_TASKS_ENABLED = False


@pytest.mark.django_db
def test_demo_sets_up_tenant_users_and_flows_twice_without_duplicates(shell_disabled):
    first = run_demo("--password", PASSWORD)
    revisions = FlowRevision.objects.count()
    second = run_demo("--password", PASSWORD)

    tenant = Tenant.objects.get(slug="demo")
    assert tenant.name == "Demo"
    users = {u.username: u for u in get_user_model().objects.all()}
    assert set(users) == {"admin", "manager", "employee"}
    assert users["admin"].is_superuser and users["admin"].is_staff
    assert not users["manager"].is_staff and not users["employee"].is_superuser
    assert [g.name for g in users["manager"].groups.all()] == ["managers"]
    assert not users["employee"].groups.exists()
    assert set(tenant.members.values_list("username", flat=True)) == set(users)
    assert authenticate(username="manager", password=PASSWORD) is not None
    users = {u.username: u for u in get_user_model().objects.all()}  # fresh caches
    assert users["admin"].has_perm("flows.view_execution")
    assert not users["manager"].has_perm("flows.view_execution")
    assert not users["employee"].has_perm("flows.view_execution")

    for output in (first, second):
        assert "company.team.pause_warn revision 1" in output
        assert "company.team.vacation_approval_process revision 1" in output
        assert "company.team.vacation_request_branching revision 1" in output
        assert "company.finance.expense_approval revision 1" in output
        assert "skipped human_in_the_loop.yaml: " in output
        reason = output.split("skipped human_in_the_loop.yaml: ", 1)[1].splitlines()[0]
        assert "run_post_approval" in reason
        assert "shell tasks are disabled" in reason
        assert "http://127.0.0.1:8000/admin/" in output
        assert f"manager / {PASSWORD}" in output
    assert FlowRevision.objects.count() == revisions == 4


@pytest.mark.django_db
def test_demo_without_password_prints_new_working_logins_each_run(shell_disabled):
    for _ in range(2):
        output = run_demo()
        line = next(
            x for x in output.splitlines() if x.strip().startswith("employee /")
        )
        password = line.split(" / ", 1)[1]
        assert authenticate(username="employee", password=password) is not None
