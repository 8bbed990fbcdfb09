"""The page of one task: its whole row, its pod's events as recorded, and its log."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy

from shared.messages import SCHEMA_VERSION, PodEvent, PodPhase
from shared.messaging.pod_history import PodHistory
from tests.integration.services.reconciler.dashboard.conftest import insert
from tests.support import builders
from tests.support.testclient import TestClient

KEY = {"dag_id": "etl", "task_id": "load", "run_id": "r1", "map_index": "-1"}


def test_a_task_is_its_row_its_pod_events_in_order_and_its_stored_log(
    client: TestClient, db: sqlalchemy.Engine, history: PodHistory
) -> None:
    insert(
        db,
        "load",
        state="failed",
        pod_name="etl-load-x",
        failure_reason="Error (exit 3)",
        exit_code=3,
        log_tail="one\ntwo\nthree\nfour\n",
    )
    key = builders.job(task_id="load").key
    phases = [PodPhase.PENDING, PodPhase.RUNNING, PodPhase.FAILED]
    events = [
        PodEvent(
            version=SCHEMA_VERSION,
            key=key,
            try_number=1,
            namespace="jobs",
            pod="etl-load-x",
            phase=phase,
            resource_version=str(n),
            observed_at=datetime.now(UTC),
        )
        for n, phase in enumerate(phases)
    ]
    history.record([("jobs", "etl-load-x", event.encode()) for event in events])
    history.record([("jobs", "etl-load-x", b"not an event")])
    history.flush()

    task = client.get("/ui/data/task", params=KEY).json()

    assert task["row"]["failure_reason"] == "Error (exit 3)"
    assert task["row"]["exit_code"] == 3
    assert task["row"]["job"] == {}
    assert [event["phase"] for event in task["events"]] == ["Pending", "Running", "Failed"]
    assert task["events_error"] is None
    assert task["log"] == {"text": "two\nthree\nfour\n", "source": "stored", "pod_error": None}


def test_an_unknown_task_is_a_404_naming_it(client: TestClient) -> None:
    answer = client.get("/ui/data/task", params=KEY)

    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "no task etl/load/r1/-1"
