"""Drop schema_info: the revision lives in Alembic's alembic_version now.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Drop the table that recorded the schema version before migrations."""
    op.drop_table("schema_info")


def downgrade() -> None:
    """Recreate schema_info as 0001 made it, with its row."""
    op.create_table(
        "schema_info",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.bulk_insert(
        sa.table("schema_info", sa.column("key", sa.String()), sa.column("value", sa.String())),
        [{"key": "schema_version", "value": "1"}],
    )
