"""Reading a pod manifest (Kubernetes JSON, camelCase) without trusting its shape.

The checks judge whatever a template and a job's override merged into, so any field may be
missing, `null` or of the wrong kind; these helpers turn all of that into "unset" and walk every
kind of container with the path each one is reported under.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

#: The pod spec's lists of containers, in the order Pod Security Admission visits them.
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def mapping(value: Any) -> Mapping[str, Any]:
    """`value` when it is an object, else an empty one.

    Manifests are decoded JSON or YAML, so an object is a `dict`: checked as such, several
    times faster than asking the `Mapping` ABC, which matters at a few hundred checks a pod."""
    return value if isinstance(value, dict) else {}


def objects(value: Any) -> list[Mapping[str, Any]]:
    """The objects of `value` when it is a list, else none."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def spec_of(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(pod.get("spec"))


def pod_context(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod-level `spec.securityContext`."""
    return mapping(spec_of(pod).get("securityContext"))


def containers(pod: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every container, init and ephemeral container, with its path (`spec.containers[0]`)."""
    spec = spec_of(pod)
    for field in CONTAINER_LISTS:
        items = spec.get(field)
        if not isinstance(items, list):
            continue
        for n, item in enumerate(items):
            if isinstance(item, dict):
                yield f"spec.{field}[{n}]", item


def contexts(pod: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The pod's and then every container's `securityContext`, with its path."""
    yield "spec.securityContext", pod_context(pod)
    for where, container in containers(pod):
        yield f"{where}.securityContext", mapping(container.get("securityContext"))


def is_windows(pod: Mapping[str, Any]) -> bool:
    """Whether the pod declares Windows, which some restricted controls exempt."""
    return mapping(spec_of(pod).get("os")).get("name") == "windows"


def quoted(value: Any) -> str:
    """`value` as it reads in a reason: strings quoted, others as JSON would show them."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)
