"""The pod strategy: what create, update, patch and bind do to a pod before it is stored.

Every rule of the pod API that a client can observe lives here:
server-set metadata on create, defaults, validation, namespace and name checks, optimistic
concurrency, immutable fields, the main resource versus `/status`, and the final removal that
happens when the last finalizer goes from a pod whose deletion is complete. Deletion itself is in
`deleting.py`. All writes go through the store, which owns revisions and events.
"""

from __future__ import annotations

import copy
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.kubesim import decoding, patching, statuses, validation
from services.kubesim.configs import ConfigObjects
from services.kubesim.statuses import ApiError, Cause
from services.kubesim.store import Store, Stored

_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_IMMUTABLE_ON_UPDATE = ("uid", "creationTimestamp", "deletionTimestamp", "generation")
_MUTABLE_SPEC = ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds")

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def rfc3339(seconds: float) -> str:
    """Second-precision UTC, the way metav1.Time is written."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


@dataclass
class Cluster:
    """The simulated cluster's state besides pods: namespaces, quotas, Secrets and ConfigMaps,
    the clock."""

    store: Store
    wall_clock: Callable[[], float]
    namespaces: set[str] = field(default_factory=lambda: {"default", "kube-system"})
    pod_quota: dict[str, int] = field(default_factory=dict)
    configs: ConfigObjects = field(default_factory=ConfigObjects)

    def now(self) -> str:
        return rfc3339(self.wall_clock())

    def require(self, namespace: str, name: str) -> Stored:
        stored = self.store.get((namespace, name))
        if stored is None:
            raise statuses.not_found(name)
        return stored


def create(cluster: Cluster, namespace: str, body: Any, *, dry_run: bool = False) -> Stored:
    """Store a new pod from a client's body; raise ApiError as the API server would."""
    pod = _decoded_pod(body)
    metadata = pod.setdefault("metadata", {})
    if metadata.get("namespace", namespace) != namespace:
        raise statuses.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    if metadata.get("resourceVersion"):
        raise statuses.rv_on_create()
    metadata["namespace"] = namespace
    # admission sees the object before its name is generated: a denial names the prefix
    admitted_as = str(metadata.get("name") or metadata.get("generateName") or "")
    if not metadata.get("name") and metadata.get("generateName"):
        metadata["name"] = _generated_name(cluster, namespace, str(metadata["generateName"]))
    _server_metadata(cluster, metadata)
    spec = pod.setdefault("spec", {})
    if isinstance(spec, dict):
        validation.apply_defaults(spec)
    _validate(pod)
    _admit(cluster, namespace, admitted_as)
    existing = cluster.store.get((namespace, metadata["name"]))
    if existing is not None:
        raise statuses.already_exists(metadata["name"], terminating=_terminating(existing))
    pod["status"] = {"phase": "Pending", "qosClass": validation.qos_class(spec)}
    ordered = {"metadata": metadata, "spec": spec, "status": pod["status"]}
    if dry_run:
        metadata.pop("resourceVersion", None)
        return Stored.of(ordered, 0)
    return cluster.store.put(ordered)


def replace(cluster: Cluster, namespace: str, name: str, body: Any) -> Stored:
    """PUT on the main resource: metadata and the few mutable spec fields."""
    stored = cluster.require(namespace, name)
    pod = _decoded_pod(body)
    _check_identity(pod, namespace, name)
    _check_version(pod, stored)
    return _write_main(cluster, stored, pod)


def replace_status(cluster: Cluster, namespace: str, name: str, body: Any) -> Stored:
    """PUT on /status: status (and labels and annotations); the spec stays as stored."""
    stored = cluster.require(namespace, name)
    pod = _decoded_pod(body)
    _check_identity(pod, namespace, name)
    _check_version(pod, stored)
    return _write_status(cluster, stored, pod, with_metadata=True)


def patch(
    cluster: Cluster,
    namespace: str,
    name: str,
    body: Any,
    *,
    content_type: str,
    status: bool = False,
) -> Stored:
    """PATCH in any of the three formats, on the main resource or on /status."""
    stored = cluster.require(namespace, name)
    current = stored.obj()
    patched = _patched(current, body, content_type)
    if not isinstance(patched, dict):
        raise statuses.bad_request("the patch did not produce a JSON object")
    decoding.check_pod(patched)
    _check_identity(patched, namespace, name)
    if _mentions_version(body, content_type):
        _check_version(patched, stored)
    if status:
        return _write_status(cluster, stored, patched, with_metadata=False)
    return _write_main(cluster, stored, patched)


def bind(cluster: Cluster, namespace: str, name: str, node: str) -> Stored:
    """The scheduler's binding: set nodeName and PodScheduled=True in one write."""
    stored = cluster.require(namespace, name)
    pod = stored.obj()
    if pod["metadata"].get("deletionTimestamp"):
        message = (
            f'Operation cannot be fulfilled on pods/binding "{name}": '
            f"pod {name} is being deleted, cannot be assigned to a host"
        )
        raise ApiError(409, "Conflict", message, {"name": name, "kind": "pods/binding"})
    if pod["spec"].get("nodeName"):
        assigned = pod["spec"]["nodeName"]
        message = (
            f'Operation cannot be fulfilled on pods/binding "{name}": '
            f'pod {name} is already assigned to node "{assigned}"'
        )
        raise ApiError(409, "Conflict", message, {"name": name, "kind": "pods/binding"})
    pod["spec"]["nodeName"] = node
    set_condition(pod["status"], "PodScheduled", "True", now=cluster.now())
    return cluster.store.put(pod)


def set_condition(
    status: dict[str, Any],
    kind: str,
    value: str,
    *,
    now: str,
    reason: str = "",
    message: str = "",
) -> None:
    """Set one condition by type; lastTransitionTime moves only when the status flips."""
    conditions = status.setdefault("conditions", [])
    current = next((c for c in conditions if c.get("type") == kind), None)
    condition: dict[str, Any] = {"type": kind, "status": value, "lastProbeTime": None}
    if current is None or current.get("status") != value:
        condition["lastTransitionTime"] = now
    else:
        condition["lastTransitionTime"] = current.get("lastTransitionTime")
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    if current is None:
        conditions.append(condition)
    else:
        conditions[conditions.index(current)] = condition


def finish_if_released(cluster: Cluster, stored: Stored) -> Stored | None:
    """Remove a pod whose deletion is complete and whose finalizers are all gone."""
    pod = stored.obj()
    metadata = pod["metadata"]
    done = metadata.get("deletionTimestamp") and not metadata.get("deletionGracePeriodSeconds")
    if done and not metadata.get("finalizers"):
        return cluster.store.remove(stored.key)
    return None


def _write_main(cluster: Cluster, stored: Stored, pod: dict[str, Any]) -> Stored:
    previous = stored.obj()
    metadata = _merged_metadata(previous["metadata"], pod.get("metadata") or {})
    given_spec = pod.get("spec")
    spec: dict[str, Any] = given_spec if isinstance(given_spec, dict) else previous["spec"]
    _check_spec_update(previous, spec)
    if spec != previous["spec"] and "generation" in metadata:
        metadata["generation"] = int(metadata["generation"]) + 1
    updated = {"metadata": metadata, "spec": spec, "status": previous["status"]}
    _validate(updated)
    _check_finalizers_added(previous["metadata"], metadata)
    done = metadata.get("deletionTimestamp") and not metadata.get("deletionGracePeriodSeconds")
    if done and not metadata.get("finalizers"):
        cluster.store.remove(stored.key)
        metadata["resourceVersion"] = str(cluster.store.rv)
        return Stored.of(updated, cluster.store.rv)
    return cluster.store.put(updated)


def _write_status(
    cluster: Cluster, stored: Stored, pod: dict[str, Any], *, with_metadata: bool
) -> Stored:
    previous = stored.obj()
    metadata = previous["metadata"]
    if with_metadata:
        given = pod.get("metadata") or {}
        for name in ("labels", "annotations"):
            if name in given:
                metadata[name] = given[name]
    status = pod.get("status") if isinstance(pod.get("status"), dict) else previous["status"]
    return cluster.store.put({"metadata": metadata, "spec": previous["spec"], "status": status})


def _merged_metadata(previous: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Client metadata with the server-owned fields put back."""
    metadata = copy.deepcopy(given)
    if metadata.get("uid") and metadata["uid"] != previous.get("uid"):
        cause = validation.invalid_value("metadata.uid", metadata["uid"], "field is immutable")
        raise statuses.invalid("Pod", previous["name"], [cause])
    grace = metadata.get("deletionGracePeriodSeconds")
    if grace is not None and grace != previous.get("deletionGracePeriodSeconds"):
        cause = validation.invalid_value(
            "metadata.deletionGracePeriodSeconds", grace, "field is immutable"
        )
        raise statuses.invalid("Pod", previous["name"], [cause])
    for name in (*_IMMUTABLE_ON_UPDATE, "deletionGracePeriodSeconds", "namespace", "name"):
        if name in previous:
            metadata[name] = previous[name]
        else:
            metadata.pop(name, None)
    metadata.pop("resourceVersion", None)
    return metadata


def _check_spec_update(previous: dict[str, Any], spec: dict[str, Any]) -> None:
    if _comparable_spec(previous["spec"]) != _comparable_spec(spec):
        message = (
            "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
            "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
            "(allow it to be set to 1 if it was previously negative)"
        )
        cause = Cause("FieldValueForbidden", message, "spec")
        raise statuses.invalid("Pod", previous["metadata"]["name"], [cause])


def _comparable_spec(spec: dict[str, Any]) -> dict[str, Any]:
    comparable = {k: v for k, v in spec.items() if k not in _MUTABLE_SPEC}
    for list_name in ("containers", "initContainers"):
        comparable[list_name] = [
            {k: v for k, v in c.items() if k != "image"} for c in spec.get(list_name) or []
        ]
    return comparable


def _check_finalizers_added(previous: dict[str, Any], metadata: dict[str, Any]) -> None:
    if not previous.get("deletionTimestamp"):
        return
    added = [
        f for f in metadata.get("finalizers") or [] if f not in (previous.get("finalizers") or [])
    ]
    if added:
        listed = ", ".join(f'"{f}"' for f in added)
        detail = (
            "no new finalizers can be added if the object is being deleted, "
            f"found new finalizers []string{{{listed}}}"
        )
        cause = Cause("FieldValueForbidden", f"Forbidden: {detail}", "metadata.finalizers")
        raise statuses.invalid("Pod", previous["name"], [cause])


def _patched(current: dict[str, Any], body: Any, content_type: str) -> Any:
    try:
        if content_type == MERGE_PATCH:
            if not isinstance(body, dict):
                raise patching.PatchMalformed("merge patch must be a JSON object")
            return patching.merge_patch(current, body)
        if content_type == STRATEGIC_PATCH:
            return patching.strategic_merge_patch(current, body)
        if content_type == JSON_PATCH:
            return patching.json_patch(current, body)
    except patching.PatchMalformed as error:
        raise statuses.bad_request(str(error)) from error
    except patching.PatchFailed as error:
        raise ApiError(
            422, "Invalid", "the server rejected our request due to an error in our request", {}
        ) from error
    raise statuses.unsupported_media_type()


def _mentions_version(body: Any, content_type: str) -> bool:
    if content_type == JSON_PATCH:
        return False
    metadata = body.get("metadata") if isinstance(body, dict) else None
    return isinstance(metadata, dict) and bool(metadata.get("resourceVersion"))


def _decoded_pod(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise statuses.bad_request("Object 'Kind' is missing in request body")
    decoding.check_pod(body)
    kind = body.get("kind", "Pod")
    if kind != "Pod":
        raise statuses.bad_request(f"the kind of the provided object ({kind}) does not match Pod")
    version = body.get("apiVersion", "v1")
    if version != "v1":
        raise statuses.bad_request(
            f"the API version in the data ({version}) does not match the expected API version (v1)"
        )
    if not isinstance(body.get("metadata", {}), dict) or not isinstance(body.get("spec", {}), dict):
        raise statuses.bad_request("metadata and spec must be JSON objects")
    pod = copy.deepcopy(body)
    pod.pop("kind", None)
    pod.pop("apiVersion", None)
    return pod


def _check_identity(pod: dict[str, Any], namespace: str, name: str) -> None:
    metadata = pod.get("metadata") or {}
    given = metadata.get("name", name)
    if given != name:
        raise statuses.bad_request(
            f"the name of the object ({given}) does not match the name on the URL ({name})"
        )
    if metadata.get("namespace", namespace) != namespace:
        raise statuses.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )


def _check_version(pod: dict[str, Any], stored: Stored) -> None:
    wanted = (pod.get("metadata") or {}).get("resourceVersion")
    if wanted and str(wanted) != str(stored.rv):
        raise statuses.conflict(stored.name)


def _validate(pod: dict[str, Any]) -> None:
    causes = validation.validate_pod(pod)
    if causes:
        raise statuses.invalid("Pod", str((pod.get("metadata") or {}).get("name") or ""), causes)


def _server_metadata(cluster: Cluster, metadata: dict[str, Any]) -> None:
    metadata["uid"] = str(uuid.uuid4())
    metadata["generation"] = 1
    metadata["creationTimestamp"] = cluster.now()
    for name in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields"):
        metadata.pop(name, None)


def _admit(cluster: Cluster, namespace: str, name: str) -> None:
    if namespace not in cluster.namespaces:
        raise statuses.not_found(namespace, resource="namespaces")
    limit = cluster.pod_quota.get(namespace)
    if limit is None:
        return
    used = cluster.store.active_count(namespace)
    if used >= limit:
        raise statuses.quota_exceeded(name, quota="pod-count", requested=1, used=used, limit=limit)


def _terminating(stored: Stored) -> bool:
    return b'"deletionTimestamp"' in stored.data


def _generated_name(cluster: Cluster, namespace: str, prefix: str) -> str:
    for _ in range(8):
        suffix = "".join(random.choices(_NAME_ALPHABET, k=5))
        name = f"{prefix[:58]}{suffix}"
        if cluster.store.get((namespace, name)) is None:
            return name
    raise ApiError(
        409,
        "AlreadyExists",
        f'pods "{prefix}" already exists, '
        "the server was not able to generate a unique name for the object",
        {"name": prefix, "kind": "pods", "retryAfterSeconds": 1},
    )
