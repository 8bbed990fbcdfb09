"""Where a known set of tries stands, read in one statement: what a client following its own
tasks asks (the Airflow executor, once per scheduler heartbeat).

The tries go to Postgres as five arrays (dag ids, task ids, run ids, map indexes, tries) joined
to the table on its primary key, so the statement text is the same whatever their number: it
is compiled once, and binding it costs one array per column rather than one parameter per
value. Only the rows a caller must act on come back: with `changed_only`, rows that ended or
moved to another try; otherwise every row found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec
from sqlalchemy import Engine, text

from shared.db import engines
from shared.db.keys import key_values
from shared.db.models import TaskState
from shared.messages import TaskKey

_SELECT = """
SELECT t.dag_id, t.task_id, t.run_id, t.map_index, w.try_number AS wanted,
       t.try_number, t.state, t.failure_reason, t.exit_code, t.namespace, t.pod_name
FROM unnest(CAST(:dag_ids AS text[]), CAST(:task_ids AS text[]), CAST(:run_ids AS text[]),
            CAST(:map_indexes AS integer[]), CAST(:tries AS integer[]))
     AS w(dag_id, task_id, run_id, map_index, try_number)
JOIN task_instance AS t
  ON (t.dag_id, t.task_id, t.run_id, t.map_index) = (w.dag_id, w.task_id, w.run_id, w.map_index)
"""
_ALL = text(_SELECT)
_CHANGED = text(_SELECT + "WHERE t.state IN ('success', 'failed') OR t.try_number <> w.try_number")


@dataclass(frozen=True)
class Standing:
    """Where one asked-for try's task stands: its row's current try and state."""

    key: TaskKey
    wanted: int
    """The try asked about."""
    try_number: int
    """The row's try: another than `wanted` when the task has moved on (or was never it)."""
    state: TaskState
    failure_reason: str | None
    exit_code: int | None
    namespace: str
    pod_name: str | None

    @property
    def is_other_try(self) -> bool:
        return self.try_number != self.wanted


def standings(
    engine: Engine, tries: Sequence[tuple[TaskKey, int]], *, changed_only: bool
) -> list[Standing]:
    """The rows of `tries` (task key, try number), in one statement; with `changed_only`, just
    those that ended or hold another try. Tasks without a row are left out."""
    if not tries:
        return []
    columns: tuple[list[object], ...] = ([], [], [], [], [])
    for key, try_number in tries:
        for column, value in zip(columns, (*key_values(key), try_number), strict=True):
            column.append(value)
    names = ("dag_ids", "task_ids", "run_ids", "map_indexes", "tries")
    params = dict(zip(names, columns, strict=True))
    with engines.unavailable_as_error(), engine.connect() as connection:
        rows = connection.execute(_CHANGED if changed_only else _ALL, params).all()
    return [
        Standing(
            key=TaskKey(row[0], row[1], row[2], row[3]),
            wanted=row[4],
            try_number=row[5],
            state=TaskState(row[6]),
            failure_reason=row[7],
            exit_code=row[8],
            namespace=row[9],
            pod_name=row[10],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class StoredLog:
    """What a task's row keeps of its current try's end: the state, why it failed, and the
    tail of a failed pod's log."""

    try_number: int
    state: TaskState
    failure_reason: str | None
    log_tail: str | None


_STORED_LOG = text(
    "SELECT try_number, state, failure_reason, log_tail FROM task_instance"
    " WHERE (dag_id, task_id, run_id, map_index) = (:dag_id, :task_id, :run_id, :map_index)"
)


def stored_log(engine: Engine, key: TaskKey) -> StoredLog | None:
    """What `key`'s row keeps of its try's end; None when the task has no row."""
    with engines.unavailable_as_error(), engine.connect() as connection:
        row = connection.execute(_STORED_LOG, msgspec.structs.asdict(key)).first()
    if row is None:
        return None
    return StoredLog(row[0], TaskState(row[1]), row[2], row[3])
