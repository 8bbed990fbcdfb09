"""Reading task rows for the API: filtered pages in key order, and one row by its key.

Pages are keyset-paginated on the primary key (dag_id, task_id, run_id, map_index): each page
starts after the last key of the one before, so the primary-key index serves every page at the same
cost and rows inserted between two requests are neither skipped nor repeated, as they would be with
offsets. The cursor handed to clients is that last key as base64url JSON: opaque to them, and
harmless if forged, since all it can say is where to start.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from pydantic import Field, StrictInt, StrictStr, TypeAdapter, ValidationError
from sqlalchemy import ColumnElement, Engine, and_, select

from shared.admission import INT_MAX
from shared.db.keys import KEY_COLUMNS, TABLE, comes_after, is_row_of, key_values
from shared.db.models import TaskState
from shared.messages import TaskKey

#: Bounds of a Postgres `integer` column (map_index, try_number, priority).
#: Text Postgres can store: anything but NUL.
STORABLE_TEXT = r"^[^\x00]*$"

#: Columns a listing leaves out: the job and the log tail can be large; one row shows them.
_HEAVY = ("job", "log_tail")
_LISTED = [column for column in TABLE.c if column.name not in _HEAVY]

_Text = Annotated[StrictStr, Field(pattern=STORABLE_TEXT)]
_CURSOR = TypeAdapter(tuple[_Text, _Text, _Text, Annotated[StrictInt, Field(ge=-1, le=INT_MAX)]])


class InvalidCursor(ValueError):
    """A cursor that no page of this API handed out."""


@dataclass(frozen=True)
class TaskFilter:
    """Which rows to list; `None` matches any."""

    dag_id: str | None = None
    run_id: str | None = None
    state: TaskState | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.dag_id is not None:
            conditions.append(TABLE.c.dag_id == self.dag_id)
        if self.run_id is not None:
            conditions.append(TABLE.c.run_id == self.run_id)
        if self.state is not None:
            conditions.append(TABLE.c.state == self.state)
        return conditions


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    """Where the next page starts, or `None` when this one is the last."""


def page(engine: Engine, *, where: TaskFilter, limit: int, cursor: str | None = None) -> Page:
    """Up to `limit` rows matching `where` in key order, starting after `cursor`.

    Raises:
        InvalidCursor: `cursor` is not one this function handed out.
    """
    conditions = where.conditions()
    if cursor is not None:
        conditions.append(comes_after(decode_cursor(cursor)))
    query = select(*_LISTED).where(and_(True, *conditions)).order_by(*KEY_COLUMNS)
    with engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(query.limit(limit + 1)).mappings()]
    if len(rows) <= limit:
        return Page(rows, None)
    return Page(rows[:limit], encode_cursor(_key(rows[limit - 1])))


def one(engine: Engine, key: TaskKey) -> dict[str, Any] | None:
    """The whole row of the task `key`, or `None` when there is none."""
    query = select(TABLE).where(is_row_of(key))
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return dict(row) if row is not None else None


def encode_cursor(key: TaskKey) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key_values(key))).rstrip(b"=").decode()


def decode_cursor(token: str) -> TaskKey:
    """The key a cursor starts after.

    Raises:
        InvalidCursor: not base64url, not JSON, or not a task key.
    """
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return TaskKey(*_CURSOR.validate_json(raw))
    except (ValueError, ValidationError) as error:  # binascii.Error is a ValueError
        raise InvalidCursor("not a cursor this API handed out") from error


def _key(row: dict[str, Any]) -> TaskKey:
    return TaskKey(row["dag_id"], row["task_id"], row["run_id"], row["map_index"])
