"""The rectification progress of a round (整改进度): how many problems were open and how many
accepted (销号) at the end of each day or week, from the items' histories.

An item counts from the day it was added (its `started` event) until the day it was
withdrawn (撤销), if ever; it is accepted on the days it is in a state its definition tags
`accepted` (已销号, 归档) and open on the others — a reopened item is open again. Days are
business dates (the time zone of the settings).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

from sqlalchemy import select

from xunshi.keys import InstanceKey
from xunshi.read.catalog import RoundInfo, round_info
from xunshi.read.context import ReadContext
from xunshi.storage import queries as q

Step = Literal["day", "week"]
STEPS: tuple[Step, ...] = ("day", "week")
# A round longer than this (in days) is drawn by week unless asked otherwise.
DAYS_AT_MOST = 62
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class ItemCourse:
    """One item's course: the day it was added, the days its acceptance changed, its end."""

    key: InstanceKey
    group: str
    opened_on: date
    changes: tuple[tuple[date, bool], ...]  # (day, accepted from then on), oldest first
    voided_on: date | None = None

    def counted_on(self, day: date) -> bool:
        """Whether the item is on the list at the end of `day`."""
        return self.opened_on <= day and (self.voided_on is None or day < self.voided_on)

    def accepted_on(self, day: date) -> bool:
        """Whether the item is accepted (销号) at the end of `day`."""
        accepted = False
        for changed_on, now in self.changes:
            if changed_on > day:
                break
            accepted = now
        return accepted


@dataclass(frozen=True, slots=True)
class ProgressPoint:
    """The counts at the end of one day (or of the last day of a week)."""

    day: date
    open: int
    accepted: int

    @property
    def total(self) -> int:
        """Every item counted on the day."""
        return self.open + self.accepted


@dataclass(frozen=True, slots=True)
class Progress:
    """A round's items and their courses up to `as_of`."""

    round: RoundInfo
    as_of: date
    items: tuple[ItemCourse, ...]

    def only(self, units: Collection[str]) -> Progress:
        """The items of these units (codes, compared case-insensitively) only."""
        wanted = {u.lower() for u in units}
        return replace(self, items=tuple(i for i in self.items if i.key.unit.lower() in wanted))

    def default_step(self) -> Step:
        """By day for a span of up to `DAYS_AT_MOST` days, else by week."""
        days = self.days()
        return "day" if len(days) <= DAYS_AT_MOST else "week"

    def days(self) -> list[date]:
        """Every day from the first item's to `as_of`."""
        if not self.items:
            return []
        first = min(i.opened_on for i in self.items)
        return [first + timedelta(days=n) for n in range((self.as_of - first).days + 1)]

    def series(self, step: Step) -> tuple[ProgressPoint, ...]:
        """The counts at the end of each day, or of each week (Sunday; the last one `as_of`)."""
        days = self.days()
        if step == "week":
            days = [d for d in days if d.weekday() == 6 or d == self.as_of]
        return tuple(self._point(d) for d in days)

    def _point(self, day: date) -> ProgressPoint:
        counted = [i for i in self.items if i.counted_on(day)]
        accepted = sum(i.accepted_on(day) for i in counted)
        return ProgressPoint(day, len(counted) - accepted, accepted)


class ProgressQueries:
    """The progress of a round's rectification."""

    def __init__(self, ctx: ReadContext) -> None:
        self.ctx = ctx

    def of(self, round_code: str) -> Progress:
        """Every item of the round (withdrawn ones until they were) with its course."""
        it, i, c, u, g, e = q.items, q.instances, q.cases, q.units, q.groups, q.events
        with self.ctx.reading() as conn:
            info = round_info(conn, round_code)
            rows = list(
                conn.execute(
                    select(
                        it.c.id,
                        it.c.code,
                        u.c.code.label("unit"),
                        g.c.code.label("group"),
                        i.c.definition_name,
                        i.c.definition_version,
                    )
                    .join(i, i.c.id == it.c.id)
                    .join(c, c.c.id == it.c.case_id)
                    .join(u, u.c.id == c.c.unit_id)
                    .join(g, g.c.id == c.c.group_id)
                    .where(c.c.round_id == info.id)
                    .order_by(u.c.code, it.c.code)
                )
            )
            accepting = {
                row.id: self.ctx.definition(
                    conn, row.definition_name, row.definition_version
                ).tagged("accepted")
                for row in rows
            }
            events: dict[int, list[tuple[str, str | None, date]]] = {}
            ids = [row.id for row in rows]
            for start in range(0, len(ids), _CHUNK):
                found = conn.execute(
                    select(e.c.instance_id, e.c.kind, e.c.to_state, e.c.occurred_at)
                    .where(e.c.instance_id.in_(ids[start : start + _CHUNK]))
                    .order_by(e.c.instance_id, e.c.seq)
                )
                for instance_id, kind, to_state, occurred in found:
                    on = self.ctx.business_date(occurred)
                    events.setdefault(instance_id, []).append((kind, to_state, on))
        today = self.ctx.today()
        courses = []
        for row in rows:
            key = InstanceKey(info.code, row.unit, row.code)
            course = _course(key, row.group, events.get(row.id, []), accepting[row.id], today)
            if course is not None:
                courses.append(course)
        return Progress(info, today, tuple(courses))


def _course(
    key: InstanceKey,
    group: str,
    events: list[tuple[str, str | None, date]],
    accepting: frozenset[str],
    today: date,
) -> ItemCourse | None:
    """An item's course from its events (kind, state entered, day), up to `today`."""
    opened_on: date | None = None
    voided_on: date | None = None
    changes: list[tuple[date, bool]] = []
    accepted = False
    for kind, to_state, on in events:
        if on > today:
            break
        if opened_on is None:
            opened_on = on
        if kind == "voided":
            voided_on = on
            break
        if to_state is not None and (to_state in accepting) != accepted:
            accepted = not accepted
            changes.append((on, accepted))
    if opened_on is None:
        return None
    return ItemCourse(key, group, opened_on, tuple(changes), voided_on)
