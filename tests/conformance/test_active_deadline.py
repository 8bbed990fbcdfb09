"""activeDeadlineSeconds: past it, the kubelet fails the pod with reason DeadlineExceeded."""

from __future__ import annotations

from tests.conformance.conftest import Target, long_running
from tests.conformance.kubelet_steps import create, phase_is, until

DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"


def test_a_pod_past_its_active_deadline_fails_with_deadline_exceeded(
    target: Target, namespace: str
) -> None:
    body = long_running("late", 60)
    body["spec"]["activeDeadlineSeconds"] = 2
    pod = until(target, namespace, create(target, namespace, body), phase_is("Failed"))
    assert pod["status"]["reason"] == "DeadlineExceeded"
    assert pod["status"]["message"] == DEADLINE_MESSAGE


def test_a_pod_that_ends_before_its_deadline_is_not_touched_by_it(
    target: Target, namespace: str
) -> None:
    body = long_running("early", 0)
    body["spec"]["activeDeadlineSeconds"] = 30
    pod = until(target, namespace, create(target, namespace, body), phase_is("Succeeded"))
    assert "reason" not in pod["status"]
