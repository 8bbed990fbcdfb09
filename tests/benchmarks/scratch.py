"""A scratch database per benchmark run: created, migrated to head or left empty, then dropped.

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
    admin_url: str, *, prefix: str = "podrunner_bench", say: Callable[[str], None] = print
) -> Iterator[URL]:
    """A fresh database on the server of `admin_url`, migrated to head; dropped afterwards."""
    with empty_database(admin_url, prefix=prefix, say=say) as url:
        say(f"migrating database {url.database}")
        migrating.upgrade(url)
        yield url


@contextlib.contextmanager
def empty_database(
    admin_url: str, *, prefix: str = "podrunner_bench", say: Callable[[str], None] = print
) -> Iterator[URL]:
    """A new, empty database on the server of `admin_url`; dropped afterwards."""
    admin = engines.normalize_url(admin_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _execute(admin, f'CREATE DATABASE "{name}"')
    say(f"created database {name}")
    try:
        yield admin.set(database=name)
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
