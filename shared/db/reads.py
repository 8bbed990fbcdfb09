"""Reads of `task_instance`: health, metrics, sweeps, pod clean-up and the command line's reports.

Each is one short statement on a connection of its own; none takes a lock, so none can hold up
the reconciler's writes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Engine, func, select, text

from shared.db import models
from shared.db.keys import ROW_KEY, TABLE, is_row_of, key_values
from shared.messages import TaskKey


def ping(engine: Engine) -> None:
    """Return when Postgres answers; raise when it does not."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def tasks_by_state(engine: Engine, *, run_id: str | None = None) -> dict[str, int]:
    """How many tasks (of one DAG run, when given) are in each state."""
    query = select(TABLE.c.state, func.count()).group_by(TABLE.c.state)
    if run_id is not None:
        query = query.where(TABLE.c.run_id == run_id)
    with engine.connect() as connection:
        return {str(state): int(count) for state, count in connection.execute(query)}


def stored_job(engine: Engine, key: TaskKey) -> Any | None:
    """The job JSON recorded in the row of `key`, or None when there is no such row."""
    query = select(TABLE.c.job).where(is_row_of(key))
    with engine.connect() as connection:
        return connection.execute(query).scalar_one_or_none()


def task_columns(engine: Engine, key: TaskKey, columns: Sequence[str]) -> dict[str, Any]:
    """`columns` of the row of `key` (which must exist)."""
    query = select(*(TABLE.c[name] for name in columns)).where(is_row_of(key))
    with engine.connect() as connection:
        return dict(connection.execute(query).mappings().one())


def latest_tasks(
    engine: Engine,
    columns: Sequence[str],
    *,
    dag_id: str | None = None,
    state: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """`columns` of the tasks queued last (of one DAG, in one state, when given), newest first."""
    query = select(*(TABLE.c[name] for name in columns))
    if dag_id:
        query = query.where(TABLE.c.dag_id == dag_id)
    if state:
        query = query.where(TABLE.c.state == state)
    query = query.order_by(TABLE.c.queued_at.desc(), TABLE.c.dag_id, TABLE.c.task_id).limit(limit)
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def rows_of(
    engine: Engine, keys: Collection[TaskKey], columns: Sequence[str]
) -> list[Mapping[str, Any]]:
    """`columns` of the rows of `keys` that exist, in any state."""
    if not keys:
        return []
    query = select(*(TABLE.c[name] for name in columns)).where(
        ROW_KEY.in_([key_values(key) for key in keys])
    )
    with engine.connect() as connection:
        return cast(list[Mapping[str, Any]], list(connection.execute(query).mappings()))


def live_rows(
    engine: Engine, namespace: str, columns: Sequence[str], *, chunk: int
) -> Iterator[Mapping[str, Any]]:
    """`columns` of the unfinished rows of `namespace`, read `chunk` rows at a time (the
    connection is held until the rows are all read)."""
    query = select(*(TABLE.c[name] for name in columns)).where(
        TABLE.c.namespace == namespace, models.LIVE
    )
    with engine.connect() as connection:
        records = connection.execution_options(yield_per=chunk).execute(query).mappings()
        yield from cast(Iterator[Mapping[str, Any]], records)
