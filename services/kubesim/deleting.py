"""DELETE for pods: options, preconditions, grace periods and finalizers.

A pod is never simply dropped. A graceful delete only marks it (`deletionTimestamp`, grace) and the
simulated kubelet finishes the job with a grace-0 delete once its containers stopped. A grace-0
delete writes the mark and then removes the pod, unless finalizers hold it: then it stays, marked,
until the update that removes the last finalizer removes it too. The `foregroundDeletion` and
`orphan` finalizers that propagation policies add are cleared by a simulated garbage collector,
since pods have no dependents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.kubesim import pods, statuses, validation
from services.kubesim.pods import Cluster
from services.kubesim.statuses import Cause
from services.kubesim.store import Stored

GC_FINALIZERS = {"Foreground": "foregroundDeletion", "Orphan": "orphan"}
_POLICIES = ("Foreground", "Background", "Orphan")


@dataclass(frozen=True)
class DeleteOptions:
    grace_period_s: int | None = None
    propagation_policy: str | None = None
    uid: str | None = None
    resource_version: str | None = None
    dry_run: bool = False

    @classmethod
    def parse(cls, body: Any, query: dict[str, str]) -> DeleteOptions:
        """From the JSON body when there is one (the query is then ignored), else the query."""
        if isinstance(body, dict) and body:
            preconditions = body.get("preconditions") or {}
            options = cls(
                grace_period_s=_int(body.get("gracePeriodSeconds")),
                propagation_policy=body.get("propagationPolicy"),
                uid=preconditions.get("uid"),
                resource_version=preconditions.get("resourceVersion"),
                dry_run="All" in (body.get("dryRun") or []),
            )
            orphan = body.get("orphanDependents")
        else:
            options = cls(
                grace_period_s=_int(query.get("gracePeriodSeconds")),
                propagation_policy=query.get("propagationPolicy"),
                dry_run=query.get("dryRun") == "All",
            )
            orphan = query.get("orphanDependents")
        options.validate(orphan_given=orphan is not None)
        return options

    def validate(self, *, orphan_given: bool) -> None:
        policy = self.propagation_policy
        if policy is not None and policy not in _POLICIES:
            supported = '"Foreground", "Background", "Orphan", "nil"'
            message = f'Unsupported value: "{policy}": supported values: {supported}'
            cause = Cause("FieldValueNotSupported", message, "propagationPolicy")
            raise statuses.invalid_options("DeleteOptions", [cause])
        if orphan_given and policy is not None:
            message = "orphanDependents and deletionPropagation cannot be both set"
            raise statuses.invalid_options(
                "DeleteOptions", [Cause("FieldValueInvalid", message, "")]
            )


def delete(cluster: Cluster, namespace: str, name: str, options: DeleteOptions) -> Stored:
    """Delete one pod; the answer is the pod as it is after the request (or as it was removed)."""
    stored = cluster.require(namespace, name)
    _check_preconditions(stored, options)
    pod = stored.obj()
    metadata = pod["metadata"]
    grace = _grace(pod, options)
    if options.dry_run:
        return stored
    if metadata.get("deletionTimestamp"):
        return _delete_again(cluster, stored, pod, grace)
    metadata["deletionTimestamp"] = _rfc3339_after(cluster, grace)
    metadata["deletionGracePeriodSeconds"] = grace
    if "generation" in metadata:
        metadata["generation"] = int(metadata["generation"]) + 1
    finalizer = GC_FINALIZERS.get(options.propagation_policy or "")
    if finalizer and finalizer not in (metadata.get("finalizers") or []):
        metadata.setdefault("finalizers", []).append(finalizer)
    marked = cluster.store.put(pod)
    if grace == 0:
        return pods.finish_if_released(cluster, marked) or marked
    return marked


def collect_garbage(cluster: Cluster, stored: Stored) -> Stored | None:
    """Clear the propagation finalizers of a deleted pod, as the garbage collector would."""
    pod = stored.obj()
    metadata = pod["metadata"]
    finalizers = metadata.get("finalizers") or []
    remaining = [f for f in finalizers if f not in GC_FINALIZERS.values()]
    if not metadata.get("deletionTimestamp") or remaining == finalizers:
        return None
    metadata["finalizers"] = remaining
    if not remaining:
        metadata.pop("finalizers")
    updated = cluster.store.put(pod)
    return pods.finish_if_released(cluster, updated) or updated


def _delete_again(cluster: Cluster, stored: Stored, pod: dict[str, Any], grace: int) -> Stored:
    """A DELETE on a pod already terminating: only a shorter grace changes anything."""
    metadata = pod["metadata"]
    current = int(metadata.get("deletionGracePeriodSeconds") or 0)
    if grace >= current:
        return stored
    metadata["deletionGracePeriodSeconds"] = grace
    metadata["deletionTimestamp"] = _rfc3339_after(cluster, grace)
    marked = cluster.store.put(pod)
    if grace == 0:
        return pods.finish_if_released(cluster, marked) or marked
    return marked


def _grace(pod: dict[str, Any], options: DeleteOptions) -> int:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
        return 0
    grace = options.grace_period_s
    if grace is None:
        grace = int(spec.get("terminationGracePeriodSeconds", 30) or 0)
    return 1 if grace < 0 else grace


def _check_preconditions(stored: Stored, options: DeleteOptions) -> None:
    metadata = stored.obj()["metadata"]
    if options.uid is not None and options.uid != metadata.get("uid"):
        raise statuses.precondition_failed(
            stored.name, what="uid", wanted=options.uid, actual=str(metadata.get("uid"))
        )
    wanted = options.resource_version
    if wanted is not None and wanted != str(stored.rv):
        raise statuses.precondition_failed(
            stored.name, what="resourceVersion", wanted=wanted, actual=str(stored.rv)
        )


def _rfc3339_after(cluster: Cluster, seconds: int) -> str:
    return pods.rfc3339(cluster.wall_clock() + seconds)


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        cause = validation.invalid_value("gracePeriodSeconds", value, "must be an integer")
        raise statuses.invalid_options("DeleteOptions", [cause]) from error
