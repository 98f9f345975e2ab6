"""config/settings.py: what the environment decides."""

import os

import pytest

from config import settings as config


@pytest.mark.parametrize(
    "url", [None, "sqlite:////tmp/signoff-elsewhere.sqlite3", "sqlite://:memory:"]
)
def test_the_sqlite_test_database_is_a_file_whatever_database_url_says(
    monkeypatch, url
):
    if url is None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_URL", url)
    test_name = config.database_config()["TEST"]["NAME"]
    assert test_name == config.VAR_DIR / f"test-{os.getpid()}.sqlite3"


def test_a_postgresql_url_keeps_django_s_test_database_name(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/signoff")
    database = config.database_config()
    assert database["NAME"] == "signoff"
    assert "NAME" not in database.get("TEST", {})
