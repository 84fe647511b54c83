"""Deadlines and timers: due dates on the working-day calendar, and the ladder's timers.

When an instance enters a stage with a `due`, its due date is computed (DESIGN §5) and one
timer per ladder rung is stored in the same transaction. Leaving the stage supersedes them
and resolves the stage's open escalations; a suspension supersedes them; a resume moves the
due date by the working days suspended and schedules the rungs not yet raised again, in a
new generation.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from xunshi.definitions.schema import Definition, canonical_json
from xunshi.storage import queries as q
from xunshi.workflow.calendar import Calendar, YearData, calendar_for
from xunshi.workflow.deadlines import rule_fires_at
from xunshi.workflow.decide import Deadline, InstanceState, deadline, replayed_deadline
from xunshi.workflow.registry import Registry

# How long a process trusts its cached calendar before checking for newly loaded years.
CALENDAR_RECHECK_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class LoadedYear:
    """A calendar year stored by `calendar load`, and what it changed."""

    year: int
    holidays: int
    workdays: int
    rescheduled: int

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "year": self.year,
            "holidays": self.holidays,
            "workdays": self.workdays,
            "rescheduled": self.rescheduled,
        }


class Schedule:
    """Due dates and timers (the engine's StageHooks)."""

    def __init__(self, tz: ZoneInfo, registry: Registry) -> None:
        self.tz = tz
        self.registry = registry
        self._calendars: dict[str, tuple[int, Calendar]] = {}
        self._checked_at = 0.0

    # -- calendars ------------------------------------------------------------------

    def calendar(self, conn: Connection, name: str) -> Calendar:
        """The working-day calendar `name` with every year users loaded on top."""
        cached = self._calendars.get(name)
        now = time.monotonic()
        if cached is not None and now - self._checked_at < CALENDAR_RECHECK_SECONDS:
            return cached[1]
        revision = self._revision(conn, name)
        self._checked_at = now
        if cached is not None and cached[0] == revision:
            return cached[1]
        calendar = calendar_for(name, self._user_years(conn, name))
        self._calendars[name] = (revision, calendar)
        return calendar

    def _revision(self, conn: Connection, name: str) -> int:
        c = q.calendar_years
        found = conn.execute(select(func.max(c.c.id)).where(c.c.calendar == name)).scalar()
        return int(found or 0)

    def _user_years(self, conn: Connection, name: str) -> list[YearData]:
        c = q.calendar_years
        rows = conn.execute(
            select(c.c.year, c.c.holidays, c.c.workdays)
            .where(c.c.calendar == name)
            .order_by(c.c.id)
        )
        return [
            YearData(
                row.year,
                frozenset(date.fromisoformat(d) for d in json.loads(row.holidays)),
                frozenset(date.fromisoformat(d) for d in json.loads(row.workdays)),
            )
            for row in rows
        ]

    def load_year(
        self,
        conn: Connection,
        data: YearData,
        *,
        calendar: str,
        source: str,
        source_name: str,
        actor: str,
        now: datetime,
    ) -> LoadedYear:
        """Store a year of calendar data, then recompute every live deadline it touches."""
        holidays = sorted(d.isoformat() for d in data.holidays)
        workdays = sorted(d.isoformat() for d in data.workdays)
        body = canonical_json({"year": data.year, "holidays": holidays, "workdays": workdays})
        conn.execute(
            q.calendar_years.insert(),
            {
                "calendar": calendar,
                "year": data.year,
                "holidays": json.dumps(holidays),
                "workdays": json.dumps(workdays),
                "digest": _sha256(body),
                "source": source,
                "source_name": source_name,
                "loaded_by": actor,
                "loaded_at": now,
            },
        )
        self._calendars.pop(calendar, None)
        rescheduled = self._recompute_year(conn, data.year)
        return LoadedYear(data.year, len(holidays), len(workdays), rescheduled)

    def _recompute_year(self, conn: Connection, year: int) -> int:
        """Recompute due dates and pending timers of stages whose span touches `year`.

        A stage is touched when it is due in or after `year`, or when one of its pending
        rungs fires then (a rung `+10wd` after a December due date fires in January).
        """
        i, t = q.instances, q.timers
        year_starts = datetime.combine(date(year, 1, 1), datetime.min.time(), tzinfo=self.tz)
        rung_in_year = (
            select(t.c.instance_id)
            .where(t.c.status == "pending", t.c.task_id == 0, t.c.fire_at >= year_starts)
            .scalar_subquery()
        )
        rows = conn.execute(
            select(i).where(
                i.c.due_on.is_not(None),
                (i.c.due_on >= date(year, 1, 1)) | i.c.id.in_(rung_in_year),
            )
        ).mappings()
        touched = [
            InstanceState.from_row(row)
            for row in rows
            if row["entered_at"].astimezone(self.tz).year <= year
        ]
        count = 0
        for instance in touched:
            defn = self._definition(conn, instance)
            deadline = self._deadline_with_pauses(conn, instance, defn)
            unchanged = (deadline.due_on, deadline.provisional) == (
                instance.due_on,
                instance.provisional,
            )
            if unchanged and not self._has_provisional_rungs(conn, instance.id):
                continue
            conn.execute(
                i.update().where(i.c.id == instance.id),
                {"due_on": deadline.due_on, "provisional": deadline.provisional},
            )
            moved = instance._replace(due_on=deadline.due_on, provisional=deadline.provisional)
            self._supersede(conn, moved.id)
            if not moved.suspended:
                self.rescheduled(conn, moved, defn)
            count += 1
        return count

    def _has_provisional_rungs(self, conn: Connection, instance_id: int) -> bool:
        t = q.timers
        found = conn.execute(
            select(t.c.id)
            .where(
                t.c.instance_id == instance_id,
                t.c.status == "pending",
                t.c.task_id == 0,
                t.c.provisional.is_(True),
            )
            .limit(1)
        ).first()
        return found is not None

    # -- deadlines -------------------------------------------------------------------

    def deadline(
        self, conn: Connection, definition: Definition, state: str, entered_at: datetime
    ) -> Deadline:
        """The due date of `state` when entered at `entered_at` (none without a `due`)."""
        return deadline(
            definition, state, entered_at, self.calendar(conn, definition.calendar), self.tz
        )

    def _deadline_with_pauses(
        self, conn: Connection, instance: InstanceState, definition: Definition
    ) -> Deadline:
        """The current stage's due date from scratch: entry, limit, then every pause."""
        e = q.events
        pauses = conn.execute(
            select(e.c.kind, e.c.occurred_at)
            .where(
                e.c.instance_id == instance.id,
                e.c.seq > instance.stage_seq,
                e.c.kind.in_(("suspended", "resumed")),
            )
            .order_by(e.c.seq)
        ).all()
        cal = self.calendar(conn, definition.calendar)
        return replayed_deadline(
            definition, instance.state, instance.entered_at, pauses, cal, self.tz
        )

    # -- timers (StageHooks) --------------------------------------------------------

    def stage_entered(
        self, conn: Connection, instance: InstanceState, definition: Definition, now: datetime
    ) -> None:
        """Retire the previous stage's timer; arm the new stage's first rung.

        The previous stage's escalations need no write: they are open only while their
        stage entry is the current one.
        """
        if instance.stage_seq > 1:
            self._supersede(conn, instance.id)
        self._insert_timers(conn, instance, definition, generation=1, skip_levels=frozenset())

    def paused(self, conn: Connection, instance: InstanceState) -> None:
        """A suspended stage's clock stops: its pending timers are superseded."""
        self._supersede(conn, instance.id)

    def rescheduled(
        self, conn: Connection, instance: InstanceState, definition: Definition
    ) -> None:
        """A timer for the first rung not yet raised in this stage entry, in a new generation."""
        t, x = q.timers, q.escalations
        generation = conn.execute(
            select(func.coalesce(func.max(t.c.generation), 0)).where(
                t.c.instance_id == instance.id,
                t.c.stage_seq == instance.stage_seq,
                t.c.task_id == 0,
            )
        ).scalar_one()
        raised = conn.execute(
            select(x.c.level).where(
                x.c.instance_id == instance.id,
                x.c.stage_seq == instance.stage_seq,
                x.c.task_id == 0,
            )
        ).scalars()
        self._insert_timers(
            conn,
            instance,
            definition,
            generation=int(generation) + 1,
            skip_levels=frozenset(raised),
        )

    def _supersede(self, conn: Connection, instance_id: int) -> None:
        conn.execute(q.SUPERSEDE_TIMERS, {"b_instance_id": instance_id})

    def _insert_timers(
        self,
        conn: Connection,
        instance: InstanceState,
        definition: Definition,
        *,
        generation: int,
        skip_levels: frozenset[int],
    ) -> None:
        if instance.due_on is None:
            return
        rung = self.next_rung(
            conn,
            definition,
            instance.state,
            instance.due_on,
            instance.provisional,
            after_level=None,
            skip_levels=skip_levels,
        )
        if rung is not None:
            self._insert_timer(
                conn, instance.id, instance.stage_seq, instance.state, 0, rung, generation
            )

    def _insert_timer(
        self,
        conn: Connection,
        instance_id: int,
        stage_seq: int,
        stage: str,
        task_id: int,
        rung: dict[str, Any],
        generation: int,
    ) -> None:
        """One timer row: the next rung of a stage entry (task_id 0) or of a task."""
        conn.execute(
            q.INSERT_TIMERS,
            {
                "instance_id": instance_id,
                "stage_seq": stage_seq,
                "stage": stage,
                "task_id": task_id,
                "generation": generation,
                "status": "pending",
                "locked_by": None,
                "locked_until": None,
                "attempts": 0,
                **rung,
                "dedup_key": dedup_key(instance_id, stage_seq, task_id, rung["level"], generation),
            },
        )

    # -- task timers ------------------------------------------------------------------

    def arm_task(
        self,
        conn: Connection,
        item_id: int,
        task_id: int,
        definition: Definition,
        due_on: date,
        *,
        new: bool,
    ) -> None:
        """A task's timer on its due date: the definition's default ladder, a new generation.

        `new`: the task was just added, so this is its first generation (no read needed).
        """
        cal = self.calendar(conn, definition.calendar)
        rung = self.next_rung(
            conn, definition, None, due_on, cal.provisional(due_on, due_on), after_level=None
        )
        if rung is None:
            return
        generation = 0
        if not new:
            t = q.timers  # by instance first: that column is indexed, task_id is not
            generation = conn.execute(
                select(func.coalesce(func.max(t.c.generation), 0)).where(
                    t.c.instance_id == item_id, t.c.task_id == task_id
                )
            ).scalar_one()
        self._insert_timer(conn, item_id, 0, "", task_id, rung, int(generation) + 1)

    def disarm_task(self, conn: Connection, task_id: int) -> None:
        """A task's live timers stop (done, long-term, or a new due date follows)."""
        conn.execute(q.SUPERSEDE_TASK_TIMERS, {"b_task_id": task_id})

    def next_rung(
        self,
        conn: Connection,
        definition: Definition,
        stage: str | None,
        due_on: date,
        provisional: bool,
        *,
        after_level: int | None,
        skip_levels: Iterable[int] = (),
    ) -> dict[str, Any] | None:
        """The timer fields of the stage's next rung (after `after_level`), or None.

        A stage (or task) keeps one timer: its next rung. Firing a rung moves the timer to
        the rung after it, so a ladder costs one row, and rungs missed during downtime
        still fire one by one, in ladder order. A task (`stage` None) climbs the
        definition's default ladder from its own due date.
        """
        cal = self.calendar(conn, definition.calendar)
        skip = set(skip_levels)
        ladder = definition.escalation if stage is None else definition.ladder(stage)
        for rule in ladder:
            if rule.level in skip or (after_level is not None and rule.level <= after_level):
                continue
            fire_at = rule_fires_at(due_on, rule.at, cal, self.tz)
            fire_on = fire_at.date()
            return {
                "level": rule.level,
                "title": rule.title,
                "notify": canonical_json(list(rule.notify)),
                "due_on": due_on,
                "fire_at": fire_at,
                "provisional": provisional
                or cal.provisional(min(due_on, fire_on), max(due_on, fire_on)),
            }
        return None

    # -- helpers --------------------------------------------------------------------

    def business_date(self, instant: datetime) -> date:
        """The date of `instant` in the business time zone."""
        return instant.astimezone(self.tz).date()

    def _definition(self, conn: Connection, instance: InstanceState) -> Definition:
        return self.registry.definition(conn, instance.definition_name, instance.definition_version)


def dedup_key(instance_id: int, stage_seq: int, task_id: int, level: int, generation: int) -> str:
    """The unique key of a timer: one rung of one stage entry (or task), one generation."""
    return f"{instance_id}:{stage_seq}:{task_id}:{level}:{generation}"


def _sha256(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()
