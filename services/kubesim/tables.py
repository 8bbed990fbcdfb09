"""Tables (`as=Table`): the server-side printing kubectl shows, for pods, namespaces and the rest.

Column definitions (names, types, priorities, the API documentation as descriptions) follow the
API server's printers: pods get Name, Ready, Status, Restarts, Age
and, at priority 1, IP, Node, Nominated Node, Readiness Gates; namespaces Name, Status, Age; any
other kind the default Name and Created At. Each row's `object` is, by `includeObject`, the
object's metadata (`Metadata`, the default), the whole object (`Object`) or null (`None`).
"""

from __future__ import annotations

from typing import Any

from services.kubesim import podrows

_NAME = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"  # noqa: E501
_CREATED = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"  # noqa: E501

_POD_IP = (
    "IP address allocated to the pod. Routable at least within the cluster. "
    "Empty if not yet allocated."
)
_NODE_NAME = (
    "NodeName is a request to schedule this pod onto a specific node. If it is non-empty, the "
    "scheduler simply schedules this pod onto that node, assuming that it fits resource "
    "requirements."
)
_NOMINATED = (
    "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot "
    "be scheduled right away as preemption victims receive their graceful termination periods. "
    "This field does not guarantee that the pod will be scheduled on this node. Scheduler may "
    "decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also "
    "decide to give the resources on this node to a higher priority pod that is created after "
    "preemption. As a result, this field may be different than PodSpec.nodeName when the pod is "
    "scheduled."
)
_GATES = (
    "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when "
    "all its containers are ready AND all conditions specified in the readiness gates have status "
    'equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/'
    "580-pod-readiness-gates"
)


def _column(name: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "string", "format": "", "description": description, "priority": 0,
            **extra}  # fmt: skip


_POD_COLUMNS = [
    _column("Name", _NAME, format="name"),
    _column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    _column("Status", "The aggregate status of the containers in this pod."),
    _column(
        "Restarts",
        "The number of times the containers in this pod have been restarted and when the last "
        "container in this pod has restarted.",
    ),
    _column("Age", _CREATED),
    _column("IP", _POD_IP, priority=1),
    _column("Node", _NODE_NAME, priority=1),
    _column("Nominated Node", _NOMINATED, priority=1),
    _column("Readiness Gates", _GATES, priority=1),
]
_NAMESPACE_COLUMNS = [
    _column("Name", _NAME, format="name"),
    _column("Status", "The status of the namespace"),
    _column("Age", _CREATED),
]
_DEFAULT_COLUMNS = [
    _column("Name", _NAME, format="name"),
    _column("Created At", _CREATED, type="date"),
]


def table(
    obj: dict[str, Any], version: str, *, now: float, include_object: str | None
) -> dict[str, Any]:
    """The Table for a single object or a list."""
    kind = str(obj.get("kind", ""))
    is_list = kind.endswith("List")
    items: list[dict[str, Any]] = (obj.get("items") or []) if is_list else [obj]
    item_kind = kind.removesuffix("List") if is_list else kind
    columns, cells = _printer(item_kind)
    metadata = obj.get("metadata", {}) if is_list else {"resourceVersion": _rv(obj)}
    rows = [
        {
            "cells": cells(item, now),
            "object": _row_object(item, item_kind, obj, version, include_object),
            **podrows.conditions(item, item_kind),
        }
        for item in items
    ]
    return {
        "kind": "Table",
        "apiVersion": version,
        "metadata": metadata,
        "columnDefinitions": columns,
        "rows": rows,
    }


def _printer(kind: str) -> tuple[list[dict[str, Any]], podrows.Cells]:
    if kind == "Pod":
        return _POD_COLUMNS, podrows.pod_cells
    if kind == "Namespace":
        return _NAMESPACE_COLUMNS, podrows.namespace_cells
    return _DEFAULT_COLUMNS, podrows.default_cells


def _row_object(
    item: dict[str, Any],
    kind: str,
    answer: dict[str, Any],
    version: str,
    include_object: str | None,
) -> dict[str, Any] | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return {"kind": kind, "apiVersion": answer.get("apiVersion", "v1"), **item}
    return {"kind": "PartialObjectMetadata", "apiVersion": version, "metadata": item["metadata"]}


def _rv(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion", ""))
