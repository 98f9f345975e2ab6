"""Shared fixtures: tenants, users, flows from YAML, and the engine run in-process."""

import textwrap

import pytest
from django_q.conf import Conf

from flows import loader
from tests.factories import TenantFactory, UserFactory


@pytest.fixture(autouse=True)
def _worker_runs_in_process(monkeypatch):
    """Enqueued advances run inline (django-q2 sync mode) once on_commit fires."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def tenant(db):
    return TenantFactory(slug="acme", name="Acme")


@pytest.fixture
def user(tenant):
    return UserFactory(username="alice", tenants=[tenant])


@pytest.fixture
def make_flow(tenant):
    """Load a flow from YAML text into `tenant` (or another) and return the Flow."""

    def make(source: str, into=None):
        result = loader.load_flow(into or tenant, textwrap.dedent(source))
        return result.flow

    return make


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run a callable and then its on-commit work (the enqueued steps), like a worker."""

    def run(func, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return func(*args, **kwargs)

    return run
