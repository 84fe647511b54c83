"""The working-day calendar: loading a year people publish (holidays, make-up working days)."""

from __future__ import annotations

from xunshi.storage.db import Database
from xunshi.texts import check_actor
from xunshi.workflow.calendar import parse_calendar_file
from xunshi.workflow.clock import Clock
from xunshi.workflow.schedule import LoadedYear, Schedule


class CalendarService:
    """Loading calendar years."""

    def __init__(self, db: Database, schedule: Schedule, clock: Clock) -> None:
        self.db = db
        self.schedule = schedule
        self.clock = clock

    def load(self, text: str, source_name: str, actor: str) -> LoadedYear:
        """Store a calendar year file; recompute the deadlines it touches."""
        actor = check_actor(actor)
        data = parse_calendar_file(text, source_name)
        return self.db.run(
            lambda conn: self.schedule.load_year(
                conn,
                data,
                calendar="cn",
                source=text,
                source_name=source_name,
                actor=actor,
                now=self.clock.now(),
            ),
            immediate=True,
        )
