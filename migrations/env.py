"""alembic environment: the URL from the caller's config, else from podrunner's settings."""

from __future__ import annotations

from alembic import context

from shared.db import engines
from shared.db.models import Base
from shared.settings import Settings


def _database_url() -> str:
    configured = context.config.get_main_option("sqlalchemy.url")
    if configured:
        return configured
    url = Settings().database_url
    if url is None:
        raise SystemExit("PODRUNNER_DATABASE_URL is not set")
    return url


def run_migrations() -> None:
    engine = engines.make_engine(_database_url(), pool_size=1)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                compare_type=True,
                compare_server_default=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


run_migrations()
