"""A round as a whole: its plan (batches and their dates) and events done once for many cases.

`plan` sets a batch's planned move-in and leave dates (creating the batch if it is new):
the stages due on a plan date (`due: plan.leave`) of the batch's cases move with them, each
move a `deadline` event in its case's history (`services/rescheduling.py`, as a calendar
load records its moves). `record` and `fire` take one milestone or trigger to every case a
filter matches, through the engine, in one transaction: either every case takes it or
nothing is written and the refusal names each case that could not, and why. Each is a row
of `round_event`, whose id every case event it wrote carries in its data (`round_event`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, select

from xunshi.definitions.durations import PLAN_DATES
from xunshi.definitions.schema import canonical_json
from xunshi.errors import BadInput, NotFound, Refused
from xunshi.keys import InstanceKey
from xunshi.services.commands import EVERY_CASE, CaseFilter
from xunshi.services.lifecycle import change
from xunshi.services.rescheduling import Rescheduled, iso, record_moves
from xunshi.services.results import Change
from xunshi.storage import queries as q
from xunshi.storage.db import Database, serialize
from xunshi.texts import check_actor, check_batch, check_text
from xunshi.timeparse import business_time
from xunshi.workflow.decide import Command
from xunshi.workflow.engine import Engine, ReadSet
from xunshi.workflow.resolve import InstanceRef, find_batch, find_group, find_round, find_unit
from xunshi.workflow.schedule import Schedule

RoundEventKind = Literal["milestone", "fire"]


@dataclass(frozen=True, slots=True)
class DateChange:
    """A planned date before and after a change (None: not planned)."""

    old: date | None
    new: date | None

    @property
    def changed(self) -> bool:
        """Whether the date moved."""
        return self.old != self.new

    def to_json(self) -> dict[str, str | None]:
        """The `--json` shape."""
        return {"old": iso(self.old), "new": iso(self.new)}


@dataclass(frozen=True, slots=True)
class PlanChanged:
    """What `round plan` did: the batch's dates before and after, every deadline moved."""

    round: str
    batch: str
    created: bool
    move_in: DateChange
    leave: DateChange
    round_event: int
    rescheduled: tuple[Rescheduled, ...]

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "round": self.round,
            "batch": self.batch,
            "created": self.created,
            "move_in_on": self.move_in.to_json(),
            "leave_on": self.leave.to_json(),
            "round_event": self.round_event,
            "rescheduled": [moved.to_json() for moved in self.rescheduled],
        }

    def changes(self) -> str:
        """`撤离日期 2025-04-18 → 2025-04-25` for each date that moved."""
        return plan_changes_text({"move_in": self.move_in, "leave": self.leave})


@dataclass(frozen=True, slots=True)
class RoundEventDone:
    """A round-wide milestone or trigger: its id and the event it appended to each case."""

    id: int
    round: str
    kind: RoundEventKind
    name: str
    filter: CaseFilter
    changes: tuple[Change, ...]

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape: the round event and each case's event."""
        return {
            "round_event": self.id,
            "round": self.round,
            "kind": self.kind,
            "name": self.name,
            "filters": self.filter.to_json(),
            "count": len(self.changes),
            "events": [{"key": str(c.key), **c.to_json(tz)} for c in self.changes],
        }


class RoundEventRefused(Refused):
    """Some matching cases cannot take a round-wide event; nothing was written.

    The message's first line says how many and what; each further line names a case and
    why it refused.
    """

    def __init__(self, verb: str, round_code: str, total: int, refusals: Sequence[str]) -> None:
        head = (
            f"{len(refusals)} of {total} cases of round {round_code} cannot {verb}; "
            "nothing was written:"
        )
        super().__init__("\n".join([head, *(f"  {line}" for line in refusals)]))
        self.refusals = tuple(refusals)


class RoundService:
    """The round plan and round-wide events."""

    def __init__(self, db: Database, engine: Engine, schedule: Schedule) -> None:
        self.db = db
        self.engine = engine
        self.schedule = schedule

    # -- the plan -------------------------------------------------------------------

    def plan(
        self,
        round_code: str,
        batch: str,
        *,
        move_in: date | None = None,
        leave: date | None = None,
        actor: str,
        at: datetime | None = None,
        reason: str | None = None,
    ) -> PlanChanged:
        """Set batch `batch`'s planned dates (planning a new batch if it has none yet);
        move every deadline due on a changed date, recorded in each case's history."""
        batch = check_batch(batch)
        actor = check_actor(actor)
        reason = _reason(reason)
        if move_in is None and leave is None:
            raise BadInput("nothing to plan: give --move-in, --leave or both")
        now = self.engine.clock.now()
        _not_ahead(at, now, self.engine.tz)

        def work(conn: Connection) -> PlanChanged:
            round_row = _round(conn, round_code)
            # Two changes of one round's plan at once would each start from the dates before
            # the other's: on PostgreSQL the second waits for the first to commit.
            serialize(conn, f"plan:{round_row.id}")
            found = find_batch(conn, round_row.id, batch)
            code = batch if found is None else str(found.code)
            before = (None, None) if found is None else (found.move_in_on, found.leave_on)
            dates = {
                "move_in": DateChange(before[0], move_in or before[0]),
                "leave": DateChange(before[1], leave or before[1]),
            }
            _check_dates(round_row, code, dates["move_in"].new, dates["leave"].new)
            if found is not None and not any(d.changed for d in dates.values()):
                raise Refused(
                    f"batch {code} of round {round_row.code} is already planned with "
                    f"{_planned_text(dates)}: nothing to change"
                )
            values = {"move_in_on": dates["move_in"].new, "leave_on": dates["leave"].new}
            if found is None:
                batch_id = insert_batch(conn, round_row.id, code, **values)
            else:
                batch_id = found.id
                conn.execute(q.batches.update().where(q.batches.c.id == batch_id), values)
            event_id = insert_round_event(
                conn,
                round_row.id,
                kind="plan",
                name=code,
                filters=CaseFilter(batch=code),
                data={
                    "created": found is None,
                    **{f"{name}_on": d.to_json() for name, d in dates.items()},
                },
                actor=actor,
                role=None,
                reason=reason,
                at=at or now,
                now=now,
            )
            cases = conn.execute(
                select(q.batch_cases.c.case_id).where(q.batch_cases.c.batch_id == batch_id)
            ).scalars()
            rescheduled = record_moves(
                conn,
                self.engine,
                self.schedule.replan(conn, cases),
                actor=actor,
                name="plan",
                cause=f"plan of round {round_row.code}, batch {code} {plan_changes_text(dates)}",
                context={"round": round_row.code, "batch": code, "round_event": event_id},
                at=at,
            )
            _set_count(conn, event_id, len(rescheduled))
            return PlanChanged(
                round=round_row.code,
                batch=code,
                created=found is None,
                move_in=dates["move_in"],
                leave=dates["leave"],
                round_event=event_id,
                rescheduled=rescheduled,
            )

        return self.db.run(work, immediate=True)

    # -- round-wide events -------------------------------------------------------------

    def record(
        self,
        round_code: str,
        milestone: str,
        *,
        cases: CaseFilter = EVERY_CASE,
        actor: str,
        role: str,
        at: datetime | None = None,
        reason: str | None = None,
    ) -> RoundEventDone:
        """Record `milestone` on every case `cases` matches, or on none of them."""
        return self._round_event(round_code, "milestone", milestone, cases, actor, role, at, reason)

    def fire(
        self,
        round_code: str,
        trigger: str,
        *,
        cases: CaseFilter = EVERY_CASE,
        actor: str,
        role: str,
        at: datetime | None = None,
        reason: str | None = None,
    ) -> RoundEventDone:
        """Fire `trigger` on every case `cases` matches, or on none of them."""
        return self._round_event(round_code, "fire", trigger, cases, actor, role, at, reason)

    def _round_event(
        self,
        round_code: str,
        kind: RoundEventKind,
        name: str,
        cases: CaseFilter,
        actor: str,
        role: str,
        at: datetime | None,
        reason: str | None,
    ) -> RoundEventDone:
        actor = check_actor(actor)
        reason = _reason(reason)
        now = self.engine.clock.now()
        # Said once here rather than once per case by each decision.
        _not_ahead(at, now, self.engine.tz)
        reads = ReadSet()

        def work(conn: Connection) -> RoundEventDone:
            round_row = _round(conn, round_code)
            refs = _matching(conn, round_row, cases)
            event_id = insert_round_event(
                conn,
                round_row.id,
                kind=kind,
                name=name,
                filters=cases,
                data={},
                actor=actor,
                role=role,
                reason=reason,
                at=at or now,
                now=now,
            )
            command = Command(
                "milestone" if kind == "milestone" else "fire",
                actor,
                role,
                name,
                reason,
                at,
                {"round_event": event_id},
            )
            done: list[Change] = []
            refusals: list[str] = []
            for ref in refs:
                try:
                    outcome = self.engine.execute(conn, ref, command, reads)
                except (Refused, BadInput) as exc:
                    # Decided before anything of this case was written: the others go on,
                    # so that the refusal names every case that cannot take it.
                    refusals.append(_naming(ref, exc.message))
                    continue
                done.append(change(ref, outcome))
            if refusals:
                verb = f"record {name}" if kind == "milestone" else name
                raise RoundEventRefused(verb, round_row.code, len(refs), refusals)
            _set_count(conn, event_id, len(done))
            return RoundEventDone(event_id, round_row.code, kind, name, cases, tuple(done))

        return self.db.run(work, immediate=True)


# -- helpers ----------------------------------------------------------------------------


def insert_batch(
    conn: Connection,
    round_id: int,
    code: str,
    move_in_on: date | None,
    leave_on: date | None,
) -> int:
    """A new batch of a round; its id."""
    return int(
        conn.execute(
            q.batches.insert().returning(q.batches.c.id),
            {"round_id": round_id, "code": code, "move_in_on": move_in_on, "leave_on": leave_on},
        ).scalar_one()
    )


def plan_changes_text(dates: dict[str, DateChange]) -> str:
    """`撤离日期 2025-04-18 → 2025-04-25` for each planned date that moved."""
    return ", ".join(
        f"{PLAN_DATES[name]} {iso(d.old) or 'none'} → {iso(d.new) or 'none'}"
        for name, d in dates.items()
        if d.changed
    )


def _planned_text(dates: dict[str, DateChange]) -> str:
    return ", ".join(f"{PLAN_DATES[name]} {iso(d.new) or 'none'}" for name, d in dates.items())


def _round(conn: Connection, code: str) -> Row[Any]:
    found = find_round(conn, code)
    if found is None:
        raise NotFound(f"round {code} does not exist")
    return found


def _check_dates(round_row: Row[Any], batch: str, move_in: date | None, leave: date | None) -> None:
    """A batch moves in no earlier than its round starts and leaves no earlier than it
    moves in."""
    if move_in is not None and leave is not None and leave < move_in:
        raise BadInput(
            f"batch {batch} would leave on {leave.isoformat()}, before it moves in "
            f"({move_in.isoformat()})"
        )
    if move_in is not None and move_in < round_row.start_on:
        raise BadInput(
            f"batch {batch} would move in on {move_in.isoformat()}, before round "
            f"{round_row.code} starts ({round_row.start_on.isoformat()})"
        )


def _not_ahead(at: datetime | None, now: datetime, tz: ZoneInfo) -> None:
    if at is not None and at > now:
        raise BadInput(
            f"time {business_time(at, tz)} is later than now ({business_time(now, tz)}); "
            "events cannot be recorded ahead of time"
        )


def _reason(reason: str | None) -> str | None:
    return None if reason is None else check_text("reason", reason, required=False) or None


def _matching(conn: Connection, round_row: Row[Any], cases: CaseFilter) -> list[InstanceRef]:
    """The cases of the round `cases` matches, by unit code, each with its instance row."""
    c, i, r, u, bc = q.cases, q.instances, q.rounds, q.units, q.batch_cases
    query = (
        select(i, r.c.code.label("round_code"), u.c.code.label("unit_code"))
        .select_from(c)
        .join(i, i.c.id == c.c.id)
        .join(r, r.c.id == c.c.round_id)
        .join(u, u.c.id == c.c.unit_id)
        .where(c.c.round_id == round_row.id)
        .order_by(u.c.code)
    )
    if cases.batch is not None:
        batch = find_batch(conn, round_row.id, cases.batch)
        if batch is None:
            raise NotFound(f"batch {cases.batch} does not exist in round {round_row.code}")
        query = query.join(bc, bc.c.case_id == c.c.id).where(bc.c.batch_id == batch.id)
    if cases.group is not None:
        group = find_group(conn, round_row.id, cases.group)
        if group is None:
            raise NotFound(f"group {cases.group} does not exist in round {round_row.code}")
        query = query.where(c.c.group_id == group.id)
    if cases.units:
        unit_ids = [_unit_in_round(conn, round_row, code) for code in cases.units]
        query = query.where(c.c.unit_id.in_(unit_ids))
    rows = conn.execute(query).mappings().all()
    if not rows:
        if cases == EVERY_CASE:
            raise NotFound(f"round {round_row.code} has no cases")
        raise NotFound(f"no case of round {round_row.code} matches {cases.describe()}")
    return [
        InstanceRef(row["id"], InstanceKey(row["round_code"], row["unit_code"]), row)
        for row in rows
    ]


def _unit_in_round(conn: Connection, round_row: Row[Any], code: str) -> int:
    unit = find_unit(conn, code)
    found = None
    if unit is not None:
        c = q.cases
        found = conn.execute(
            select(c.c.id).where(c.c.round_id == round_row.id, c.c.unit_id == unit.id)
        ).first()
    if unit is None or found is None:
        raise NotFound(f"unit {code} has no case in round {round_row.code}")
    return int(unit.id)


def _naming(ref: InstanceRef, message: str) -> str:
    """A case's refusal as one line of the round's: it names the case."""
    return message if message.startswith(ref.label) else f"{ref.label}: {message}"


def insert_round_event(
    conn: Connection,
    round_id: int,
    *,
    kind: str,
    name: str,
    filters: CaseFilter,
    data: dict[str, Any],
    actor: str,
    role: str | None,
    reason: str | None,
    at: datetime,
    now: datetime,
) -> int:
    """The `round_event` row (its count set once its case events are written); its id."""
    return int(
        conn.execute(
            q.round_events.insert().returning(q.round_events.c.id),
            {
                "round_id": round_id,
                "kind": kind,
                "name": name,
                "filters": canonical_json(filters.to_json()),
                "data": canonical_json(data),
                "actor": actor,
                "role": role,
                "reason": reason,
                "occurred_at": at,
                "recorded_at": now,
                "count": 0,
            },
        ).scalar_one()
    )


def _set_count(conn: Connection, event_id: int, count: int) -> None:
    conn.execute(q.round_events.update().where(q.round_events.c.id == event_id), {"count": count})
