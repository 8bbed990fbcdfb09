"""Type checks a Pod body must pass before anything reads it, as the API server's decoder does.

The real server decodes JSON into typed Go structs, so a value of the wrong JSON type is a 400
BadRequest before validation even starts (`json: cannot unmarshal bool into Go struct field ...`).
This module checks the fields kubesim reads against a small schema with the same effect: nothing
downstream ever meets a list where it expects a mapping. Unknown fields are reported separately:
the default `fieldValidation=Warn` answers with a `Warning` header, `Strict` with a 400.
"""

from __future__ import annotations

from typing import Any

from services.kubesim import statuses

Schema = dict[str, Any]
STR, INT, BOOL, ANY = "string", "int64", "bool", "any"
STR_MAP = ("map", STR)
STR_LIST = ("list", STR)

CONTAINER: Schema = {
    "name": STR,
    "image": STR,
    "command": STR_LIST,
    "args": STR_LIST,
    "workingDir": STR,
    "env": ("list", {"name": STR, "value": STR, "valueFrom": ANY}),
    "envFrom": ("list", ANY),
    "ports": (
        "list",
        {"name": STR, "containerPort": INT, "protocol": STR, "hostPort": INT, "hostIP": STR},
    ),
    "resources": ANY,
    "volumeMounts": (
        "list",
        {
            "name": STR,
            "mountPath": STR,
            "readOnly": BOOL,
            "subPath": STR,
            "mountPropagation": STR,
            "subPathExpr": STR,
            "recursiveReadOnly": STR,
        },
    ),
    "volumeDevices": ("list", ANY),
    "livenessProbe": ANY,
    "readinessProbe": ANY,
    "startupProbe": ANY,
    "lifecycle": ANY,
    "terminationMessagePath": STR,
    "terminationMessagePolicy": STR,
    "imagePullPolicy": STR,
    "securityContext": ANY,
    "stdin": BOOL,
    "stdinOnce": BOOL,
    "tty": BOOL,
    "restartPolicy": STR,
    "resizePolicy": ("list", ANY),
    "restartPolicyRules": ("list", ANY),
}
METADATA: Schema = {
    "name": STR,
    "generateName": STR,
    "namespace": STR,
    "uid": STR,
    "resourceVersion": STR,
    "generation": INT,
    "creationTimestamp": ANY,
    "deletionTimestamp": ANY,
    "deletionGracePeriodSeconds": INT,
    "labels": STR_MAP,
    "annotations": STR_MAP,
    "finalizers": STR_LIST,
    "ownerReferences": ("list", ANY),
    "managedFields": ("list", ANY),
    "selfLink": STR,
}
SPEC: Schema = {
    "containers": ("list", CONTAINER),
    "initContainers": ("list", CONTAINER),
    "ephemeralContainers": ("list", ANY),
    "volumes": ("list", ANY),
    "restartPolicy": STR,
    "terminationGracePeriodSeconds": INT,
    "activeDeadlineSeconds": INT,
    "dnsPolicy": STR,
    "nodeSelector": STR_MAP,
    "serviceAccountName": STR,
    "serviceAccount": STR,
    "automountServiceAccountToken": BOOL,
    "nodeName": STR,
    "hostNetwork": BOOL,
    "hostPID": BOOL,
    "hostIPC": BOOL,
    "shareProcessNamespace": BOOL,
    "securityContext": ANY,
    "imagePullSecrets": ("list", ANY),
    "hostname": STR,
    "subdomain": STR,
    "affinity": ANY,
    "schedulerName": STR,
    "tolerations": ("list", ANY),
    "hostAliases": ("list", ANY),
    "priorityClassName": STR,
    "priority": INT,
    "dnsConfig": ANY,
    "readinessGates": ("list", ANY),
    "runtimeClassName": STR,
    "enableServiceLinks": BOOL,
    "preemptionPolicy": STR,
    "overhead": ANY,
    "topologySpreadConstraints": ("list", ANY),
    "setHostnameAsFQDN": BOOL,
    "os": ANY,
    "hostUsers": BOOL,
    "schedulingGates": ("list", ANY),
    "resourceClaims": ("list", ANY),
    "resources": ANY,
}
POD: Schema = {
    "apiVersion": STR,
    "kind": STR,
    "metadata": METADATA,
    "spec": SPEC,
    "status": ANY,
}


def check_pod(body: Any) -> list[str]:
    """Raise 400 for a value of the wrong type; return the unknown fields found (for a warning).

    A `null` element of a list of objects is replaced, in place, by an empty object: Go decodes it
    to its type's zero value, so what it lacks (a container's name and image) is a 422."""
    if not isinstance(body, dict):
        _refuse(type(body), "", "v1.Pod")
    unknown: list[str] = []
    _check(body, POD, "", "Pod", unknown)
    return unknown


def _check(value: Any, schema: Any, path: str, struct: str, unknown: list[str]) -> None:
    if schema == ANY or value is None:
        return
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            _refuse(type(value), path, struct)
        for key, item in value.items():
            if key not in schema:
                unknown.append(f"{path}.{key}".lstrip("."))
                continue
            _check(item, schema[key], f"{path}.{key}".lstrip("."), _struct_of(key), unknown)
        return
    if isinstance(schema, tuple):
        _check_collection(value, schema, path, struct, unknown)
        return
    _check_scalar(value, schema, path, struct)


def _check_collection(
    value: Any, schema: tuple[str, Any], path: str, struct: str, unknown: list[str]
) -> None:
    kind, inner = schema
    expected = dict if kind == "map" else list
    if not isinstance(value, expected):
        _refuse(type(value), path, struct)
    if kind == "list" and isinstance(inner, dict):
        value[:] = [{} if item is None else item for item in value]
    items = value.values() if kind == "map" else value
    for n, item in enumerate(items):
        _check(item, inner, f"{path}[{n}]" if kind == "list" else path, struct, unknown)


def _check_scalar(value: Any, schema: str, path: str, struct: str) -> None:
    ok = {
        STR: isinstance(value, str),
        INT: isinstance(value, int) and not isinstance(value, bool),
        BOOL: isinstance(value, bool),
    }[schema]
    if not ok:
        _refuse(type(value), path, struct)


def _struct_of(key: str) -> str:
    return {"metadata": "ObjectMeta", "spec": "PodSpec"}.get(key, "Pod")


_JSON_NAMES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "bool",
    int: "number",
    float: "number",
}


def _refuse(kind: type, path: str, struct: str) -> None:
    json_type = _JSON_NAMES.get(kind, "value")
    field = f" Go struct field {struct}.{path}" if path else " Go value"
    prefix = 'Pod in version "v1" cannot be handled as a Pod'
    raise statuses.bad_request(f"{prefix}: json: cannot unmarshal {json_type} into{field}")
