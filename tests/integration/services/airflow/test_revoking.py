"""Revoking a try goes through podrunner: the executor needs no Kubernetes credentials, and the
reconciler deletes the pod whatever the deletion policy."""

from __future__ import annotations

import pytest
import sqlalchemy

from services.airflow.executor import REVOKED_BY_AIRFLOW, PodrunnerExecutor
from tests.integration.services.airflow.conftest import Tasks, pods, queue, row
from tests.support.kubesim import KubesimProcess
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(60)


def test_a_revoked_running_task_fails_in_podrunner_and_its_pod_is_deleted(
    executor: PodrunnerExecutor,
    tasks: Tasks,
    kubesim: KubesimProcess,
    podrunner_db: sqlalchemy.Engine,
) -> None:
    # Given a task whose pod is running
    task = tasks.task("long", behaviour={"run-seconds": "60"})
    queue(executor, task)
    wait_until(
        lambda: (found := row(podrunner_db, task)) is not None and found["state"] == "running",
        timeout_s=30,
        what="the task running",
    )

    # When the scheduler revokes it
    executor.revoke_task(ti=task.ti)

    # Expect the pod gone, the row failed with the reason, and no event for Airflow
    wait_until(lambda: not pods(kubesim, task), timeout_s=30, what="the pod deleted")
    revoked = row(podrunner_db, task)
    assert revoked is not None
    assert (revoked["state"], revoked["failure_reason"]) == (
        "failed",
        f"revoked: {REVOKED_BY_AIRFLOW}",
    )
    assert task.ti.key not in executor.running
    executor.sync()
    assert not executor.event_buffer


def test_stuck_queued_tasks_are_revoked_and_reported_failed(
    executor: PodrunnerExecutor, tasks: Tasks, podrunner_db: sqlalchemy.Engine
) -> None:
    # Given a task whose pod can never be scheduled
    task = tasks.task("stuck", behaviour={"unschedulable": "true"})
    queue(executor, task)

    # When Airflow finds it stuck in queued
    reprs = executor.cleanup_stuck_queued_tasks([task.ti])

    # Expect it reported failed, and revoked in podrunner
    assert len(reprs) == 1
    state, _ = executor.get_event_buffer()[task.ti.key]
    assert state == "failed"
    wait_until(
        lambda: (found := row(podrunner_db, task)) is not None and found["state"] == "failed",
        timeout_s=30,
        what="the row failed",
    )
