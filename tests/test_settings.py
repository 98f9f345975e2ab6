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


@pytest.mark.parametrize(("switch", "prepared"), [(None, True), ("false", False)])
def test_postgresql_prepares_repeated_statements_unless_switched_off(
    monkeypatch, switch, prepared
):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/signoff")
    if switch is None:
        monkeypatch.delenv("SIGNOFF_DB_PREPARED", raising=False)
    else:
        monkeypatch.setenv("SIGNOFF_DB_PREPARED", switch)
    options = config.database_config().get("OPTIONS", {})
    assert options.get("server_side_binding", False) is prepared
    assert ("prepare_threshold" in options) is prepared


@pytest.mark.django_db
def test_a_statement_sent_again_on_a_postgresql_connection_is_prepared():
    from django.db import connection

    from flows.models import Execution

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    marker = "prepared-check"
    for _ in range(3):
        list(Execution.objects.filter(hold=marker).values_list("pk"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%"flows_execution"."hold" = $1%'],
        )
        (prepared,) = cursor.fetchone()
    assert prepared == 1
