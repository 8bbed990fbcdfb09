"""`GET /api/v1/tasks` lists rows in key order, filtered by dag, run and state, a page at a time,
each page continuing where the last one's cursor says."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy

from shared.db import rows
from shared.messages import TaskKey
from tests.support import builders
from tests.support.testclient import MakeApp, TestClient

#: (dag, task, run, map index) of the tasks submitted, in key order.
TASKS = [
    ("etl", "check", "r1", -1),
    ("etl", "load", "r1", -1),
    ("etl", "load", "r2", -1),
    ("etl", "split", "r1", 0),
    ("etl", "split", "r1", 1),
    ("etl", "split", "r1", 10),
    ("ml", "train", "r1", -1),
]


@pytest.fixture
def client(db: sqlalchemy.Engine, make_app: MakeApp) -> Iterator[TestClient]:
    with TestClient(make_app()) as client:
        for dag, task, run, index in reversed(TASKS):
            job = builders.job_dict(dag_id=dag, task_id=task, run_id=run, map_index=index)
            assert client.post("/api/v1/jobs", json=job).status_code == 201
        with db.begin() as connection:
            connection.execute(
                sqlalchemy.text("UPDATE task_instance SET state='failed' WHERE task_id='load'")
            )
        yield client


def keys(items: list[dict[str, Any]]) -> list[tuple[str, str, str, int]]:
    return [(i["dag_id"], i["task_id"], i["run_id"], i["map_index"]) for i in items]


def test_every_task_is_listed_in_key_order(client: TestClient) -> None:
    response = client.get("/api/v1/tasks")

    assert response.status_code == 200, response.text
    body = response.json()
    assert keys(body["items"]) == TASKS
    assert body["next_cursor"] is None
    assert "job" not in body["items"][0], "a listing leaves the stored job out"


def test_pages_follow_each_other_through_the_cursor_to_the_last(client: TestClient) -> None:
    seen: list[tuple[str, str, str, int]] = []
    pages = 0
    params: dict[str, str | int] = {"limit": 3}
    while True:
        body = client.get("/api/v1/tasks", params=params).json()
        pages += 1
        seen += keys(body["items"])
        if body["next_cursor"] is None:
            break
        params = {"limit": 3, "cursor": body["next_cursor"]}

    assert pages == 3
    assert seen == TASKS


def test_a_filtered_listing_pages_through_the_matches_only(client: TestClient) -> None:
    first = client.get("/api/v1/tasks", params={"dag_id": "etl", "run_id": "r1", "limit": 2})
    second = client.get(
        "/api/v1/tasks",
        params={"dag_id": "etl", "run_id": "r1", "limit": 2, "cursor": first.json()["next_cursor"]},
    )
    third = client.get(
        "/api/v1/tasks",
        params={
            "dag_id": "etl",
            "run_id": "r1",
            "limit": 2,
            "cursor": second.json()["next_cursor"],
        },
    )

    assert keys(first.json()["items"]) == TASKS[0:2]
    assert keys(second.json()["items"]) == [TASKS[3], TASKS[4]]
    assert keys(third.json()["items"]) == [TASKS[5]]
    assert third.json()["next_cursor"] is None


def test_tasks_are_filtered_by_state(client: TestClient) -> None:
    failed = client.get("/api/v1/tasks", params={"state": "failed"}).json()["items"]
    running = client.get("/api/v1/tasks", params={"state": "running"}).json()["items"]

    assert keys(failed) == [TASKS[1], TASKS[2]]
    assert {task["state"] for task in failed} == {"failed"}
    assert running == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"state": "done"}, "state", id="unknown-state"),
        pytest.param({"limit": 0}, "limit", id="limit-0"),
        pytest.param({"limit": 1001}, "limit", id="limit-past-1000"),
        pytest.param({"limit": "ten"}, "limit", id="limit-as-text"),
        pytest.param({"cursor": "not a cursor"}, "cursor", id="garbage-cursor"),
        pytest.param(
            {"cursor": rows.encode_cursor(TaskKey("a\x00", "b", "c", 1))}, "cursor", id="nul"
        ),
        pytest.param({"dag_id": ""}, "dag_id", id="empty-dag"),
        pytest.param({"run_id": "r\x00"}, "run_id", id="nul-in-run"),
    ],
)
def test_invalid_parameters_are_a_422_naming_the_parameter(
    client: TestClient, params: dict[str, str | int], field: str
) -> None:
    response = client.get("/api/v1/tasks", params=params)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_request", field)
    assert error["reason"]
