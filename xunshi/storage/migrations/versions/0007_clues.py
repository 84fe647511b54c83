"""问题线索: the clue table and its links to the problems (items) it gave rise to.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

A clue is an instance of a `subject: clue` definition (the built-in `clue`), like an item is
of `rectification`; its row is the projection of its history. Databases before 0007 have no
clues: both tables start empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# As 0001 wrote it: aware timestamps on PostgreSQL, ISO text on SQLite.
UTC_DATETIME = sa.DateTime(timezone=True).with_variant(sa.String(26), "sqlite")

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create `clue` and `clue_item` with their indexes."""
    op.create_table(
        "clue",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("receiver", sa.String(64), nullable=False),
        sa.Column("receiver_name", sa.String(), nullable=False),
        sa.Column("disposition", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "code"),
        sa.ForeignKeyConstraint(["id"], ["instance.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["inspection_case.id"]),
    )
    op.create_index("ix_clue_case_id", "clue", ["case_id"], unique=False)
    op.create_table(
        "clue_item",
        sa.Column("clue_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("item_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.PrimaryKeyConstraint("clue_id", "item_id"),
        sa.ForeignKeyConstraint(["clue_id"], ["clue.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["rectification_item.id"]),
    )
    op.create_index("ix_clue_item_item", "clue_item", ["item_id"], unique=False)


def downgrade() -> None:
    """Drop them (and with them every clue's row; the clues' histories stay in `event`)."""
    op.drop_index("ix_clue_item_item", table_name="clue_item")
    op.drop_table("clue_item")
    op.drop_index("ix_clue_case_id", table_name="clue")
    op.drop_table("clue")
