"""`podrunner status`: the task rows as a table for people, or JSON for programs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from shared.db import engines, reads

COLUMNS = (
    "dag_id",
    "task_id",
    "run_id",
    "map_index",
    "try_number",
    "state",
    "pod_name",
    "failure_reason",
)
_REASON_WIDTH = 60


def task_rows(
    database_url: str, *, dag_id: str | None = None, state: str | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    engine = engines.make_engine(database_url, pool_size=1)
    try:
        return reads.latest_tasks(engine, COLUMNS, dag_id=dag_id, state=state, limit=limit)
    finally:
        engine.dispose()


def as_json(rows: Sequence[dict[str, Any]]) -> str:
    return orjson.dumps(list(rows), option=orjson.OPT_INDENT_2).decode()


def as_table(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "no tasks"
    cells = [[_cell(row[column]) for column in COLUMNS] for row in rows]
    widths = [
        max(len(column), *(len(line[n]) for line in cells)) for n, column in enumerate(COLUMNS)
    ]
    lines = ["  ".join(column.ljust(widths[n]) for n, column in enumerate(COLUMNS))]
    lines += ["  ".join(value.ljust(widths[n]) for n, value in enumerate(line)) for line in cells]
    return "\n".join(line.rstrip() for line in lines)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= _REASON_WIDTH else text[: _REASON_WIDTH - 1] + "…"
