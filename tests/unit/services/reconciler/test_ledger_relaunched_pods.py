"""A relaunched pod has the same name as the pod it replaces: its uid tells them apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.reconciler import ledger
from services.reconciler.ledger import Rules
from shared.db.ledger_rows import Row
from shared.db.models import TaskState
from shared.messages import SCHEMA_VERSION, PodEvent, PodPhase, TaskKey

KEY = TaskKey(dag_id="etl", task_id="load", run_id="r1")
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
RULES = Rules(max_relaunches=3)


def event(uid: str, phase: PodPhase, n: int, **fields: Any) -> PodEvent:
    return PodEvent(
        version=SCHEMA_VERSION,
        key=KEY,
        try_number=1,
        namespace="jobs",
        pod="etl-load-abc",
        pod_uid=uid,
        phase=phase,
        resource_version=str(100 + n),
        observed_at=T0 + timedelta(seconds=n),
        **fields,
    )


def fold(row: Row, *events: PodEvent) -> Row:
    for pod_event in events:
        row = ledger.apply_pod_event(row, pod_event, RULES).row
    return row


EVICTED = event("old", PodPhase.FAILED, 1, reason="Evicted", message="node pressure")
OLD_GONE = event("old", PodPhase.FAILED, 2, reason="Evicted", deleted=True)
NEW_PENDING = event("new", PodPhase.PENDING, 3)
NEW_DONE = event("new", PodPhase.SUCCEEDED, 4, started_at=T0, exit_code=0)


def queued() -> Row:
    return Row(try_number=1, state=TaskState.QUEUED)


def test_the_lost_pods_removal_does_not_reschedule_the_task_again() -> None:
    row = fold(queued(), EVICTED, OLD_GONE)
    assert (row.state, row.relaunch_count) == (TaskState.UP_FOR_RESCHEDULE, 1)


def test_the_new_pod_is_followed_to_the_end() -> None:
    row = fold(queued(), EVICTED, OLD_GONE, NEW_PENDING, NEW_DONE)
    assert (row.state, row.pod_uid, row.relaunch_count) == (TaskState.SUCCESS, "new", 1)


def test_a_late_word_of_the_lost_pod_after_the_new_one_changes_nothing() -> None:
    following_new = fold(queued(), EVICTED, NEW_PENDING)
    assert fold(following_new, OLD_GONE) == following_new
    assert fold(following_new, OLD_GONE, NEW_DONE).state is TaskState.SUCCESS


def test_an_event_without_a_uid_is_taken_as_it_comes() -> None:
    row = fold(queued(), event("", PodPhase.RUNNING, 1, started_at=T0))
    assert (row.state, row.pod_uid) == (TaskState.RUNNING, None)


def test_a_new_pod_after_a_loss_nobody_saw_is_followed_to_the_end() -> None:
    vanished = Row(try_number=1, state=TaskState.UP_FOR_RESCHEDULE, relaunch_count=1)
    row = fold(vanished, NEW_PENDING, NEW_DONE)
    assert (row.state, row.pod_uid) == (TaskState.SUCCESS, "new")
