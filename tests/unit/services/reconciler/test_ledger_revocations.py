"""A revoked try fails with the revoker's reason and its pod goes whatever the policy; a try that
already ended, or an older one, is left as it is."""

from __future__ import annotations

from datetime import UTC, datetime

from services.reconciler import ledger
from services.reconciler.ledger import FollowUp
from shared.db.ledger_rows import Row
from shared.db.models import TaskState
from shared.messages import SCHEMA_VERSION, LaunchEvent, LaunchOutcome, TaskKey

KEY = TaskKey(dag_id="etl", task_id="load", run_id="r1")
AT = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def revocation(try_number: int = 1) -> LaunchEvent:
    return LaunchEvent(
        version=SCHEMA_VERSION,
        key=KEY,
        try_number=try_number,
        namespace="jobs",
        pod="etl-load-abc",
        outcome=LaunchOutcome.REVOKED,
        reason="revoked by the Airflow scheduler",
        at=AT,
    )


def test_a_running_try_fails_with_the_reason_and_its_pod_is_deleted() -> None:
    running = Row(try_number=1, state=TaskState.RUNNING, pod_name="etl-load-abc")

    decision = ledger.apply_launch(running, revocation())

    assert decision.row.state is TaskState.FAILED
    assert decision.row.failure_reason == "revoked: revoked by the Airflow scheduler"
    assert decision.row.ended_at == AT
    assert {FollowUp.RELEASE_POD, FollowUp.DELETE_POD, FollowUp.FREE_SLOT} <= decision.follow_ups


def test_a_queued_try_fails_before_any_pod_exists() -> None:
    decision = ledger.apply_launch(Row(try_number=1, state=TaskState.QUEUED), revocation())
    assert decision.row.state is TaskState.FAILED


def test_a_try_that_ended_is_left_as_it_is() -> None:
    done = Row(try_number=1, state=TaskState.SUCCESS)
    decision = ledger.apply_launch(done, revocation())
    assert decision.row == done
    assert not decision.follow_ups


def test_the_revocation_of_an_older_try_changes_nothing() -> None:
    second = Row(try_number=2, state=TaskState.RUNNING)
    decision = ledger.apply_launch(second, revocation(try_number=1))
    assert decision.row == second
    assert not decision.follow_ups
