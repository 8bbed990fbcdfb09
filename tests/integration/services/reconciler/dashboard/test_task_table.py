"""The task table's data: each filter narrows it, sorting orders it (rows without the time last),
and pages split it without overlap, with the total of all matching rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy

from tests.integration.services.reconciler.dashboard.conftest import insert
from tests.support.testclient import TestClient

NOW = datetime.now(UTC)


@pytest.fixture
def rows(db: sqlalchemy.Engine) -> None:
    insert(db, "a", state="success", ended_at=NOW, queued_at=NOW - timedelta(hours=3))
    insert(db, "b", state="failed", failure_reason="OOMKilled (exit 137)", ended_at=NOW)
    insert(db, "c", state="failed", failure_reason="Error (exit 3)", run_id="r2")
    insert(db, "d", state="running", namespace="other", dag_id="ml")
    insert(db, "e", state="queued")


def tasks(client: TestClient, **query: Any) -> list[str]:
    answer = client.get("/ui/data/tasks", params=query)
    assert answer.status_code == 200, answer.text
    return [row["task_id"] for row in answer.json()["rows"]]


@pytest.mark.usefixtures("rows")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param({"dag_id": "ml"}, ["d"], id="dag"),
        pytest.param({"run_id": "r2"}, ["c"], id="run"),
        pytest.param({"state": "failed"}, ["b", "c"], id="state"),
        pytest.param({"namespace": "other"}, ["d"], id="namespace"),
        pytest.param({"reason": "oomkilled"}, ["b"], id="reason-any-case"),
        pytest.param({"reason": "(exit"}, ["b", "c"], id="reason-part"),
        pytest.param({"since": (NOW - timedelta(hours=1)).isoformat()}, ["b", "c", "d", "e"]),
        pytest.param({"until": (NOW - timedelta(hours=1)).isoformat()}, ["a"], id="until"),
    ],
)
def test_each_filter_narrows_the_table(
    client: TestClient, query: dict[str, str], expected: list[str]
) -> None:
    assert sorted(tasks(client, **query)) == expected


@pytest.mark.usefixtures("rows")
def test_sorting_orders_by_the_column_with_rows_lacking_it_last(client: TestClient) -> None:
    assert tasks(client, sort="task_id", order="asc") == ["a", "b", "c", "d", "e"]
    assert tasks(client, sort="task_id", order="desc") == ["e", "d", "c", "b", "a"]
    # ties (no end yet) in key order: dag, then task
    assert tasks(client, sort="ended_at", order="asc")[2:] == ["c", "e", "d"]
    assert tasks(client, sort="ended_at", order="desc")[2:] == ["c", "e", "d"]
    assert tasks(client)[-1] == "a", "newest first by default"


@pytest.mark.usefixtures("rows")
def test_pages_split_the_rows_without_overlap_and_count_them_all(client: TestClient) -> None:
    pages = [
        client.get("/ui/data/tasks", params={"page": n, "page_size": 2, "sort": "task_id"}).json()
        for n in (1, 2, 3)
    ]

    assert [page["total"] for page in pages] == [5, 5, 5]
    assert [[row["task_id"] for row in page["rows"]] for page in pages] == [
        ["e", "d"],
        ["c", "b"],
        ["a"],
    ]
    assert "job" not in pages[0]["rows"][0], "the listing leaves the job out"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param({"sort": "job"}, "sort", id="unsortable"),
        pytest.param({"state": "lost"}, "state", id="state"),
        pytest.param({"page": "0"}, "page", id="page"),
        pytest.param({"page_size": "201"}, "page_size", id="page-size"),
        pytest.param({"dag_id": "a\x00"}, "dag_id", id="nul"),
        pytest.param({"since": "yesterday"}, "since", id="time"),
    ],
)
def test_a_bad_parameter_is_a_422_naming_it(
    client: TestClient, query: dict[str, str], field: str
) -> None:
    answer = client.get("/ui/data/tasks", params=query)

    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
