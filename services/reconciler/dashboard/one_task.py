"""The page of one task: its whole row, its pod's events as the watcher saw them, and its log.

The row comes from `shared.db.rows`, the log through `api.tasks.read_log` (live from the pod
while it exists, the stored tail after), exactly as the API answers them, and the pod's events
from the pod history the reconciler keeps in Redis (`shared.messaging.pod_history`). Each part
that cannot be read (Redis away, the pod API failing) is reported beside the rest, not instead
of it.
"""

from __future__ import annotations

from typing import Any

import msgspec

from services.reconciler.api.tasks import Pods, read_log
from shared.db import rows
from shared.db.engines import Engine
from shared.messages import DecodeError, PodEvent, TaskKey
from shared.messaging.connections import MessagingError
from shared.messaging.pod_history import PodHistory

#: Fields of an event the page shows (the key and version are the task's, already shown).
_EVENT_FIELDS = (
    "observed_at",
    "phase",
    "reason",
    "message",
    "waiting_reason",
    "terminated_reason",
    "exit_code",
    "deletion_requested",
    "deleted",
    "resource_version",
    "try_number",
    "pod",
)


def read(
    engine: Engine, key: TaskKey, *, pods: Pods, history: PodHistory, log_lines: int
) -> dict[str, Any] | None:
    """Everything the page of the task `key` shows, or `None` when it has no row."""
    row = rows.one(engine, key)
    if row is None:
        return None
    log = read_log(pods, row, log_lines)
    events, events_error = _events(history, row)
    return {
        "row": row,
        "events": events,
        "events_error": events_error,
        "log": {"text": log.text, "source": log.source.value, "pod_error": log.pod_error},
    }


def _events(history: PodHistory, row: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    if row["pod_name"] is None:
        return [], None
    try:
        recorded = history.read(row["namespace"], row["pod_name"])
    except MessagingError as error:
        return [], str(error)
    return [event for raw in recorded if (event := _shown(raw)) is not None], None


def _shown(raw: bytes) -> dict[str, Any] | None:
    try:
        event = msgspec.to_builtins(PodEvent.decode(raw))
    except DecodeError:
        return None
    return {name: event.get(name) for name in _EVENT_FIELDS}
