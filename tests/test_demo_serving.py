"""`manage.py demo` for real: gunicorn, WhiteNoise, and a clean stop."""

import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from django.conf import settings

from tests.worker_support import wait_until

pytestmark = pytest.mark.worker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str):
    try:
        return httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return None


def test_demo_serves_pages_and_hashed_static_files_through_gunicorn(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update(
        SIGNOFF_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    )
    with open(tmp_path / "demo.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "demo", "--password", "pw-12345678"]
            + ["--port", str(port), "--workers", "1"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        page = wait_until(lambda: answers(f"{base}/accounts/login/"), 60, 0.2)
        assert page.status_code == 200
        assert page.headers["Server"] == "gunicorn"
        assert "default-src 'self'" in page.headers["Content-Security-Policy"]
        css = re.search(r'href="(/static/css/signoff\.[0-9a-f]{12}\.css)"', page.text)
        assert css, page.text[:500]
        static = httpx.get(base + css.group(1), headers={"Accept-Encoding": "gzip"})
        assert static.status_code == 200
        assert static.headers["Content-Encoding"] == "gzip"
        assert "immutable" in static.headers["Cache-Control"]
    finally:
        os.kill(process.pid, signal.SIGINT)
        started = time.monotonic()
        process.wait(timeout=30)
    assert time.monotonic() - started < 15
    assert "Starting gunicorn (1 sync worker)" in (tmp_path / "demo.log").read_text()
