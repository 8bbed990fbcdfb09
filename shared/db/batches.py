"""The statements of every applied batch: lock the batch's rows, insert the missing ones, then
write what changed.

Both send the whole batch as one JSON parameter, an array of arrays that msgspec writes straight
from `TaskKey`s and `Row`s (each an array of its fields), unpacked by `json_array_elements` into a
table to join on by key. The statement is the same whatever the batch, so Postgres plans it in a
millisecond (a list of 500 keys, which it turns into 500 `OR`ed conditions, took about 160 ms to
plan), and every row travels in one round trip. The locked rows come back the same way: one JSON
text that msgspec reads into `TaskKey`s and `Row`s, where building a result row object per task
took longer than the query. Rows are locked in key order, so reconcilers locking overlapping
batches cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import (
    Connection,
    Integer,
    Text,
    and_,
    bindparam,
    column,
    func,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from shared.db.keys import KEY_COLUMNS, KEY_NAMES, TABLE, KeyValues, key_values
from shared.db.ledger_rows import Row
from shared.messages import LaunchEvent, TaskKey

ROW_FIELDS = list(Row.__struct_fields__)


class Locked(msgspec.Struct, frozen=True):
    row: Row
    namespace: str


def lock_rows(connection: Connection, keys: Sequence[TaskKey]) -> dict[TaskKey, Locked]:
    """The rows of `keys` that exist, locked until the transaction ends."""
    if not keys:
        return {}
    wanted = {key_values(key): key for key in keys}  # the rows come back keyed by the caller's keys
    document = connection.execute(
        _LOCK, {"wanted": _ENCODER.encode(list(wanted)).decode()}
    ).scalar_one()
    return {
        wanted[values]: Locked(row, namespace)
        for values, namespace, row in _LOCKED.decode(document)
    }


def insert_missing(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert each of `rows` (column values) unless a row of its key exists; returns how many
    were inserted."""
    if not rows:
        return 0
    return connection.execute(_INSERT_MISSING, list(rows)).rowcount


def store_log_tail(connection: Connection, key: TaskKey, tail: str) -> None:
    """Keep `tail`, the last lines of the task's pod log, on the task's row."""
    connection.execute(_STORE_LOG_TAIL, {**_key_parameters(key), "tail": tail})


def write_rows(connection: Connection, rows: Sequence[tuple[TaskKey, Row]], at: datetime) -> None:
    """Set the `Row` fields of each key's row, and `updated_at` to `at`."""
    if rows:
        changes = [(key_values(key), row) for key, row in rows]
        parameters = {"changes": _ENCODER.encode(changes).decode(), "at": at}
        connection.execute(_UPDATE, parameters)


def renew_jobs(connection: Connection, launches: Sequence[tuple[TaskKey, LaunchEvent]]) -> None:
    """Make each launch event's job the row's job where the row holds an older try's: what a
    relaunch republishes, and what the task's row shows (a try submitted straight to the queue
    after an earlier one)."""
    if launches:
        connection.execute(_RENEW, [_renewal(key, launch) for key, launch in launches])


def _renewal(key: TaskKey, launch: LaunchEvent) -> dict[str, Any]:
    assert launch.job is not None
    return {
        **_key_parameters(key),
        "new_try": launch.try_number,
        "new_job": launch.job.to_dict(),
        "new_priority": launch.job.priority,
        "new_namespace": launch.namespace,
        "new_queued_at": launch.at,
    }


def _key_parameters(key: TaskKey) -> dict[str, Any]:
    """The key's fields as the parameters of `_IS_KEY`."""
    return {f"key_{name}": value for name, value in zip(KEY_NAMES, key_values(key), strict=True)}


def _elements(name: str) -> Any:
    """`json_array_elements(:name) AS name`: each element of the parameter as a row."""
    document = sql_cast(bindparam(name, type_=Text), JSONB)
    elements = func.jsonb_array_elements(document).table_valued(column("value", JSONB))
    return elements.render_derived(name=name)


def _field(value: Any, path: tuple[int, ...], name: str) -> ColumnElement[Any]:
    """The element at `path` of the JSON `value`, as column `name` of the table is typed."""
    return sql_cast(value[path].astext, TABLE.c[name].type)


def _same_key(value: Any, at: tuple[int, ...] = ()) -> ColumnElement[bool]:
    """The row's key equals the key at `at` in the JSON `value`, an array of the key's fields."""
    return and_(
        *(TABLE.c[name] == _field(value, (*at, n), name) for n, name in enumerate(KEY_NAMES))
    )


_ENCODER = msgspec.json.Encoder()

_WANTED = _elements("wanted")
_LOCKING = (
    select(*(TABLE.c[c] for c in [*KEY_NAMES, "namespace", *ROW_FIELDS]))
    .join(_WANTED, _same_key(_WANTED.c.value))
    .order_by(*KEY_COLUMNS)
    .with_for_update(of=TABLE)
    .subquery("locked")
)
_LOCK = select(
    sql_cast(
        func.coalesce(
            func.json_agg(
                func.json_build_array(
                    func.json_build_array(*(_LOCKING.c[c] for c in KEY_NAMES)),
                    _LOCKING.c.namespace,
                    func.json_build_array(*(_LOCKING.c[c] for c in ROW_FIELDS)),
                )
            ),
            func.json_build_array(),  # no rows: an empty array
        ),
        Text,  # as text, which the driver hands over as it is, for msgspec to read
    )
)
_LOCKED = msgspec.json.Decoder(list[tuple[KeyValues, str, Row]])

#: The row of the key given as parameters `key_<column>`.
_IS_KEY = and_(*(TABLE.c[name] == bindparam(f"key_{name}") for name in KEY_NAMES))

_INSERT_MISSING = postgresql.insert(TABLE).on_conflict_do_nothing()

_STORE_LOG_TAIL = update(TABLE).where(_IS_KEY).values(log_tail=bindparam("tail"))

_RENEW = (
    update(TABLE)
    .where(_IS_KEY)
    .where(sql_cast(TABLE.c.job["try_number"].astext, Integer) < bindparam("new_try"))
    .values(
        job=bindparam("new_job"),
        priority=bindparam("new_priority"),
        namespace=bindparam("new_namespace"),
        queued_at=bindparam("new_queued_at"),
        log_tail=None,
    )
)

_CHANGES = _elements("changes")
#: A change is `[[the TaskKey's fields], [the Row's fields]]`.
_UPDATE = (
    update(TABLE)
    .where(_same_key(_CHANGES.c.value, (0,)))
    .values(
        {
            **{name: _field(_CHANGES.c.value, (1, n), name) for n, name in enumerate(ROW_FIELDS)},
            "updated_at": bindparam("at"),
        }
    )
)
