"""Extension requests (延期申请) of tasks and the office's decisions.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-15

A table of its own beside the tasks: the events in the item's history are the record,
the rows their projection (audit verify replays them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

# Written out, not imported: a migration must not change when the storage types do.
UTC_DATETIME = sa.DateTime(timezone=True).with_variant(sa.String(26), "sqlite")
ISO_DATE = sa.Date().with_variant(sa.String(10), "sqlite")


def upgrade() -> None:
    """Create task_extensions."""
    op.create_table(
        "task_extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", UTC_DATETIME, nullable=False),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.Column("requested_role", sa.String(length=64), nullable=False),
        sa.Column("original_due", ISO_DATE, nullable=False),
        sa.Column("requested_due", ISO_DATE, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_at", UTC_DATETIME, nullable=True),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decided_role", sa.String(length=64), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["task_id"], ["rectification_task.id"]),
    )
    op.create_index("ix_task_extensions_task_id", "task_extensions", ["task_id"], unique=False)


def downgrade() -> None:
    """Drop task_extensions."""
    op.drop_index("ix_task_extensions_task_id", table_name="task_extensions")
    op.drop_table("task_extensions")
