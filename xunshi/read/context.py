"""What every query needs: the database, the definitions, the calendars, the time zone, the date."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from xunshi.definitions.schema import Definition
from xunshi.storage.db import Database
from xunshi.workflow.calendar import Calendar
from xunshi.workflow.clock import Clock
from xunshi.workflow.registry import Registry
from xunshi.workflow.schedule import Schedule


@dataclass(frozen=True)
class ReadContext:
    """The parts queries read through."""

    db: Database
    registry: Registry
    schedule: Schedule
    tz: ZoneInfo
    clock: Clock
    # A category and tag in at least this many units of a round make a common problem.
    common_units: int = 3

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """One read transaction."""
        with self.db.transaction() as conn:
            yield conn

    def today(self) -> date:
        """Today in the business time zone."""
        return self.clock.now().astimezone(self.tz).date()

    def now(self) -> datetime:
        """The clock's instant."""
        return self.clock.now()

    def business_date(self, instant: datetime) -> date:
        """The date of `instant` in the business time zone."""
        return instant.astimezone(self.tz).date()

    def definition(self, conn: Connection, name: str, version: int) -> Definition:
        """One stored definition version (cached)."""
        return self.registry.definition(conn, name, version)

    def calendar(self, conn: Connection, name: str = "cn") -> Calendar:
        """A working-day calendar with the years users loaded."""
        return self.schedule.calendar(conn, name)
