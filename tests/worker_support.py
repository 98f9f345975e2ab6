"""Helpers for real-qcluster tests: a slow HTTP server, starting and ending it."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import redis
from django.conf import settings

REDIS_URL = os.environ.get("SIGNOFF_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_is_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


class SlowServer:
    """GET /<name>/<seconds>: the first request to a path waits that long, later
    ones answer at once (a retaken step then finishes quickly). Counts requests."""

    def __init__(self):
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with server.lock:
                    server.counts[self.path] += 1
                    first = server.counts[self.path] == 1
                if first:
                    time.sleep(float(self.path.rsplit("/", 1)[1]))
                body = b"done"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # killed clients
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def count(self, path: str) -> int:
        with self.lock:
            return self.counts[path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def start_qcluster(env: dict, log_path) -> subprocess.Popen:
    """`manage.py qcluster` in its own session, so its process group is its own."""
    with open(log_path, "a") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=settings.BASE_DIR,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def group_is_gone(process: subprocess.Popen) -> bool:
    """True once the process and every member of its group have exited."""
    process.poll()  # reap the leader, or its zombie keeps the group alive
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return True
    return False


def kill_group(process: subprocess.Popen) -> None:
    if not group_is_gone(process):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=20)


def wait_until(predicate, seconds: float, interval: float = 0.05):
    """Poll `predicate` until it returns something truthy; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not true within {seconds} s: {predicate}")
