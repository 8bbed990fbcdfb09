"""Pod validation and defaulting, with the API server's field errors and messages.

Only the rules clients are likely to hit are reproduced: names,
labels, annotations, containers, restartPolicy, finalizer names. Each failure is a `Cause` naming
the field; the caller turns the list into one 422 whose message the real server would also give.
Defaulting is the API server's, so a client that diffs the spec it sent with the one stored sees
the same additions as on a real cluster.
"""

from __future__ import annotations

import json
from typing import Any

from services.kubesim.statuses import Cause
from shared import syntax

_SUBDOMAIN_RE = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_LABEL_RE = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_VALUE_RE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
_NAME_RE = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"

SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    f"for validation is '{_SUBDOMAIN_RE}')"
)
LABEL_NAME_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    f"used for validation is '{_LABEL_RE}')"
)
LABEL_VALUE_MESSAGE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value', "
    f" or '12345', regex used for validation is '{_VALUE_RE}')"
)
QUALIFIED_NAME_MESSAGE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    f"validation is '{_NAME_RE}')"
)
RESTART_POLICIES = ("Always", "OnFailure", "Never")
_CONTAINER_LISTS = ("initContainers", "containers")


def invalid_value(field: str, value: Any, detail: str) -> Cause:
    shown = json.dumps(value) if not isinstance(value, int | float) else str(value)
    return Cause("FieldValueInvalid", f"Invalid value: {shown}: {detail}", field)


def required(field: str, detail: str = "") -> Cause:
    return Cause("FieldValueRequired", f"Required value{': ' + detail if detail else ''}", field)


def validate_pod(pod: dict[str, Any]) -> list[Cause]:
    """Every field error of `pod` (empty when it is valid)."""
    metadata = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    return [
        *_name_errors(metadata),
        *_label_errors(metadata.get("labels") or {}),
        *_annotation_errors(metadata.get("annotations") or {}),
        *_finalizer_errors(metadata.get("finalizers") or []),
        *_container_errors(spec),
        *_restart_policy_errors(spec),
    ]


def _name_errors(metadata: dict[str, Any]) -> list[Cause]:
    name = metadata.get("name") or ""
    if not name:
        return [required("metadata.name", "name or generateName is required")]
    if len(name) > syntax.MAX_SUBDOMAIN:
        return [invalid_value("metadata.name", name, "must be no more than 253 characters")]
    if not syntax.is_dns_subdomain(name):
        return [invalid_value("metadata.name", name, SUBDOMAIN_MESSAGE)]
    return []


def _label_errors(labels: dict[str, Any]) -> list[Cause]:
    causes = []
    for key, value in labels.items():
        if not syntax.is_qualified_name(key):
            causes.append(invalid_value("metadata.labels", key, QUALIFIED_NAME_MESSAGE))
        if not isinstance(value, str):
            causes.append(invalid_value("metadata.labels", value, "must be a string"))
        elif len(value) > syntax.MAX_LABEL:
            causes.append(invalid_value("metadata.labels", value, "must be no more than 63 bytes"))
        elif not syntax.is_label_value(value):
            causes.append(invalid_value("metadata.labels", value, LABEL_VALUE_MESSAGE))
    return causes


def _annotation_errors(annotations: dict[str, Any]) -> list[Cause]:
    return [
        invalid_value("metadata.annotations", key, QUALIFIED_NAME_MESSAGE)
        for key in annotations
        if not syntax.is_qualified_name(key)
    ]


def _finalizer_errors(finalizers: list[Any]) -> list[Cause]:
    return [
        invalid_value(f"metadata.finalizers[{n}]", name, QUALIFIED_NAME_MESSAGE)
        for n, name in enumerate(finalizers)
        if not isinstance(name, str) or not syntax.is_qualified_name(name)
    ]


def _container_errors(spec: dict[str, Any]) -> list[Cause]:
    if not spec.get("containers"):
        return [required("spec.containers")]
    causes: list[Cause] = []
    seen: set[str] = set()
    for list_name in _CONTAINER_LISTS:
        for n, container in enumerate(spec.get(list_name) or []):
            causes.extend(_one_container(f"spec.{list_name}[{n}]", container, seen))
    return causes


def _one_container(path: str, container: dict[str, Any], seen: set[str]) -> list[Cause]:
    causes = []
    name = container.get("name") or ""
    if not name:
        causes.append(required(f"{path}.name"))
    elif not syntax.is_dns_label(name):
        causes.append(invalid_value(f"{path}.name", name, LABEL_NAME_MESSAGE))
    elif name in seen:
        causes.append(Cause("FieldValueDuplicate", f'Duplicate value: "{name}"', f"{path}.name"))
    seen.add(name)
    if not container.get("image"):
        causes.append(required(f"{path}.image"))
    return causes


def _restart_policy_errors(spec: dict[str, Any]) -> list[Cause]:
    policy = spec.get("restartPolicy")
    if policy is None or policy in RESTART_POLICIES:
        return []
    supported = ", ".join(f'"{p}"' for p in RESTART_POLICIES)
    message = f'Unsupported value: "{policy}": supported values: {supported}'
    return [Cause("FieldValueNotSupported", message, "spec.restartPolicy")]


def apply_defaults(spec: dict[str, Any]) -> None:
    """Fill the defaults the API server adds to a pod spec on create, in place."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    for list_name in _CONTAINER_LISTS:
        for container in spec.get(list_name) or []:
            _container_defaults(container)


def _container_defaults(container: dict[str, Any]) -> None:
    container.setdefault("resources", {})
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("imagePullPolicy", _pull_policy(str(container.get("image", ""))))
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")


def _pull_policy(image: str) -> str:
    if "@" in image:
        return "IfNotPresent"
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def qos_class(spec: dict[str, Any]) -> str:
    """BestEffort without any requests or limits; Guaranteed when every container's requests equal
    its cpu and memory limits; Burstable otherwise."""
    containers = spec.get("containers") or []
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    for r in resources:
        limits = r.get("limits") or {}
        requests = r.get("requests") or limits
        if not all(k in limits and requests.get(k) == limits[k] for k in ("cpu", "memory")):
            return "Burstable"
    return "Guaranteed"
