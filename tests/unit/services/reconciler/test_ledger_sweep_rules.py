"""What the sweeps' findings do to a row: vanished pods, pending timeouts, stuck jobs."""

from __future__ import annotations

from datetime import UTC, datetime

from services.reconciler import ledger
from services.reconciler.ledger import FollowUp, Rules
from shared.db.ledger_rows import Row
from shared.db.models import TaskState

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_a_pod_that_vanished_before_its_task_started_is_relaunched() -> None:
    row = Row(try_number=1, state=TaskState.QUEUED, launched_at=T0)
    decision = ledger.apply_vanished(row, Rules(max_relaunches=1), at=T0)
    assert decision.row.state is TaskState.UP_FOR_RESCHEDULE
    assert decision.row.failure_reason == "pod vanished without a trace"
    assert decision.row.launched_at is None, "the row waits for a new launch"
    assert FollowUp.RELAUNCH in decision.follow_ups


def test_a_pod_that_vanished_while_its_task_ran_fails_the_task() -> None:
    row = Row(try_number=1, state=TaskState.RUNNING, launched_at=T0, started_at=T0)
    decision = ledger.apply_vanished(row, Rules(), at=T0)
    assert decision.row.state is TaskState.FAILED
    assert "after the task started" in (decision.row.failure_reason or "")


def test_an_abandoned_pod_fails_its_task_with_the_reason_and_is_deleted() -> None:
    row = Row(try_number=1, state=TaskState.QUEUED, launched_at=T0)
    why = "pending timeout after 300s: Unschedulable: 0/3 nodes are available"
    decision = ledger.apply_abandoned(row, why, at=T0)
    assert decision.row.failure_reason == why
    assert FollowUp.DELETE_POD in decision.follow_ups


def test_abandoning_never_touches_a_task_that_started() -> None:
    row = Row(try_number=1, state=TaskState.RUNNING, started_at=T0)
    assert ledger.apply_abandoned(row, "x", at=T0).row == row


def test_a_stuck_job_is_republished_a_bounded_number_of_times_then_failed() -> None:
    row = Row(try_number=1, state=TaskState.QUEUED)
    for attempt in range(1, 3):
        decision = ledger.apply_stuck(row, max_republishes=2, waited_s=60, at=T0)
        assert decision.follow_ups == {FollowUp.RELAUNCH}
        row = decision.row
        assert row.republish_count == attempt
    final = ledger.apply_stuck(row, max_republishes=2, waited_s=60, at=T0).row
    assert final.state is TaskState.FAILED
    assert (
        final.failure_reason
        == "stuck in queued: no launcher took the job after 2 republishes (60s)"
    )


def test_a_launched_row_is_not_stuck() -> None:
    row = Row(try_number=1, state=TaskState.QUEUED, launched_at=T0)
    assert ledger.apply_stuck(row, max_republishes=2, waited_s=60, at=T0).row == row


def test_a_queued_row_whose_pod_was_seen_is_not_republished() -> None:
    seen = [
        Row(try_number=1, state=TaskState.QUEUED, pod_uid="uid-1", pod_phase="Pending"),
        Row(try_number=1, state=TaskState.QUEUED, started_at=T0),
        Row(try_number=1, state=TaskState.RUNNING, pod_uid="uid-1", started_at=T0),
    ]
    for row in seen:
        decision = ledger.apply_stuck(row, max_republishes=2, waited_s=60, at=T0)
        assert decision == ledger.Decision(row), row


def test_a_row_up_for_reschedule_whose_relaunch_was_lost_is_republished() -> None:
    row = Row(try_number=1, state=TaskState.UP_FOR_RESCHEDULE, pod_uid="lost", relaunch_count=1)
    decision = ledger.apply_stuck(row, max_republishes=2, waited_s=60, at=T0)
    assert decision.follow_ups == {FollowUp.RELAUNCH}
    assert decision.row.republish_count == 1
