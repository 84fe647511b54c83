"""Request ids: each write transaction of a command kept with its writes.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

A state-changing command runs under a request id (`xunshi.idempotency`). Each of its write
transactions stores a `command_request` row (id, step, the command) and every event it
appends carries the id (`event.request_id`, outside the hash chain), so that a command
retried after a lost connection finds what it did instead of doing it twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create `command_request` and add `event.request_id`."""
    op.create_table(
        "command_request",
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("step", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "step"),
    )
    op.add_column("event", sa.Column("request_id", sa.String(64), nullable=True))
    op.create_index("ix_event_request_id", "event", ["request_id"], unique=False)


def downgrade() -> None:
    """Drop them (SQLite copies `event` to drop the column)."""
    op.drop_index("ix_event_request_id", table_name="event")
    with op.batch_alter_table("event") as batch:
        batch.drop_column("request_id")
    op.drop_table("command_request")
