"""Core tables for the runtime. GENERATED from models.py: do not edit.

Regenerate with `python -m xunshi.storage.codegen`; `tests/unit/test_tables.py` fails
when this file and the models disagree (CREATE TABLE and CREATE INDEX, both dialects).

Indexes with dialect options (a partial index's WHERE) are declared only by
`attach_dialect_indexes()`: declaring them imports every dialect's module, which would slow
down every command, and no query needs them (see `codegen`).
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from xunshi.storage.types import ISODate, UTCDateTime

metadata = MetaData()


calendar_year = Table(
    "calendar_year",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("calendar", String(16), nullable=False),
    Column("year", Integer(), nullable=False),
    Column("holidays", Text(), nullable=False),
    Column("workdays", Text(), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("source_name", String(), nullable=False),
    Column("source", Text(), nullable=False),
    Column("loaded_by", String(), nullable=False),
    Column("loaded_at", UTCDateTime(), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("ordinary", Text(), nullable=False),
    Column("titles", Text(), nullable=False),
    Column("year_holidays", Text(), nullable=True),
    Column("year_workdays", Text(), nullable=True),
)


category = Table(
    "category",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("level1", String(), nullable=False),
    Column("level2", String(), nullable=False),
    Column("position", Integer(), nullable=False),
    UniqueConstraint("level1", "level2"),
)


command_request = Table(
    "command_request",
    metadata,
    Column("request_id", String(64), primary_key=True, nullable=False),
    Column("step", Integer(), primary_key=True, autoincrement=False, nullable=False),
    Column("command", Text(), nullable=False),
)


definition = Table(
    "definition",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("name", String(64), nullable=False),
    Column("version", Integer(), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("title", String(), nullable=False),
    Column("subject", String(16), nullable=False),
    Column("body", Text(), nullable=False),
    Column("source", Text(), nullable=False),
    Column("source_name", String(), nullable=False),
    Column("loaded_at", UTCDateTime(), nullable=False),
    Column("loaded_by", String(), nullable=False),
    UniqueConstraint("name", "version"),
)


inspection_round = Table(
    "inspection_round",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("code", String(64), unique=True, nullable=False),
    Column("title", String(), nullable=False),
    Column("start_on", ISODate(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)


instance = Table(
    "instance",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("subject", String(16), nullable=False),
    Column("definition_name", String(64), nullable=False),
    Column("definition_version", Integer(), nullable=False),
    Column("state", String(64), nullable=False),
    Column("entered_at", UTCDateTime(), nullable=False),
    Column("version", Integer(), nullable=False),
    Column("milestones", Text(), nullable=False),
    Column("suspended", Boolean(), nullable=False),
    Column("suspended_at", UTCDateTime(), nullable=True),
    Column("due_on", ISODate(), nullable=True),
    Column("provisional", Boolean(), nullable=False),
    Column("last_occurred_at", UTCDateTime(), nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("stage_seq", Integer(), nullable=False),
    Column("voided", Boolean(), nullable=False, server_default=text("false")),
    Index("ix_instance_subject_state", "subject", "state"),
)


seal = Table(
    "seal",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("digest", String(64), unique=True, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(), nullable=False),
    Column("chains", Integer(), nullable=False),
    Column("events", Integer(), nullable=False),
    Column("heads", Text(), nullable=False),
)


tag = Table(
    "tag",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("name", String(), unique=True, nullable=False),
    Column("position", Integer(), nullable=False),
)


unit = Table(
    "unit",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("code", String(64), unique=True, nullable=False),
    Column("name", String(), nullable=False),
    Column("category", String(), nullable=False),
)


web_secret = Table(
    "web_secret",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)


escalation = Table(
    "escalation",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("instance_id", Integer(), ForeignKey("instance.id"), nullable=False),
    Column("stage_seq", Integer(), nullable=False),
    Column("stage", String(64), nullable=False),
    Column("task_id", Integer(), nullable=False),
    Column("level", Integer(), nullable=False),
    Column("generation", Integer(), nullable=False),
    Column("title", String(), nullable=False),
    Column("notify", String(), nullable=False),
    Column("due_on", ISODate(), nullable=False),
    Column("fire_at", UTCDateTime(), nullable=False),
    Column("provisional", Boolean(), nullable=False),
    Column("raised_at", UTCDateTime(), nullable=False),
    Column("acked_at", UTCDateTime(), nullable=True),
    Column("acked_by", String(), nullable=True),
    Column("instrument", String(16), nullable=False),
    Column("recipient", String(64), nullable=False),
    Column("decision", String(16), nullable=True),
    Column("decided_at", UTCDateTime(), nullable=True),
    Column("decided_by", String(), nullable=True),
    Column("decision_reason", Text(), nullable=True),
    UniqueConstraint("instance_id", "stage_seq", "task_id", "level"),
)


event = Table(
    "event",
    metadata,
    Column(
        "instance_id",
        Integer(),
        ForeignKey("instance.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
    Column("seq", Integer(), primary_key=True, autoincrement=False, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("trigger", String(64), nullable=True),
    Column("from_state", String(64), nullable=True),
    Column("to_state", String(64), nullable=True),
    Column("actor", String(), nullable=False),
    Column("role", String(64), nullable=True),
    Column("reason", Text(), nullable=True),
    Column("data", Text(), nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("request_id", String(64), index=True, nullable=True),
)


inspection_group = Table(
    "inspection_group",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("round_id", Integer(), ForeignKey("inspection_round.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("leader", String(), nullable=False),
    UniqueConstraint("round_id", "code"),
)


round_batch = Table(
    "round_batch",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("round_id", Integer(), ForeignKey("inspection_round.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("move_in_on", ISODate(), nullable=True),
    Column("leave_on", ISODate(), nullable=True),
    UniqueConstraint("round_id", "code"),
)


round_event = Table(
    "round_event",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("round_id", Integer(), ForeignKey("inspection_round.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("name", String(64), nullable=False),
    Column("filters", Text(), nullable=False),
    Column("data", Text(), nullable=False),
    Column("actor", String(), nullable=False),
    Column("role", String(64), nullable=True),
    Column("reason", Text(), nullable=True),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("count", Integer(), nullable=False),
    Index("ix_round_event_round", "round_id"),
)


theme = Table(
    "theme",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("round_id", Integer(), ForeignKey("inspection_round.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("title", String(), nullable=False),
    Column("department", String(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("round_id", "code"),
)


timer = Table(
    "timer",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("instance_id", Integer(), ForeignKey("instance.id"), nullable=False),
    Column("stage_seq", Integer(), nullable=False),
    Column("stage", String(64), nullable=False),
    Column("task_id", Integer(), nullable=False),
    Column("level", Integer(), nullable=False),
    Column("title", String(), nullable=False),
    Column("notify", String(), nullable=False),
    Column("generation", Integer(), nullable=False),
    Column("due_on", ISODate(), nullable=False),
    Column("fire_at", UTCDateTime(), nullable=False),
    Column("provisional", Boolean(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("locked_by", String(128), nullable=True),
    Column("locked_until", UTCDateTime(), nullable=True),
    Column("attempts", Integer(), nullable=False),
    Column("dedup_key", String(200), unique=True, nullable=False),
    Index("ix_timer_instance", "instance_id"),
)


inspection_case = Table(
    "inspection_case",
    metadata,
    Column(
        "id",
        Integer(),
        ForeignKey("instance.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
    Column("round_id", Integer(), ForeignKey("inspection_round.id"), nullable=False),
    Column("unit_id", Integer(), ForeignKey("unit.id"), index=True, nullable=False),
    Column("group_id", Integer(), ForeignKey("inspection_group.id"), index=True, nullable=False),
    UniqueConstraint("round_id", "unit_id"),
)


outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("escalation_id", Integer(), ForeignKey("escalation.id"), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("payload", Text(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", Text(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime(), nullable=True),
    Column("locked_by", String(128), nullable=True),
    Column("locked_until", UTCDateTime(), nullable=True),
    UniqueConstraint("channel", "idempotency_key"),
    Index("ix_outbox_due", "status", "next_attempt_at"),
)


theme_category = Table(
    "theme_category",
    metadata,
    Column(
        "theme_id",
        Integer(),
        ForeignKey("theme.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
    Column(
        "category_id",
        Integer(),
        ForeignKey("category.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
)


theme_measure = Table(
    "theme_measure",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("theme_id", Integer(), ForeignKey("theme.id"), index=True, nullable=False),
    Column("number", Integer(), nullable=False),
    Column("text", Text(), nullable=False),
    Column("status", String(16), nullable=False),
    UniqueConstraint("theme_id", "number"),
)


theme_tag = Table(
    "theme_tag",
    metadata,
    Column(
        "theme_id",
        Integer(),
        ForeignKey("theme.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
    Column(
        "tag_id",
        Integer(),
        ForeignKey("tag.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
)


web_user = Table(
    "web_user",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("name", String(), unique=True, nullable=False),
    Column("role", String(32), nullable=False),
    Column("group_id", Integer(), ForeignKey("inspection_group.id"), nullable=True),
    Column("unit_id", Integer(), ForeignKey("unit.id"), nullable=True),
    Column("password_hash", String(), nullable=False),
    Column("disabled", Boolean(), nullable=False),
    Column("failed_logins", Integer(), nullable=False),
    Column("locked_until", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)


api_token = Table(
    "api_token",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("user_id", Integer(), ForeignKey("web_user.id"), index=True, nullable=False),
    Column("token_hash", String(64), unique=True, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)


batch_case = Table(
    "batch_case",
    metadata,
    Column(
        "case_id",
        Integer(),
        ForeignKey("inspection_case.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
    Column("batch_id", Integer(), ForeignKey("round_batch.id"), index=True, nullable=False),
)


case_follows = Table(
    "case_follows",
    metadata,
    Column(
        "case_id",
        Integer(),
        ForeignKey("inspection_case.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
    Column(
        "earlier_case_id", Integer(), ForeignKey("inspection_case.id"), index=True, nullable=False
    ),
)


clue = Table(
    "clue",
    metadata,
    Column(
        "id",
        Integer(),
        ForeignKey("instance.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
    Column("case_id", Integer(), ForeignKey("inspection_case.id"), index=True, nullable=False),
    Column("code", String(64), nullable=False),
    Column("summary", String(), nullable=False),
    Column("receiver", String(64), nullable=False),
    Column("receiver_name", String(), nullable=False),
    Column("disposition", String(16), nullable=False),
    Column("outcome", String(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("case_id", "code"),
)


rectification_item = Table(
    "rectification_item",
    metadata,
    Column(
        "id",
        Integer(),
        ForeignKey("instance.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
    Column("case_id", Integer(), ForeignKey("inspection_case.id"), index=True, nullable=False),
    Column("code", String(64), nullable=False),
    Column("title", String(), nullable=False),
    Column("manifestations", Text(), nullable=False),
    Column("category_id", Integer(), ForeignKey("category.id"), index=True, nullable=False),
    Column("key_problem", Boolean(), nullable=False),
    Column("fix_now", Boolean(), nullable=False),
    Column("root_cause", Text(), nullable=False),
    Column("source", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("case_id", "code"),
)


clue_item = Table(
    "clue_item",
    metadata,
    Column(
        "clue_id",
        Integer(),
        ForeignKey("clue.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
    Column(
        "item_id",
        Integer(),
        ForeignKey("rectification_item.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
    Index("ix_clue_item_item", "item_id"),
)


item_recurs_from = Table(
    "item_recurs_from",
    metadata,
    Column(
        "item_id",
        Integer(),
        ForeignKey("rectification_item.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
    Column(
        "earlier_item_id",
        Integer(),
        ForeignKey("rectification_item.id"),
        index=True,
        nullable=False,
    ),
)


item_tag = Table(
    "item_tag",
    metadata,
    Column(
        "item_id",
        Integer(),
        ForeignKey("rectification_item.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
    Column(
        "tag_id",
        Integer(),
        ForeignKey("tag.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
    Index("ix_item_tag_tag", "tag_id"),
)


rectification_outcome = Table(
    "rectification_outcome",
    metadata,
    Column(
        "item_id",
        Integer(),
        ForeignKey("rectification_item.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
    Column("task_id", Integer(), primary_key=True, autoincrement=False, nullable=False),
    Column("rules", Text(), nullable=False),
    Column("accountable", Integer(), nullable=False),
    Column("funds", Integer(), nullable=False),
    Column("evidence", Text(), nullable=False),
)


rectification_task = Table(
    "rectification_task",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("item_id", Integer(), ForeignKey("rectification_item.id"), index=True, nullable=False),
    Column("number", Integer(), nullable=False),
    Column("measure", Text(), nullable=False),
    Column("responsible_leader", String(), nullable=False),
    Column("lead_department", String(), nullable=False),
    Column("cooperating_departments", String(), nullable=False),
    Column("responsible_person", String(), nullable=False),
    Column("due_on", ISODate(), nullable=True),
    Column("long_term", Boolean(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("progress", Text(), nullable=False),
    Column("evidence", Text(), nullable=False),
    Column("completed_on", ISODate(), nullable=True),
    UniqueConstraint("item_id", "number"),
)


theme_item = Table(
    "theme_item",
    metadata,
    Column(
        "theme_id",
        Integer(),
        ForeignKey("theme.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
    Column(
        "item_id",
        Integer(),
        ForeignKey("rectification_item.id"),
        primary_key=True,
        autoincrement=False,
        nullable=False,
    ),
    Index("ix_theme_item_item", "item_id"),
)


task_extensions = Table(
    "task_extensions",
    metadata,
    Column("id", Integer(), primary_key=True, nullable=False),
    Column("task_id", Integer(), ForeignKey("rectification_task.id"), index=True, nullable=False),
    Column("requested_at", UTCDateTime(), nullable=False),
    Column("requested_by", String(), nullable=False),
    Column("requested_role", String(64), nullable=False),
    Column("original_due", ISODate(), nullable=False),
    Column("requested_due", ISODate(), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("status", String(16), nullable=False),
    Column("decided_at", UTCDateTime(), nullable=True),
    Column("decided_by", String(), nullable=True),
    Column("decided_role", String(64), nullable=True),
    Column("decision_reason", Text(), nullable=True),
)


@cache
def attach_dialect_indexes() -> None:
    """Declare the indexes that have dialect options (once; see the docstring)."""
    Index(
        "ix_timer_live",
        timer.c.fire_at,
        postgresql_where=text("status IN ('pending', 'claimed')"),
        sqlite_where=text("status IN ('pending', 'claimed')"),
    )
