"""Fixtures shared by every test: real Redis and Postgres, isolated per test, and guard rails.

Isolation: one fresh, migrated database per test run (dropped at the end), `task_instance`
truncated after each test; Redis flushed before each test that uses it, and every test gets its own
podrunner instance name. A test that leaves a thread running fails.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
import sqlalchemy
from sqlalchemy.engine import URL

from shared.db import engines
from shared.messaging.jobqueue import BrokerSettings, JobQueue
from shared.messaging.keys import RedisKeys
from tests.support import servers
from tests.support.scratch import scratch_database


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    with servers.redis_server() as url:
        yield url


@pytest.fixture
def redis_url(redis_server_url: str) -> str:
    """A Redis URL whose database is empty when the test starts."""
    client = redis.Redis.from_url(redis_server_url)
    client.flushdb()
    client.close()
    return redis_server_url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def instance() -> str:
    """A podrunner instance name of this test's own."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def keys(instance: str) -> RedisKeys:
    return RedisKeys(instance)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[URL]:
    with servers.postgres_server() as url:
        yield engines.normalize_url(url)


@pytest.fixture(scope="session")
def database_url(postgres_admin_url: URL) -> Iterator[URL]:
    """A fresh database for this test run, migrated to head; dropped afterwards."""
    with scratch_database(postgres_admin_url, prefix="podrunner_test", say=_quiet) as url:
        yield url


@pytest.fixture
def empty_database_url(postgres_admin_url: URL) -> Iterator[URL]:
    """A fresh database with no schema at all, for migration tests."""
    with scratch_database(
        postgres_admin_url, prefix="podrunner_test", migrate=False, say=_quiet
    ) as url:
        yield url


@pytest.fixture(scope="session")
def db_engine(database_url: URL) -> Iterator[sqlalchemy.Engine]:
    engine = engines.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def jobs(redis_url: str) -> Iterator[JobQueue]:
    """A job queue on the test's Redis."""
    queue = JobQueue(BrokerSettings(url=redis_url))
    yield queue
    queue.close()


@pytest.fixture
def cli_env(
    redis_url: str, database_url: URL, monkeypatch: pytest.MonkeyPatch
) -> pytest.MonkeyPatch:
    """The environment `podrunner submit` reads, on the test's Redis and Postgres, default
    namespace `jobs`; the test sets more through the returned monkeypatch."""
    monkeypatch.setenv("PODRUNNER_REDIS_URL", redis_url)
    monkeypatch.setenv("PODRUNNER_DATABASE_URL", database_url.render_as_string(hide_password=False))
    monkeypatch.setenv("PODRUNNER_NAMESPACE", "jobs")
    return monkeypatch


@pytest.fixture
def db(db_engine: sqlalchemy.Engine) -> Iterator[sqlalchemy.Engine]:
    """The run's engine, with `task_instance` empty when the test starts.

    Emptied before rather than after: an end-to-end test's services stop after
    this fixture's teardown, and a reconciler applying its last launch events can
    write a row in between.
    """
    with db_engine.begin() as connection:
        connection.execute(sqlalchemy.text("TRUNCATE task_instance"))
    yield db_engine
    with db_engine.begin() as connection:
        connection.execute(sqlalchemy.text("TRUNCATE task_instance"))


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    while leaked and time.monotonic() < deadline:
        time.sleep(0.05)
        leaked = [t for t in leaked if t.is_alive()]
    assert not leaked, f"test left threads running: {[t.name for t in leaked]}"


def _quiet(_line: str) -> None:
    """Test runs say nothing of their scratch databases."""
