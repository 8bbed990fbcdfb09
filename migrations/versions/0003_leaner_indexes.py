"""Fewer index writes per event: drop the unused pod_name index, index only live rows for the
sweeps, and leave room on each page for in-place (HOT) updates.

Every event the reconciler applies updates one row. An update that changes an indexed column,
or finds no room on the row's page, writes an entry into every index of the table; these were
the largest share of Postgres's time per event. Nothing looks rows up by pod name, and the sweeps
only ever ask for live rows of a namespace, so a partial index on those serves them and stops
growing with finished tasks. Free space on the pages (fillfactor 80) lets updates that touch no
indexed column stay on their page with no index write at all.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_LIVE = sa.text("state NOT IN ('success', 'failed')")


def upgrade() -> None:
    op.drop_index("ix_task_instance_pod_name", table_name="task_instance")
    op.drop_index("ix_task_instance_state_namespace", table_name="task_instance")
    op.create_index(
        "ix_task_instance_live_namespace", "task_instance", ["namespace"], postgresql_where=_LIVE
    )
    op.execute("ALTER TABLE task_instance SET (fillfactor = 80)")


def downgrade() -> None:
    op.execute("ALTER TABLE task_instance RESET (fillfactor)")
    op.drop_index("ix_task_instance_live_namespace", table_name="task_instance")
    op.create_index("ix_task_instance_state_namespace", "task_instance", ["state", "namespace"])
    op.create_index("ix_task_instance_pod_name", "task_instance", ["pod_name"])
