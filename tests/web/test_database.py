"""The suite runs twice: on SQLite (the default) and on PostgreSQL (tests/postgres.py)."""

import os

import pytest
from django.db import connection


@pytest.mark.django_db
def test_the_configured_database_is_the_one_in_use() -> None:
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        assert connection.vendor == "postgresql"
    else:
        assert connection.vendor == "sqlite"


@pytest.mark.django_db
@pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"),
                    reason="SQLite settings only")
def test_sqlite_uses_immediate_transactions_and_a_busy_timeout() -> None:
    # Without these SQLite silently loses read-then-write updates under concurrency.
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 5000
