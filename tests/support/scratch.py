"""A scratch database: created on a Postgres server, migrated to head if asked, dropped at the end.

A test run, a benchmark run and a chaos run each get a database of their own, so none reads
another's rows and none leaves anything behind.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator

import sqlalchemy
from sqlalchemy.engine import URL

from shared.db import engines, migrating


@contextlib.contextmanager
def scratch_database(
    admin_url: str | URL,
    *,
    prefix: str = "podrunner_bench",
    migrate: bool = True,
    say: Callable[[str], None] = print,
) -> Iterator[URL]:
    """A fresh database named `prefix`_<random> on the server of `admin_url` (migrated to head
    unless `migrate` is false), dropped afterwards."""
    admin = engines.normalize_url(admin_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _execute(admin, f'CREATE DATABASE "{name}"')
    try:
        url = admin.set(database=name)
        if migrate:
            say(f"created and migrating database {name}")
            migrating.upgrade(url)
        yield url
    finally:
        _execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        say(f"dropped database {name}")


def _execute(admin: URL, statement: str) -> None:
    engine = sqlalchemy.create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text(statement))
    finally:
        engine.dispose()
