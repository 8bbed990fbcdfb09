"""The `task_instance` table and how a task's key finds its row, for every module that reads or
writes it.

A task has one key everywhere, `TaskKey` (shared/messages): the record jobs and events carry,
frozen and hashable, so it is also the dict key and set member inside the services. In SQL it is
the row's primary key, its four columns in this order; in the JSON documents the reconciler's
batch statements send and read back, it travels as an array of those four values, which
`key_values` gives and `key_of` reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import msgspec
from sqlalchemy import Column, ColumnElement, Table, tuple_

from shared.db.models import TaskInstance
from shared.messages import TaskKey

TABLE = cast(Table, TaskInstance.__table__)

#: The primary key's column names, in the order of `TaskKey`'s fields.
KEY_NAMES = ("dag_id", "task_id", "run_id", "map_index")
KEY_COLUMNS: tuple[Column[object], ...] = tuple(TABLE.c[name] for name in KEY_NAMES)
#: The key as one SQL value, for `ROW_KEY.in_([key_values(key), ...])`.
ROW_KEY = tuple_(*KEY_COLUMNS)

#: A key as its four column values, in primary-key order.
KeyValues = tuple[str, str, str, int]


def key_values(key: TaskKey) -> KeyValues:
    """`key` as its primary key's values."""
    return cast(KeyValues, msgspec.structs.astuple(key))


def key_of(values: Sequence[Any]) -> TaskKey:
    """The key whose primary key's values are `values` (a row, or an array read back)."""
    return TaskKey(*values)


def is_row_of(key: TaskKey) -> ColumnElement[bool]:
    """The condition selecting the row of `key`."""
    return tuple_(*key_values(key)) == ROW_KEY


def comes_after(key: TaskKey) -> ColumnElement[bool]:
    """The condition selecting the rows past `key` in key order (where a page starts)."""
    return tuple_(*key_values(key)) < ROW_KEY
