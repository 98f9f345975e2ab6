"""Helpers for tests that need a real database server or another process."""

from pathlib import Path

import pytest
from django.db import connection

requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/signoff",
)


def database_url() -> str:
    """A DATABASE_URL naming the test database, for subprocesses."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(config['NAME']).resolve()}"
    user = config.get("USER") or "postgres"
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    host = config.get("HOST") or "127.0.0.1"
    port = config.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{config['NAME']}"
