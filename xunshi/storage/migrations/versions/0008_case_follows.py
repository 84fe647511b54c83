"""A case may follow an earlier case of its unit (回头看).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

A table of its own, like the batch of a case: cases before 0008 follow none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create case_follows."""
    op.create_table(
        "case_follows",
        sa.Column("case_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("earlier_case_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
        sa.ForeignKeyConstraint(["case_id"], ["inspection_case.id"]),
        sa.ForeignKeyConstraint(["earlier_case_id"], ["inspection_case.id"]),
    )
    op.create_index(
        "ix_case_follows_earlier_case_id", "case_follows", ["earlier_case_id"], unique=False
    )


def downgrade() -> None:
    """Drop case_follows."""
    op.drop_index("ix_case_follows_earlier_case_id", table_name="case_follows")
    op.drop_table("case_follows")
