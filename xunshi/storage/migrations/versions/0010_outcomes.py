"""Outcomes of rectification (整改成果) and problems found again (屡改屡犯).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Tables of their own, like a case's batch: items and tasks before 0010 have no outcome and
recur from nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create rectification_outcome and item_recurs_from."""
    op.create_table(
        "rectification_outcome",
        sa.Column("item_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("task_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("accountable", sa.Integer(), nullable=False),
        sa.Column("funds", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "task_id"),
        sa.ForeignKeyConstraint(["item_id"], ["rectification_item.id"]),
    )
    op.create_table(
        "item_recurs_from",
        sa.Column("item_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("earlier_item_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("item_id"),
        sa.ForeignKeyConstraint(["item_id"], ["rectification_item.id"]),
        sa.ForeignKeyConstraint(["earlier_item_id"], ["rectification_item.id"]),
    )
    op.create_index(
        "ix_item_recurs_from_earlier_item_id",
        "item_recurs_from",
        ["earlier_item_id"],
        unique=False,
    )


def downgrade() -> None:
    """Drop item_recurs_from and rectification_outcome."""
    op.drop_index("ix_item_recurs_from_earlier_item_id", table_name="item_recurs_from")
    op.drop_table("item_recurs_from")
    op.drop_table("rectification_outcome")
