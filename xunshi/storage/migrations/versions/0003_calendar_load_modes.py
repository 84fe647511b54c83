"""Calendar loads keep their mode, ordinary days, titles and resulting year.

Revision ID: 0003
Revises: 0002
Create Date: 2027-01-15

Before 0003 every load replaced its year wholesale; the loads already stored are therefore
`replace` loads, and the year each left behind is the file's own days.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# Columns that existing rows need a value for; the defaults go once the rows have them.
_FILLED = (
    ("mode", sa.String(16), "replace"),
    ("ordinary", sa.Text(), "[]"),
    ("titles", sa.Text(), "{}"),
)


def upgrade() -> None:
    """Add mode, ordinary, titles, year_holidays and year_workdays to calendar_year."""
    with op.batch_alter_table("calendar_year") as batch:
        for name, kind, value in _FILLED:
            batch.add_column(sa.Column(name, kind, nullable=False, server_default=value))
        batch.add_column(sa.Column("year_holidays", sa.Text(), nullable=True))
        batch.add_column(sa.Column("year_workdays", sa.Text(), nullable=True))
    op.execute("UPDATE calendar_year SET year_holidays = holidays, year_workdays = workdays")
    with op.batch_alter_table("calendar_year") as batch:
        for name, _kind, _value in _FILLED:
            batch.alter_column(name, server_default=None)


def downgrade() -> None:
    """Back to whole-year loads: each load becomes the year it left behind.

    0002 reads a year as its latest load, so a load stores the year it left. A reset that
    left a year without data (one the built-in data does not cover) can only be said there
    by no load of that year: it and the loads before it go.
    """
    bind = op.get_bind()
    emptied: dict[tuple[str, int], int] = {}
    for row in bind.execute(
        sa.text("SELECT id, calendar, year FROM calendar_year WHERE year_holidays IS NULL")
    ):
        key = (row.calendar, row.year)
        emptied[key] = max(row.id, emptied.get(key, 0))
    for (calendar, year), last in emptied.items():
        bind.execute(
            sa.text(
                "DELETE FROM calendar_year WHERE calendar = :calendar AND year = :year"
                " AND id <= :last"
            ),
            {"calendar": calendar, "year": year, "last": last},
        )
    op.execute(
        "UPDATE calendar_year SET holidays = year_holidays, workdays = year_workdays"
        " WHERE year_holidays IS NOT NULL"
    )
    with op.batch_alter_table("calendar_year") as batch:
        for name in ("year_workdays", "year_holidays", "titles", "ordinary", "mode"):
            batch.drop_column(name)
