"""Fault tests: PostgreSQL only (real processes racing on row locks), and a summary
of the recovery times they measured at the end of the run."""

import pytest
from django.conf import settings

from tests.faults.support import Gunicorn

_measured: list[tuple[str, str, object]] = []


@pytest.fixture(autouse=True)
def _postgresql_only():
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("fault tests run on PostgreSQL (DATABASE_URL=postgres://...)")


@pytest.fixture
def gunicorn(tmp_path):
    """Start config.wsgi under gunicorn; stopped after the test."""
    started = []

    def start(workers: int = 4) -> Gunicorn:
        server = Gunicorn(tmp_path / "gunicorn.log", workers=workers)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def pytest_runtest_logreport(report):
    if report.when == "call":
        for name, value in report.user_properties:
            _measured.append((report.nodeid.split("::")[-1], name, value))


def pytest_terminal_summary(terminalreporter):
    if not _measured:
        return
    terminalreporter.section("fault recovery, measured")
    for test, name, value in _measured:
        terminalreporter.write_line(f"{name} = {value}  ({test})")
