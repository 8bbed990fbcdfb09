"""Container IDs: one per container start, unique, the same in the container's status and in its
terminated state."""

from __future__ import annotations

import re

from tests.conformance.conftest import Target, pod_body
from tests.conformance.kubelet_steps import base_status, create, phase_is, until

CONTAINER_ID = re.compile(r"[\w-]+://[0-9a-f]{64}")


def test_a_finished_container_has_the_same_id_in_its_status_and_terminated_state(
    target: Target, namespace: str
) -> None:
    pod = until(
        target, namespace, create(target, namespace, pod_body("one")), phase_is("Succeeded")
    )
    status = base_status(pod)
    assert CONTAINER_ID.fullmatch(status["containerID"])
    assert status["state"]["terminated"]["containerID"] == status["containerID"]
    if target.is_kubesim:
        assert status["containerID"].startswith("containerd://")


def test_every_container_start_has_an_id_of_its_own(target: Target, namespace: str) -> None:
    ids = set()
    for name in ("first", "second", "third"):
        pod = until(
            target, namespace, create(target, namespace, pod_body(name)), phase_is("Succeeded")
        )
        ids.add(base_status(pod)["containerID"])
    assert len(ids) == 3
