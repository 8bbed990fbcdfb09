"""Add pod_uid (which pod a row follows) and republish_count (stuck-queued sweep attempts).

A relaunched pod has the same name as the pod it replaces (the name comes from the key and try),
so only its uid tells a late event of the lost pod from the first event of the new one.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("task_instance", sa.Column("pod_uid", sa.Text(), nullable=True))
    op.add_column(
        "task_instance",
        sa.Column("republish_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("task_instance", "republish_count")
    op.drop_column("task_instance", "pod_uid")
