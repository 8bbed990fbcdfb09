"""Render the kustomizations under `k8s/` without the kustomize binary (none here, no network).

This is a small renderer for the subset of kustomize that podrunner's manifests use, so the tests
can check what `kubectl apply -k` would send. It is not kustomize: anything outside the subset
raises `KustomizeError` naming the field, so a manifest that grows beyond it fails the tests
instead of being rendered wrongly. The subset, applied in kustomize's order:

* `resources`: local YAML files (one or more documents) and directories holding a
  `kustomization.yaml`, rendered recursively; an id (kind, namespace, name) may appear once.
* `patches`: strategic-merge patches, from `path` or inline `patch`, one document each, matched
  to one resource by kind and name (and namespace when the patch names one); no `target`.
  A top-level `$patch: delete` removes the resource. Maps merge recursively, a `null` removes a
  key; lists of objects merge by the merge key Kubernetes declares for the fields named in
  `shared.k8s.merge_keys.MERGE_KEYS` (containers, env, volumes, ... by name; volumeMounts by
  mountPath; ports by containerPort), every other list is replaced. Nested `$patch` /
  `$setElementOrder` directives are refused.
* `namespace`: set on every namespaced object (a kind missing from both `NAMESPACED_KINDS` and
  `CLUSTER_KINDS` is refused); a `Namespace` object is renamed to it, as kustomize does.
* `replicas`: `name` + `count`, applied to the workload of that name.
* `images`: `name` with any of `newName`, `newTag`, `digest`, applied to the `image` of every
  container and init container of a pod or workload whose image name is `name` (a digest
  replaces the tag: `newName@digest`).
* Then, as kustomize's name-reference step does for ServiceAccounts: a RoleBinding's or
  ClusterRoleBinding's ServiceAccount subject that names a ServiceAccount of this build gets that
  ServiceAccount's namespace.

Not supported (refused): remote resources, `components`, `bases`, generators,
`commonLabels`/`labels`, name prefixes and suffixes, JSON 6902 patches, patch `target`s.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shared.k8s import merge_keys

Resource = dict[str, Any]

KUSTOMIZATION_FILE = "kustomization.yaml"
SUPPORTED_FIELDS = frozenset(
    {"apiVersion", "kind", "namespace", "resources", "patches", "replicas", "images"}
)
PATCH_FIELDS = frozenset({"path", "patch"})
REPLICA_FIELDS = frozenset({"name", "count"})
IMAGE_FIELDS = frozenset({"name", "newName", "newTag", "digest"})

#: Kinds whose objects live in a namespace.
NAMESPACED_KINDS = frozenset(
    {
        "ConfigMap",
        "CronJob",
        "Deployment",
        "Job",
        "NetworkPolicy",
        "Pod",
        "PodDisruptionBudget",
        "Role",
        "RoleBinding",
        "Secret",
        "Service",
        "ServiceAccount",
        "StatefulSet",
    }
)
#: Kinds whose objects are cluster-wide (the namespace transformer leaves them alone).
CLUSTER_KINDS = frozenset({"ClusterRole", "ClusterRoleBinding", "Namespace", "PriorityClass"})
#: Kinds `replicas` can scale.
SCALABLE_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet"})
#: Kinds holding a pod template at `spec.template` (a Pod holds its pod spec at `spec`).
POD_TEMPLATE_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Job"})


class KustomizeError(ValueError):
    """The kustomization uses something outside the supported subset, or is invalid."""


@dataclass(frozen=True)
class ResourceId:
    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


def resource_id(resource: Resource) -> ResourceId:
    metadata = resource.get("metadata") or {}
    kind, name = resource.get("kind"), metadata.get("name")
    if not isinstance(kind, str) or not isinstance(name, str):
        raise KustomizeError(f"a resource without kind or metadata.name: {resource!r:.200}")
    return ResourceId(kind, metadata.get("namespace"), name)


def build(directory: Path) -> list[Resource]:
    """The objects `kubectl apply -k directory` would apply, in order."""
    kustomization = _read_kustomization(directory)
    resources: list[Resource] = []
    for entry in kustomization.get("resources", []):
        resources.extend(_load_resource_entry(directory, entry))
    _refuse_duplicates(resources)
    for patch in kustomization.get("patches", []):
        resources = _apply_patch(resources, _load_patch(directory, patch))
    if "namespace" in kustomization:
        _set_namespace(resources, _text(kustomization["namespace"], "namespace"))
    for replica in kustomization.get("replicas", []):
        _set_replicas(resources, replica)
    for image in kustomization.get("images", []):
        _set_image(resources, image)
    _point_subjects_at_service_accounts(resources)
    return resources


def _read_kustomization(directory: Path) -> dict[str, Any]:
    path = directory / KUSTOMIZATION_FILE
    if not path.is_file():
        raise KustomizeError(f"{directory}: no {KUSTOMIZATION_FILE}")
    loaded = yaml.safe_load(path.read_text())
    if not isinstance(loaded, dict):
        raise KustomizeError(f"{path}: not a mapping")
    unsupported = sorted(set(loaded) - SUPPORTED_FIELDS)
    if unsupported:
        raise KustomizeError(f"{path}: unsupported field(s) {', '.join(unsupported)}")
    if loaded.get("kind", "Kustomization") != "Kustomization":
        raise KustomizeError(f"{path}: kind must be Kustomization")
    return loaded


def _load_resource_entry(directory: Path, entry: object) -> list[Resource]:
    reference = _text(entry, "resources entry")
    if "://" in reference or reference.startswith(("github.com/", "git@")):
        raise KustomizeError(f"{directory}: remote resource {reference!r} is not supported")
    path = (directory / reference).resolve()
    if path.is_dir():
        return build(path)
    if path.is_file():
        return _read_documents(path)
    raise KustomizeError(f"{directory}: resource {reference!r} does not exist")


def _read_documents(path: Path) -> list[Resource]:
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    for document in documents:
        if not isinstance(document, dict):
            raise KustomizeError(f"{path}: a document is not a mapping")
        resource_id(document)
    return documents


def _refuse_duplicates(resources: list[Resource]) -> None:
    seen: set[ResourceId] = set()
    for resource in resources:
        rid = resource_id(resource)
        if rid in seen:
            raise KustomizeError(f"{rid} appears twice")
        seen.add(rid)


def _load_patch(directory: Path, entry: object) -> Resource:
    if not isinstance(entry, dict):
        raise KustomizeError(f"{directory}: a patches entry must be a mapping")
    unsupported = sorted(set(entry) - PATCH_FIELDS)
    if unsupported:
        raise KustomizeError(f"{directory}: unsupported patch field(s) {', '.join(unsupported)}")
    if len(entry) != 1:
        raise KustomizeError(f"{directory}: a patch needs exactly one of path, patch")
    if "path" in entry:
        where = directory / _text(entry["path"], "patch path")
        text = where.read_text()
    else:
        where = directory / KUSTOMIZATION_FILE
        text = _text(entry["patch"], "patch")
    documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise KustomizeError(f"{where}: a patch must be exactly one YAML mapping")
    patch: Resource = documents[0]
    return patch


def _apply_patch(resources: list[Resource], patch: Resource) -> list[Resource]:
    wanted = resource_id(patch)
    matches = [
        index
        for index, resource in enumerate(resources)
        if _patch_matches(wanted, resource_id(resource))
    ]
    if len(matches) != 1:
        raise KustomizeError(f"patch for {wanted} matches {len(matches)} resources, not 1")
    index = matches[0]
    directive = patch.get("$patch")
    if directive == "delete":
        return resources[:index] + resources[index + 1 :]
    if directive is not None:
        raise KustomizeError(f"patch for {wanted}: unsupported $patch: {directive}")
    body = {key: value for key, value in patch.items() if key not in {"apiVersion", "kind"}}
    patched = list(resources)
    patched[index] = _merge_map(resources[index], body, f"{wanted}")
    return patched


def _patch_matches(wanted: ResourceId, candidate: ResourceId) -> bool:
    same_namespace = wanted.namespace is None or wanted.namespace == candidate.namespace
    return wanted.kind == candidate.kind and wanted.name == candidate.name and same_namespace


def _merge_map(base: dict[str, Any], patch: dict[str, Any], where: str) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in patch.items():
        if key.startswith("$"):
            raise KustomizeError(f"{where}: directive {key} is not supported here")
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_map(merged[key], value, f"{where}.{key}")
        elif isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = _merge_list(key, merged[key], value, f"{where}.{key}")
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _merge_list(field: str, base: list[Any], patch: list[Any], where: str) -> list[Any]:
    for item in patch:
        if isinstance(item, dict) and any(str(key).startswith("$") for key in item):
            raise KustomizeError(f"{where}: list directives are not supported")
    merge_key = merge_keys.MERGE_KEYS.get(field)
    if merge_key is None:
        return copy.deepcopy(patch)
    merged = copy.deepcopy(base)
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            raise KustomizeError(f"{where}: every item needs its merge key {merge_key}")
        position = next(
            (i for i, old in enumerate(merged) if old.get(merge_key) == item[merge_key]), None
        )
        if position is None:
            merged.append(copy.deepcopy(item))
        else:
            merged[position] = _merge_map(merged[position], item, f"{where}[{item[merge_key]}]")
    return merged


def _set_namespace(resources: list[Resource], namespace: str) -> None:
    for resource in resources:
        kind = resource["kind"]
        if kind in NAMESPACED_KINDS:
            resource["metadata"]["namespace"] = namespace
        elif kind == "Namespace":
            resource["metadata"]["name"] = namespace
        elif kind not in CLUSTER_KINDS:
            raise KustomizeError(f"{kind}: not known to be namespaced or cluster-wide")


def _set_replicas(resources: list[Resource], replica: object) -> None:
    if not isinstance(replica, dict) or set(replica) != REPLICA_FIELDS:
        raise KustomizeError(f"a replicas entry needs exactly name and count: {replica!r}")
    targets = [
        resource
        for resource in resources
        if resource["kind"] in SCALABLE_KINDS and resource["metadata"]["name"] == replica["name"]
    ]
    if not targets:
        raise KustomizeError(f"replicas: no workload named {replica['name']}")
    count = replica["count"]
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise KustomizeError(f"replicas: count for {replica['name']} must be a whole number")
    for target in targets:
        target.setdefault("spec", {})["replicas"] = count


def _set_image(resources: list[Resource], image: object) -> None:
    if not isinstance(image, dict) or "name" not in image or not set(image) <= IMAGE_FIELDS:
        raise KustomizeError(f"an images entry needs name and newName/newTag/digest: {image!r}")
    name = _text(image["name"], "images name")
    for container in _containers(resources):
        reference = _text(container.get("image"), "container image")
        if image_name(reference) != name:
            continue
        new_name = image.get("newName", name)
        if "digest" in image:
            container["image"] = f"{new_name}@{_text(image['digest'], 'images digest')}"
        elif "newTag" in image:
            container["image"] = f"{new_name}:{_text(image['newTag'], 'images newTag')}"
        else:
            container["image"] = new_name + reference[len(image_name(reference)) :]


def image_name(reference: str) -> str:
    """The image's name without tag or digest: `reg:5000/app:1.2@sha256:..` is `reg:5000/app`."""
    name = reference.split("@", 1)[0]
    colon = name.rfind(":")
    return name[:colon] if colon > name.rfind("/") else name


def _containers(resources: list[Resource]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for resource in resources:
        if resource["kind"] in POD_TEMPLATE_KINDS:
            spec = resource.get("spec", {}).get("template", {}).get("spec", {})
        elif resource["kind"] == "Pod":
            spec = resource.get("spec", {})
        else:
            continue
        found += spec.get("initContainers", []) + spec.get("containers", [])
    return found


def _point_subjects_at_service_accounts(resources: list[Resource]) -> None:
    accounts: dict[str, list[str | None]] = {}
    for resource in resources:
        if resource["kind"] == "ServiceAccount":
            rid = resource_id(resource)
            accounts.setdefault(rid.name, []).append(rid.namespace)
    for resource in resources:
        if resource["kind"] not in {"RoleBinding", "ClusterRoleBinding"}:
            continue
        for subject in resource.get("subjects") or []:
            found = accounts.get(subject.get("name"), [])
            if subject.get("kind") == "ServiceAccount" and len(found) == 1 and found[0]:
                subject["namespace"] = found[0]


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise KustomizeError(f"{what} must be a non-empty string, not {value!r}")
    return value
