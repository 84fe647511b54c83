"""Escalations record their instrument and recipient, and a decision rung's fate.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Escalations raised before 0006 were all plain notifications: no instrument, no recipient,
no decision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# As 0001 wrote it: aware timestamps on PostgreSQL, ISO text on SQLite.
UTC_DATETIME = sa.DateTime(timezone=True).with_variant(sa.String(26), "sqlite")


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

_FILLED = (
    ("instrument", sa.String(16)),
    ("recipient", sa.String(64)),
)


def upgrade() -> None:
    """Add instrument, recipient, decision, decided_at, decided_by, decision_reason.

    Plain ALTER TABLEs, not a batch: SQLite's batch mode copies the table, and dropping the
    old `escalation` fails while outbox rows refer to it. SQLite therefore keeps the empty
    server default of the two filled columns (the models give every insert a value).
    """
    for name, kind in _FILLED:
        op.add_column("escalation", sa.Column(name, kind, nullable=False, server_default=""))
    op.add_column("escalation", sa.Column("decision", sa.String(16), nullable=True))
    op.add_column("escalation", sa.Column("decided_at", UTC_DATETIME, nullable=True))
    op.add_column("escalation", sa.Column("decided_by", sa.String(), nullable=True))
    op.add_column("escalation", sa.Column("decision_reason", sa.Text(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":
        for name, _kind in _FILLED:
            op.alter_column("escalation", name, server_default=None)


def downgrade() -> None:
    """Drop them again (a pending proposal becomes a plain escalation).

    SQLite (3.35 or later) drops a plain column in place.
    """
    for name in (
        "decision_reason",
        "decided_by",
        "decided_at",
        "decision",
        "recipient",
        "instrument",
    ):
        op.drop_column("escalation", name)
