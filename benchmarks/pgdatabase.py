"""A database of the benchmark's own on a PostgreSQL server, dropped afterwards, so a run never
touches the data of whatever DATABASE_URL points at."""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def own_postgres_database(url: str, prefix: str) -> Iterator[str]:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = f"{prefix}_{os.getpid()}"
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
