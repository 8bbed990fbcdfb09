"""Namespaces: the minimal create, get and list kubesim serves, so tests can make their own.

A namespace is only a name here (no finalisation, no deletion); it must be a DNS label, and
creating one twice is the server's 409 AlreadyExists.
"""

from __future__ import annotations

from typing import Any

import orjson

from services.kubesim import statuses, validation
from services.kubesim.pods import Cluster
from services.kubesim.statuses import ApiError
from shared import syntax


def listed(cluster: Cluster) -> bytes:
    items = [_namespace(ns) for ns in sorted(cluster.namespaces)]
    meta = {"resourceVersion": str(cluster.store.rv)}
    return orjson.dumps(
        {"kind": "NamespaceList", "apiVersion": "v1", "metadata": meta, "items": items}
    )


def create(cluster: Cluster, body: Any) -> bytes:
    metadata = body.get("metadata") if isinstance(body, dict) else None
    name = str((metadata or {}).get("name") or "") if isinstance(metadata, dict) else ""
    if not syntax.is_dns_label(name):
        cause = validation.invalid_value("metadata.name", name, validation.LABEL_NAME_MESSAGE)
        raise statuses.invalid("Namespace", name, [cause])
    if name in cluster.namespaces:
        message = f'namespaces "{name}" already exists'
        raise ApiError(409, "AlreadyExists", message, {"name": name, "kind": "namespaces"})
    cluster.namespaces.add(name)
    return orjson.dumps({"kind": "Namespace", "apiVersion": "v1", **_namespace(name)})


def get(cluster: Cluster, namespace: str) -> bytes:
    if namespace not in cluster.namespaces:
        raise statuses.not_found(namespace, resource="namespaces")
    return orjson.dumps({"kind": "Namespace", "apiVersion": "v1", **_namespace(namespace)})


def _namespace(namespace: str) -> dict[str, Any]:
    return {
        "metadata": {"name": namespace, "uid": f"ns-{namespace}", "resourceVersion": "1"},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }
