"""`GET /api/v1/tasks/{dag_id}/{task_id}/{run_id}/{map_index}` answers the whole row, with ISO 8601
timestamps and the stored job, or a 404 that says which task is unknown."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy

from tests.support import builders
from tests.support.testclient import TestClient

#: The columns of `task_instance`, a contract.
COLUMNS = {
    "dag_id",
    "task_id",
    "run_id",
    "map_index",
    "try_number",
    "state",
    "namespace",
    "pod_name",
    "job",
    "priority",
    "queued_at",
    "launched_at",
    "started_at",
    "ended_at",
    "updated_at",
    "pod_phase",
    "resource_version",
    "exit_code",
    "failure_reason",
    "log_tail",
    "relaunch_count",
}


def test_a_task_is_its_whole_row_with_the_job_and_iso_timestamps(
    client: TestClient, db: sqlalchemy.Engine
) -> None:
    job = builders.job_dict(map_index=4, labels={"team": "data"})
    location = client.post("/api/v1/jobs", json=job).headers["location"]
    with db.begin() as connection:
        connection.execute(
            sqlalchemy.text(
                "UPDATE task_instance SET state='failed', pod_name='etl-load-1', "
                "started_at=now(), ended_at=now(), exit_code=3, "
                "failure_reason='Error (exit 3)', log_tail='boom'"
            )
        )

    response = client.get(location)

    assert response.status_code == 200, response.text
    task = response.json()
    assert set(task) >= COLUMNS
    assert (task["run_id"], task["map_index"], task["state"]) == (job["run_id"], 4, "failed")
    assert (task["exit_code"], task["failure_reason"], task["log_tail"]) == (
        3,
        "Error (exit 3)",
        "boom",
    )
    assert task["job"] == {**job, "priority": 0}, "the job as decoded, defaults filled in"
    for column in ("queued_at", "started_at", "ended_at", "updated_at"):
        assert datetime.fromisoformat(task[column]).tzinfo is not None, column
    assert task["launched_at"] is None


def test_an_unknown_task_is_a_404_naming_it(client: TestClient) -> None:
    response = client.get("/api/v1/tasks/etl/load/r9/-1")

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert error["message"] == "no task etl/load/r9/-1"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        pytest.param("/api/v1/tasks/etl/load/r1/-2", "map_index", id="index-below--1"),
        pytest.param("/api/v1/tasks/etl/load/r1/one", "map_index", id="index-as-text"),
        pytest.param("/api/v1/tasks/etl/load/r1/99999999999", "map_index", id="index-past-int32"),
        pytest.param("/api/v1/tasks/etl/lo%00ad/r1/-1", "task_id", id="nul-in-task"),
    ],
)
def test_an_impossible_key_is_a_422(client: TestClient, path: str, field: str) -> None:
    response = client.get(path)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
