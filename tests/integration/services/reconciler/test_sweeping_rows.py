"""The sweeps repair rows nothing else would move: a vanished pod, a lost job."""

from __future__ import annotations

import pytest

from tests.integration.services.reconciler.conftest import Kit
from tests.support import builders

pytestmark = pytest.mark.timeout(60)


def test_a_launched_row_whose_pod_vanished_is_relaunched(kit: Kit) -> None:
    job = builders.job(task_id="vanished", namespace=kit.namespace)
    kit.submit(job)
    kit.lose_queued_jobs()
    kit.set_row(job, launched_at="2026-01-01T00:00:00Z", pod_name="gone")
    assert kit.sweep() == ["vanished-pod"]
    row = kit.row(job)
    assert (row["state"], row["relaunch_count"]) == ("up_for_reschedule", 1)
    assert row["failure_reason"] == "pod vanished without a trace"
    assert kit.jobs.depth(kit.namespace) == 1, "the job is published again"


def test_a_row_whose_job_was_lost_is_republished(kit: Kit) -> None:
    job = builders.job(task_id="lost", namespace=kit.namespace)
    kit.submit(job)
    kit.lose_queued_jobs()
    assert kit.sweep() == ["stuck-queued"]
    assert kit.jobs.depth(kit.namespace) == 1
    assert (kit.row(job)["state"], kit.row(job)["republish_count"]) == ("queued", 1)


def test_a_job_nobody_takes_fails_after_the_last_republish(kit: Kit) -> None:
    job = builders.job(task_id="unwanted", namespace=kit.namespace)
    kit.submit(job)
    for _ in range(2):
        assert kit.sweep() == ["stuck-queued"]
    assert kit.sweep() == ["stuck-queued"]
    row = kit.row(job)
    assert row["state"] == "failed"
    assert row["failure_reason"].startswith("stuck in queued: no launcher took the job after 2")


def test_a_fresh_queued_row_is_left_alone(kit: Kit) -> None:
    job = builders.job(task_id="fresh", namespace=kit.namespace)
    kit.submit(job)
    kit.set_row(job, updated_at="2999-01-01T00:00:00Z")
    assert kit.sweep() == []
