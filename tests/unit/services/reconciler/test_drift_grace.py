"""Work in flight is never taken for drift: young pods and fresh launches are left alone."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import msgspec

from services.reconciler import drift
from services.reconciler.drift import Finding, Known, Limits, Observed
from shared.db.models import TaskState
from shared.messages import SCHEMA_VERSION, PodEvent, PodPhase, TaskKey

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
KEY = TaskKey(dag_id="etl", task_id="load", run_id="r1")
ROW_KEY = KEY
LIMITS = Limits(grace_s=60, pending_timeout_s=300, image_pull_grace_s=120, queued_timeout_s=600)


def pod(age_s: float, *, try_number: int = 1, phase: PodPhase = PodPhase.PENDING) -> Observed:
    event = PodEvent(
        version=SCHEMA_VERSION,
        key=KEY,
        try_number=try_number,
        namespace="jobs",
        pod="etl-load-abc",
        phase=phase,
        resource_version="7",
        observed_at=NOW,
    )
    return Observed(event, NOW - timedelta(seconds=age_s), holds_result=True, pending_why="x")


def row(*, launched_age_s: float | None, try_number: int = 1) -> Known:
    launched = None if launched_age_s is None else NOW - timedelta(seconds=launched_age_s)
    return Known(
        key=ROW_KEY,
        namespace="jobs",
        try_number=try_number,
        state=TaskState.QUEUED,
        pod_uid=None,
        launched_at=launched,
        updated_at=launched or NOW,
        republish_count=0,
    )


def findings(pods: list[Observed], rows: list[Known]) -> list[Finding]:
    known = {r.key: r for r in rows}
    verdicts, with_pod = drift.scan_pods(
        pods, known, now=NOW, limits=LIMITS, deletes=lambda _state: True
    )
    verdicts += drift.scan_rows(rows, with_pod, now=NOW, limits=LIMITS)
    return [v.finding for v in verdicts]


def test_a_young_pod_without_a_row_is_left_alone_until_the_grace_ends() -> None:
    assert findings([pod(10)], []) == []
    assert findings([pod(61)], []) == [Finding.ORPHAN_POD]


def test_a_pod_of_a_newer_try_than_its_row_waits_for_its_launch_event() -> None:
    assert findings([pod(600, try_number=2)], [row(launched_age_s=600)]) == []


def test_a_fresh_launch_without_a_pod_is_not_called_vanished() -> None:
    assert findings([], [row(launched_age_s=5)]) == []
    assert findings([], [row(launched_age_s=61)]) == [Finding.VANISHED_POD]


def test_a_pending_pod_is_timed_from_its_creation() -> None:
    assert findings([pod(299)], [row(launched_age_s=299)]) == []
    assert findings([pod(301)], [row(launched_age_s=301)]) == [Finding.PENDING_TIMEOUT]


def test_a_running_pod_with_a_live_row_is_in_order() -> None:
    assert findings([pod(3600, phase=PodPhase.RUNNING)], [row(launched_age_s=3600)]) == []


def waiting_pod(age_s: float, reason: str) -> Observed:
    observed = pod(age_s)
    event = msgspec.structs.replace(observed.event, waiting_reason=reason)
    return Observed(event, observed.created_at, holds_result=True, pending_why=reason)


def test_a_container_waiting_for_a_missing_config_fails_only_after_its_grace() -> None:
    limits = Limits(grace_s=60, pending_timeout_s=300, config_error_grace_s=30)
    rows = {ROW_KEY: row(launched_age_s=31)}
    young = waiting_pod(29, "CreateContainerConfigError")
    old = waiting_pod(31, "CreateContainerConfigError")
    scan = functools.partial(drift.scan_pods, now=NOW, limits=limits, deletes=lambda _s: True)
    assert scan([young], rows)[0] == []
    verdicts = scan([old], rows)[0]
    assert [v.finding for v in verdicts] == [Finding.CONFIG_ERROR]
    assert verdicts[0].why == "CreateContainerConfigError (for more than 30s)"
