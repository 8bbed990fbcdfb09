"""The watcher's fast event encoding writes exactly what `PodEvent` readers decode."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from shared.k8s import naming, snapshots
from shared.messages import SCHEMA_VERSION, EventSource, PodEvent, PodPhase, TaskKey

KEY = TaskKey(dag_id="etl", task_id="load", run_id="r1", map_index=2)
OBSERVED = datetime(2026, 11, 23, 12, 0, 5, 123456, tzinfo=UTC)


def raw_pod(**status: object) -> bytes:
    pod = {
        "metadata": {
            "name": "etl-load-abc",
            "namespace": "jobs",
            "resourceVersion": "4242",
            "labels": naming.ownership_labels("prod"),
            "annotations": naming.key_annotations(KEY, 3),
            "deletionTimestamp": "2026-11-23T12:00:00Z",
        },
        "spec": {"containers": [{"name": "base"}]},
        "status": status,
    }
    return orjson.dumps(pod)


def decoded(pod: bytes, **kwargs: object) -> PodEvent | snapshots.Foreign:
    return snapshots.to_event(
        snapshots.EVENT_DECODER.decode(b'{"type":"MODIFIED","object":' + pod + b"}").object
        or snapshots.Pod(),
        deleted=bool(kwargs.get("deleted", False)),
        observed_at=OBSERVED,
        source=EventSource.WATCH,
    )


def test_a_terminated_pod_encodes_to_the_pod_event_readers_expect() -> None:
    terminated = {
        "exitCode": 137,
        "reason": "OOMKilled",
        "startedAt": "2026-11-23T11:59:00Z",
        "finishedAt": "2026-11-23T12:00:00Z",
    }
    pod = raw_pod(
        phase="Failed", containerStatuses=[{"name": "base", "state": {"terminated": terminated}}]
    )
    event = decoded(pod, deleted=True)
    assert isinstance(event, PodEvent)
    read = PodEvent.decode(event.encode())
    assert read == PodEvent(
        version=SCHEMA_VERSION,
        key=KEY,
        try_number=3,
        namespace="jobs",
        pod="etl-load-abc",
        phase=PodPhase.FAILED,
        terminated_reason="OOMKilled",
        exit_code=137,
        started_at=datetime(2026, 11, 23, 11, 59, tzinfo=UTC),
        finished_at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
        deletion_requested=True,
        deleted=True,
        resource_version="4242",
        observed_at=OBSERVED,
    )


def test_a_waiting_container_gives_its_reason_and_message() -> None:
    waiting = {"reason": "ErrImagePull", "message": "not found"}
    event = decoded(
        raw_pod(
            phase="Pending", containerStatuses=[{"name": "base", "state": {"waiting": waiting}}]
        )
    )
    read = PodEvent.decode(event.encode())  # type: ignore[union-attr]
    assert (read.phase, read.waiting_reason, read.waiting_message) == (
        PodPhase.PENDING,
        "ErrImagePull",
        "not found",
    )


def test_an_unknown_phase_is_reported_as_unknown() -> None:
    event = decoded(raw_pod(phase="Exploded"))
    assert PodEvent.decode(event.encode()).phase is PodPhase.UNKNOWN  # type: ignore[union-attr]


def test_a_pod_with_garbled_annotations_is_foreign() -> None:
    pod = orjson.loads(raw_pod(phase="Running"))
    pod["metadata"]["annotations"][naming.TRY_NUMBER] = "three"
    assert decoded(orjson.dumps(pod)) == snapshots.Foreign("unreadable key annotations")
