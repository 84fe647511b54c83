"""The working-day calendar: loading a year people publish, resetting it to the built-in data.

A load or a reset is kept (never edited) and recomputes every due date and rung its year
touches; each deadline that moves becomes a `deadline` event in the history of its case or
item (for a task: its item), appended through the engine in the same transaction
(`services/rescheduling.py`), so the hash chain covers it and the history says who moved
it, from what to what.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection

from xunshi.errors import Refused
from xunshi.services.rescheduling import Rescheduled, record_moves
from xunshi.storage.db import Database
from xunshi.texts import check_actor
from xunshi.workflow.calendar import LoadMode, check_year, covered, parse_calendar_file
from xunshi.workflow.clock import Clock
from xunshi.workflow.engine import Engine
from xunshi.workflow.schedule import Schedule, YearChange

CALENDAR = "cn"


@dataclass(frozen=True, slots=True)
class CalendarChanged:
    """What `calendar load` or `calendar reset` stored, and every deadline it moved."""

    year: int
    mode: LoadMode
    load: int
    source: str  # the file's name; "" for a reset
    loaded_by: str
    has_data: bool  # False: the year is back to weekends only
    holidays: int  # the year's holidays and make-up working days, as it now is
    workdays: int
    rescheduled: tuple[Rescheduled, ...]

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "year": self.year,
            "mode": self.mode,
            "load": self.load,
            "source": self.source or None,
            "loaded_by": self.loaded_by,
            "has_data": self.has_data,
            "holidays": self.holidays,
            "workdays": self.workdays,
            "rescheduled": [moved.to_json() for moved in self.rescheduled],
        }


class CalendarService:
    """Loading calendar years and resetting them to the built-in data."""

    def __init__(self, db: Database, schedule: Schedule, engine: Engine, clock: Clock) -> None:
        self.db = db
        self.schedule = schedule
        self.engine = engine
        self.clock = clock

    def load(
        self,
        text: str,
        source_name: str,
        actor: str,
        mode: Literal["merge", "replace"] = "merge",
    ) -> CalendarChanged:
        """Store a calendar file for its year (merged by default); record what it moves.

        `merge`: the file's days override those days and every other day stays as it was;
        `replace`: the file is the whole year. For a year the built-in data does not cover
        both mean the file is the year's data.
        """
        actor = check_actor(actor)
        file = parse_calendar_file(text, source_name)

        def work(conn: Connection) -> CalendarChanged:
            change = self.schedule.load_year(
                conn,
                file,
                mode=mode,
                calendar=CALENDAR,
                source=text,
                source_name=source_name,
                actor=actor,
                now=self.clock.now(),
            )
            return self._recorded(conn, change)

        return self._run(work)

    def reset(self, year: int, actor: str) -> CalendarChanged:
        """Return `year` to the built-in data (a recorded load); record what it moves.

        Refused when the year is the built-in data already (never loaded, or reset last).
        A year the built-in data does not cover goes back to weekends only.
        """
        check_year(year)

        def work(conn: Connection) -> CalendarChanged:
            loads = self.schedule.loads(conn, CALENDAR, year)
            if not loads or loads[-1].mode == "reset":
                if covered(year):
                    raise Refused(f"calendar {year} is the built-in data already: nothing to reset")
                raise Refused(f"calendar {year} has no data loaded: nothing to reset")
            change = self.schedule.reset_year(
                conn, year, calendar=CALENDAR, actor=actor, now=self.clock.now()
            )
            return self._recorded(conn, change)

        return self._run(work)

    def _run(self, work: Callable[[Connection], CalendarChanged]) -> CalendarChanged:
        """One transaction; a failed one leaves no calendar cached with its load."""
        try:
            return self.db.run(work, immediate=True)
        except BaseException:
            # The attempt may have cached a calendar holding the load that was rolled back.
            self.schedule.forget_calendar(CALENDAR)
            raise

    def _recorded(self, conn: Connection, change: YearChange) -> CalendarChanged:
        """Append one `deadline` event per moved deadline; the public result."""
        load, data = change.load, change.data
        rescheduled = record_moves(
            conn,
            self.engine,
            change.moved,
            actor=load.loaded_by,
            name="calendar",
            cause=_cause(change),
            context={
                "calendar": CALENDAR,
                "year": load.year,
                "mode": load.mode,
                "load": load.id,
                "source": load.source_name or None,
            },
        )
        return CalendarChanged(
            year=load.year,
            mode=load.mode,
            load=load.id,
            source=load.source_name,
            loaded_by=load.loaded_by,
            has_data=data is not None,
            holidays=0 if data is None else len(data.holidays),
            workdays=0 if data is None else len(data.workdays),
            rescheduled=rescheduled,
        )


def _cause(change: YearChange) -> str:
    """Which load moved the deadlines, as the history's reason begins."""
    load = change.load
    if load.mode == "reset":
        return f"calendar {load.year} reset to the built-in data"
    return f"calendar {load.year} {load.mode} of {load.source_name}"
