"""People of the web desk: users, their API tokens, the cookie key.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

A user (`web_user`) signs in with a password whose scrypt hash is kept, acts with one role of
the definitions, and sees what their group or unit scope allows; failed sign-ins are counted
and lock the name for a while. An API token (`api_token`) is kept as its SHA-256 only. The
key that signs session cookies (`web_secret`) is made once and shared by every process.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# As 0001 wrote it: aware timestamps on PostgreSQL, ISO text on SQLite.
UTC_DATETIME = sa.DateTime(timezone=True).with_variant(sa.String(26), "sqlite")

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the user, token and secret tables."""
    op.create_table(
        "web_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.ForeignKeyConstraint(["group_id"], ["inspection_group.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        sa.ForeignKeyConstraint(["user_id"], ["web_user.id"]),
    )
    op.create_index("ix_api_token_user_id", "api_token", ["user_id"], unique=False)
    op.create_table(
        "web_secret",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("web_secret")
    op.drop_index("ix_api_token_user_id", table_name="api_token")
    op.drop_table("api_token")
    op.drop_table("web_user")
