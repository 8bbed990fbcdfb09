"""Running alembic from podrunner: `podrunner db upgrade`, tests, and the demo.

The migration scripts ship inside the `migrations` package, so an installed podrunner can migrate
without a checkout; the URL comes from the caller's settings, never from `alembic.ini`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from importlib import resources

import sqlalchemy.exc
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from shared.db import engines


def alembic_config(database_url: str | URL) -> Config:
    """An alembic `Config` pointing at podrunner's migrations and `database_url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("migrations")))
    url = engines.normalize_url(database_url).render_as_string(hide_password=False)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str | URL, revision: str = "head") -> None:
    """Migrate to `revision`.

    Raises:
        DatabaseUnavailable: Postgres could not be reached.
    """
    with _unavailable_as_error(database_url):
        command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | URL, revision: str) -> None:
    with _unavailable_as_error(database_url):
        command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("postgresql://localhost/unused"))
    head = script.get_current_head()
    assert head is not None, "podrunner ships at least one migration"
    return head


def current_revision(database_url: str | URL) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    engine = engines.make_engine(database_url, pool_size=1)
    try:
        with _unavailable_as_error(database_url), engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


@contextlib.contextmanager
def _unavailable_as_error(database_url: str | URL) -> Iterator[None]:
    try:
        yield
    except sqlalchemy.exc.OperationalError as error:
        where = engines.normalize_url(database_url).render_as_string(hide_password=True)
        reason = str(error.orig or error).strip().splitlines()[0]
        raise engines.DatabaseUnavailable(f"cannot reach {where}: {reason}") from error
