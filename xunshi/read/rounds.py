"""A round as a whole: its plan (batches, their dates, groups and units) and its round events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from xunshi.read.catalog import RoundInfo, round_info
from xunshi.read.context import ReadContext
from xunshi.storage import queries as q


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """A batch of the plan (or, `code` None, the cases in no batch): dates, groups, units."""

    code: str | None
    move_in_on: date | None
    leave_on: date | None
    groups: tuple[str, ...]
    units: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "batch": self.code,
            "move_in_on": None if self.move_in_on is None else self.move_in_on.isoformat(),
            "leave_on": None if self.leave_on is None else self.leave_on.isoformat(),
            "groups": list(self.groups),
            "units": list(self.units),
        }


@dataclass(frozen=True, slots=True)
class RoundPlan:
    """`round show`: the round and its batches in the order they move in; then the cases in
    no batch, if any."""

    round: RoundInfo
    batches: tuple[BatchPlan, ...]
    unbatched: BatchPlan | None

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            **self.round.to_json(),
            "batches": [b.to_json() for b in self.batches],
            "unbatched": None if self.unbatched is None else self.unbatched.to_json(),
        }


@dataclass(frozen=True, slots=True)
class RoundEventView:
    """One round event: a round-wide milestone or trigger, or a change of the plan."""

    id: int
    kind: str  # milestone | fire | plan | theme
    name: str  # the milestone, the trigger, the batch planned, or the theme
    filters: dict[str, Any]
    data: dict[str, Any]
    actor: str
    role: str | None
    reason: str | None
    occurred_at: datetime
    recorded_at: datetime
    count: int  # the case events it wrote

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape; times in the business time zone with their offset."""
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "filters": self.filters,
            "data": self.data,
            "actor": self.actor,
            "role": self.role,
            "reason": self.reason,
            "occurred_at": self.occurred_at.astimezone(tz).isoformat(),
            "recorded_at": self.recorded_at.astimezone(tz).isoformat(),
            "count": self.count,
        }


class RoundQueries:
    """The plan of a round and its round events."""

    def __init__(self, ctx: ReadContext) -> None:
        self.ctx = ctx

    def plan(self, round_code: str) -> RoundPlan:
        """The round's batches with their dates, groups and units."""
        b, bc, c, g, u = q.batches, q.batch_cases, q.cases, q.groups, q.units
        with self.ctx.reading() as conn:
            info = round_info(conn, round_code)
            batches = conn.execute(
                select(b.c.id, b.c.code, b.c.move_in_on, b.c.leave_on).where(
                    b.c.round_id == info.id
                )
            ).all()
            cases = conn.execute(
                select(bc.c.batch_id, g.c.code.label("group_code"), u.c.code.label("unit_code"))
                .select_from(c)
                .join(g, g.c.id == c.c.group_id)
                .join(u, u.c.id == c.c.unit_id)
                .outerjoin(bc, bc.c.case_id == c.c.id)
                .where(c.c.round_id == info.id)
            ).all()
        members: dict[int | None, list[tuple[str, str]]] = {}
        for row in cases:
            members.setdefault(row.batch_id, []).append((row.group_code, row.unit_code))
        ordered = sorted(batches, key=lambda row: (row.move_in_on or date.max, row.id))
        plans = tuple(
            _batch(row.code, row.move_in_on, row.leave_on, members.get(row.id, []))
            for row in ordered
        )
        rest = members.get(None)
        return RoundPlan(info, plans, None if rest is None else _batch(None, None, None, rest))

    def events(self, round_code: str) -> tuple[RoundEventView, ...]:
        """The round's events, oldest first."""
        e = q.round_events
        with self.ctx.reading() as conn:
            info = round_info(conn, round_code)
            query = select(e).where(e.c.round_id == info.id).order_by(e.c.id)
            rows = conn.execute(query).mappings().all()
        return tuple(
            RoundEventView(
                id=row["id"],
                kind=row["kind"],
                name=row["name"],
                filters=json.loads(row["filters"]),
                data=json.loads(row["data"]),
                actor=row["actor"],
                role=row["role"],
                reason=row["reason"],
                occurred_at=row["occurred_at"],
                recorded_at=row["recorded_at"],
                count=row["count"],
            )
            for row in rows
        )


def _batch(
    code: str | None,
    move_in_on: date | None,
    leave_on: date | None,
    members: list[tuple[str, str]],
) -> BatchPlan:
    groups = tuple(sorted({group for group, _ in members}))
    units = tuple(sorted(unit for _, unit in members))
    return BatchPlan(code, move_in_on, leave_on, groups, units)
