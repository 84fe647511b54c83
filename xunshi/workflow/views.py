"""Read models of cases: what `case show` and `case list` print."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, and_, select

from xunshi.definitions.schema import Definition
from xunshi.errors import BadInput
from xunshi.storage import queries as q
from xunshi.workflow.audit import event_from_row, replay
from xunshi.workflow.engine import Engine, InstanceRef
from xunshi.workflow.schedule import Schedule


@dataclass(frozen=True, slots=True)
class MilestoneView:
    """One milestone of the current stage and whether it is recorded."""

    name: str
    title: str
    required: bool
    recorded_at: datetime | None


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case as people and scripts see it."""

    id: int
    key: str
    definition: str
    definition_title: str
    definition_version: int
    state: str
    state_title: str
    final: bool
    entered_at: datetime
    due_on: date | None
    provisional: bool
    overdue: bool
    days_left: int | None
    suspended: bool
    milestones: tuple[MilestoneView, ...]
    version: int
    round: str
    unit: str
    unit_name: str
    group: str
    group_leader: str
    triggers: tuple[str, ...]

    def to_json(self, tz: Any) -> dict[str, Any]:
        """The `--json` shape (DESIGN §7)."""
        return {
            "id": self.id,
            "key": self.key,
            "definition": self.definition,
            "definition_version": self.definition_version,
            "state": self.state,
            "state_title": self.state_title,
            "entered_at": self.entered_at.astimezone(tz).isoformat(),
            "due_on": None if self.due_on is None else self.due_on.isoformat(),
            "provisional": self.provisional,
            "overdue": self.overdue,
            "suspended": self.suspended,
            "milestones": {
                m.name: None if m.recorded_at is None else m.recorded_at.astimezone(tz).isoformat()
                for m in self.milestones
            },
            "version": self.version,
            "round": self.round,
            "unit": self.unit,
            "group": self.group,
        }


def _case_select() -> Select[Any]:
    i, c, r, u, g = q.instances, q.cases, q.rounds, q.units, q.groups
    return (
        select(
            i,
            r.c.code.label("round_code"),
            u.c.code.label("unit_code"),
            u.c.name.label("unit_name"),
            g.c.code.label("group_code"),
            g.c.leader.label("group_leader"),
        )
        .select_from(c)
        .join(i, i.c.id == c.c.id)
        .join(r, r.c.id == c.c.round_id)
        .join(u, u.c.id == c.c.unit_id)
        .join(g, g.c.id == c.c.group_id)
    )


class CaseViews:
    """Builds CaseView objects from the projection (or, `as_of`, from the history)."""

    def __init__(self, engine: Engine, schedule: Schedule) -> None:
        self.engine = engine
        self.schedule = schedule

    def today(self) -> date:
        """Today in the business time zone."""
        return self.engine.clock.now().astimezone(self.engine.tz).date()

    def one(self, conn: Connection, ref: InstanceRef) -> CaseView:
        """The current view of one case."""
        row = conn.execute(_case_select().where(q.cases.c.id == ref.id)).mappings().one()
        return self._view(conn, row, self.today())

    def many(
        self,
        conn: Connection,
        *,
        round_code: str | None = None,
        state: str | None = None,
        overdue: bool = False,
    ) -> list[CaseView]:
        """Cases of a round / in a state / overdue, by key."""
        i, r, u = q.instances, q.rounds, q.units
        if state is not None:
            self.engine.registry.check_state(conn, "case", state)
        stmt = _case_select().order_by(r.c.code, u.c.code)
        if round_code is not None:
            stmt = stmt.where(r.c.code == round_code)
        if state is not None:
            stmt = stmt.where(i.c.state == state)
        today = self.today()
        if overdue:
            stmt = stmt.where(and_(i.c.due_on < today, i.c.suspended.is_(False)))
        return [self._view(conn, row, today) for row in conn.execute(stmt).mappings()]

    def as_of(self, conn: Connection, ref: InstanceRef, instant: datetime) -> CaseView:
        """The case as its history says it was at `instant` (business time)."""
        row = conn.execute(_case_select().where(q.cases.c.id == ref.id)).mappings().one()
        history = [
            event_from_row(e) for e in conn.execute(q.HISTORY, {"instance_id": ref.id}).mappings()
        ]
        if not history:
            raise BadInput(f"{ref.label} has no history")
        events = [e for e in history if e.occurred_at <= instant]
        if not events:
            started = self.engine.business_time(history[0].occurred_at)
            raise BadInput(
                f"{ref.label} did not exist at {self.engine.business_time(instant)} "
                f"(its history starts {started})"
            )
        projection = replay(events)
        defn = self.engine.registry.definition(
            conn, projection.definition_name, projection.definition_version
        )
        assert projection.entered_at is not None
        deadline = self.schedule.deadline(conn, defn, projection.state, projection.entered_at)
        past = dict(row)
        past.update(
            state=projection.state,
            entered_at=projection.entered_at,
            version=projection.version,
            milestones=json.dumps(projection.milestones),
            suspended=projection.suspended,
            due_on=deadline.due_on,
            provisional=deadline.provisional,
            definition_version=projection.definition_version,
        )
        return self._view(conn, past, instant.astimezone(self.engine.tz).date())

    def _view(self, conn: Connection, row: Mapping[Any, Any], today: date) -> CaseView:
        defn = self.engine.registry.definition(
            conn, row["definition_name"], row["definition_version"]
        )
        state = defn.state(row["state"])
        due_on: date | None = row["due_on"]
        suspended = bool(row["suspended"])
        overdue = due_on is not None and not suspended and today > due_on
        return CaseView(
            id=row["id"],
            key=f"{row['round_code']}/{row['unit_code']}",
            definition=defn.name,
            definition_title=defn.title,
            definition_version=row["definition_version"],
            state=state.name,
            state_title=state.title,
            final=state.final,
            entered_at=row["entered_at"],
            due_on=due_on,
            provisional=bool(row["provisional"]),
            overdue=overdue,
            days_left=None if due_on is None else (due_on - today) // timedelta(days=1),
            suspended=suspended,
            milestones=_milestones(defn, state.name, json.loads(row["milestones"])),
            version=row["version"],
            round=row["round_code"],
            unit=row["unit_code"],
            unit_name=row["unit_name"],
            group=row["group_code"],
            group_leader=row["group_leader"],
            triggers=tuple(t.trigger for t in defn.transitions_from(state.name)),
        )


def _milestones(
    defn: Definition, state: str, recorded: Mapping[str, str]
) -> tuple[MilestoneView, ...]:
    declared = defn.state(state)
    return tuple(
        MilestoneView(
            name=m.name,
            title=m.title,
            required=m.name in declared.requires,
            recorded_at=datetime.fromisoformat(recorded[m.name]) if m.name in recorded else None,
        )
        for m in declared.milestones
    )
