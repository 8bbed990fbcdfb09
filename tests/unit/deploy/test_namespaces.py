"""Worker pods run in a namespace of their own, and both namespaces enforce Pod Security.

A task's pod runs code podrunner does not control. In the control plane's namespace it could
mount podrunner-secrets or a service's ServiceAccount token (any pod may mount what its namespace
holds), so the manifests keep two namespaces: the control plane (services, ServiceAccounts, the
Secret) and the workers (task pods only). These tests hold every rendering to that: each object
sits in one of the two, the services' pod rights are granted in the workers' namespace alone, the
services are configured to launch there, and both namespaces carry the Pod Security Admission
labels for "restricted", with a pinned version, in every mode.
"""

from __future__ import annotations

import re

import pytest

from tests.support import manifests

pytestmark = pytest.mark.timeout(10)

OVERLAYS = sorted(manifests.KUSTOMIZATIONS)
PSA_MODES = ("enforce", "audit", "warn")
#: What the workers' namespace may hold: no Secret, ConfigMap, ServiceAccount or workload.
WORKER_NAMESPACE_KINDS = frozenset({"NetworkPolicy", "Role", "RoleBinding"})
#: ServiceAccounts and Roles per namespaced mode (the all-namespaces overlay binds cluster-wide).
NAMESPACED_RBAC = ("base", "second-namespace")


def _served(overlay: str) -> set[str]:
    settings = manifests.settings(manifests.rendered(overlay))
    listed = settings.get("PODRUNNER_NAMESPACES", settings["PODRUNNER_NAMESPACE"])
    return {name.strip() for name in listed.split(",")}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendering_has_a_control_plane_and_a_workers_namespace(overlay: str) -> None:
    halves = manifests.namespaces(manifests.rendered(overlay))
    assert set(halves) == {manifests.CONTROL_PLANE, manifests.WORKERS}
    assert halves[manifests.CONTROL_PLANE] != halves[manifests.WORKERS]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_both_namespaces_enforce_audit_and_warn_on_the_restricted_standard_at_a_pinned_version(
    overlay: str,
) -> None:
    for resource in manifests.rendered(overlay):
        if resource["kind"] != "Namespace":
            continue
        labels = resource["metadata"]["labels"]
        for mode in PSA_MODES:
            assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted", mode
            version = labels[f"pod-security.kubernetes.io/{mode}-version"]
            assert re.fullmatch(r"v1\.\d+", version), f"{mode}: pin a version, not {version!r}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_namespaced_object_lands_in_one_of_the_two_namespaces(overlay: str) -> None:
    resources = manifests.rendered(overlay)
    halves = manifests.namespaces(resources)
    for resource in resources:
        namespace = resource["metadata"].get("namespace")
        assert namespace is None or namespace in halves.values(), resource["metadata"]["name"]
        if namespace == halves[manifests.WORKERS]:
            assert resource["kind"] in WORKER_NAMESPACE_KINDS, resource["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_services_launch_into_the_workers_namespace_never_their_own(overlay: str) -> None:
    halves = manifests.namespaces(manifests.rendered(overlay))
    settings = manifests.settings(manifests.rendered(overlay))
    assert settings["PODRUNNER_NAMESPACE"] == halves[manifests.WORKERS]
    assert halves[manifests.CONTROL_PLANE] not in _served(overlay)


@pytest.mark.parametrize("overlay", NAMESPACED_RBAC)
def test_pod_rights_are_granted_in_the_served_namespaces_to_the_control_planes_accounts(
    overlay: str,
) -> None:
    resources = manifests.rendered(overlay)
    halves = manifests.namespaces(resources)
    roles = [r for r in resources if r["kind"] == "Role"]
    assert roles
    assert {r["metadata"]["namespace"] for r in roles} == _served(overlay)
    accounts = {
        r["metadata"]["name"]
        for r in resources
        if r["kind"] == "ServiceAccount"
        and r["metadata"]["namespace"] == halves[manifests.CONTROL_PLANE]
    }
    for binding in (r for r in resources if r["kind"] == "RoleBinding"):
        assert binding["metadata"]["namespace"] in _served(overlay)
        for subject in binding["subjects"]:
            assert subject["kind"] == "ServiceAccount"
            assert subject["name"] in accounts
            assert subject["namespace"] == halves[manifests.CONTROL_PLANE]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_secret_is_read_only_by_pods_of_the_control_plane(overlay: str) -> None:
    resources = manifests.rendered(overlay)
    halves = manifests.namespaces(resources)
    for pod in manifests.pods(resources):
        reads_secret = any(
            "secretKeyRef" in variable.get("valueFrom", {})
            for container in manifests.containers(pod)
            for variable in container.get("env", [])
        )
        if pod.namespace == halves[manifests.WORKERS]:
            assert not reads_secret, pod.source
            assert all("secret" not in volume for volume in pod.spec.get("volumes", []))
        else:
            assert pod.namespace == halves[manifests.CONTROL_PLANE], pod.source
