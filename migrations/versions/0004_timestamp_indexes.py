"""Index the three timestamps the dashboard reads by window: submitted, started, ended.

The dashboard's task table is sorted by submission time, newest first, and narrowed by a window
of it; its Flow view counts what was submitted, started and finished in each minute of the last
hour, and its Failures view what ended in the last day. Without these, each is a pass over the
whole table. They cost the reconciler little: each timestamp is written once per try, by the
insert or by the update that also changes `state` (an indexed column), which is never an in-place
(HOT) update anyway; the updates in between, which change neither, stay HOT.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = ("queued_at", "started_at", "ended_at")


def upgrade() -> None:
    for column in _COLUMNS:
        op.create_index(f"ix_task_instance_{column}", "task_instance", [column])


def downgrade() -> None:
    for column in _COLUMNS:
        op.drop_index(f"ix_task_instance_{column}", table_name="task_instance")
