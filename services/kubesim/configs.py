"""Secrets and ConfigMaps: just enough of core/v1 for pods to reference them.

A pod may name a Secret or ConfigMap in an env `valueFrom`, an `envFrom` or a volume. The kubelet
holds such a container until the object exists (see `references.py`), so kubesim stores them:
create, get, list and delete per namespace, with the API server's answers (201 with server
metadata, 404 `secrets "x" not found`, 409 `... already exists`, delete answering a Status of
Success, since neither kind is deleted gracefully). No update, patch, watch or selectors: nothing
podrunner runs needs them. Every change is told to the listeners (the kubelet), so a waiting pod
starts as soon as what it waits for is created.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.kubesim import statuses, validation
from services.kubesim.statuses import ApiError
from shared import syntax

#: The two kinds, by their resource name in a path.
KINDS = {"secrets": "Secret", "configmaps": "ConfigMap"}
ConfigKey = tuple[str, str, str]
"""(resource, namespace, name)"""


class _Cluster(Protocol):
    """What serving needs of the cluster (`pods.Cluster`, which holds the objects)."""

    namespaces: set[str]
    configs: ConfigObjects

    def now(self) -> str: ...


def verb_of(method: str, rest: list[str]) -> tuple[str, str]:
    """The verb and object name of a request under `.../<resource>`; the API's 404 or 405."""
    if len(rest) > 1:
        raise statuses.unknown_path()
    name = rest[0] if rest else ""
    verbs = {"GET": "get", "DELETE": "delete"} if name else {"GET": "list", "POST": "create"}
    verb = verbs.get(method)
    if verb is None:
        raise statuses.method_not_allowed(method)
    return verb, name


def serve(
    cluster: _Cluster, verb: str, *, namespace: str, resource: str, name: str, body: Any
) -> tuple[dict[str, Any], int]:
    """The answer to one request (already authorised) and its status code."""
    objects = cluster.configs
    if verb == "list":
        return objects.list(resource, namespace), 200
    if verb == "get":
        return objects.get(resource, namespace, name), 200
    if namespace not in cluster.namespaces:
        raise statuses.not_found(namespace, resource="namespaces")
    if verb == "delete":
        return objects.delete(resource, namespace, name), 200
    return objects.create(resource, namespace, body, now=cluster.now()), 201


@dataclass
class ConfigObjects:
    """Stored Secrets and ConfigMaps, and who to tell when they change."""

    objects: dict[ConfigKey, dict[str, Any]] = field(default_factory=dict)
    listeners: list[Callable[[], None]] = field(default_factory=list)
    _rv: int = 1

    def find(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get((resource, namespace, name))

    def get(self, resource: str, namespace: str, name: str) -> dict[str, Any]:
        found = self.find(resource, namespace, name)
        if found is None:
            raise statuses.not_found(name, resource=resource)
        return found

    def list(self, resource: str, namespace: str | None) -> dict[str, Any]:
        items = [
            obj
            for (kind, ns, _), obj in sorted(self.objects.items())
            if kind == resource and namespace in (None, ns)
        ]
        return {
            "kind": f"{KINDS[resource]}List",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": str(self._rv)},
            "items": items,
        }

    def create(self, resource: str, namespace: str, body: Any, *, now: str) -> dict[str, Any]:
        obj = _decoded(resource, body)
        metadata = obj["metadata"]
        if metadata.get("namespace", namespace) != namespace:
            raise statuses.bad_request(
                "the namespace of the provided object does not match the namespace sent on the "
                "request"
            )
        name = str(metadata.get("name") or "")
        if not syntax.is_dns_subdomain(name):
            message = validation.SUBDOMAIN_MESSAGE
            cause = (
                validation.required("metadata.name", "name or generateName is required")
                if not name
                else validation.invalid_value("metadata.name", name, message)
            )
            raise statuses.invalid(KINDS[resource], name, [cause])
        if (resource, namespace, name) in self.objects:
            message = f'{resource} "{name}" already exists'
            raise ApiError(409, "AlreadyExists", message, {"name": name, "kind": resource})
        self._rv += 1
        metadata.update(
            namespace=namespace,
            uid=str(uuid.uuid4()),
            resourceVersion=str(self._rv),
            creationTimestamp=now,
        )
        self.objects[(resource, namespace, name)] = obj
        self._changed()
        return obj

    def delete(self, resource: str, namespace: str, name: str) -> dict[str, Any]:
        obj = self.objects.pop((resource, namespace, name), None)
        if obj is None:
            raise statuses.not_found(name, resource=resource)
        self._rv += 1
        self._changed()
        details = {"name": name, "kind": resource, "uid": obj["metadata"]["uid"]}
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": details,
        }

    def _changed(self) -> None:
        for listener in list(self.listeners):
            listener()


def _decoded(resource: str, body: Any) -> dict[str, Any]:
    """The object to store: `stringData` folded into `data` (base64) for a Secret, as the
    server does; a Secret's `data` values must be base64."""
    if not isinstance(body, dict) or not isinstance(body.get("metadata") or {}, dict):
        raise statuses.bad_request(f"the body of the request is not a {KINDS[resource]}")
    obj = {k: v for k, v in body.items() if k not in ("status",)}
    obj["apiVersion"] = "v1"
    obj["kind"] = KINDS[resource]
    obj["metadata"] = dict(body.get("metadata") or {})
    data = obj.get("data") or {}
    if not isinstance(data, dict):
        raise statuses.bad_request(f"{KINDS[resource]}.data must be an object")
    if resource == "secrets":
        for key, value in data.items():  # the server cannot decode a []byte that is not base64
            try:
                base64.b64decode(str(value), validate=True)
            except binascii.Error as error:
                message = f'Secret in version "v1" cannot be handled as a Secret: {key}: {error}'
                raise statuses.bad_request(message) from error
        for key, value in (obj.pop("stringData", None) or {}).items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        obj.setdefault("type", "Opaque")
    if data:
        obj["data"] = data
    return obj
