"""The SQL of job intake: a job's task recorded as its `queued` row, one job or a batch.

A row is written only for a try later than the task's current one, so a repeat of a try is a
conflict, never a second run. A batch is one transaction and one upsert statement: its rows are
inserted (or a finished earlier try replaced) together, and the statement answers which keys it
wrote; the tasks it did not write are read back, locked, only when there are any, to say where
each stands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql

from shared.db import engines
from shared.db.keys import KEY_COLUMNS, KEY_NAMES, ROW_KEY, TABLE, key_of, key_values
from shared.db.models import TaskState
from shared.messages import Job, TaskKey

#: Row fields reset when a new try of a task starts: everything the last try's pod left.
_FRESH = {
    "pod_name": None,
    "pod_uid": None,
    "launched_at": None,
    "started_at": None,
    "ended_at": None,
    "pod_phase": None,
    "resource_version": None,
    "exit_code": None,
    "failure_reason": None,
    "log_tail": None,
    "relaunch_count": 0,
    "republish_count": 0,
}
#: What a conflict reports of the row that caused it.
_CURRENT = (TABLE.c.try_number, TABLE.c.state, TABLE.c.pod_name, TABLE.c.failure_reason)


@dataclass(frozen=True)
class Queued:
    """One job to record, in the namespace intake chose for it."""

    job: Job
    namespace: str


def queued_row(job: Job, namespace: str, *, at: datetime) -> dict[str, Any]:
    """The row a job is recorded as: `queued`, holding the job, nothing of an earlier try."""
    return {
        "dag_id": job.dag_id,
        "task_id": job.task_id,
        "run_id": job.run_id,
        "map_index": job.map_index,
        "try_number": job.try_number,
        "state": TaskState.QUEUED,
        "namespace": namespace,
        "job": job.to_dict(),
        "priority": job.priority,
        "queued_at": at,
        "updated_at": at,
        **_FRESH,
    }


def record(
    engine: Engine, batch: Sequence[Queued], *, at: datetime
) -> dict[TaskKey, dict[str, Any]]:
    """Record each job of `batch` (at most one per task) as its task's queued row, in one
    transaction; return the tasks that already had this try or a later one, each with where
    its row stands (try_number, state, pod_name, failure_reason). Those got no row."""
    if not batch:
        return {}
    with engines.unavailable_as_error(), engine.begin() as connection:
        written = _upsert(connection, [queued_row(q.job, q.namespace, at=at) for q in batch])
        refused = [q.job.key for q in batch if q.job.key not in written]
        return _current(connection, refused) if refused else {}


def _upsert(connection: Connection, rows: list[dict[str, Any]]) -> set[TaskKey]:
    """Insert `rows`, replacing only rows of an earlier try; the keys written."""
    statement = postgresql.insert(TABLE)
    upsert = statement.on_conflict_do_update(
        index_elements=list(KEY_NAMES),
        set_={name: statement.excluded[name] for name in rows[0] if name not in KEY_NAMES},
        where=TABLE.c.try_number < statement.excluded.try_number,
    ).returning(*KEY_COLUMNS)
    if len(rows) == 1:  # one row: a plain statement, not SQLAlchemy's batched executemany
        result = connection.execute(upsert.values(rows[0]))
    else:
        result = connection.execute(upsert, rows)
    return {key_of(row) for row in result}


def _current(connection: Connection, keys: list[TaskKey]) -> dict[TaskKey, dict[str, Any]]:
    query = (
        select(*KEY_COLUMNS, *_CURRENT)
        .where(ROW_KEY.in_([key_values(key) for key in keys]))
        .with_for_update()
    )
    found: dict[TaskKey, dict[str, Any]] = {}
    for row in connection.execute(query).mappings():
        found[key_of([row[name] for name in KEY_NAMES])] = {c.name: row[c.name] for c in _CURRENT}
    return found
