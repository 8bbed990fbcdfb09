"""A pod still running though its task ended (its try was revoked) goes whatever the policy;
a finished pod of an ended task goes only if the policy deletes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.reconciler import drift
from services.reconciler.drift import Finding, Known, Limits, Observed
from shared.db.models import TaskState
from shared.messages import SCHEMA_VERSION, PodEvent, PodPhase, TaskKey

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
KEY = TaskKey(dag_id="etl", task_id="load", run_id="r1")
FAILED_ROW = Known(
    key=KEY,
    namespace="jobs",
    try_number=1,
    state=TaskState.FAILED,
    pod_uid=None,
    launched_at=NOW - timedelta(minutes=5),
    updated_at=NOW,
    republish_count=0,
)


def pod(phase: PodPhase, *, holds_result: bool, kept: bool = False) -> Observed:
    event = PodEvent(
        version=SCHEMA_VERSION,
        key=KEY,
        try_number=1,
        namespace="jobs",
        pod="etl-load-abc",
        phase=phase,
        resource_version="7",
        observed_at=NOW,
    )
    created = NOW - timedelta(minutes=5)
    return Observed(event, created, holds_result=holds_result, pending_why="", kept=kept)


def verdicts(observed: Observed, *, policy_deletes: bool) -> list[drift.Verdict]:
    found, _ = drift.scan_pods(
        [observed],
        {FAILED_ROW.key: FAILED_ROW},
        now=NOW,
        limits=Limits(),
        deletes=lambda _state: policy_deletes,
    )
    return found


def test_a_running_pod_holding_the_result_is_let_go_with_its_phase_to_delete_it() -> None:
    [verdict] = verdicts(pod(PodPhase.RUNNING, holds_result=True), policy_deletes=False)
    assert verdict.finding is Finding.FINALIZER_LEAK
    assert verdict.event is not None
    assert verdict.event.phase in drift.UNFINISHED


def test_a_running_pod_let_go_and_kept_is_deleted_all_the_same() -> None:
    running = pod(PodPhase.RUNNING, holds_result=False, kept=True)
    [verdict] = verdicts(running, policy_deletes=False)
    assert verdict.finding is Finding.UNDELETED_POD


def test_a_failed_pod_kept_by_policy_stays() -> None:
    failed = pod(PodPhase.FAILED, holds_result=False, kept=True)
    assert verdicts(failed, policy_deletes=False) == []
    assert verdicts(pod(PodPhase.FAILED, holds_result=False), policy_deletes=False) == []
