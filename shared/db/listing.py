"""The dashboard's task table: rows filtered, sorted and paged by the database.

Filters are the columns an operator narrows by (dag, run, state, namespace, a part of the reason,
a window of submission times); sorting is by one of `SORTABLE`, ties broken by the key so that
pages never overlap; pages are `LIMIT`/`OFFSET` with the total count, which the table shows. The
indexes of migration 0004 on the timestamps serve the default order (newest first) and the time
windows; the rest stays fast at 100,000 rows (`tests/benchmarks/bench_dashboard.py` measures it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, func, select

from shared.db.keys import KEY_COLUMNS, TABLE
from shared.db.models import TaskState

#: Columns the table may be sorted by.
SORTABLE = (
    "queued_at",
    "started_at",
    "ended_at",
    "updated_at",
    "dag_id",
    "task_id",
    "run_id",
    "state",
    "namespace",
    "try_number",
    "failure_reason",
)
#: The columns of a listed row (no job, no log tail: the page of one task shows those).
SHOWN = (
    "dag_id",
    "task_id",
    "run_id",
    "map_index",
    "try_number",
    "state",
    "namespace",
    "pod_name",
    "queued_at",
    "started_at",
    "ended_at",
    "exit_code",
    "failure_reason",
)
MAX_PAGE_SIZE = 200


class Order(enum.StrEnum):
    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True)
class Query:
    """One page of the table: which rows, in which order, which page."""

    dag_id: str | None = None
    run_id: str | None = None
    state: TaskState | None = None
    namespace: str | None = None
    reason: str | None = None
    """A part of the failure reason, any case."""
    since: datetime | None = None
    until: datetime | None = None
    sort: str = "queued_at"
    order: Order = Order.DESC
    page: int = 1
    page_size: int = 50

    def conditions(self) -> list[ColumnElement[bool]]:
        c = TABLE.c
        found: list[ColumnElement[bool]] = []
        for column, value in (
            (c.dag_id, self.dag_id),
            (c.run_id, self.run_id),
            (c.state, self.state),
            (c.namespace, self.namespace),
        ):
            if value is not None:
                found.append(column == value)
        if self.reason is not None:
            found.append(c.failure_reason.icontains(self.reason, autoescape=True))
        if self.since is not None:
            found.append(c.queued_at >= self.since)
        if self.until is not None:
            found.append(c.queued_at < self.until)
        return found


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    total: int


def page(engine: Engine, query: Query) -> Page:
    """The rows of `query`'s page and how many rows match in all."""
    where = and_(True, *query.conditions())
    column = TABLE.c[query.sort]
    first = column.asc() if query.order is Order.ASC else column.desc()
    if column.nullable:  # rows without the time (not started yet) last, either way
        first = first.nulls_last()
    listed = (
        select(*(TABLE.c[name] for name in SHOWN))
        .where(where)
        .order_by(first, *KEY_COLUMNS)
        .limit(query.page_size)
        .offset((query.page - 1) * query.page_size)
    )
    with engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(listed).mappings()]
        total = connection.execute(select(func.count()).select_from(TABLE).where(where))
        return Page(rows, int(total.scalar_one()))
