"""A task's next try, submitted after the last one ended, runs in its own pod and ends on its own
outcome, whether it comes through the API or straight onto the queue."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import sqlalchemy

from shared.messages import Job
from shared.messaging.jobqueue import BrokerSettings, JobQueue
from tests.e2e import tasks
from tests.e2e.conftest import Stack
from tests.support.kubesim import free_port
from tests.support.services import API_HEADERS

pytestmark = pytest.mark.timeout(120)


def ended(db: sqlalchemy.Engine, try_number: int) -> Any:
    """The row once its `try_number` has ended (and holds its job)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = tasks.rows(db).get("retried")
        if (
            row is not None
            and row.try_number == try_number
            and row.state in tasks.TERMINAL
            and row.job["try_number"] == try_number
        ):
            return row
        time.sleep(0.2)
    raise AssertionError(f"try {try_number} never ended: {tasks.rows(db).get('retried')}")


def post(port: int, job: Job) -> None:
    url = f"http://127.0.0.1:{port}/api/v1/jobs"
    response = httpx.post(url, content=job.encode(), timeout=10, headers=API_HEADERS)
    assert response.status_code == 201, response.text


def test_a_second_try_submitted_through_the_api_succeeds_in_its_own_pod(
    services: Stack, db: sqlalchemy.Engine
) -> None:
    port = free_port()
    services.start("reconciler", PODRUNNER_HEALTH_PORT=str(port))
    services("watcher", "launcher")
    post(port, tasks.job("retried", {"exit-code": "1"}, try_number=1))
    first = ended(db, 1)
    assert (first.state, first.failure_reason) == ("failed", "Error (exit 1)")

    post(port, tasks.job("retried", try_number=2))
    second = ended(db, 2)
    assert (second.state, second.failure_reason) == ("success", None)
    assert second.pod_uid not in (None, first.pod_uid)
    assert second.pod_name != first.pod_name


def test_a_second_try_published_straight_to_the_queue_succeeds_and_becomes_the_rows_job(
    services: Stack, db: sqlalchemy.Engine, redis_url: str
) -> None:
    services("reconciler", "watcher", "launcher")
    tasks.submit(db, redis_url, [tasks.job("retried", {"exit-code": "1"}, try_number=1)])
    first = ended(db, 1)
    assert first.state == "failed"

    retry = tasks.job("retried", try_number=2, priority=5)
    JobQueue(BrokerSettings(url=redis_url)).publish([(retry, "jobs")])
    second = ended(db, 2)
    assert (second.state, second.failure_reason) == ("success", None)
    assert second.pod_uid not in (None, first.pod_uid)
    assert (second.job["try_number"], second.priority) == (2, 5), "the row holds try 2's job"
