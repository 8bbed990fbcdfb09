"""Engines and sessions for Postgres, from the URL in the settings.

Users give plain `postgresql://user@host:port/db` URLs (what `psql` and every other tool take);
SQLAlchemy would pick psycopg2 for those, which podrunner does not install, so the URL is rewritten
to the psycopg 3 driver here, once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

#: `Engine` and `Connection` are named here too, for the modules outside `shared.db` that pass one
#: along but must not import SQLAlchemy themselves.
__all__ = [
    "Connection",
    "DatabaseUnavailable",
    "Engine",
    "make_engine",
    "make_session_factory",
    "normalize_url",
    "unavailable_as_error",
]

_DRIVER = "postgresql+psycopg"


class DatabaseUnavailable(RuntimeError):
    """Postgres could not be reached or refused the connection; the message says why."""


def normalize_url(url: str | URL) -> URL:
    """`url` with the psycopg 3 driver, whatever Postgres driver (or none) it named."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername=_DRIVER)


def make_engine(url: str | URL, *, pool_size: int = 5) -> Engine:
    return create_engine(normalize_url(url), pool_size=pool_size, pool_pre_ping=True, future=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unavailable_as_error() -> Iterator[None]:
    """Raise `DatabaseUnavailable` for Postgres down or a lost connection (what a caller may
    retry later), with the driver's reason."""
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError) as error:
        raise DatabaseUnavailable(str(error.orig or error).splitlines()[0]) from error
