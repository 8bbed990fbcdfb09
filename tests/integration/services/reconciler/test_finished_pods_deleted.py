"""A finished pod whose result is recorded is deleted in the end, per policy, whatever failed on
the way: a delete answered 500 or 429, or a reconciler that died between releasing the pod and
deleting it."""

from __future__ import annotations

from typing import Any

import pytest

from shared.k8s import naming
from shared.messages import Job
from tests.integration.services.reconciler.conftest import Kit
from tests.support import builders

pytestmark = pytest.mark.timeout(60)


def finished(pod: dict[str, Any]) -> bool:
    return pod["status"].get("phase") in ("Succeeded", "Failed")


def recorded_pod(kit: Kit, task_id: str, *, state: str) -> tuple[Job, str]:
    """A finished pod whose row already records `state` (its end was applied)."""
    job = builders.job(task_id=task_id, namespace=kit.namespace)
    kit.submit(job)
    name = kit.create_pod(job)
    kit.wait_for_pod(name, finished)
    kit.set_row(job, state=state, try_number=job.try_number)
    return job, name


def release_by_hand(kit: Kit, name: str, labels: dict[str, str] | None = None) -> None:
    """What a reconciler does just before deleting the pod (or keeping it), and no more."""
    metadata: dict[str, Any] = {"$deleteFromPrimitiveList/finalizers": [naming.RESULT_FINALIZER]}
    if labels:
        metadata["labels"] = labels
    response = kit.cluster.http.patch(
        f"/api/v1/namespaces/{kit.namespace}/pods/{name}",
        json={"metadata": metadata},
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert response.status_code == 200, response.text


def test_a_delete_answered_500_then_429_is_retried_until_the_pod_is_gone(kit: Kit) -> None:
    _, name = recorded_pod(kit, "flaky-delete", state="success")
    kit.cluster.admin("POST", "faults", {"verb": "delete", "error": "500", "count": 1})
    kit.cluster.admin(
        "POST", "faults", {"verb": "delete", "error": "429", "count": 1, "retry_after": 1}
    )
    assert kit.sweep() == ["finalizer-leak"]
    kit.wait_gone(name)


def test_a_released_pod_whose_delete_was_never_sent_is_deleted_by_the_sweep(kit: Kit) -> None:
    _, name = recorded_pod(kit, "half-released", state="success")
    release_by_hand(kit, name)
    assert kit.sweep() == ["undeleted-pod"]
    kit.wait_gone(name)
    assert kit.sweep() == []


def test_a_failed_tasks_pod_kept_by_policy_is_left_alone(kit: Kit) -> None:
    _, name = recorded_pod(kit, "kept", state="failed")
    release_by_hand(kit, name, labels={naming.DONE_LABEL: "failed"})
    assert kit.sweep() == []
    assert kit.pod(name) is not None


def test_a_released_failed_tasks_pod_is_kept_when_policy_keeps_failures(kit: Kit) -> None:
    _, name = recorded_pod(kit, "unlabelled", state="failed")
    release_by_hand(kit, name)
    assert kit.sweep() == []
    assert kit.pod(name) is not None


def test_a_recorded_pod_being_deleted_but_still_holding_the_finalizer_is_let_go(kit: Kit) -> None:
    _, name = recorded_pod(kit, "held", state="failed")
    kit.cluster.http.delete(f"/api/v1/namespaces/{kit.namespace}/pods/{name}")
    assert kit.pod(name) is not None, "the finalizer holds it"
    assert kit.sweep() == ["finalizer-leak"]
    kit.wait_gone(name)
