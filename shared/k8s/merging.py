"""Merging pod manifests: dictionaries deeply, named lists by name, everything else replaced.

Kubernetes itself merges pod lists by a key (strategic merge patch), and so does podrunner when it
lays a job's `pod_override` over the dynamic pod and that over a template. Merging containers by
position — what the upstream executor did — breaks as soon as a template lists a sidecar before
`base`; merging by name cannot.

Rules, for `merge(base, overlay)`:

* mappings merge key by key; a `null` in the overlay removes the key;
* lists under a field of `merge_keys.MERGE_KEYS` (Kubernetes' own table for pods) merge item by
  item on that item key: items of the overlay whose key matches are merged into place, others are
  appended in the overlay's order;
* any other value (scalars, other lists) is replaced by the overlay's.

`merge` modifies neither input; `merge_into` merges into a base its caller owns.
"""

from __future__ import annotations

import copy
from typing import Any

from shared.k8s import merge_keys


def merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """A new mapping: `overlay` laid over `base` by the rules in the module docstring."""
    return _merge_into(copy.deepcopy(base), overlay)


def merge_into(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """`overlay` laid over `base` in place (for a `base` the caller owns); returns `base`.
    `overlay` is not modified, nor shared with the result."""
    return _merge_into(base, overlay)


def merge_named(base: list[Any], overlay: list[Any], *, key: str) -> list[Any]:
    """`overlay`'s items merged into `base`'s by `key`; unmatched ones appended in order."""
    return _merge_named_into(copy.deepcopy(base), overlay, key=key)


# The base is copied once, at the top; below, the copy is merged into in place, so a pod is not
# copied again at every level it nests.


def _merge_into(merged: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    for field, value in overlay.items():
        if value is None:
            merged.pop(field, None)
        elif isinstance(value, dict) and isinstance(merged.get(field), dict):
            _merge_into(merged[field], value)
        elif (
            isinstance(value, list)
            and field in merge_keys.MERGE_KEYS
            and isinstance(merged.get(field), list)
        ):
            _merge_named_into(merged[field], value, key=merge_keys.MERGE_KEYS[field])
        else:
            merged[field] = copy.deepcopy(value)
    return merged


def _merge_named_into(merged: list[Any], overlay: list[Any], *, key: str) -> list[Any]:
    index = {item.get(key): n for n, item in enumerate(merged) if isinstance(item, dict)}
    for item in overlay:
        if not isinstance(item, dict) or item.get(key) is None:
            merged.append(copy.deepcopy(item))
            continue
        position = index.get(item[key])
        if position is None:
            index[item[key]] = len(merged)
            merged.append(copy.deepcopy(item))
        else:
            _merge_into(merged[position], item)
    return merged
