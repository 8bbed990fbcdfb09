"""Fixtures of the Airflow end-to-end test: the whole stack as processes, and both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.engine import URL

from shared.db import engines
from tests.e2e.airflow import home, stack
from tests.e2e.airflow.processes import Processes


@pytest.fixture
def airflow_executor() -> str:
    """The `[core] executor` Airflow runs with."""
    return home.PODRUNNER_EXECUTOR


@pytest.fixture
def airflow_stack(
    tmp_path: Path,
    airflow_executor: str,
    redis_url: str,
    database_url: URL,
    empty_database_url: URL,
    db: sqlalchemy.Engine,
) -> Iterator[stack.Stack]:
    """kubesim, podrunner and Airflow, running; stopped at the end. Their logs are printed when
    the test fails (in setup too) and kept in the test's directory."""
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = Processes(logs)
    databases = stack.Databases(
        podrunner=database_url, airflow=empty_database_url, redis_url=redis_url
    )
    try:
        with processes.explained():
            yield stack.start(
                processes,
                tmp_path,
                databases=databases,
                executor=airflow_executor,
                dag_id=home.DAG_ID,
            )
    finally:
        processes.stop_all()


@pytest.fixture
def airflow_db(empty_database_url: URL) -> Iterator[sqlalchemy.Engine]:
    """Airflow's metadata database, for the test's own queries."""
    engine = engines.make_engine(empty_database_url, pool_size=1)
    yield engine
    engine.dispose()
