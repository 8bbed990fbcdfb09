"""The ledger's rules: forward-only, per try, idempotent, and always saying why."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.reconciler import ledger
from services.reconciler.ledger import FollowUp, Rules
from shared.db.ledger_rows import Row
from shared.db.models import TaskState
from shared.messages import (
    SCHEMA_VERSION,
    LaunchEvent,
    LaunchOutcome,
    PodEvent,
    PodPhase,
    TaskKey,
)

KEY = TaskKey(dag_id="etl", task_id="load", run_id="r1")
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
RULES = Rules(max_relaunches=2)


def event(phase: PodPhase, n: int = 0, **fields: Any) -> PodEvent:
    values: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "key": KEY,
        "try_number": 1,
        "namespace": "jobs",
        "pod": "etl-load-abc",
        "phase": phase,
        "resource_version": str(100 + n),
        "observed_at": T0 + timedelta(seconds=n),
    }
    values.update(fields)
    return PodEvent(**values)


def queued(**fields: Any) -> Row:
    return Row(try_number=1, state=TaskState.QUEUED, **fields)


def run(row: Row, *events: PodEvent) -> ledger.Decision:
    decision = ledger.Decision(row)
    for pod_event in events:
        decision = ledger.apply_pod_event(decision.row, pod_event, RULES)
    return decision


STARTED = T0 + timedelta(seconds=1)
RUNNING = event(PodPhase.RUNNING, 1, started_at=STARTED)
SUCCEEDED = event(
    PodPhase.SUCCEEDED,
    2,
    started_at=STARTED,
    terminated_reason="Completed",
    exit_code=0,
    finished_at=T0 + timedelta(seconds=5),
)


def test_a_pod_that_runs_and_succeeds_makes_a_successful_row() -> None:
    decision = run(queued(), event(PodPhase.PENDING), RUNNING, SUCCEEDED)
    row = decision.row
    assert (row.state, row.exit_code, row.failure_reason) == (TaskState.SUCCESS, 0, None)
    assert (row.started_at, row.ended_at) == (STARTED, T0 + timedelta(seconds=5))
    assert decision.follow_ups == {FollowUp.RELEASE_POD, FollowUp.FREE_SLOT}


def test_running_moves_the_row_to_running() -> None:
    assert run(queued(), RUNNING).row.state is TaskState.RUNNING


@pytest.mark.parametrize(
    ("pod_event", "reason"),
    [
        pytest.param(
            event(PodPhase.FAILED, 2, started_at=STARTED, terminated_reason="Error", exit_code=3),
            "Error (exit 3)",
            id="exit-code",
        ),
        pytest.param(
            event(
                PodPhase.FAILED, 2, started_at=STARTED, terminated_reason="OOMKilled", exit_code=137
            ),
            "OOMKilled (exit 137)",
            id="oom-killed",
        ),
        pytest.param(
            event(
                PodPhase.PENDING,
                2,
                waiting_reason="ErrImagePull",
                waiting_message='pull "x:1": not found',
            ),
            'ErrImagePull: pull "x:1": not found',
            id="err-image-pull",
        ),
        pytest.param(
            event(PodPhase.PENDING, 2, waiting_reason="InvalidImageName", waiting_message="bad"),
            "InvalidImageName: bad",
            id="invalid-image-name",
        ),
        pytest.param(
            event(
                PodPhase.FAILED, 2, started_at=STARTED, reason="Evicted", message="low on memory. "
            ),
            "Evicted: low on memory. ",
            id="evicted-while-running",
        ),
        pytest.param(
            event(PodPhase.RUNNING, 2, started_at=STARTED, deleted=True, deletion_requested=True),
            "pod deleted externally",
            id="deleted-while-running",
        ),
    ],
)
def test_failures_are_recorded_with_their_reason(pod_event: PodEvent, reason: str) -> None:
    decision = run(queued(), pod_event)
    assert (decision.row.state, decision.row.failure_reason) == (TaskState.FAILED, reason)
    assert {FollowUp.RELEASE_POD, FollowUp.FREE_SLOT} <= decision.follow_ups
    never_ran = pod_event.phase is PodPhase.PENDING
    owed = FollowUp.DELETE_POD if never_ran else FollowUp.CAPTURE_LOG
    assert owed in decision.follow_ups, "a pod that can never run goes; a run's log is kept"


def test_a_running_pod_deleted_by_someone_else_fails_with_its_exit_code() -> None:
    killed = event(
        PodPhase.FAILED,
        2,
        started_at=STARTED,
        terminated_reason="Error",
        exit_code=143,
        deletion_requested=True,
    )
    decision = run(queued(), RUNNING, killed)
    assert decision.row.failure_reason == "pod deleted externally (exit 143)"


@pytest.mark.parametrize(
    ("pod_event", "reason"),
    [
        pytest.param(
            event(PodPhase.PENDING, 2, deleted=True, deletion_requested=True),
            "pod deleted before the task started",
            id="deleted-while-pending",
        ),
        pytest.param(
            event(PodPhase.FAILED, 2, reason="Evicted", message="node pressure"),
            "evicted before the task started: node pressure",
            id="evicted-before-running",
        ),
        pytest.param(
            event(
                PodPhase.FAILED,
                2,
                terminated_reason="ContainerStatusUnknown",
                exit_code=137,
                deletion_requested=True,
            ),
            "pod deleted before the task started",
            id="containers-never-started",
        ),
    ],
)
def test_a_pod_lost_before_its_task_started_is_rescheduled(
    pod_event: PodEvent, reason: str
) -> None:
    decision = run(queued(), pod_event)
    assert decision.row.state is TaskState.UP_FOR_RESCHEDULE
    assert (decision.row.relaunch_count, decision.row.failure_reason) == (1, reason)
    assert FollowUp.RELAUNCH in decision.follow_ups


def test_relaunches_stop_at_the_limit_and_the_history_is_kept() -> None:
    lost = event(PodPhase.PENDING, 2, deleted=True, deletion_requested=True)
    row = queued()
    for _ in range(RULES.max_relaunches):
        row = run(row, lost).row
        assert row.state is TaskState.UP_FOR_RESCHEDULE
    final = run(row, lost)
    assert final.row.state is TaskState.FAILED
    assert final.row.failure_reason == (
        "gave up after 2 relaunches: pod deleted before the task started; "
        "pod deleted before the task started; pod deleted before the task started"
    )
    assert FollowUp.RELAUNCH not in final.follow_ups


def test_a_terminal_row_never_changes_again() -> None:
    done = run(queued(), RUNNING, SUCCEEDED).row
    late = run(
        done,
        event(PodPhase.RUNNING, 9, started_at=STARTED),
        event(PodPhase.FAILED, 10, exit_code=1),
    )
    assert late.row == done
    assert late.follow_ups == frozenset()


def test_an_event_for_an_older_try_changes_nothing() -> None:
    row = Row(try_number=2, state=TaskState.RUNNING)
    assert run(row, event(PodPhase.FAILED, 3, try_number=1, exit_code=1)).row == row


def test_an_event_for_a_newer_try_starts_that_try() -> None:
    row = run(queued(), RUNNING, SUCCEEDED).row
    newer = Row(try_number=1, state=TaskState.FAILED)
    decision = run(newer, event(PodPhase.RUNNING, 5, try_number=2, started_at=STARTED))
    assert (decision.row.try_number, decision.row.state) == (2, TaskState.RUNNING)
    assert row.state is TaskState.SUCCESS


def test_the_same_event_twice_is_a_no_op() -> None:
    once = run(queued(), RUNNING)
    twice = run(once.row, RUNNING)
    assert twice.row == once.row


def test_any_order_of_a_normal_life_ends_in_the_same_row() -> None:
    life = [event(PodPhase.PENDING), RUNNING, SUCCEEDED]
    ends = {run(queued(), *order).row for order in itertools.permutations(life)}
    assert len(ends) == 1
    assert next(iter(ends)).state is TaskState.SUCCESS


def test_a_created_launch_records_the_pod_and_a_rejection_fails_the_row() -> None:
    created = LaunchEvent(
        version=SCHEMA_VERSION,
        key=KEY,
        try_number=1,
        namespace="jobs",
        pod="p",
        outcome=LaunchOutcome.CREATED,
        at=T0,
    )
    launched = ledger.apply_launch(queued(), created).row
    assert (launched.pod_name, launched.launched_at, launched.state) == ("p", T0, TaskState.QUEUED)
    rejected = LaunchEvent(
        version=SCHEMA_VERSION,
        key=KEY,
        try_number=1,
        namespace="jobs",
        pod="p",
        outcome=LaunchOutcome.REJECTED,
        reason="422 Invalid: bad name",
        at=T0,
    )
    decision = ledger.apply_launch(queued(), rejected)
    assert (decision.row.state, decision.row.failure_reason) == (
        TaskState.FAILED,
        "rejected: 422 Invalid: bad name",
    )
    assert decision.follow_ups == {FollowUp.FREE_SLOT}
