"""The three patch formats of PATCH: JSON merge patch, strategic merge patch, JSON patch.

* Merge patch (RFC 7386): mappings merge recursively, `null` deletes, lists are replaced whole.
* Strategic merge patch, with the pod's merge keys of `shared.k8s.merge_keys` (containers, env
  and volumes by name, ports by containerPort, volumeMounts by mountPath, conditions by type, ...),
  `UNION_LISTS` (finalizers) joined as sets; the directives `$patch: delete|replace`,
  `$deleteFromPrimitiveList/<list>`, `$setElementOrder/<list>` and `$retainKeys` are understood.
* JSON patch (RFC 6902): add, remove, replace, move, copy, test; an operation that cannot apply is
  a `PatchFailed` (422 on the wire), a body that is not an operation list is `PatchMalformed` (400).
"""

from __future__ import annotations

import copy
from typing import Any

from shared.k8s import merge_keys

_DELETE_FROM = "$deleteFromPrimitiveList/"
MAX_OPERATIONS = 10_000


class PatchMalformed(ValueError):
    """The patch body is not of its content type's shape (400)."""


class PatchFailed(ValueError):
    """A JSON-patch operation could not be applied (422)."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: the result of applying `patch` to `target` (neither is modified)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Kubernetes' strategic merge for pods."""
    if not isinstance(patch, dict):
        raise PatchMalformed("strategic merge patch must be a JSON object")
    merged: dict[str, Any] = _smp_map(target, patch) or {}
    return merged


def _smp_map(target: Any, patch: dict[str, Any]) -> Any:
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith(_DELETE_FROM):
            field = key.removeprefix(_DELETE_FROM)
            result[field] = [item for item in result.get(field) or [] if item not in value]
        elif key.startswith(("$setElementOrder/", "$retainKeys", "$patch")):
            continue
        elif value is None:
            result.pop(key, None)
        else:
            result[key] = _smp_value(key, result.get(key), value)
    return result


def _smp_value(key: str, current: Any, value: Any) -> Any:
    if isinstance(value, dict):
        merged = _smp_map(current, value)
        return {} if merged is None else merged
    if isinstance(value, list) and key in merge_keys.MERGE_KEYS:
        return _smp_list(
            current if isinstance(current, list) else [], value, merge_keys.MERGE_KEYS[key]
        )
    if isinstance(value, list) and key in merge_keys.UNION_LISTS:
        existing = list(current or [])
        return existing + [item for item in value if item not in existing]
    return copy.deepcopy(value)


def _smp_list(current: list[Any], patch: list[Any], key: str) -> list[Any]:
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    result = copy.deepcopy(current)
    positions = {item.get(key): n for n, item in enumerate(result) if isinstance(item, dict)}
    removed: set[Any] = set()
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            result.append(copy.deepcopy(item))
            continue
        index = positions.get(item[key])
        if item.get("$patch") == "delete":
            removed.add(item[key])
        elif index is None:
            positions[item[key]] = len(result)
            result.append(_smp_map({}, item))
        else:
            result[index] = _smp_map(result[index], item)
    return [i for i in result if not (isinstance(i, dict) and i.get(key) in removed)]


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902: apply `operations` in order to a copy of `target`."""
    if not isinstance(operations, list) or not all(isinstance(o, dict) for o in operations):
        raise PatchMalformed("json patch must be a JSON array of operations")
    if len(operations) > MAX_OPERATIONS:
        raise PatchMalformed(f"the allowed maximum operations in a JSON patch is {MAX_OPERATIONS}")
    document = copy.deepcopy(target)
    for operation in operations:
        document = _apply(document, operation)
    return document


def _apply(document: Any, operation: dict[str, Any]) -> Any:
    op = operation.get("op")
    path = _pointer(operation.get("path"))
    if op == "add":
        return _add(document, path, copy.deepcopy(_required(operation, "value")))
    if op == "remove":
        return _remove(document, path)[0]
    if op == "replace":
        document, _ = _remove(document, path)
        return _add(document, path, copy.deepcopy(_required(operation, "value")))
    if op in ("move", "copy"):
        source = _pointer(operation.get("from"))
        value = copy.deepcopy(_get(document, source))
        if op == "move":
            document, _ = _remove(document, source)
        return _add(document, path, value)
    if op == "test":
        if _get(document, path) != _required(operation, "value"):
            raise PatchFailed(f"test failed at {operation.get('path')}")
        return document
    raise PatchMalformed(f"unknown JSON patch operation {op!r}")


def _required(operation: dict[str, Any], field: str) -> Any:
    if field not in operation:
        raise PatchMalformed(f"JSON patch operation lacks {field!r}")
    return operation[field]


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchMalformed(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]] if path else []


def _parent(document: Any, path: list[str]) -> Any:
    if not path:
        raise PatchFailed("the root cannot be the target of this operation")
    return _get(document, path[:-1])


def _get(document: Any, path: list[str]) -> Any:
    node = document
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise PatchFailed(f"path /{'/'.join(path)} does not exist")
    return node


def _add(document: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent, last = _parent(document, path), path[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list) and last == "-":
        parent.append(value)
    elif isinstance(parent, list) and last.isdigit() and int(last) <= len(parent):
        parent.insert(int(last), value)
    else:
        raise PatchFailed(f"cannot add at /{'/'.join(path)}")
    return document


def _remove(document: Any, path: list[str]) -> tuple[Any, Any]:
    parent, last = _parent(document, path), path[-1]
    if isinstance(parent, dict) and last in parent:
        return document, parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return document, parent.pop(int(last))
    raise PatchFailed(f"path /{'/'.join(path)} does not exist")
