"""Deadline arithmetic: due dates, when the stage is overdue, when a ladder rule fires.

Pure functions. Dates are business dates; instants are aware datetimes in the business time
zone passed in by the caller (convert with `.astimezone(UTC)` to store them).
"""

from __future__ import annotations

import calendar as gregorian
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import NamedTuple
from zoneinfo import ZoneInfo

from xunshi.definitions.durations import Duration, PlanDate
from xunshi.workflow.calendar import Calendar

_ONE_DAY = timedelta(days=1)


class PlanDates(NamedTuple):
    """The dates outside a stage that its due date may count from: the case's place in its
    round's plan (its batch and the batch's planned dates) and the dates its milestones were
    recorded as having happened.

    A stage due on a plan date (`due: plan.leave`) is due on the date itself; one due after
    a milestone (`{milestone: feedback_meeting, after: 2mo}`) counts from that milestone's
    date in `milestones` (only the milestones a definition counts from are loaded).
    """

    batch: str | None  # None: the case is in no batch
    move_in_on: date | None = None
    leave_on: date | None = None
    milestones: Mapping[str, date] = MappingProxyType({})
    # States the instance was in before the entry being dated: a stage due after a
    # milestone that is entered again (二次整改 after a poor evaluation) counts from entry.
    visited: frozenset[str] = frozenset()

    def on(self, name: PlanDate) -> date | None:
        """The planned date `name` (`move_in` or `leave`), if the plan has one."""
        return self.move_in_on if name == "move_in" else self.leave_on


NO_PLAN = PlanDates(None)


def due_date(entered_on: date, due: Duration, cal: Calendar) -> date:
    """The due date D of a stage entered on E: `Nwd` working days, `Nd` days or `Nmo` months on."""
    if due.unit == "wd":
        return cal.add_working_days(entered_on, due.amount)
    if due.unit == "d":
        return entered_on + timedelta(days=due.amount)
    return add_months(entered_on, due.amount)


def add_months(day: date, months: int) -> date:
    """`day` plus whole calendar months, clamped to the month's end (01-31 + 1mo = 02-28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = gregorian.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def is_provisional(entered_on: date, due_on: date, cal: Calendar) -> bool:
    """True if the calendar lacks data for a year from entry to due date (weekends only assumed)."""
    return cal.provisional(entered_on, due_on)


def start_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of `day` in `tz` (01:00 where clocks skip midnight)."""
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    # A round trip through UTC moves a wall time that does not exist to the real instant.
    return midnight.astimezone(UTC).astimezone(tz)


def overdue_from(due_on: date, tz: ZoneInfo) -> datetime:
    """The instant a stage due on D becomes overdue: the first instant of the day after D."""
    return start_of_day(due_on + _ONE_DAY, tz)


def rule_fires_at(due_on: date, at: Duration, cal: Calendar, tz: ZoneInfo) -> datetime:
    """When a ladder rule `at` fires for a stage due on D.

    `0`: when the stage becomes overdue. `-Kwd`/`-Kd`: the first instant of the K-th working
    day / K-th day before D. `+Kwd`/`+Kd`: the first instant of the day after the K-th working
    day / K-th day after D.
    """
    if at.amount == 0:
        return overdue_from(due_on, tz)
    if at.unit == "wd":
        day = cal.add_working_days(due_on, at.amount)
    elif at.unit == "d":
        day = due_on + timedelta(days=at.amount)
    else:
        raise ValueError(f"escalation offset must be in wd or d, not months ({at})")
    if at.amount < 0:
        return start_of_day(day, tz)
    return overdue_from(day, tz)


def shift_for_suspension(due_on: date, suspended_on: date, resumed_on: date, cal: Calendar) -> date:
    """The due date after a clock pause from `suspended_on` to `resumed_on`.

    The paused working days are those in (suspended_on, resumed_on]: the day of suspension
    counts as used (the clock ran that day), the day of resumption is given back. Suspending
    and resuming on the same day therefore changes nothing. D moves later by that many working
    days: `add_working_days(due_on, count_working_days(suspended_on, resumed_on))`.
    """
    if resumed_on < suspended_on:
        raise ValueError(f"resumed on {resumed_on}, before suspension on {suspended_on}")
    return cal.add_working_days(due_on, cal.count_working_days(suspended_on, resumed_on))


def days_left(due_on: date, today: date) -> int:
    """Calendar days from today to D: 0 on the due date, negative once overdue."""
    return (due_on - today).days


def working_days_left(due_on: date, today: date, cal: Calendar) -> int:
    """Signed working days to D: those in (today, D], or minus those in (D, today] if overdue."""
    if due_on >= today:
        return cal.count_working_days(today, due_on)
    return -cal.count_working_days(due_on, today)
