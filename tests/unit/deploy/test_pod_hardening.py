"""Every pod the manifests make is hardened beyond what Pod Security "restricted" demands.

Restricted says nothing of the root filesystem, of resources or of API tokens, so these are held
here, for the services' Deployments, the migration Job and the worker pod template alike, in the
base and each overlay: a read-only root filesystem with a writable emptyDir at /tmp, CPU and
memory requests and limits on every container, a fixed non-root UID, and no Kubernetes API token
in a pod whose code never calls the API (the migration and every task).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import manifests

pytestmark = pytest.mark.timeout(10)

#: Pods whose code talks to the Kubernetes API, and so need their ServiceAccount's token.
API_CLIENTS = frozenset(
    {
        "Deployment/podrunner-launcher",
        "Deployment/podrunner-watcher",
        "Deployment/podrunner-reconciler",
    }
)


def _pods() -> Iterator[Any]:
    for name in manifests.KUSTOMIZATIONS:
        for pod in manifests.pods(manifests.rendered(name)):
            yield pytest.param(pod, id=f"{name}:{pod.source}")


@pytest.mark.parametrize("pod", list(_pods()))
def test_every_container_has_a_read_only_root_and_a_writable_tmp(pod: manifests.Pod) -> None:
    volumes = {volume["name"]: volume for volume in pod.spec.get("volumes", [])}
    for container in manifests.containers(pod):
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, container["name"]
        (tmp,) = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
        assert "emptyDir" in volumes[tmp["name"]], f"{container['name']}: /tmp is not an emptyDir"


@pytest.mark.parametrize("pod", list(_pods()))
def test_every_container_requests_and_is_limited_in_cpu_and_memory(pod: manifests.Pod) -> None:
    for container in manifests.containers(pod):
        resources = container["resources"]
        for bound in ("requests", "limits"):
            missing = {"cpu", "memory"} - set(resources.get(bound, {}))
            assert missing == set(), f"{container['name']}: no {bound} for {sorted(missing)}"


@pytest.mark.parametrize("pod", list(_pods()))
def test_every_pod_runs_as_a_fixed_non_root_user(pod: manifests.Pod) -> None:
    context = pod.spec["securityContext"]
    assert context["runAsNonRoot"] is True
    assert isinstance(context["runAsUser"], int)
    assert context["runAsUser"] > 0
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in manifests.containers(pod):
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}


@pytest.mark.parametrize("pod", list(_pods()))
def test_only_the_services_that_call_the_kubernetes_api_mount_a_token(pod: manifests.Pod) -> None:
    if pod.source in API_CLIENTS:
        assert pod.spec.get("automountServiceAccountToken", True) is True
        assert pod.spec["serviceAccountName"].startswith("podrunner-")
    else:
        assert pod.spec["automountServiceAccountToken"] is False
        assert "serviceAccountName" not in pod.spec
