"""The working-day calendar: loading a year people publish, resetting it to the built-in data.

A load or a reset is kept (never edited) and recomputes every due date and rung its year
touches; each deadline that moves becomes a `deadline` event in the history of its case or
item (for a task: its item), appended through the engine in the same transaction, so the
hash chain covers it and the history says who moved it, from what to what.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from xunshi.errors import Refused
from xunshi.keys import InstanceKey
from xunshi.storage.db import Database
from xunshi.texts import check_actor
from xunshi.timeparse import business_time
from xunshi.workflow.calendar import LoadMode, check_year, covered, parse_calendar_file
from xunshi.workflow.clock import Clock
from xunshi.workflow.decide import Command
from xunshi.workflow.engine import Engine
from xunshi.workflow.resolve import InstanceRef, instance_key
from xunshi.workflow.schedule import MovedDeadline, Rung, Schedule, YearChange

CALENDAR = "cn"


@dataclass(frozen=True, slots=True)
class Rescheduled:
    """One deadline a calendar change moved, and the event that records it."""

    key: InstanceKey  # the case or item; for a task, the task's key
    stage: str  # the stage's name; "" for a task
    old_due_on: date | None
    new_due_on: date | None
    old_provisional: bool
    new_provisional: bool
    old_rung: Rung | None  # instants in the business time zone
    new_rung: Rung | None
    seq: int  # the `deadline` event in the history of the case or item

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "key": str(self.key),
            "stage": self.stage or None,
            "task": self.key.task,
            "due_on": {"old": _iso(self.old_due_on), "new": _iso(self.new_due_on)},
            "provisional": {"old": self.old_provisional, "new": self.new_provisional},
            "rung": {"old": _rung_json(self.old_rung), "new": _rung_json(self.new_rung)},
            "seq": self.seq,
        }


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
        tz = self.engine.tz
        rescheduled = []
        for moved in change.moved:
            key = instance_key(conn, moved.instance_id)
            outcome = self.engine.execute(
                conn,
                InstanceRef(moved.instance_id, key),
                Command(
                    kind="deadline",
                    actor=change.load.loaded_by,
                    role=None,
                    name="calendar",
                    reason=_reason(change, moved, tz),
                    data=_event_data(change, moved, tz),
                ),
            )
            if key is not None and moved.task_number is not None:
                key = key.task_key(moved.task_number)
            assert key is not None, "every instance a calendar moves is a case or an item"
            rescheduled.append(
                Rescheduled(
                    key=key,
                    stage=moved.stage,
                    old_due_on=moved.old_due_on,
                    new_due_on=moved.new_due_on,
                    old_provisional=moved.old_provisional,
                    new_provisional=moved.new_provisional,
                    old_rung=_local(moved.old_rung, tz),
                    new_rung=_local(moved.new_rung, tz),
                    seq=outcome.event.seq,
                )
            )
        load, data = change.load, change.data
        return CalendarChanged(
            year=load.year,
            mode=load.mode,
            load=load.id,
            source=load.source_name,
            loaded_by=load.loaded_by,
            has_data=data is not None,
            holidays=0 if data is None else len(data.holidays),
            workdays=0 if data is None else len(data.workdays),
            rescheduled=tuple(rescheduled),
        )


def _event_data(change: YearChange, moved: MovedDeadline, tz: ZoneInfo) -> dict[str, Any]:
    """What a `deadline` event records: the load, and the old and new deadline."""
    load = change.load
    data: dict[str, Any] = {
        "calendar": CALENDAR,
        "year": load.year,
        "mode": load.mode,
        "load": load.id,
        "source": load.source_name or None,
        "due_on": {"old": _iso(moved.old_due_on), "new": _iso(moved.new_due_on)},
        "provisional": {"old": moved.old_provisional, "new": moved.new_provisional},
        "rung": {
            "old": _rung_json(_local(moved.old_rung, tz)),
            "new": _rung_json(_local(moved.new_rung, tz)),
        },
    }
    if moved.task_id:
        data.update(task=moved.task_id, number=moved.task_number)
    else:
        data["stage"] = moved.stage
    return data


def _reason(change: YearChange, moved: MovedDeadline, tz: ZoneInfo) -> str:
    """The history's one line: which load, and what moved from what to what."""
    load = change.load
    if load.mode == "reset":
        cause = f"calendar {load.year} reset to the built-in data"
    else:
        cause = f"calendar {load.year} {load.mode} of {load.source_name}"
    what = []
    due = (moved.old_due_on, moved.old_provisional), (moved.new_due_on, moved.new_provisional)
    if moved.task_id:
        what.append(f"task #{moved.task_number} due {_due(*due[0])}")
    elif due[0] != due[1]:
        what.append(f"due {_due(*due[0])} → {_due(*due[1])}")
    if moved.old_rung != moved.new_rung:
        what.append(
            f"next rung {_rung_text(moved.old_rung, tz)} → {_rung_text(moved.new_rung, tz)}"
        )
    return f"{cause}: {', '.join(what)}"


def _due(day: date | None, provisional: bool) -> str:
    if day is None:
        return "none"
    return day.isoformat() + (" (暂定)" if provisional else "")


def _rung_text(rung: Rung | None, tz: ZoneInfo) -> str:
    if rung is None:
        return "none"
    return f"level {rung.level} at {business_time(rung.fire_at, tz)}"


def _local(rung: Rung | None, tz: ZoneInfo) -> Rung | None:
    return None if rung is None else rung._replace(fire_at=rung.fire_at.astimezone(tz))


def _rung_json(rung: Rung | None) -> dict[str, Any] | None:
    if rung is None:
        return None
    return {
        "level": rung.level,
        "fire_at": rung.fire_at.isoformat(),
        "provisional": rung.provisional,
    }


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
