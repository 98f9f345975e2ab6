import json
import signal
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from flows.management.commands import demo
from flows.models import FlowRevision, Tenant

PASSWORD = "pw-12345678"


def run_demo(*extra: str) -> str:
    buf = StringIO()
    call_command("demo", "--no-serve", *extra, stdout=buf)
    return buf.getvalue()


def signs_in(username: str, password: str) -> bool:
    """django-axes' backend wants the request: it keys failures by user + address."""
    request = RequestFactory().post("/accounts/login/")
    return authenticate(request, username=username, password=password) is not None


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
    assert signs_in("manager", PASSWORD)
    users = {u.username: u for u in get_user_model().objects.all()}  # fresh caches
    assert users["admin"].has_perm("flows.view_execution")
    assert not users["manager"].has_perm("flows.view_execution")
    assert not users["employee"].has_perm("flows.view_execution")

    for output in (first, second):
        assert "company.team.pause_warn revision 1" in output
        assert "company.team.vacation_approval_process revision 1" in output
        assert "company.team.vacation_request_branching revision 1" in output
        assert "company.finance.expense_approval revision 1" in output
        assert "company.engineering.release_signoff revision 1" in output
        assert "company.people.policy_acknowledgement revision 1" in output
        assert "skipped human_in_the_loop.yaml: " in output
        reason = output.split("skipped human_in_the_loop.yaml: ", 1)[1].splitlines()[0]
        assert "run_post_approval" in reason
        assert "shell tasks are disabled" in reason
        assert "http://127.0.0.1:8000/admin/" in output
        assert f"manager / {PASSWORD}" in output
    assert FlowRevision.objects.count() == revisions == 6


@pytest.mark.django_db
def test_demo_without_password_prints_new_working_logins_each_run(shell_disabled):
    for _ in range(2):
        output = run_demo()
        line = next(
            x for x in output.splitlines() if x.strip().startswith("employee /")
        )
        password = line.split(" / ", 1)[1]
        assert signs_in("employee", password)


class FakeProcess:
    returncode = 0

    def poll(self):
        return None


@pytest.mark.django_db
def test_demo_serves_with_gunicorn_and_collected_static_files(
    shell_disabled, settings, tmp_path, monkeypatch
):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {  # production's, not the tests' plain storage
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "config.staticfiles.StaticFiles"},
    }
    spawned = {}

    def spawn(args, env=None):
        spawned[args[1] if args[0] == "-m" else args[-1]] = (args, env)
        return FakeProcess()

    monkeypatch.setattr(demo, "spawn", spawn)
    monkeypatch.setattr(demo, "catch_stop_signals", lambda: [signal.SIGTERM])
    monkeypatch.setattr(demo, "stop_all", lambda processes, signum: None)
    monkeypatch.delenv("SIGNOFF_OUTBOUND_REWRITES", raising=False)
    monkeypatch.setenv("SIGNOFF_OUTBOUND_ALLOW", "10.0.0.0/8")
    output = run_serving_demo("--port", "8123", "--workers", "3")

    web_args, web_env = spawned["gunicorn"]
    assert web_args[:3] == ["-m", "gunicorn", "config.wsgi:application"]
    assert "--bind=127.0.0.1:8123" in web_args and "--workers=3" in web_args
    assert not any("runserver" in arg for arg in web_args)
    worker_args, worker_env = spawned["qcluster"]
    for env in (web_env, worker_env):
        assert env["SECRET_KEY"] == settings.SECRET_KEY
        assert env["SIGNOFF_DEMO"] == "1"
        assert env["SIGNOFF_OUTBOUND_ALLOW"] == "10.0.0.0/8,127.0.0.1"
        assert env["SIGNOFF_OUTBOUND_REWRITES"].startswith(
            "https://reqres.in=http://127.0.0.1:"
        )
    assert "(SIGNOFF_OUTBOUND_ALLOW=10.0.0.0/8,127.0.0.1)" in output
    assert "Starting gunicorn (3 sync workers)" in output
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/signoff.css"]
    assert hashed != "css/signoff.css"
    assert (tmp_path / "static" / f"{hashed}.gz").exists()  # WhiteNoise compressed


def run_serving_demo(*extra: str) -> str:
    buf = StringIO()
    call_command("demo", "--password", PASSWORD, *extra, stdout=buf)
    return buf.getvalue()


def test_an_ipv6_host_is_bracketed_for_gunicorn():
    assert "--bind=[::1]:8000" in demo.gunicorn_args("::1", 8000, 2)
