"""The kustomizations under `k8s/`, rendered once, and the views the manifest tests take of them.

Each view answers a question a test asks of every rendering alike (the base and each overlay):
which Namespaces there are and which half each one is (by its `app.kubernetes.io/component`
label), every pod podrunner will create (the Deployments' and the Job's templates, and the worker
pod template the launcher mounts), and the settings the services start with.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support import kustomize

K8S = Path(__file__).resolve().parents[2] / "k8s"
KUSTOMIZATIONS = {
    "base": K8S / "base",
    "second-namespace": K8S / "overlays" / "second-namespace",
    "all-namespaces": K8S / "overlays" / "all-namespaces",
}
#: The component labels of the two Namespaces every rendering holds.
CONTROL_PLANE = "control-plane"
WORKERS = "workers"
#: Kinds whose `spec.template` is a pod template.
WORKLOAD_KINDS = frozenset({"Deployment", "Job"})
SETTINGS_CONFIGMAP = "podrunner-settings"
POD_TEMPLATE_CONFIGMAP = "podrunner-pod-template"

Resource = dict[str, Any]


@dataclass(frozen=True)
class Pod:
    """One pod the manifests make: where it comes from, its namespace, and its manifest."""

    source: str
    namespace: str
    manifest: dict[str, Any]

    @property
    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = self.manifest["spec"]
        return spec

    @property
    def labels(self) -> dict[str, str]:
        labels: dict[str, str] = self.manifest.get("metadata", {}).get("labels", {})
        return labels


@functools.cache
def rendered(name: str) -> list[Resource]:
    """What `kubectl apply -k` would apply for the kustomization `name` (see KUSTOMIZATIONS)."""
    return kustomize.build(KUSTOMIZATIONS[name])


def namespaces(resources: list[Resource]) -> dict[str, str]:
    """The rendered Namespaces' names by their half: {CONTROL_PLANE: ..., WORKERS: ...}."""
    return {
        r["metadata"]["labels"]["app.kubernetes.io/component"]: r["metadata"]["name"]
        for r in resources
        if r["kind"] == "Namespace"
    }


def find(resources: list[Resource], kind: str, name: str) -> Resource:
    found = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def settings(resources: list[Resource]) -> dict[str, str]:
    data: dict[str, str] = find(resources, "ConfigMap", SETTINGS_CONFIGMAP)["data"]
    return data


def pods(resources: list[Resource]) -> Iterator[Pod]:
    """Every pod podrunner runs: its workloads' templates, then the worker pod template."""
    halves = namespaces(resources)
    for resource in resources:
        if resource["kind"] in WORKLOAD_KINDS:
            yield Pod(
                f"{resource['kind']}/{resource['metadata']['name']}",
                resource["metadata"]["namespace"],
                resource["spec"]["template"],
            )
    template = find(resources, "ConfigMap", POD_TEMPLATE_CONFIGMAP)
    for key, text in template["data"].items():
        yield Pod(
            f"ConfigMap/{POD_TEMPLATE_CONFIGMAP}:{key}", halves[WORKERS], yaml.safe_load(text)
        )


def containers(pod: Pod) -> Iterator[dict[str, Any]]:
    yield from pod.spec.get("initContainers", [])
    yield from pod.spec["containers"]
