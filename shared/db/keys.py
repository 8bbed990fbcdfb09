"""The `task_instance` table and the one key of its rows, for every module that reads or writes it.

`TaskKey` and `TaskKey` (shared/messages) stay the wire records: validated, with the field
names of the job schema. Inside a service a task is a `RowKey`, a named tuple of the four key
columns in primary-key order: it hashes and compares as a plain tuple (a dict key, a set member),
binds straight into `tuple_(...)` comparisons, and msgspec writes it as a JSON array and reads it
back without a Python constructor. `RowKey.of` and `RowKey.record` are the only two conversions
between the shapes.
"""

from __future__ import annotations

from typing import NamedTuple, Self, cast

from sqlalchemy import Column, ColumnElement, Table, tuple_

from shared.db.models import TaskInstance
from shared.messages import TaskKey

TABLE = cast(Table, TaskInstance.__table__)

#: The primary key's column names, in the order of `RowKey`'s fields.
KEY_NAMES = ("dag_id", "task_id", "run_id", "map_index")
KEY_COLUMNS: tuple[Column[object], ...] = tuple(TABLE.c[name] for name in KEY_NAMES)
#: The key as one SQL value, for `ROW_KEY.in_(keys)`.
ROW_KEY = tuple_(*KEY_COLUMNS)


class RowKey(NamedTuple):
    """One task: the primary key of its `task_instance` row."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int

    @classmethod
    def of(cls, key: TaskKey) -> Self:
        """The row key of a message's key."""
        return cls(key.dag_id, key.task_id, key.run_id, key.map_index)

    def record(self) -> TaskKey:
        """The key as the wire record, for what leaves the service (built only when needed)."""
        return TaskKey(
            dag_id=self.dag_id, task_id=self.task_id, run_id=self.run_id, map_index=self.map_index
        )


def is_row_of(key: RowKey) -> ColumnElement[bool]:
    """The condition selecting the row of `key`."""
    return tuple_(*KEY_COLUMNS) == tuple_(*key)


def comes_after(key: RowKey) -> ColumnElement[bool]:
    """The condition selecting the rows past `key` in key order (where a page starts)."""
    return tuple_(*KEY_COLUMNS) > tuple_(*key)
