"""The drift scan adopts pods that have no row, cleans up pods of older tries, and records ends
it missed."""

from __future__ import annotations

from typing import Any

import pytest

from shared.k8s import naming
from tests.integration.services.reconciler.conftest import Kit
from tests.support import builders

pytestmark = pytest.mark.timeout(60)


def finished(pod: dict[str, Any]) -> bool:
    return pod["status"].get("phase") in ("Succeeded", "Failed")


def running(pod: dict[str, Any]) -> bool:
    return bool(pod["status"].get("phase") == "Running")


def test_a_finished_pod_with_no_row_is_adopted_its_end_recorded_and_the_pod_let_go(
    kit: Kit,
) -> None:
    # Given a pod of ours that ran while its launch event never came
    job = builders.job(task_id="stray", namespace=kit.namespace)
    name = kit.create_pod(job)
    kit.wait_for_pod(name, finished)
    # When the sweep meets it
    assert kit.sweep() == ["orphan-pod"]
    # Expect a row made from the pod, its end recorded, and the pod let go
    row = kit.row(job)
    assert (row.state, row.try_number, row.pod_name) == ("success", 1, name)
    assert row.job["task_id"] == "stray"
    kit.wait_gone(name)


def test_a_running_pod_with_no_row_is_adopted_and_keeps_running(kit: Kit) -> None:
    job = builders.job(
        task_id="stray-running",
        namespace=kit.namespace,
        annotations={"kubesim.podrunner.io/run-seconds": "30"},
    )
    name = kit.create_pod(job)
    kit.wait_for_pod(name, running)
    assert kit.sweep() == ["orphan-pod"]
    assert kit.row(job).state == "running"
    assert kit.pod(name) is not None
    assert kit.sweep() == [], "an adopted pod is an ordinary task's from then on"


def test_a_pod_of_an_older_try_is_deleted(kit: Kit) -> None:
    old = builders.job(task_id="retried", namespace=kit.namespace, try_number=1)
    name = kit.create_pod(old)
    kit.submit(builders.job(task_id="retried", namespace=kit.namespace, try_number=2))
    assert "stale-pod" in kit.sweep()
    kit.wait_gone(name)


def test_a_finished_pod_whose_events_were_missed_ends_its_row(kit: Kit) -> None:
    job = builders.job(task_id="missed", namespace=kit.namespace)
    kit.submit(job)
    name = kit.create_pod(job)
    kit.wait_for_pod(name, finished)
    assert kit.sweep() == ["missed-end"]
    row = kit.row(job)
    assert (row["state"], row["exit_code"], row["pod_name"]) == ("success", 0, name)
    kit.wait_gone(name)
    assert kit.sweep() == [], "a second round finds nothing"


def test_a_recorded_pod_still_holding_the_finalizer_is_released(kit: Kit) -> None:
    job = builders.job(task_id="leak", namespace=kit.namespace)
    kit.submit(job)
    name = kit.create_pod(job)
    kit.wait_for_pod(name, finished)
    kit.set_row(job, state="success")
    assert kit.sweep() == ["finalizer-leak"]
    kit.wait_gone(name)


def test_a_pod_deleted_by_someone_while_nobody_watched_is_recorded_then_released(kit: Kit) -> None:
    job = builders.job(
        task_id="deleted",
        namespace=kit.namespace,
        annotations={"kubesim.podrunner.io/run-seconds": "30"},
    )
    kit.submit(job)
    name = kit.create_pod(job)
    kit.wait_for_pod(name, lambda pod: pod["status"].get("phase") == "Running")
    kit.cluster.http.delete(f"/api/v1/namespaces/{kit.namespace}/pods/{name}")
    held = kit.wait_for_pod(name, finished)
    assert naming.RESULT_FINALIZER in held["metadata"]["finalizers"], "the finalizer holds it"
    assert kit.sweep() == ["missed-end"]
    row = kit.row(job)
    assert (row["state"], row["failure_reason"]) == ("failed", "pod deleted externally (exit 143)")
    kit.wait_gone(name)
