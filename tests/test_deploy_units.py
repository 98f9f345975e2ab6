"""deploy/: the systemd units and their shared EnvironmentFile (README "Scale-out")."""

import configparser
import os
import subprocess
import sys

from django.conf import settings

from tests.conftest import TEST_ENCRYPTION_KEY

DEPLOY = settings.BASE_DIR / "deploy"


def unit(name: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read(DEPLOY / name)
    return parser["Service"]


def environment() -> dict[str, str]:
    lines = (DEPLOY / "signoff.env").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return dict(pairs)


def test_both_units_share_the_environment_file_and_stop_with_sigterm_to_the_group():
    web, worker = unit("signoff-web.service"), unit("signoff-worker.service")
    stop_seconds = float(environment()["SIGNOFF_WORKER_STOP_SECONDS"])
    for service in (web, worker):
        assert service["EnvironmentFile"] == "/etc/signoff/signoff.env"
        assert service["KillMode"] == "control-group"
        assert service["KillSignal"] == "SIGTERM"
        assert service["Restart"] == "always"
        # systemd's SIGKILL comes only after the qcluster's own grace period.
        assert float(service["TimeoutStopSec"]) > stop_seconds + 5
    assert "gunicorn config.wsgi:application" in web["ExecStart"]
    assert worker["ExecStart"].endswith("manage.py qcluster")


def test_every_variable_of_the_environment_file_is_one_settings_reads():
    source = (settings.BASE_DIR / "config" / "settings.py").read_text()
    unread = [name for name in environment() if f'"{name}"' not in source]
    assert unread == []
    for shared in ("DATABASE_URL", "SIGNOFF_REDIS_URL", "SECRET_KEY"):
        assert shared in environment()
    assert "SIGNOFF_ENCRYPTION_KEY" in environment()


def test_the_environment_file_passes_check_deploy_but_for_the_hsts_choices(tmp_path):
    env = {  # the file's settings alone, not the test run's
        "PATH": os.environ["PATH"],
        **environment(),
        "SECRET_KEY": "k" * 20 + "deploy-check-" + "z" * 30,
        "SIGNOFF_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SIGNOFF_VAR_DIR": str(tmp_path),
    }
    checked = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stderr
    issues = [line for line in checked.stderr.splitlines() if line.startswith("?:")]
    assert [line.split()[1] for line in issues] == [
        "(security.W005)",
        "(security.W021)",
    ]
