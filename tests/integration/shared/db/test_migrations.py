"""Migrations: upgrade an empty Postgres, downgrade it again, and agree with the model."""

from __future__ import annotations

import subprocess
import sys

import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import URL

from shared.db import engines, migrating
from shared.db.models import Base


def tables(url: URL) -> set[str]:
    engine = engines.make_engine(url, pool_size=1)
    try:
        return set(sqlalchemy.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_on_an_empty_database_creates_task_instance(empty_database_url: URL) -> None:
    assert migrating.current_revision(empty_database_url) is None
    migrating.upgrade(empty_database_url)
    assert "task_instance" in tables(empty_database_url)
    assert migrating.current_revision(empty_database_url) == migrating.head_revision()


def test_downgrade_to_base_removes_everything(empty_database_url: URL) -> None:
    migrating.upgrade(empty_database_url)
    migrating.downgrade(empty_database_url, "base")
    assert tables(empty_database_url) <= {"alembic_version"}
    assert migrating.current_revision(empty_database_url) is None


def test_upgrade_twice_is_harmless(empty_database_url: URL) -> None:
    migrating.upgrade(empty_database_url)
    migrating.upgrade(empty_database_url)
    assert migrating.current_revision(empty_database_url) == migrating.head_revision()


def test_the_model_and_the_migrations_agree(database_url: URL) -> None:
    engine = engines.make_engine(database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_the_state_column_refuses_unknown_states(database_url: URL, db: sqlalchemy.Engine) -> None:
    insert = sqlalchemy.text(
        "INSERT INTO task_instance (dag_id, task_id, run_id, try_number, state, namespace, job)"
        " VALUES ('d', 't', 'r', 1, :state, 'ns', '{}')"
    )
    with db.begin() as connection:
        connection.execute(insert, {"state": "queued"})
    try:
        with db.begin() as connection:
            connection.execute(insert.bindparams(state="exploded"))
    except sqlalchemy.exc.IntegrityError:
        return
    raise AssertionError("an unknown state was stored")


def test_podrunner_db_upgrade_migrates_from_the_command_line(empty_database_url: URL) -> None:
    url = empty_database_url.render_as_string(hide_password=False)
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "db", "upgrade"],
        env={"PODRUNNER_DATABASE_URL": url, "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"database at revision {migrating.head_revision()}" in result.stdout
    assert "task_instance" in tables(empty_database_url)


def test_an_unreachable_database_fails_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "db", "upgrade"],
        env={"PODRUNNER_DATABASE_URL": "postgresql://nobody:pw@127.0.0.1:1/none", "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("podrunner: cannot reach postgresql+psycopg://nobody:***@")
    assert result.stderr.count("\n") == 1
