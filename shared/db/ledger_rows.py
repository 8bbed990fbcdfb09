"""The part of a `task_instance` row that the reconciler's rules decide.

It lives with the table rather than with the rules because the batch statements read and write
rows in exactly this shape (`shared.db.batches`), and the rules themselves stay pure.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from shared.db.models import TaskState


class Row(msgspec.Struct, frozen=True, array_like=True):
    """The fields of a `task_instance` row the rules decide.

    A msgspec struct rather than a dataclass: the rules copy a row a few times per event, and
    `structs.replace` does that several times faster than `dataclasses.replace`. As JSON it is
    an array of its fields in order, the shape the reconciler reads locked rows in."""

    try_number: int
    state: TaskState
    pod_name: str | None = None
    pod_uid: str | None = None
    launched_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    pod_phase: str | None = None
    resource_version: str | None = None
    exit_code: int | None = None
    failure_reason: str | None = None
    relaunch_count: int = 0
    republish_count: int = 0
