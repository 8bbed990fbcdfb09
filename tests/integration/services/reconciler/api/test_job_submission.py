"""`POST /api/v1/jobs` records the row, publishes the job, refuses repeats with the current state,
and answers 202 when only the publishing failed (the row is the outbox)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pytest
import sqlalchemy

from shared.messages import Job
from shared.messaging.connections import MessagingError
from shared.messaging.jobqueue import BrokerSettings, JobQueue
from tests.support import builders
from tests.support.testclient import MakeApp, TestClient

#: The namespaces launchers serve here.
SERVED = ("jobs", "team-a")


class BrokerDown(JobQueue):
    """A job queue whose broker refuses every publish, as during an outage."""

    def publish(self, jobs: Iterable[tuple[Job, str]]) -> int:  # noqa: ARG002 - refuses all
        raise MessagingError("publishing jobs failed: connection refused")


@pytest.fixture
def client(make_app: MakeApp) -> Iterator[TestClient]:
    with TestClient(make_app(served=SERVED)) as client:
        yield client


def rows(db: sqlalchemy.Engine) -> list[Any]:
    with db.connect() as connection:
        query = sqlalchemy.text("SELECT * FROM task_instance")
        return list(connection.execute(query).mappings())


def test_a_valid_job_is_recorded_as_queued_and_published(
    client: TestClient, db: sqlalchemy.Engine, jobs: JobQueue
) -> None:
    response = client.post("/api/v1/jobs", json=builders.job_dict(priority=3))

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["key"] == {
        "dag_id": "etl",
        "task_id": "load",
        "run_id": "manual__2026-11-23T00:00:00",
        "map_index": -1,
    }
    assert (body["try_number"], body["namespace"], body["state"]) == (1, "jobs", "queued")
    assert body["published"] is True
    assert response.headers["location"] == (
        "/api/v1/tasks/etl/load/manual__2026-11-23T00%3A00%3A00/-1"
    )
    [row] = rows(db)
    assert (row["state"], row["priority"], row["namespace"]) == ("queued", 3, "jobs")
    assert jobs.depth("jobs") == 1


def test_a_job_naming_its_namespace_goes_there(client: TestClient, jobs: JobQueue) -> None:
    response = client.post("/api/v1/jobs", json=builders.job_dict(namespace="team-a"))

    assert response.status_code == 201, response.text
    assert response.json()["namespace"] == "team-a"
    assert jobs.depth("team-a") == 1


def test_the_same_try_again_is_a_conflict_carrying_the_current_state(
    client: TestClient, db: sqlalchemy.Engine, jobs: JobQueue
) -> None:
    assert client.post("/api/v1/jobs", json=builders.job_dict()).status_code == 201
    with db.begin() as connection:
        connection.execute(
            sqlalchemy.text(
                "UPDATE task_instance SET state='failed', pod_name='etl-load-abc', "
                "failure_reason='OOMKilled (exit 137)'"
            )
        )

    response = client.post("/api/v1/jobs", json=builders.job_dict())

    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "already_submitted"
    assert error["current"] == {
        "try_number": 1,
        "state": "failed",
        "pod_name": "etl-load-abc",
        "failure_reason": "OOMKilled (exit 137)",
    }
    assert jobs.depth("jobs") == 1, "no second message"


def test_a_later_try_is_accepted_and_an_earlier_one_is_a_conflict(client: TestClient) -> None:
    assert client.post("/api/v1/jobs", json=builders.job_dict(try_number=2)).status_code == 201

    assert client.post("/api/v1/jobs", json=builders.job_dict(try_number=3)).status_code == 201
    refused = client.post("/api/v1/jobs", json=builders.job_dict(try_number=1))

    assert refused.status_code == 409
    assert refused.json()["error"]["current"]["try_number"] == 3


def test_a_broker_outage_after_the_row_is_recorded_answers_202(
    db: sqlalchemy.Engine, make_app: MakeApp
) -> None:
    broker_down = BrokerDown(BrokerSettings(url="redis://unused"))
    with TestClient(make_app(jobs=broker_down, served=SERVED)) as client:
        response = client.post("/api/v1/jobs", json=builders.job_dict())

    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["state"], body["published"]) == ("queued", False)
    assert "published later" in body["message"]
    assert response.headers["location"].startswith("/api/v1/tasks/etl/load/")
    [row] = rows(db)
    assert row["state"] == "queued", "the row stays, as the outbox the sweep republishes"
