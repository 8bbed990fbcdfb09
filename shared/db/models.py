"""The `task_instance` table: one row per task key, the ledger of where each task stands.

Column names are a contract: dashboards and other programs read this table. The
row holds the job that created it, so it doubles as the outbox: a job lost between insert and
publish is found by the stuck-queued sweep and published again. States use Airflow's names and
only move forward by `STATE_RANK`; `up_for_reschedule` sits beside `queued`, because a relaunched
pod starts the same try again.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, Index, Integer, MetaData, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime


class TaskState(enum.StrEnum):
    QUEUED = "queued"
    UP_FOR_RESCHEDULE = "up_for_reschedule"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        return self in (TaskState.SUCCESS, TaskState.FAILED)


#: The rows of tasks still in flight, written out literally so that Postgres matches it to the
#: partial index on live rows whatever plan it caches for a statement.
LIVE = text("state NOT IN ('success', 'failed')")

#: Order in which states may follow each other; a transition to a lower rank is refused.
STATE_RANK: dict[TaskState, int] = {
    TaskState.QUEUED: 0,
    TaskState.UP_FOR_RESCHEDULE: 0,
    TaskState.RUNNING: 1,
    TaskState.SUCCESS: 2,
    TaskState.FAILED: 2,
}

#: Constraint names that autogenerate and every migration agree on.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _timestamp(*, nullable: bool = True) -> Any:
    return mapped_column(DateTime(timezone=True), nullable=nullable)


class TaskInstance(Base):
    __tablename__ = "task_instance"

    dag_id: Mapped[str] = mapped_column(Text, primary_key=True)
    task_id: Mapped[str] = mapped_column(Text, primary_key=True)
    run_id: Mapped[str] = mapped_column(Text, primary_key=True)
    map_index: Mapped[int] = mapped_column(Integer, primary_key=True, server_default=text("-1"))
    try_number: Mapped[int] = mapped_column(Integer, nullable=False)
    state: Mapped[TaskState] = mapped_column(
        Enum(
            TaskState,
            name="task_state",
            native_enum=False,
            create_constraint=True,
            length=32,
            values_callable=lambda states: [state.value for state in states],
        ),
        nullable=False,
    )
    namespace: Mapped[str] = mapped_column(Text, nullable=False)
    pod_name: Mapped[str | None] = mapped_column(Text)
    pod_uid: Mapped[str | None] = mapped_column(Text)
    job: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    queued_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    launched_at: Mapped[datetime | None] = _timestamp()
    started_at: Mapped[datetime | None] = _timestamp()
    ended_at: Mapped[datetime | None] = _timestamp()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    pod_phase: Mapped[str | None] = mapped_column(Text)
    resource_version: Mapped[str | None] = mapped_column(Text)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    log_tail: Mapped[str | None] = mapped_column(Text)
    relaunch_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    republish_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))

    # Few indexes, since every applied event updates a row (migration 0003 says why; it also
    # sets fillfactor 80, for in-place updates): the sweeps read live rows of a namespace, the
    # API lists by dag and state, the dashboard reads windows of the timestamps (migration 0004:
    # each is written once per try, by an update that is never in place anyway).
    __table_args__ = (
        Index(
            "ix_task_instance_live_namespace",
            "namespace",
            postgresql_where=LIVE,
        ),
        Index(None, "dag_id", "state"),
        Index(None, "queued_at"),
        Index(None, "started_at"),
        Index(None, "ended_at"),
    )
