"""Real Chromium (Debian's package) driven by Playwright against the live server."""

import json
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(settings.BASE_DIR) / "test-output" / "screenshots"
SERIOUS = {"serious", "critical"}

# Playwright's sync API keeps an event loop in this thread; the test's own ORM calls
# are synchronous and safe, so Django's async guard is lifted for browser tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if shutil.which("chromium") or Path(CHROMIUM).exists():
        return
    reason = "needs Debian's chromium: apt-get update && apt-get install -y chromium"
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under test-output/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def axe_check(page):
    """Run axe-core on the current page; fail on serious or critical violations."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(label: str) -> list:
        results = axe.run(page)
        bad = [v for v in results.response["violations"] if v["impact"] in SERIOUS]
        summary = [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in bad]
        assert not bad, f"{label}: {summary}"
        return results.response["violations"]

    return check


class _Sink(BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.server.received.append((self.command, self.path, self.rfile.read(length)))
        body = json.dumps({"ok": True, "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def http_sink(settings):
    """A local server standing in for the examples' outbound URLs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    settings.SIGNOFF_OUTBOUND_REWRITES = {"https://reqres.in": base}
    settings.SIGNOFF_OUTBOUND_ALLOW = ["127.0.0.1"]
    yield server
    server.shutdown()


@pytest.fixture
def sign_in(page, live_server):
    def sign_in_as(username: str, password: str = "pw-correct-horse"):
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/approvals/")  # redirects to the login page
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.locator(
            "main form button[type=submit], main form input[type=submit]"
        ).click()
        page.wait_for_load_state()

    return sign_in_as
