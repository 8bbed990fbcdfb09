"""Label and annotation keys a job may not set: the ones podrunner writes or selects on.

podrunner finds its pods, rebuilds their task keys and routes its Services by these keys, so a job
setting one could pose as another task or put a worker behind the reconciler's Service. Reserved
are the `podrunner.io/` prefix and the `app.kubernetes.io/` one; other prefixes, kubesim's
behaviour annotations (`kubesim.podrunner.io/...`) among them, stay the job's to set.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from shared.k8s.podsecurity._types import Violation
from shared.k8s.podsecurity._walk import mapping

RESERVED_PREFIXES = ("podrunner.io/", "app.kubernetes.io/")
_MAPS = ("labels", "annotations")


def is_reserved(key: str) -> bool:
    return key.startswith(RESERVED_PREFIXES)


def job_violations(
    *,
    labels: Mapping[str, str] | None,
    annotations: Mapping[str, str] | None,
    override: Mapping[str, Any] | None,
    pod: Mapping[str, Any],
    operator_pod: Mapping[str, Any],
) -> list[Violation]:
    """Reserved keys the job names (in `labels`, `annotations` or its override's metadata), then
    any other reserved key whose value in `pod` differs from the operator's (one removed by a
    `null` in the override)."""
    override_metadata = mapping(mapping(override).get("metadata"))
    named = [
        *_named("labels", labels or {}),
        *_named("annotations", annotations or {}),
        *(
            found
            for field in _MAPS
            for found in _named(f"pod_override.metadata.{field}", override_metadata.get(field))
        ),
    ]
    reported = {v.path.split("[", 1)[1] for v in named}
    if pod is operator_pod:  # the job changed nothing but what it names
        return named
    changed = [v for v in _changed(pod, operator_pod) if v.path.split("[", 1)[1] not in reported]
    return [*named, *changed]


def _named(where: str, keys: Any) -> Iterator[Violation]:
    for key in mapping(keys):
        if is_reserved(key):
            yield Violation("reservedKey", f'{where}["{key}"]', "is podrunner's to set")


def _changed(pod: Mapping[str, Any], operator_pod: Mapping[str, Any]) -> Iterator[Violation]:
    metadata = mapping(pod.get("metadata"))
    theirs = mapping(operator_pod.get("metadata"))
    for field in _MAPS:
        ours, their = mapping(metadata.get(field)), mapping(theirs.get(field))
        for key in sorted({*ours, *their}):
            if is_reserved(key) and ours.get(key) != their.get(key):
                yield Violation(
                    "reservedKey", f'metadata.{field}["{key}"]', "must stay as podrunner set it"
                )
