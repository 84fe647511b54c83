"""Instances can be void (撤销): withdrawn, kept in history and audit.

Revision ID: 0005
Revises: 0004
Create Date: 2027-02-01

Every instance stored before 0005 is not void. The column keeps its server default: SQLite
adds a NOT NULL column only with one, and changing it afterwards would copy the table,
which events, cases, items and timers reference.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add instance.voided (false for every existing instance)."""
    op.add_column(
        "instance",
        sa.Column("voided", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )


def downgrade() -> None:
    """Drop instance.voided; a void instance's `voided` event stays in its history."""
    op.drop_column("instance", "voided")
