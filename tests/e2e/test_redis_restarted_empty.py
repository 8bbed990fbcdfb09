"""Redis restarted without its data: every service survives it, rebuilds what it kept there, and
every task, submitted before, during or after, still ends right."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy
from kombu.connection import Connection
from kombu.entity import Exchange

from shared.messages import Job
from tests.e2e import tasks
from tests.e2e.conftest import Stack
from tests.support.kubesim import KubesimProcess, free_port
from tests.support.redis_process import RedisProcess, redis_process
from tests.support.services import API_HEADERS
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(240)

SERVICES = ("reconciler", "watcher", "launcher")
#: Long enough that the pods started before the restart finish after it.
RUN = {"run-seconds": "6"}


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    with redis_process(tmp_path) as server:
        yield server


@pytest.fixture
def stack(stack_env: dict[str, str], own_redis: RedisProcess) -> Iterator[Stack]:
    env = {**stack_env, "PODRUNNER_REDIS_URL": own_redis.url, "PODRUNNER_BROKER_URL": own_redis.url}
    stack = Stack(env)
    yield stack
    stack.stop_all()


def start(stack: Stack) -> dict[str, int]:
    """Start one of each service; return each one's health port."""
    ports = {name: free_port() for name in SERVICES}
    for name in SERVICES:
        stack.start(name, PODRUNNER_HEALTH_PORT=str(ports[name]))
    return ports


def through_api(port: int, job: Job) -> int:
    url = f"http://127.0.0.1:{port}/api/v1/jobs"
    return httpx.post(url, json=job.to_dict(), timeout=10, headers=API_HEADERS).status_code


def straight_to_queue(redis_url: str, job: Job) -> None:
    """As another program would: stock kombu, a fresh connection, no declaration."""
    with Connection(redis_url) as connection:
        connection.Producer(serializer="json").publish(
            job.to_dict(),
            exchange=Exchange("podrunner.jobs", type="direct", durable=True),
            routing_key="jobs",
        )


def answers(port: int, status: int) -> Callable[[], bool]:
    return lambda: readiness(port)[0] == status


def readiness(port: int) -> tuple[int, str]:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
    except httpx.TransportError as error:
        return 0, str(error)
    return response.status_code, response.text


def test_services_survive_redis_restarting_empty_and_every_task_ends_right(
    stack: Stack, own_redis: RedisProcess, db: sqlalchemy.Engine, kubesim: KubesimProcess
) -> None:
    ports = start(stack)
    for n in range(3):
        assert through_api(ports["reconciler"], tasks.job(f"api-before-{n}", RUN)) == 201
    for n in range(2):
        straight_to_queue(own_redis.url, tasks.job(f"queue-before-{n}", RUN))
    before = 5
    wait_until(
        lambda: len(tasks.rows(db)) == before, timeout_s=60, what="the rows of the jobs sent before"
    )

    own_redis.kill()
    for name in SERVICES:
        wait_until(answers(ports[name], 503), timeout_s=60, what=f"the {name} not ready")
    _, body = readiness(ports["reconciler"])
    assert "redis" in body.lower(), body
    # recorded while the broker is down (202): the stuck-queued sweep publishes it later
    assert through_api(ports["reconciler"], tasks.job("api-during")) == 202
    own_redis.start()  # empty: no consumer group, lease, checkpoint or queue binding left

    for name in SERVICES:
        wait_until(answers(ports[name], 200), timeout_s=60, what=f"the {name} ready again")
    for n in range(3):
        assert through_api(ports["reconciler"], tasks.job(f"api-after-{n}")) == 201
    for n in range(2):
        straight_to_queue(own_redis.url, tasks.job(f"queue-after-{n}"))

    rows = tasks.wait_terminal(db, before + 1 + 5, timeout_s=120)
    assert {task: row.state for task, row in rows.items()} == dict.fromkeys(rows, "success")
    assert rows["api-during"].republish_count >= 1
    assert tasks.leftovers(kubesim.url, timeout_s=30) == []
    exited = {name: p.poll() for name, p in stack.running.items() if p.poll() is not None}
    assert not exited, f"services exited: {exited}"
