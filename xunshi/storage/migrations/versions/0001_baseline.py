"""Baseline: the schema as xunshi 0.1.0 created it (schema_info version 1).

Revision ID: 0001
Revises:
Create Date: 2026-12-01

Written out operation by operation rather than taken from the models, which will change:
this revision must keep creating what `metadata.create_all` created in that release, down
to the order of the constraints, so that a database upgraded to 0001 equals one the release
made (`tests/integration/test_migrations.py` compares them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# xunshi.storage.types as they stored values at this revision, frozen here: an instant is
# fixed-width UTC text on SQLite and timestamptz elsewhere, a date ISO text on SQLite.
UTC_DATETIME = sa.DateTime(timezone=True).with_variant(sa.String(26), "sqlite")
ISO_DATE = sa.Date().with_variant(sa.String(10), "sqlite")
# The sweep reads only live timers; done and superseded ones stay out of ix_timer_live.
LIVE = sa.text("status IN ('pending', 'claimed')")


def upgrade() -> None:
    """Create every table and index of schema version 1, and record that version."""
    op.create_table(
        "calendar_year",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar", sa.String(16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("holidays", sa.Text(), nullable=False),
        sa.Column("workdays", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("source_name", sa.String(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("loaded_by", sa.String(), nullable=False),
        sa.Column("loaded_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level1", sa.String(), nullable=False),
        sa.Column("level2", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("level1", "level2"),
    )
    op.create_table(
        "definition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_name", sa.String(), nullable=False),
        sa.Column("loaded_at", UTC_DATETIME, nullable=False),
        sa.Column("loaded_by", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "version"),
    )
    op.create_table(
        "inspection_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("start_on", ISO_DATE, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "instance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("definition_name", sa.String(64), nullable=False),
        sa.Column("definition_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("entered_at", UTC_DATETIME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("milestones", sa.Text(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("suspended_at", UTC_DATETIME, nullable=True),
        sa.Column("due_on", ISO_DATE, nullable=True),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("last_occurred_at", UTC_DATETIME, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("stage_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_instance_subject_state", "instance", ["subject", "state"], unique=False)
    op.create_table(
        "schema_info",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "seal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("chains", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("heads", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
    )
    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "escalation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("stage_seq", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("notify", sa.String(), nullable=False),
        sa.Column("due_on", ISO_DATE, nullable=False),
        sa.Column("fire_at", UTC_DATETIME, nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("raised_at", UTC_DATETIME, nullable=False),
        sa.Column("acked_at", UTC_DATETIME, nullable=True),
        sa.Column("acked_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id", "stage_seq", "task_id", "level"),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
    )
    op.create_table(
        "event",
        sa.Column("instance_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("trigger", sa.String(64), nullable=True),
        sa.Column("from_state", sa.String(64), nullable=True),
        sa.Column("to_state", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("role", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("occurred_at", UTC_DATETIME, nullable=False),
        sa.Column("recorded_at", UTC_DATETIME, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", "seq"),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
    )
    op.create_table(
        "inspection_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("leader", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "code"),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"]),
    )
    op.create_table(
        "timer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("stage_seq", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("notify", sa.String(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("due_on", ISO_DATE, nullable=False),
        sa.Column("fire_at", UTC_DATETIME, nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("locked_by", sa.String(128), nullable=True),
        sa.Column("locked_until", UTC_DATETIME, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"]),
        sa.UniqueConstraint("dedup_key"),
    )
    op.create_index("ix_timer_instance", "timer", ["instance_id"], unique=False)
    op.create_index(
        "ix_timer_live",
        "timer",
        ["fire_at"],
        unique=False,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )
    op.create_table(
        "inspection_case",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "unit_id"),
        sa.ForeignKeyConstraint(["id"], ["instance.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.ForeignKeyConstraint(["group_id"], ["inspection_group.id"]),
    )
    op.create_index("ix_inspection_case_group_id", "inspection_case", ["group_id"], unique=False)
    op.create_index("ix_inspection_case_unit_id", "inspection_case", ["unit_id"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("delivered_at", UTC_DATETIME, nullable=True),
        sa.Column("locked_by", sa.String(128), nullable=True),
        sa.Column("locked_until", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "idempotency_key"),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalation.id"]),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"], unique=False)
    op.create_table(
        "rectification_item",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("manifestations", sa.Text(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("key_problem", sa.Boolean(), nullable=False),
        sa.Column("common_problem", sa.Boolean(), nullable=False),
        sa.Column("fix_now", sa.Boolean(), nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "code"),
        sa.ForeignKeyConstraint(["id"], ["instance.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["inspection_case.id"]),
        sa.ForeignKeyConstraint(["category_id"], ["category.id"]),
    )
    op.create_index(
        "ix_rectification_item_case_id", "rectification_item", ["case_id"], unique=False
    )
    op.create_index(
        "ix_rectification_item_category_id", "rectification_item", ["category_id"], unique=False
    )
    op.create_table(
        "rectification_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("responsible_leader", sa.String(), nullable=False),
        sa.Column("lead_department", sa.String(), nullable=False),
        sa.Column("cooperating_departments", sa.String(), nullable=False),
        sa.Column("responsible_person", sa.String(), nullable=False),
        sa.Column("due_on", ISO_DATE, nullable=True),
        sa.Column("long_term", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("completed_on", ISO_DATE, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "number"),
        sa.ForeignKeyConstraint(["item_id"], ["rectification_item.id"]),
    )
    op.create_index(
        "ix_rectification_task_item_id", "rectification_task", ["item_id"], unique=False
    )
    op.bulk_insert(
        sa.table("schema_info", sa.column("key", sa.String()), sa.column("value", sa.String())),
        [{"key": "schema_version", "value": "1"}],
    )


def downgrade() -> None:
    """Drop everything (back to an empty database)."""
    op.drop_table("rectification_task")
    op.drop_table("rectification_item")
    op.drop_table("outbox")
    op.drop_table("inspection_case")
    op.drop_table("timer")
    op.drop_table("inspection_group")
    op.drop_table("event")
    op.drop_table("escalation")
    op.drop_table("unit")
    op.drop_table("seal")
    op.drop_table("schema_info")
    op.drop_table("instance")
    op.drop_table("inspection_round")
    op.drop_table("definition")
    op.drop_table("category")
    op.drop_table("calendar_year")
