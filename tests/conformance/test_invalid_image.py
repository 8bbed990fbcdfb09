"""An image reference that does not parse: the container waits with InvalidImageName and the
kubelet's message, and the pod stays Pending; a container that never started has no ID."""

from __future__ import annotations

from tests.conformance.conftest import Target, pod_body
from tests.conformance.kubelet_steps import base_status, create, read, run_control, until, waiting


def test_an_unparsable_image_waits_with_invalid_image_name(target: Target, namespace: str) -> None:
    body = pod_body("shouting")
    body["spec"]["containers"][0]["image"] = "BUSYBOX:1.37"
    name = create(target, namespace, body)
    pod = until(target, namespace, name, lambda p: waiting(p).get("reason") == "InvalidImageName")
    message = waiting(pod)["message"]
    assert message.startswith('Failed to apply default image tag "BUSYBOX:1.37": couldn\'t parse')
    assert message.endswith("invalid reference format: repository name must be lowercase")
    assert "containerID" not in base_status(pod)
    run_control(target, namespace)
    assert read(target, namespace, name)["status"]["phase"] == "Pending"


def test_a_malformed_reference_is_an_invalid_reference_format(
    target: Target, namespace: str
) -> None:
    body = pod_body("colons")
    body["spec"]["containers"][0]["image"] = "busybox::1.37"
    name = create(target, namespace, body)
    pod = until(target, namespace, name, lambda p: waiting(p).get("reason") == "InvalidImageName")
    assert waiting(pod)["message"].endswith(": invalid reference format")
    assert pod["status"]["phase"] == "Pending"
