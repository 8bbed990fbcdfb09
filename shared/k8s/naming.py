"""Pod names, labels and annotations: how a task key becomes Kubernetes metadata and back.

A pod's name is a pure function of the task key and try number, so creating the same job twice
answers `409 AlreadyExists` instead of making a second pod: duplicates are impossible by
construction. Label values must fit Kubernetes' 63-character syntax, so they are sanitised (and
hashed when changed, to stay unique); the exact key lives in annotations, and the key is always
rebuilt from those, never from labels.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Mapping
from typing import NewType

from shared.messages import TaskKey
from shared.syntax import MAX_LABEL, is_label_value

PodName = NewType("PodName", str)

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "podrunner"
INSTANCE_LABEL = "podrunner.io/instance"
#: Finalizer that keeps a finished pod until its result is committed to Postgres.
RESULT_FINALIZER = "podrunner.io/result"
#: Set on a finished pod kept by policy (its value is the final state); `cleanup-pods` removes it.
DONE_LABEL = "podrunner.io/done"

DAG_ID = "podrunner.io/dag-id"
TASK_ID = "podrunner.io/task-id"
RUN_ID = "podrunner.io/run-id"
MAP_INDEX = "podrunner.io/map-index"
TRY_NUMBER = "podrunner.io/try-number"
#: Label and annotation names that identify a pod's task, in key order.
KEY_NAMES = (DAG_ID, TASK_ID, RUN_ID, MAP_INDEX, TRY_NUMBER)

_HASH_CHARS = 10

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_NOT_LABEL = re.compile(r"[^-A-Za-z0-9_.]+")


class AnnotationError(ValueError):
    """A pod lacks, or has unreadable, podrunner key annotations (it is not one of ours)."""


def short_hash(*parts: str) -> str:
    """A 10-character lowercase base32 digest (50 bits) of `parts`, unambiguous in their split."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return base64.b32encode(digest).decode().lower()[:_HASH_CHARS]


def pod_name(key: TaskKey, try_number: int) -> PodName:
    """The deterministic pod name of `key`'s try: `<dag>-<task>` slug, `-`, hash of key and try."""
    digest = short_hash(key.dag_id, key.task_id, key.run_id, str(key.map_index), str(try_number))
    slug = _slug(f"{key.dag_id}-{key.task_id}")[: MAX_LABEL - _HASH_CHARS - 1].strip("-")
    return PodName(f"{slug or 'task'}-{digest}")


def label_value(value: str) -> str:
    """`value` as a valid label value: unchanged when it already is one, else cut and hashed."""
    if is_label_value(value):
        return value
    cleaned = _NOT_LABEL.sub("", value)
    cut = cleaned[: MAX_LABEL - _HASH_CHARS - 1]
    stem = re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", cut)
    digest = short_hash(value)
    return f"{stem}-{digest}" if stem else digest


def key_labels(key: TaskKey, try_number: int) -> dict[str, str]:
    """Label-safe values of the key, for selectors and `kubectl get -l`."""
    values = (key.dag_id, key.task_id, key.run_id, str(key.map_index), str(try_number))
    return {name: label_value(value) for name, value in zip(KEY_NAMES, values, strict=True)}


def key_annotations(key: TaskKey, try_number: int) -> dict[str, str]:
    """The exact key values, from which the key is rebuilt."""
    values = (key.dag_id, key.task_id, key.run_id, str(key.map_index), str(try_number))
    return dict(zip(KEY_NAMES, values, strict=True))


def ownership_labels(instance: str) -> dict[str, str]:
    return {MANAGED_BY_LABEL: MANAGED_BY_VALUE, INSTANCE_LABEL: instance}


def instance_selector(instance: str) -> str:
    """The label selector matching every pod of this podrunner instance."""
    return f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{INSTANCE_LABEL}={instance}"


def key_from_annotations(annotations: Mapping[str, str]) -> tuple[TaskKey, int]:
    """Rebuild (key, try number) from a pod's annotations.

    Raises:
        AnnotationError: an annotation is missing or a number is not a number.
    """
    missing = [name for name in KEY_NAMES if name not in annotations]
    if missing:
        raise AnnotationError(f"pod has no {', '.join(missing)} annotation")
    try:
        map_index = int(annotations[MAP_INDEX])
        try_number = int(annotations[TRY_NUMBER])
    except ValueError as error:
        raise AnnotationError(f"pod has a non-numeric key annotation: {error}") from error
    key = TaskKey(
        dag_id=annotations[DAG_ID],
        task_id=annotations[TASK_ID],
        run_id=annotations[RUN_ID],
        map_index=map_index,
    )
    return key, try_number


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")
