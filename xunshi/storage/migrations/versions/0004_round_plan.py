"""Round plans: batches with planned dates, and round-wide events.

Revision ID: 0004
Revises: 0003
Create Date: 2027-02-01

Three new tables and no change to an existing one: a case's batch lives in `batch_case`
(cases started before 0004 are in no batch), so upgrading rewrites nothing and a
downgrade only drops what this revision created.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

# xunshi.storage.types as they store values at this revision, frozen here: an instant is
# fixed-width UTC text on SQLite and timestamptz elsewhere, a date ISO text on SQLite.
UTC_DATETIME = sa.DateTime(timezone=True).with_variant(sa.String(26), "sqlite")
ISO_DATE = sa.Date().with_variant(sa.String(10), "sqlite")


def upgrade() -> None:
    """Create round_batch, batch_case and round_event."""
    op.create_table(
        "round_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("move_in_on", ISO_DATE, nullable=True),
        sa.Column("leave_on", ISO_DATE, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "code"),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"]),
    )
    op.create_table(
        "batch_case",
        sa.Column("case_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
        sa.ForeignKeyConstraint(["case_id"], ["inspection_case.id"]),
        sa.ForeignKeyConstraint(["batch_id"], ["round_batch.id"]),
    )
    op.create_index("ix_batch_case_batch_id", "batch_case", ["batch_id"], unique=False)
    op.create_table(
        "round_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("role", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("occurred_at", UTC_DATETIME, nullable=False),
        sa.Column("recorded_at", UTC_DATETIME, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"]),
    )
    op.create_index("ix_round_event_round", "round_event", ["round_id"], unique=False)


def downgrade() -> None:
    """Drop what 0004 created (the plan and the round events with it)."""
    op.drop_index("ix_round_event_round", table_name="round_event")
    op.drop_table("round_event")
    op.drop_index("ix_batch_case_batch_id", table_name="batch_case")
    op.drop_table("batch_case")
    op.drop_table("round_batch")
