"""A scratch database per benchmark run: created, migrated to head, dropped at the end.

Benchmarks measure against the machine's Postgres; each run gets a database of its own so it
never reads another run's rows and leaves nothing behind.
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
    admin_url: str, *, say: Callable[[str], None] = print, prefix: str = "podrunner_bench"
) -> Iterator[URL]:
    """A fresh database on the server of `admin_url`, migrated to head; dropped afterwards.
    Its name is `prefix`, `_` and a random part."""
    admin = engines.normalize_url(admin_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _execute(admin, f'CREATE DATABASE "{name}"')
    try:
        url = admin.set(database=name)
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
