"""The Kubernetes client's model objects (a `V1Pod` and what it holds) as plain manifests.

Programs that hand podrunner a pod as a client object (Airflow's `executor_config`
`pod_override` is a `V1Pod`) get the same JSON the API server would be sent: field names in
their wire spelling (`serviceAccountName`, not `service_account_name`), unset fields left out,
dates in ISO 8601. The walk reads the generated models' own tables of field types and wire
names, so it needs no API client (building one opens a connection pool).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any


class NotAModel(TypeError):
    """A value that is neither a client model, nor a plain JSON value, was found."""


def as_manifest(value: object) -> dict[str, Any]:
    """`value`, a client model (`V1Pod`) or already a mapping, as a JSON-ready manifest.

    Raises:
        NotAModel: naming the kind of the first value that is neither.
    """
    manifest = _plain(value)
    if not isinstance(manifest, dict):
        raise NotAModel(f"expected a Kubernetes object or a mapping, got {type(value).__name__}")
    return manifest


def _plain(value: object) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(name): _plain(item) for name, item in value.items()}
    fields = getattr(value, "openapi_types", None)
    wire_names = getattr(value, "attribute_map", None)
    if not isinstance(fields, Mapping) or not isinstance(wire_names, Mapping):
        raise NotAModel(f"{type(value).__name__} is not a Kubernetes object")
    plain = {wire_names[name]: _plain(getattr(value, name)) for name in fields}
    return {name: item for name, item in plain.items() if item is not None}
