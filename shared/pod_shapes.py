"""The structural shape of the parts of a pod manifest that podrunner reads, merges and rewrites.

A job's `pod_override` and a pod template are laid over podrunner's own pod before it is created:
rendering walks their metadata maps, finalizers, spec, and the named lists of containers, volumes
and env. A value of the wrong kind there (`"spec": "x"`, containers that are not objects) would
break rendering rather than be refused by the API server, so it is refused up front, naming the
path of the fault. Everything else is left for the API server to judge. `null` is allowed
anywhere: in an override it removes the field.

It lives below `shared.k8s` and the job schema (`shared.messages`), which both use it: rendering
depends on the job, so the job's checks cannot depend on the Kubernetes package.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

#: Lists of objects, each merged by its string `name`, in a pod's spec and in a container.
_NAMED_IN_SPEC = ("containers", "initContainers", "ephemeralContainers", "volumes")
_NAMED_IN_CONTAINER = ("env",)
#: Other lists of objects rendering merges by an item key.
_OBJECTS_IN_SPEC = ("imagePullSecrets", "resourceClaims", "hostAliases")
_OBJECTS_IN_CONTAINER = ("volumeMounts", "volumeDevices", "ports")
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


class ShapeError(ValueError):
    """A part of a pod manifest is of the wrong kind: `where` is its path, `reason` what it must
    be."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


def check_pod(pod: Mapping[str, Any]) -> None:
    """Raise `ShapeError` for the first part of `pod` rendering could not walk."""
    for where, reason in faults(pod):
        raise ShapeError(where, reason)


def faults(pod: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Every (path, what it must be) of `pod` that has the wrong shape."""
    metadata = pod.get("metadata")
    if not _is_object(metadata):
        yield "metadata", "must be an object"
    elif metadata is not None:
        yield from _metadata_faults(metadata)
    spec = pod.get("spec")
    if not _is_object(spec):
        yield "spec", "must be an object"
    elif spec is not None:
        yield from _spec_faults(spec)


def _metadata_faults(metadata: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for field in ("labels", "annotations"):
        value = metadata.get(field)
        if value is not None and not (
            isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        ):
            yield f"metadata.{field}", "must be an object of strings"
    finalizers = metadata.get("finalizers")
    if finalizers is not None and not _is_list_of(finalizers, str):
        yield "metadata.finalizers", "must be a list of strings"


def _spec_faults(spec: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    yield from _list_faults(spec, "spec", _NAMED_IN_SPEC, _OBJECTS_IN_SPEC)
    for field in _CONTAINER_LISTS:
        containers = spec.get(field)
        if isinstance(containers, list):
            for n, container in enumerate(containers):
                where = f"spec.{field}[{n}]"
                yield from _list_faults(
                    container, where, _NAMED_IN_CONTAINER, _OBJECTS_IN_CONTAINER
                )


def _list_faults(
    parent: Mapping[str, Any], where: str, named: tuple[str, ...], objects: tuple[str, ...]
) -> Iterator[tuple[str, str]]:
    for field in (*named, *objects):
        items = parent.get(field)
        if items is None:
            continue
        if not _is_list_of(items, dict):
            yield f"{where}.{field}", "must be a list of objects"
        elif field in named:
            for n, item in enumerate(items):
                if not isinstance(item.get("name"), str):
                    yield f"{where}.{field}[{n}].name", "must be a string"


def _is_object(value: Any) -> bool:
    return value is None or isinstance(value, dict)


def _is_list_of(value: Any, kind: type) -> bool:
    return isinstance(value, list) and all(isinstance(item, kind) for item in value)
