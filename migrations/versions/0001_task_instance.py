"""Create task_instance, the ledger of every task and its pod.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_STATES = ("queued", "up_for_reschedule", "running", "success", "failed")


def _timestamp(name: str, **kwargs: object) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), **kwargs)  # type: ignore[arg-type]


def upgrade() -> None:
    op.create_table(
        "task_instance",
        sa.Column("dag_id", sa.Text(), nullable=False),
        sa.Column("task_id", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("map_index", sa.Integer(), server_default=sa.text("-1"), nullable=False),
        sa.Column("try_number", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                *_STATES, name="task_state", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("namespace", sa.Text(), nullable=False),
        sa.Column("pod_name", sa.Text(), nullable=True),
        sa.Column("job", postgresql.JSONB(), nullable=False),
        sa.Column("priority", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _timestamp("queued_at", server_default=sa.func.now(), nullable=False),
        _timestamp("launched_at", nullable=True),
        _timestamp("started_at", nullable=True),
        _timestamp("ended_at", nullable=True),
        _timestamp("updated_at", server_default=sa.func.now(), nullable=False),
        sa.Column("pod_phase", sa.Text(), nullable=True),
        sa.Column("resource_version", sa.Text(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("log_tail", sa.Text(), nullable=True),
        sa.Column("relaunch_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint(
            "dag_id", "task_id", "run_id", "map_index", name=op.f("pk_task_instance")
        ),
    )
    op.create_index(
        op.f("ix_task_instance_state_namespace"), "task_instance", ["state", "namespace"]
    )
    op.create_index(op.f("ix_task_instance_pod_name"), "task_instance", ["pod_name"])
    op.create_index(op.f("ix_task_instance_dag_id_state"), "task_instance", ["dag_id", "state"])


def downgrade() -> None:
    op.drop_table("task_instance")
