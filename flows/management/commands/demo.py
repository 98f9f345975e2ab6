"""Set up a demo tenant, users and the example flows, then run web and worker.

Running it again is harmless: rows are reused, unchanged flows keep their
revision, and the logins printed at the end always work. The site is served as
in production: gunicorn, static files collected and served by WhiteNoise. Secrets
are encrypted with SIGNOFF_ENCRYPTION_KEY, or else with a key the demo writes once
into var/encryption.key (mode 0600) and hands to the web server and the worker.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections, transaction

from flows import loader
from flows import secrets as flow_secrets
from flows.models import Tenant

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
KEY_FILE = "encryption.key"
# Who sees what: admin, a superuser, holds every permission, flows.view_execution
# (every execution) included; manager sees the executions whose pauses are
# assigned to the group managers; employee sees what they started. Both see the
# executions of pauses without assignees (Kestra's examples have none).
USERS = {
    "admin": {"is_superuser": True, "is_staff": True, "groups": []},
    "manager": {"is_superuser": False, "is_staff": False, "groups": ["managers"]},
    "employee": {"is_superuser": False, "is_staff": False, "groups": []},
}
STOP_GRACE_SECONDS = 10


class Command(BaseCommand):
    help = "Create a demo tenant, users and the example flows; run web and worker."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", help="password of all three users (default: random ones)"
        )
        parser.add_argument("--no-serve", action="store_true", help="set up only")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers", type=int, default=2, help="gunicorn sync workers (default 2)"
        )

    def handle(self, *args, **options):
        call_command("migrate", verbosity=0, interactive=False)
        self.stdout.write(use_encryption_key())
        tenant, logins = set_up_tenant(options["password"])
        self.print_flows(loader.load_paths(tenant, [EXAMPLES_DIR]))
        self.print_logins(options["host"], options["port"], logins)
        if not options["no_serve"]:
            call_command("collectstatic", verbosity=0, interactive=False)
            serve(options["host"], options["port"], options["workers"], self.stdout)

    def print_flows(self, outcomes) -> None:
        self.stdout.write("Flows in tenant demo:")
        for path, outcome in outcomes:
            if isinstance(outcome, loader.LoadResult):
                flow, number = outcome.flow, outcome.revision.revision
                self.stdout.write(
                    f"  {flow.namespace}.{flow.flow_id} revision {number}"
                )
            else:
                self.stdout.write(f"  skipped {path.name}: {describe_error(outcome)}")

    def print_logins(self, host: str, port: int, logins: dict[str, str]) -> None:
        url = f"http://{host}:{port}/"
        self.stdout.write(f"\nSignoff: {url}\nAdmin:   {url}admin/\nLogins:")
        for username, password in logins.items():
            self.stdout.write(f"  {username} / {password}")


def use_encryption_key() -> str:
    """Use SIGNOFF_ENCRYPTION_KEY or the demo's key file; say which, never the key."""
    if settings.SIGNOFF_ENCRYPTION_KEY:
        return "Secrets: encrypted with SIGNOFF_ENCRYPTION_KEY."
    path = key_file(Path(settings.VAR_DIR))
    key = path.read_text().strip()
    settings.SIGNOFF_ENCRYPTION_KEY = key
    os.environ["SIGNOFF_ENCRYPTION_KEY"] = key  # the web server and worker inherit it
    return f"Secrets: encrypted with the key in {path}."


def key_file(var_dir: Path) -> Path:
    """var/encryption.key, written once with a new Fernet key, readable by us only."""
    path = var_dir / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w") as out:
        out.write(flow_secrets.new_key() + "\n")
    return path


def describe_error(error: Exception) -> str:
    """The problems of a rejected file, without repeating its name on each one."""
    problems = getattr(error, "problems", None)
    if not problems:
        return str(error)
    parts = []
    for problem in problems:
        line = f"line {problem.line}: " if problem.line is not None else ""
        task = f"task '{problem.task_id}': " if problem.task_id is not None else ""
        parts.append(f"{line}{task}{problem.message}")
    return "; ".join(parts)


@transaction.atomic
def set_up_tenant(password: str | None) -> tuple[Tenant, dict[str, str]]:
    """Create or update the demo tenant and users; return their passwords."""
    tenant, _ = Tenant.objects.get_or_create(slug="demo", defaults={"name": "Demo"})
    logins = {}
    for username, spec in USERS.items():
        logins[username] = password or secrets.token_urlsafe(9)
        tenant.members.add(set_up_user(username, spec, logins[username]))
    return tenant, logins


def set_up_user(username: str, spec: dict, password: str):
    user, _ = get_user_model().objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.com"}
    )
    user.is_superuser = spec["is_superuser"]
    user.is_staff = spec["is_staff"]
    user.is_active = True
    user.set_password(password)
    user.save()
    user.user_permissions.clear()  # the permissions are the ones described above
    for name in spec["groups"]:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


def serve(host: str, port: int, workers: int, stdout) -> None:
    """Run gunicorn and qcluster until either exits or we are told to stop."""
    manage = str(Path(settings.BASE_DIR) / "manage.py")
    # The children are not `demo`: they get its key (var/secret_key) explicitly.
    env = {**os.environ, "SECRET_KEY": settings.SECRET_KEY}
    # Links the worker writes (an Approval's `url`) point at this server.
    env.setdefault("SIGNOFF_BASE_URL", f"http://{host}:{port}")
    env["SIGNOFF_DEMO"] = "1"  # its pages say what to try, as whom
    if not env.get("SIGNOFF_OUTBOUND_REWRITES"):
        sink_port = start_http_sink()
        rewrite = f"https://reqres.in=http://127.0.0.1:{sink_port}"
        allow = ",".join(filter(None, [env.get("SIGNOFF_OUTBOUND_ALLOW"), "127.0.0.1"]))
        env["SIGNOFF_OUTBOUND_REWRITES"] = rewrite
        env["SIGNOFF_OUTBOUND_ALLOW"] = allow  # the stand-in, listed explicitly
        stdout.write(f"Outbound HTTP: {rewrite} (SIGNOFF_OUTBOUND_ALLOW={allow})")
    plural = "s" * (workers != 1)
    stdout.write(
        f"Starting gunicorn ({workers} sync worker{plural}) and the worker; "
        "Ctrl-C stops both."
    )
    stdout.flush()
    connections.close_all()  # this process only waits from now on: hold none
    received = catch_stop_signals()  # before spawning, so no child is orphaned
    # Own sessions: a Ctrl-C reaches only this process, which forwards it once.
    processes = {
        "web server": spawn(gunicorn_args(host, port, workers), env=env),
        "worker": spawn([manage, "qcluster"], env=env),
    }
    signum = watch(processes, received)
    ended = [
        f"{n} (exit {p.returncode})"
        for n, p in processes.items()
        if p.poll() is not None
    ]
    stop_all(processes, signum or signal.SIGTERM)
    if signum is None:
        raise CommandError(f"stopped because the {' and '.join(ended)} ended")


def gunicorn_args(host: str, port: int, workers: int) -> list[str]:
    """Sync workers: one request at a time each, so one database connection each."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [
        "-m",
        "gunicorn",
        "config.wsgi:application",
        f"--bind={bind}",
        f"--workers={workers}",
        f"--graceful-timeout={STOP_GRACE_SECONDS // 2}",
        f"--chdir={settings.BASE_DIR}",
    ]


def spawn(args: list[str], env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], env=env, start_new_session=True)


def catch_stop_signals() -> list[int]:
    """Record SIGINT and SIGTERM in the returned list instead of dying."""
    received: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda number, frame: received.append(number))
    return received


def watch(processes: dict[str, subprocess.Popen], received: list[int]) -> int | None:
    """Wait until a signal arrives (returned) or a process exits (None)."""
    while not received and all(p.poll() is None for p in processes.values()):
        time.sleep(0.2)
    return received[0] if received else None


def stop_all(processes: dict[str, subprocess.Popen], signum: int) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signum)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class SinkHandler(BaseHTTPRequestHandler):
    """Answers every request 200 with a small JSON body (offline stand-in)."""

    def answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps({"ok": True, "path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

    def log_message(self, format, *args) -> None:
        pass


def start_http_sink() -> int:
    """Serve SinkHandler on a free local port in a daemon thread; return the port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), SinkHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]
