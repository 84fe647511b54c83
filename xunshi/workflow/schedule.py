"""Deadlines and timers: due dates on the working-day calendar or the round plan, and the
ladder's timers.

When an instance enters a stage with a `due`, its due date is computed (DESIGN §5) and one
timer per ladder rung is stored in the same transaction. Leaving the stage supersedes them
and resolves the stage's open escalations; a suspension supersedes them; a resume moves the
due date by the working days suspended and schedules the rungs not yet raised again, in a
new generation. Voiding an instance supersedes every timer it has, its tasks' too, for good:
a calendar load never recomputes a void instance's deadlines.

Calendar loads are stored here too (kept, never edited): storing one recomputes every due
date and rung its year touches and returns what moved, for the caller to record in the
histories. A change of a batch's planned dates recomputes the same way (`replan`) the
stages due on a plan date.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, func, literal_column, select

from xunshi.definitions.durations import PlanDue
from xunshi.definitions.schema import Definition, canonical_json
from xunshi.storage import queries as q
from xunshi.storage.db import serialize
from xunshi.storage.prepared import Prepared
from xunshi.workflow.calendar import (
    Calendar,
    CalendarFile,
    LoadMode,
    YearData,
    YearLoad,
    calendar_for,
    covered,
    year_data,
    year_days,
)
from xunshi.workflow.deadlines import rule_fires_at
from xunshi.workflow.decide import Deadline, InstanceState, deadline, replayed_deadline
from xunshi.workflow.plan import due_dates
from xunshi.workflow.registry import Registry

# How long a process trusts its cached calendar before checking for newly loaded years.
CALENDAR_RECHECK_SECONDS = 10.0
_LIVE = ("pending", "claimed")
# Every stage change runs these two: straight on the driver (see storage/prepared.py).
_SUPERSEDE = Prepared(q.SUPERSEDE_TIMERS)
_INSERT_TIMER = Prepared(q.INSERT_TIMER)
_SUPERSEDE_TASK = Prepared(q.SUPERSEDE_TASK_TIMERS)
# PostgreSQL, at a stage change: the superseding update as a data-modifying CTE of the insert.
_SUPERSEDE_THEN_INSERT = Prepared(
    q.INSERT_TIMER.add_cte(
        q.timers.update()
        .where(
            q.timers.c.instance_id == bindparam("b_instance_id"),
            q.LIVE_TIMER,
            q.timers.c.task_id == literal_column("0"),
        )
        .values(status=literal_column("'superseded'"))
        .cte("superseded")
    )
)
_MODES: dict[str, LoadMode] = {"merge": "merge", "replace": "replace", "reset": "reset"}


class Rung(NamedTuple):
    """The rung a stage's (or task's) live timer waits on: its level and instant."""

    level: int
    fire_at: datetime
    provisional: bool


@dataclass(frozen=True, slots=True)
class MovedDeadline:
    """A deadline a calendar change moved: a stage's due date and next rung, or a task's rung.

    A task's due date is a date the office set and never moves (`old_due_on == new_due_on`);
    only its rungs, computed on the calendar, may. `*_provisional` is the stage's flag, or
    for a task its rung's.
    """

    instance_id: int
    stage: str  # the stage whose deadline moved; "" for a task
    task_id: int  # 0: the stage itself
    task_number: int | None
    old_due_on: date | None
    new_due_on: date | None
    old_provisional: bool
    new_provisional: bool
    old_rung: Rung | None
    new_rung: Rung | None


@dataclass(frozen=True, slots=True)
class YearChange:
    """A stored load (or reset) of a calendar year, the year as it now is, what it moved."""

    load: YearLoad
    data: YearData | None  # None: the year has no data (weekends only)
    moved: tuple[MovedDeadline, ...]


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
        calendar = calendar_for(name, self.loads(conn, name))
        self._calendars[name] = (revision, calendar)
        return calendar

    def forget_calendar(self, name: str) -> None:
        """Drop the cached calendar `name` (a load was rolled back after it was read)."""
        self._calendars.pop(name, None)

    def _revision(self, conn: Connection, name: str) -> int:
        c = q.calendar_years
        found = conn.execute(select(func.max(c.c.id)).where(c.c.calendar == name)).scalar()
        return int(found or 0)

    def loads(self, conn: Connection, name: str, year: int | None = None) -> list[YearLoad]:
        """The stored loads of calendar `name` (of one year if given), oldest first."""
        c = q.calendar_years
        query = (
            select(
                c.c.id,
                c.c.year,
                c.c.mode,
                c.c.holidays,
                c.c.workdays,
                c.c.ordinary,
                c.c.titles,
                c.c.source_name,
                c.c.loaded_by,
                c.c.loaded_at,
            )
            .where(c.c.calendar == name)
            .order_by(c.c.id)
        )
        if year is not None:
            query = query.where(c.c.year == year)
        return [_load_from_row(row) for row in conn.execute(query)]

    def load_year(
        self,
        conn: Connection,
        file: CalendarFile,
        *,
        mode: LoadMode,
        calendar: str,
        source: str,
        source_name: str,
        actor: str,
        now: datetime,
    ) -> YearChange:
        """Store a calendar file's year (merged or replacing), then move what it moves.

        For a year the built-in data does not cover, the file is the year's data whatever
        the mode asked: it is stored as a replace.
        """
        if mode == "reset":
            raise ValueError("a reset loads no file: use reset_year")
        stored = mode if covered(file.year) else "replace"
        return self._store(conn, calendar, stored, file, source, source_name, actor, now)

    def reset_year(
        self, conn: Connection, year: int, *, calendar: str, actor: str, now: datetime
    ) -> YearChange:
        """Return a year to the built-in data (a load of its own), then move what it moves."""
        empty = CalendarFile(year, frozenset(), frozenset())
        return self._store(conn, calendar, "reset", empty, "", "", actor, now)

    def _store(
        self,
        conn: Connection,
        calendar: str,
        mode: LoadMode,
        file: CalendarFile,
        source: str,
        source_name: str,
        actor: str,
        now: datetime,
    ) -> YearChange:
        year = file.year
        # Two loads of one calendar at once would each build on the loads before them and
        # miss the other's: on PostgreSQL the second waits for the first to commit.
        serialize(conn, f"calendar:{calendar}")
        earlier = self.loads(conn, calendar, year)
        listed = {
            "holidays": _iso_list(file.holidays),
            "workdays": _iso_list(file.workdays),
            "ordinary": _iso_list(file.ordinary),
        }
        titles = {day.isoformat(): title for day, title in sorted(file.titles.items())}
        body = canonical_json({"year": year, "mode": mode, **listed, "titles": titles})
        # The year as this load leaves it (the days' kinds do not depend on the load's id,
        # which the insert gives).
        days = year_days(year, [*earlier, YearLoad(-1, mode, file)])
        data = None if days is None else year_data(year, days)
        load_id = conn.execute(
            q.calendar_years.insert().returning(q.calendar_years.c.id),
            {
                "calendar": calendar,
                "year": year,
                "mode": mode,
                **{name: json.dumps(value) for name, value in listed.items()},
                "titles": canonical_json(titles),
                "year_holidays": None if data is None else json.dumps(_iso_list(data.holidays)),
                "year_workdays": None if data is None else json.dumps(_iso_list(data.workdays)),
                "digest": _sha256(body),
                "source": source,
                "source_name": source_name,
                "loaded_by": actor,
                "loaded_at": now,
            },
        ).scalar_one()
        self._calendars.pop(calendar, None)
        moved = self._recompute_year(conn, year)
        stored = YearLoad(load_id, mode, file, source_name, actor, now)
        return YearChange(stored, data, tuple(moved))

    def _recompute_year(self, conn: Connection, year: int) -> list[MovedDeadline]:
        """Recompute the deadlines that `year` touches; return those that moved."""
        return [*self._recompute_stages(conn, year), *self._recompute_tasks(conn, year)]

    def _recompute_stages(self, conn: Connection, year: int) -> list[MovedDeadline]:
        """Recompute due dates and next rungs of stages whose span touches `year`.

        A stage is touched when it was entered by the end of `year` and is due in or after
        it, or when its next rung fires then (a rung `+10wd` after a December due date
        fires in January).
        """
        i, t = q.instances, q.timers
        rung_from_year = (
            select(t.c.instance_id)
            .where(t.c.status.in_(_LIVE), t.c.task_id == 0, t.c.fire_at >= self._starts(year))
            .scalar_subquery()
        )
        rows = conn.execute(
            select(i)
            .where(
                i.c.due_on.is_not(None),
                i.c.voided.is_(False),
                i.c.entered_at < self._starts(year + 1),
                (i.c.due_on >= date(year, 1, 1)) | i.c.id.in_(rung_from_year),
            )
            .order_by(i.c.id)
        ).mappings()
        instances = [InstanceState.from_row(row) for row in rows]
        moved = (self._recompute_stage(conn, instance) for instance in instances)
        return [m for m in moved if m is not None]

    def replan(self, conn: Connection, case_ids: Iterable[int]) -> list[MovedDeadline]:
        """Recompute the deadlines of those cases whose stage is due on a plan date.

        Called after their batch's planned dates changed; returns what moved (the stage's
        due date and its next rung), for the caller to record in each case's history.
        """
        i = q.instances
        ids = sorted(set(case_ids))
        if not ids:
            return []
        # Locked first (PostgreSQL): a trigger fired meanwhile either waits for this change
        # or has moved its case on before the case is read here.
        query = select(i).where(i.c.id.in_(ids)).order_by(i.c.id).with_for_update()
        rows = conn.execute(query).mappings()
        moved = []
        for instance in [InstanceState.from_row(row) for row in rows]:
            defn = self._definition(conn, instance)
            if not isinstance(defn.state(instance.state).due, PlanDue):
                continue
            found = self._recompute_stage(conn, instance)
            if found is not None:
                moved.append(found)
        return moved

    def _recompute_stage(self, conn: Connection, instance: InstanceState) -> MovedDeadline | None:
        """The stage's due date and next rung from scratch; rewritten (and returned) if moved."""
        i = q.instances
        defn = self._definition(conn, instance)
        deadline = self._deadline_with_pauses(conn, instance, defn)
        after = instance._replace(due_on=deadline.due_on, provisional=deadline.provisional)
        old_rung = self._live_rung(conn, instance.id, 0)
        fields = None if after.suspended else self._open_rung(conn, after, defn)
        new_rung = _rung(fields)
        if deadline == (instance.due_on, instance.provisional) and new_rung == old_rung:
            return None
        # The instance's row first: every writer locks an instance before its timers.
        conn.execute(
            i.update().where(i.c.id == instance.id),
            {"due_on": deadline.due_on, "provisional": deadline.provisional},
        )
        self._supersede(conn, instance.id)
        if fields is not None:
            generation = self._next_generation(conn, instance.id, instance.stage_seq, 0)
            self._insert_timer(
                conn, instance.id, instance.stage_seq, instance.state, 0, fields, generation
            )
        return MovedDeadline(
            instance_id=instance.id,
            stage=instance.state,
            task_id=0,
            task_number=None,
            old_due_on=instance.due_on,
            new_due_on=deadline.due_on,
            old_provisional=instance.provisional,
            new_provisional=deadline.provisional,
            old_rung=old_rung,
            new_rung=new_rung,
        )

    def _recompute_tasks(self, conn: Connection, year: int) -> list[MovedDeadline]:
        """Recompute the next rung of every open task whose rung span touches `year`.

        A task's rung is computed on the calendar from its due date (`-3wd`, `+5wd`), so
        it depends on `year` when its due date or the rung's instant falls in or around it.
        """
        t, k, i, x = q.timers, q.tasks, q.instances, q.escalations
        first, following = date(year, 1, 1), date(year + 1, 1, 1)
        rows = conn.execute(
            select(
                t.c.instance_id,
                t.c.task_id,
                t.c.level,
                t.c.fire_at,
                t.c.provisional,
                t.c.due_on,
                k.c.number,
                i.c.definition_name,
                i.c.definition_version,
            )
            .join(k, k.c.id == t.c.task_id)
            .join(i, i.c.id == t.c.instance_id)
            .where(
                t.c.status.in_(_LIVE),
                t.c.task_id != 0,
                (t.c.fire_at >= self._starts(year)) | (t.c.due_on >= first),
                (t.c.fire_at < self._starts(year + 1)) | (t.c.due_on < following),
            )
            .order_by(t.c.instance_id, k.c.number)
        ).all()
        moved = []
        for row in rows:
            defn = self.registry.definition(conn, row.definition_name, row.definition_version)
            cal = self.calendar(conn, defn.calendar)
            raised = conn.execute(
                select(x.c.level).where(
                    x.c.instance_id == row.instance_id, x.c.task_id == row.task_id
                )
            ).scalars()
            due_on: date = row.due_on
            fields = self.next_rung(
                conn,
                defn,
                None,
                due_on,
                cal.provisional(due_on, due_on),
                after_level=None,
                skip_levels=frozenset(raised),
            )
            old_rung = Rung(row.level, row.fire_at, bool(row.provisional))
            new_rung = _rung(fields)
            if new_rung == old_rung:
                continue
            # The item's row first: every writer locks an instance before its timers.
            conn.execute(select(i.c.id).where(i.c.id == row.instance_id).with_for_update())
            self.disarm_task(conn, row.instance_id, row.task_id)
            if fields is not None:
                generation = self._next_generation(conn, row.instance_id, 0, row.task_id)
                self._insert_timer(conn, row.instance_id, 0, "", row.task_id, fields, generation)
            moved.append(
                MovedDeadline(
                    instance_id=row.instance_id,
                    stage="",
                    task_id=row.task_id,
                    task_number=row.number,
                    old_due_on=due_on,
                    new_due_on=due_on,
                    old_provisional=old_rung.provisional,
                    new_provisional=bool(new_rung and new_rung.provisional),
                    old_rung=old_rung,
                    new_rung=new_rung,
                )
            )
        return moved

    def _live_rung(self, conn: Connection, instance_id: int, task_id: int) -> Rung | None:
        """The rung the live timer of a stage (task_id 0) or a task waits on."""
        t = q.timers
        found = conn.execute(
            select(t.c.level, t.c.fire_at, t.c.provisional)
            .where(t.c.instance_id == instance_id, t.c.task_id == task_id, t.c.status.in_(_LIVE))
            .order_by(t.c.id.desc())
            .limit(1)
        ).first()
        return None if found is None else Rung(found.level, found.fire_at, bool(found.provisional))

    def _starts(self, year: int) -> datetime:
        """The first instant of `year` in the business time zone."""
        return datetime.combine(date(year, 1, 1), datetime.min.time(), tzinfo=self.tz)

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
        plan = due_dates(
            conn, instance.id, definition, self.tz, instance.stage_seq, stage=instance.state
        )
        return replayed_deadline(
            definition, instance.state, instance.entered_at, pauses, cal, self.tz, plan
        )

    # -- timers (StageHooks) --------------------------------------------------------

    def stage_entered(
        self, conn: Connection, instance: InstanceState, definition: Definition, now: datetime
    ) -> None:
        """Retire the previous stage's timer; arm the new stage's first rung.

        The previous stage's escalations need no write: they are open only while their
        stage entry is the current one.
        """
        rung = self._first_rung(conn, instance, definition, frozenset())
        superseding = instance.stage_seq > 1
        if superseding and rung is not None and conn.dialect.name == "postgresql":
            # One statement, one round trip: the old stage's timers go, then the new one comes
            # (its row is not among those the update sees).
            row = _timer_row(instance.id, instance.stage_seq, instance.state, 0, rung, 1)
            _SUPERSEDE_THEN_INSERT.rowcount(conn, {"b_instance_id": instance.id, **row})
            return
        if superseding:
            self._supersede(conn, instance.id)
        if rung is not None:
            self._insert_timer(conn, instance.id, instance.stage_seq, instance.state, 0, rung, 1)

    def paused(self, conn: Connection, instance: InstanceState) -> None:
        """A suspended stage's clock stops: its pending timers are superseded."""
        self._supersede(conn, instance.id)

    def voided(self, conn: Connection, instance: InstanceState) -> None:
        """A void instance escalates nothing: its stage's and its tasks' timers stop."""
        conn.execute(q.SUPERSEDE_ALL_TIMERS, {"b_instance_id": instance.id})

    def rescheduled(
        self, conn: Connection, instance: InstanceState, definition: Definition
    ) -> None:
        """A timer for the first rung not yet raised in this stage entry, in a new generation."""
        rung = self._open_rung(conn, instance, definition)
        if rung is not None:
            generation = self._next_generation(conn, instance.id, instance.stage_seq, 0)
            self._insert_timer(
                conn, instance.id, instance.stage_seq, instance.state, 0, rung, generation
            )

    def _open_rung(
        self, conn: Connection, instance: InstanceState, definition: Definition
    ) -> dict[str, Any] | None:
        """The timer fields of the stage entry's first rung not yet raised, or None."""
        if instance.due_on is None:
            return None
        x = q.escalations
        raised = conn.execute(
            select(x.c.level).where(
                x.c.instance_id == instance.id,
                x.c.stage_seq == instance.stage_seq,
                x.c.task_id == 0,
            )
        ).scalars()
        return self.next_rung(
            conn,
            definition,
            instance.state,
            instance.due_on,
            instance.provisional,
            after_level=None,
            skip_levels=frozenset(raised),
        )

    def _next_generation(
        self, conn: Connection, instance_id: int, stage_seq: int, task_id: int
    ) -> int:
        """One more than the newest timer generation of a stage entry (or of a task)."""
        t = q.timers
        newest = conn.execute(
            select(func.coalesce(func.max(t.c.generation), 0)).where(
                t.c.instance_id == instance_id,
                t.c.stage_seq == stage_seq,
                t.c.task_id == task_id,
            )
        ).scalar_one()
        return int(newest) + 1

    def _supersede(self, conn: Connection, instance_id: int) -> None:
        _SUPERSEDE.rowcount(conn, {"b_instance_id": instance_id})

    def _insert_timers(
        self,
        conn: Connection,
        instance: InstanceState,
        definition: Definition,
        *,
        generation: int,
        skip_levels: frozenset[int],
    ) -> None:
        rung = self._first_rung(conn, instance, definition, skip_levels)
        if rung is not None:
            self._insert_timer(
                conn, instance.id, instance.stage_seq, instance.state, 0, rung, generation
            )

    def _first_rung(
        self,
        conn: Connection,
        instance: InstanceState,
        definition: Definition,
        skip_levels: frozenset[int],
    ) -> dict[str, Any] | None:
        """The timer fields of the stage entry's first rung (not in `skip_levels`), or None."""
        if instance.due_on is None:
            return None
        return self.next_rung(
            conn,
            definition,
            instance.state,
            instance.due_on,
            instance.provisional,
            after_level=None,
            skip_levels=skip_levels,
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
        _INSERT_TIMER.rowcount(
            conn, _timer_row(instance_id, stage_seq, stage, task_id, rung, generation)
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

    def disarm_task(self, conn: Connection, item_id: int, task_id: int) -> None:
        """A task's live timers stop (done, long-term, or a new due date follows)."""
        _SUPERSEDE_TASK.rowcount(conn, {"b_item_id": item_id, "b_task_id": task_id})

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


def _timer_row(
    instance_id: int,
    stage_seq: int,
    stage: str,
    task_id: int,
    rung: dict[str, Any],
    generation: int,
) -> dict[str, Any]:
    """A new timer's row, pending."""
    return {
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
    }


def dedup_key(instance_id: int, stage_seq: int, task_id: int, level: int, generation: int) -> str:
    """The unique key of a timer: one rung of one stage entry (or task), one generation."""
    return f"{instance_id}:{stage_seq}:{task_id}:{level}:{generation}"


def _sha256(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def _iso_list(days: Iterable[date]) -> list[str]:
    return sorted(day.isoformat() for day in days)


def _dates(stored: str) -> frozenset[date]:
    return frozenset(date.fromisoformat(day) for day in json.loads(stored))


def _rung(fields: dict[str, Any] | None) -> Rung | None:
    """The rung of a timer's fields (as `next_rung` gives them)."""
    if fields is None:
        return None
    return Rung(fields["level"], fields["fire_at"], bool(fields["provisional"]))


def _load_from_row(row: Any) -> YearLoad:
    mode = _MODES.get(row.mode)
    if mode is None:
        raise ValueError(f"calendar load {row.id} has an unknown mode {row.mode!r}")
    titles = {date.fromisoformat(day): str(title) for day, title in json.loads(row.titles).items()}
    file = CalendarFile(
        row.year, _dates(row.holidays), _dates(row.workdays), _dates(row.ordinary), titles
    )
    return YearLoad(row.id, mode, file, row.source_name, row.loaded_by, row.loaded_at)
