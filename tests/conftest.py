"""Shared fixtures: tenants, users, flows from YAML, and the engine run in-process."""

import os
import textwrap
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_q.conf import Conf

from flows import engine, loader
from tests.api_support import client_for, poster, starter
from tests.dbutil import database_url
from tests.factories import TenantFactory, UserFactory
from tests.handoff_support import ASSIGNED, LEAVE
from tests.worker_support import (
    REDIS_URL,
    SlowServer,
    kill_group,
    redis_is_up,
    start_qcluster,
)

# The tests' Fernet key (base64 of 32 fixed bytes); never use it anywhere else.
TEST_ENCRYPTION_KEY = "c2lnbm9mZiB0ZXN0IGtleSwgbmV2ZXIgZm9yIHVzZSE="


def pytest_configure(config):
    """Hash test passwords fast: PBKDF2 at full strength was most of the suite.

    Static files by their plain names, served by the finders: a manifest that a
    demo's collectstatic left in var/static must not rename them.

    The qcluster subprocesses get the test run's SECRET_KEY (django-q2 signs the
    queued tasks with it, and without DEBUG settings refuse to start without one),
    and secrets are encrypted under the tests' key, here and in the subprocesses.
    """
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # WhiteNoise's
    os.environ.setdefault("SECRET_KEY", settings.SECRET_KEY)
    os.environ.setdefault("SIGNOFF_ENCRYPTION_KEY", TEST_ENCRYPTION_KEY)
    settings.SIGNOFF_ENCRYPTION_KEY = os.environ["SIGNOFF_ENCRYPTION_KEY"]


@pytest.fixture(autouse=True, scope="session")
def _flush_passes_the_audit_guard():
    """A transactional test ends with a flush, DELETE FROM on SQLite: let it through
    the events table's append-only trigger, as the retention purge is let through."""
    from django.test import TransactionTestCase

    from flows import retention

    teardown = TransactionTestCase._fixture_teardown

    def flush(self):
        with retention.purging():
            teardown(self)

    TransactionTestCase._fixture_teardown = flush
    yield
    TransactionTestCase._fixture_teardown = teardown


@pytest.fixture(autouse=True)
def _worker_runs_in_process(monkeypatch):
    """Enqueued advances run inline (django-q2 sync mode) once on_commit fires."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def tenant(db):
    return TenantFactory(slug="acme", name="Acme")


@pytest.fixture
def default_tenant(db):
    """The migration's tenant; recreated when a transactional test flushed it."""
    return TenantFactory(slug="default", name="Default")


@pytest.fixture
def user(tenant):
    return UserFactory(username="alice", tenants=[tenant])


@pytest.fixture
def clock(monkeypatch):
    """engine.now() under the test's control: `clock.at`, moved by
    `clock.move(30)` (seconds) or `clock.move(hours=2)`; no sleeping."""

    class Clock:
        at = timezone.now()

        def move(self, seconds: float = 0, **delta):
            self.at += timedelta(seconds=seconds, **delta)
            return self.at

    moved = Clock()
    monkeypatch.setattr(engine, "now", lambda: moved.at)
    return moved


@pytest.fixture
def make_flow(tenant):
    """Load a flow from YAML text into `tenant` (or another) and return the Flow."""

    def make(source: str, into=None):
        result = loader.load_flow(into or tenant, textwrap.dedent(source))
        return result.flow

    return make


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run a callable, then its on-commit work (the enqueued steps) like a worker."""

    def run(func, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return func(*args, **kwargs)

    return run


def pytest_sessionfinish(session, exitstatus):
    """Django removes a SQLite test database but not its -wal and -shm files."""
    from django.conf import settings

    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if name and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        for suffix in ("-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)


PAUSE_FLOW = """\
id: {flow_id}
namespace: acme.ops
inputs:
  - id: amount
    type: INT
    defaults: 5
tasks:
  - id: prepare
    type: Return
    format: "prepared {{{{ inputs.amount }}}}"
  - id: wait
    type: Pause
{pause}
  - id: after
    type: Return
    format: done
"""


@pytest.fixture
def pause_token(make_flow, run_on_commit):
    """Start `prepare` -> Pause `wait` (+ YAML lines) -> `after`; return its token."""
    from flows import engine
    from flows.models import SuspensionToken

    def start(pause="", *, actor=None, into=None, flow_id="ops_check", amount=5):
        lines = textwrap.indent(textwrap.dedent(pause).strip(), " " * 4)
        source = PAUSE_FLOW.format(flow_id=flow_id, pause=lines)
        flow = make_flow(source, into=into)
        data = {"amount": amount}
        execution = run_on_commit(engine.start_execution, flow, data, actor=actor)
        return SuspensionToken.objects.select_related("execution").get(
            execution=execution
        )

    return start


# The API tests' fixtures: a bearer client, a paused flow, POST + worker.


@pytest.fixture
def api(user):
    return client_for(user)


@pytest.fixture
def pause(make_flow, run_on_commit):
    return starter(make_flow, run_on_commit)


@pytest.fixture
def post(run_on_commit):
    return poster(run_on_commit)


@pytest.fixture
def globex(db):
    return TenantFactory(slug="globex", name="Globex")


# Real-qcluster fixtures (tests marked `worker`).


@pytest.fixture
def slow_server():
    server = SlowServer()
    yield server
    server.close()


@pytest.fixture(params=["orm", "redis"])
def clusters(request, tmp_path, monkeypatch):
    """Start qclusters (same queue, test database, this broker); all killed after."""
    queue = f"signoff-faults-{uuid.uuid4().hex[:8]}"
    env = {
        "DATABASE_URL": database_url(),
        "SIGNOFF_SYNC_WORKER": "0",
        "SIGNOFF_WORKERS": "1",
        "SIGNOFF_QUEUE_NAME": queue,
        "SIGNOFF_HTTP_TIMEOUT_SECONDS": "60",
        "SIGNOFF_OUTBOUND_ALLOW": "127.0.0.1",  # the tests' slow_server
    }
    monkeypatch.setattr(Conf, "SYNC", False)  # enqueue for real
    monkeypatch.setattr(Conf, "CLUSTER_NAME", queue)
    monkeypatch.setattr(Conf, "PREFIX", queue)  # also the signing salt
    if request.param == "redis":
        if not redis_is_up():
            pytest.skip(f"needs Redis at {REDIS_URL}")
        env["SIGNOFF_REDIS_URL"] = REDIS_URL
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "REDIS", REDIS_URL)
    started = []

    def start(**overrides):
        process = start_qcluster({**env, **overrides}, tmp_path / "qcluster.log")
        started.append(process)
        return process

    start.broker = request.param
    yield start
    for process in started:
        kill_group(process)


# Delegation and withdrawal (tests.handoff_support).


@pytest.fixture
def people(tenant):
    """The leave request's people (tests.handoff_support)."""
    from django.contrib.auth.models import Group

    globex = TenantFactory(slug="globex", name="Globex")
    names = ["emp", "ann", "bob", "carol", "mia"]
    found = {name: UserFactory(username=name, tenants=[tenant]) for name in names}
    found["gus"] = UserFactory(username="gus", tenants=[globex])
    found["ivy"] = UserFactory(username="ivy", tenants=[tenant], is_active=False)
    Group.objects.get_or_create(name="managers")[0].user_set.add(found["mia"])
    return found


@pytest.fixture
def leave(make_flow, run_on_commit, people):
    """Start the leave request as `emp` (+ YAML lines for the Pause); its token."""
    from flows import engine
    from flows.models import SuspensionToken

    def start(pause: str = ASSIGNED, *, by="emp") -> SuspensionToken:
        lines = textwrap.indent(textwrap.dedent(pause).strip(), " " * 4)
        flow = make_flow(LEAVE.format(pause=lines))
        execution = run_on_commit(
            engine.start_execution, flow, {"days": 3}, actor=people[by]
        )
        return SuspensionToken.objects.select_related("execution", "tenant").get(
            execution=execution
        )

    return start
