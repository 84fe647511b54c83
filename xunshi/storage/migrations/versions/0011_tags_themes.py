"""Business-domain tags, thematic reports (专题) and computed common problems.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

Tags are a list the office keeps, like the categories (`tag`), carried by items
(`item_tag`). A theme (`theme`) of a round takes in items by tag (`theme_tag`), by
category (`theme_category`) or by hand (`theme_item`), and lists its mechanism measures
(`theme_measure`). Whether an item is a common problem (共性问题) is computed from the
categories and tags of the round's items from now on, so the hand-set
`rectification_item.common_problem` goes (the items' histories keep what was typed).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# As 0001 wrote it: aware timestamps on PostgreSQL, ISO text on SQLite.
UTC_DATETIME = sa.DateTime(timezone=True).with_variant(sa.String(26), "sqlite")

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the tag and theme tables; drop the hand-set common-problem flag."""
    op.create_table(
        "tag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "item_tag",
        sa.Column("item_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("tag_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.PrimaryKeyConstraint("item_id", "tag_id"),
        sa.ForeignKeyConstraint(["item_id"], ["rectification_item.id"]),
        sa.ForeignKeyConstraint(["tag_id"], ["tag.id"]),
    )
    op.create_index("ix_item_tag_tag", "item_tag", ["tag_id"], unique=False)
    op.create_table(
        "theme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("department", sa.String(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "code"),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"]),
    )
    for table, column, target in (
        ("theme_tag", "tag_id", "tag.id"),
        ("theme_category", "category_id", "category.id"),
        ("theme_item", "item_id", "rectification_item.id"),
    ):
        op.create_table(
            table,
            sa.Column("theme_id", sa.Integer(), nullable=False, autoincrement=False),
            sa.Column(column, sa.Integer(), nullable=False, autoincrement=False),
            sa.PrimaryKeyConstraint("theme_id", column),
            sa.ForeignKeyConstraint(["theme_id"], ["theme.id"]),
            sa.ForeignKeyConstraint([column], [target]),
        )
    op.create_index("ix_theme_item_item", "theme_item", ["item_id"], unique=False)
    op.create_table(
        "theme_measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("theme_id", "number"),
        sa.ForeignKeyConstraint(["theme_id"], ["theme.id"]),
    )
    op.create_index("ix_theme_measure_theme_id", "theme_measure", ["theme_id"], unique=False)
    op.drop_column("rectification_item", "common_problem")


def downgrade() -> None:
    """Drop them; the flag comes back false (its typed values are in the items' histories)."""
    op.add_column(
        "rectification_item",
        sa.Column("common_problem", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.drop_index("ix_theme_measure_theme_id", table_name="theme_measure")
    op.drop_table("theme_measure")
    op.drop_index("ix_theme_item_item", table_name="theme_item")
    for table in ("theme_item", "theme_category", "theme_tag"):
        op.drop_table(table)
    op.drop_table("theme")
    op.drop_index("ix_item_tag_tag", table_name="item_tag")
    op.drop_table("item_tag")
    op.drop_table("tag")
