"""The tracker publishes transitions only, and remembers enough to report a vanished pod."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from msgspec import structs

from services.watcher.tracking import Tracker
from shared.messages import SCHEMA_VERSION, PodEvent, PodPhase, TaskKey

STARTED = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def event(pod: str = "etl-a-1", **fields: Any) -> PodEvent:
    values: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "key": TaskKey(dag_id="etl", task_id=pod, run_id="r1", map_index=2),
        "try_number": 3,
        "namespace": "jobs",
        "pod": pod,
        "pod_uid": f"uid-{pod}",
        "phase": PodPhase.RUNNING,
        "started_at": STARTED,
        "resource_version": "7",
        "observed_at": STARTED,
        **fields,
    }
    return PodEvent(**values)


def test_only_a_changed_phase_reason_exit_code_or_deletion_is_a_transition() -> None:
    tracker = Tracker()
    assert tracker.is_transition(event())
    assert not tracker.is_transition(event(resource_version="8", message="probe ok"))
    assert tracker.is_transition(event(phase=PodPhase.FAILED, exit_code=1))
    assert tracker.is_transition(event(phase=PodPhase.FAILED, exit_code=1, deleted=True))
    assert len(tracker) == 0, "a deleted pod is forgotten"


@pytest.mark.parametrize("uid", ["0b9a3f6e-5c1d-4e2f-8a7b-6c5d4e3f2a1b", "not-a-uuid", ""])
def test_a_pod_missing_from_a_relist_is_reported_as_last_published(uid: str) -> None:
    tracker = Tracker()
    last = event(
        "etl-b-1",
        pod_uid=uid,
        phase=PodPhase.FAILED,
        terminated_reason="Error",
        exit_code=3,
        finished_at=STARTED,
        deletion_requested=True,
    )
    tracker.is_transition(event("etl-a-1"))
    tracker.is_transition(last)
    tracker.start_relist()
    assert not tracker.is_transition(event("etl-a-1")), "listed as it was"
    [gone] = tracker.finish_relist()
    assert len(tracker) == 1
    stamped = {"resource_version": "", "observed_at": gone.observed_at}
    assert gone == structs.replace(last, **stamped)
