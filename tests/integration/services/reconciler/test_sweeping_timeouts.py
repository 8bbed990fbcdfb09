"""Pods that wait too long to start fail their task with what held them, and are deleted."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.services.reconciler.conftest import Kit
from tests.support import builders

pytestmark = pytest.mark.timeout(60)


def waiting_reason(pod: dict[str, Any]) -> str:
    statuses = pod["status"].get("containerStatuses") or []
    return str(statuses[0]["state"].get("waiting", {}).get("reason", "")) if statuses else ""


def test_an_unschedulable_pod_past_the_pending_timeout_fails_with_the_scheduler_reason(
    kit: Kit,
) -> None:
    notes = {"kubesim.podrunner.io/unschedulable": "true"}
    job = builders.job(task_id="nowhere", namespace=kit.namespace, annotations=notes)
    kit.submit(job)
    name = kit.create_pod(job)
    kit.wait_for_pod(name, lambda pod: bool(pod["status"].get("conditions")))
    kit.clock.advance(1.1)  # the pending timeout is 1 s of the pod's age
    assert kit.sweep() == ["pending-timeout"]
    reason = kit.row(job)["failure_reason"]
    assert reason.startswith("pending timeout after 1s: Unschedulable: 0/1 nodes are available")
    kit.wait_gone(name)


def test_a_pod_in_image_pull_back_off_past_its_grace_fails(kit: Kit) -> None:
    notes = {"kubesim.podrunner.io/pull": "fail"}
    job = builders.job(task_id="noimage", namespace=kit.namespace, annotations=notes)
    kit.submit(job)
    name = kit.create_pod(job)
    kit.wait_for_pod(name, lambda pod: waiting_reason(pod) == "ImagePullBackOff")
    kit.clock.advance(1.1)  # the grace is 1 s in ImagePullBackOff
    assert kit.sweep() == ["image-pull-backoff"]
    row = kit.row(job)
    assert row["state"] == "failed"
    assert row["failure_reason"].startswith(("ImagePullBackOff: ", "ErrImagePull: "))
    assert row["failure_reason"].endswith("(for more than 1s)")
    kit.wait_gone(name)
