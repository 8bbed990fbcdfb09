"""While the broker is down, `POST /api/v1/jobs` records the row and answers 202 at once: the row
is the outbox, which the stuck-queued sweep publishes later."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy

from services.reconciler import service
from shared.settings import Settings
from tests.support import builders
from tests.support.kubesim import free_port
from tests.support.services import API_HEADERS, InProcess

pytestmark = pytest.mark.timeout(90)


class Broker:
    """A redis-server of this test's own, to stop while the API is running."""

    def __init__(self) -> None:
        self.port = free_port()
        argv = ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self._process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        client.close()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            self._process.wait(10)


@pytest.fixture
def broker() -> Iterator[Broker]:
    running = Broker()
    yield running
    running.stop()


@pytest.fixture
def reconciler(
    service_env: dict[str, str],
    database_url: Any,
    db: sqlalchemy.Engine,
    broker: Broker,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[InProcess]:
    """A reconciler whose job queue is on `broker` (`db`: its rows are truncated after)."""
    monkeypatch.setenv("PODRUNNER_DATABASE_URL", database_url.render_as_string(hide_password=False))
    monkeypatch.setenv("PODRUNNER_BROKER_URL", broker.url)
    running = InProcess(service.build(Settings()), int(service_env["PODRUNNER_HEALTH_PORT"]))
    yield running.start()
    assert running.stop() == 0


def states(db: sqlalchemy.Engine) -> dict[str, str]:
    with db.connect() as connection:
        query = sqlalchemy.text("SELECT task_id, state FROM task_instance")
        return {task: state for task, state in connection.execute(query)}


def test_a_job_posted_while_the_broker_is_down_is_recorded_and_answered_202_at_once(
    reconciler: InProcess, broker: Broker, db: sqlalchemy.Engine, namespace: str
) -> None:
    url = f"http://127.0.0.1:{reconciler.port}/api/v1/jobs"
    before = builders.job_dict(task_id="before", namespace=namespace)
    assert httpx.post(url, json=before, timeout=10, headers=API_HEADERS).status_code == 201
    broker.stop()

    started = time.monotonic()
    during = builders.job_dict(task_id="during", namespace=namespace)
    response = httpx.post(url, json=during, timeout=30, headers=API_HEADERS)
    took = time.monotonic() - started

    assert response.status_code == 202, response.text
    assert response.json()["published"] is False
    assert took < 3, f"the answer took {took:.1f}s"
    assert states(db) == {"before": "queued", "during": "queued"}
