"""Concurrency tests on a real SQLite file (the in-memory test database cannot show them)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from django.core.management import call_command
from django.db import connection


@contextlib.contextmanager
def sqlite_on_disk(directory: Path) -> Iterator[None]:
    """Run the block on a real SQLite file with the production settings (WAL, IMMEDIATE
    transactions, busy timeout): the in-memory test database's shared-cache tables answer
    "locked" at once instead of waiting for the other writer, so they cannot show how writers
    take turns. On PostgreSQL the block runs on the test database as it is."""
    if connection.vendor != "sqlite":
        yield
        return
    settings_dict = connection.settings_dict
    memory_name, memory_connection = settings_dict["NAME"], connection.connection
    connection.connection = None
    settings_dict["NAME"] = str(directory / "concurrency.sqlite3")
    try:
        call_command("migrate", verbosity=0)
        yield
    finally:
        connection.close()
        settings_dict["NAME"] = memory_name
        connection.connection = memory_connection
