"""Rounds, groups, units and the cases that run through a round.

Each public method is one command and one transaction; it resolves names, checks
everything it can before writing, then writes. Fire, milestones, suspension and void come
from `Lifecycle`, shared with items.

A case's history records the name of its unit and the leader of its group when it starts;
renaming a unit or changing a group's leader is an event in the history of every case
that shows it (closed and void ones too), so `audit verify` names a row edited outside.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, select

from xunshi.errors import AlreadyExists, BadInput, NotFound, Refused
from xunshi.keys import InstanceKey, Reference, reference
from xunshi.read.catalog import GroupInfo, RoundInfo, UnitInfo
from xunshi.services.evaluation import Evaluated, evaluate
from xunshi.services.lifecycle import Lifecycle
from xunshi.services.plan import read_plan
from xunshi.services.results import Corrected, PlanImported, Started
from xunshi.services.rounds import insert_batch
from xunshi.storage import queries as q
from xunshi.storage.db import Database
from xunshi.texts import check_actor, check_code, check_name, check_text
from xunshi.timeparse import business_time
from xunshi.workflow.deadlines import NO_PLAN, PlanDates
from xunshi.workflow.decide import Command
from xunshi.workflow.engine import Engine
from xunshi.workflow.resolve import (
    InstanceRef,
    find_batch,
    find_group,
    find_round,
    find_unit,
    resolve_case,
    resolve_round,
)

# The years a round may start in: a typo like 1800 or 2925 is refused, not scheduled.
ROUND_YEARS = (2000, 2100)


class CaseService(Lifecycle):
    """Rounds, groups, units and cases."""

    def __init__(self, db: Database, engine: Engine) -> None:
        super().__init__(db, engine, "case")

    def evaluate(
        self,
        case: str | Reference,
        *,
        score: int,
        grade: str,
        dimensions: dict[str, int],
        actor: str,
        role: str,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> Evaluated:
        """整改评估: record the evaluation of a case's rectification (services/evaluation.py)."""
        return evaluate(
            self.db,
            self.engine,
            case,
            score=score,
            grade=grade,
            dimensions=dimensions,
            actor=actor,
            role=role,
            reason=reason,
            at=at,
        )

    # -- rounds, groups, units ------------------------------------------------------

    def create_round(self, code: str, title: str, start_on: date) -> RoundInfo:
        """Create a round (轮次)."""
        code = check_code("round", code)
        title = check_name("round title", title)
        if not ROUND_YEARS[0] <= start_on.year <= ROUND_YEARS[1]:
            raise BadInput(
                f"round start {start_on.isoformat()} is not a plausible date: a round starts "
                f"between {ROUND_YEARS[0]} and {ROUND_YEARS[1]}"
            )

        def work(conn: Connection) -> RoundInfo:
            found = find_round(conn, code)
            if found is not None:
                raise AlreadyExists(f"round {code} already exists{_as(found.code, code)}")
            new_id = conn.execute(
                q.rounds.insert().returning(q.rounds.c.id),
                {
                    "code": code,
                    "title": title,
                    "start_on": start_on,
                    "created_at": self.engine.clock.now(),
                },
            ).scalar_one()
            return RoundInfo(new_id, code, title, start_on)

        return self.db.run(work, immediate=True)

    def add_group(self, round_code: str, code: str, leader: str) -> GroupInfo:
        """Add an inspection group (巡视组) to a round."""
        code = check_code("group", code)
        leader = check_name("group leader", leader)

        def work(conn: Connection) -> GroupInfo:
            round_id = resolve_round(conn, round_code)
            found = find_group(conn, round_id, code)
            if found is not None:
                raise AlreadyExists(
                    f"group {code} already exists in round {round_code}{_as(found.code, code)}"
                )
            new_id = _insert_group(conn, round_id, code, leader)
            return GroupInfo(new_id, round_code, code, leader)

        return self.db.run(work, immediate=True)

    def add_unit(self, code: str, name: str, category: str = "") -> UnitInfo:
        """Register a unit (被巡视单位)."""
        code = check_code("unit", code)
        name = check_name("unit name", name)
        category = check_name("unit category", category, required=False)

        def work(conn: Connection) -> UnitInfo:
            found = find_unit(conn, code)
            if found is not None:
                raise AlreadyExists(f"unit {code} already exists{_as(found.code, code)}")
            new_id = _insert_unit(conn, code, name, category)
            return UnitInfo(new_id, code, name, category)

        return self.db.run(work, immediate=True)

    def rename_unit(
        self, code: str, name: str, *, reason: str, actor: str, at: datetime | None = None
    ) -> Corrected:
        """Give a unit its new name; every case of the unit records the change."""
        name = check_name("unit name", name)
        reason = check_text("reason", reason)
        actor = check_actor(actor)

        def work(conn: Connection) -> Corrected:
            unit = find_unit(conn, code)
            if unit is None:
                raise NotFound(f"unit {code} does not exist")
            if unit.name == name:
                raise BadInput(f"unit {unit.code} is already called {name}")
            conn.execute(q.units.update().where(q.units.c.id == unit.id).values(name=name))
            data = {"unit": unit.code, "old": unit.name, "new": name}
            command = Command("unit_renamed", actor, "office", None, reason, at, data)
            cases = self._record(conn, q.cases.c.unit_id == unit.id, command)
            return Corrected("unit", unit.code, unit.name, name, cases)

        return self.db.run(work, immediate=True)

    def change_group_leader(
        self,
        round_code: str,
        group_code: str,
        leader: str,
        *,
        reason: str,
        actor: str,
        at: datetime | None = None,
    ) -> Corrected:
        """Give a group its new leader (组长); every case of the group records the change."""
        leader = check_name("group leader", leader)
        reason = check_text("reason", reason)
        actor = check_actor(actor)

        def work(conn: Connection) -> Corrected:
            round_row = find_round(conn, round_code)
            if round_row is None:
                raise NotFound(f"round {round_code} does not exist")
            group = find_group(conn, round_row.id, group_code)
            if group is None:
                raise NotFound(f"group {group_code} does not exist in round {round_row.code}")
            label = f"{round_row.code}/{group.code}"
            if group.leader == leader:
                raise BadInput(f"group {label} is already led by {leader}")
            conn.execute(q.groups.update().where(q.groups.c.id == group.id).values(leader=leader))
            data = {"group": label, "old": group.leader, "new": leader}
            command = Command("leader_changed", actor, "office", None, reason, at, data)
            cases = self._record(conn, q.cases.c.group_id == group.id, command)
            return Corrected("group", label, group.leader, leader, cases)

        return self.db.run(work, immediate=True)

    def _record(
        self, conn: Connection, which: ColumnElement[bool], command: Command
    ) -> tuple[InstanceKey, ...]:
        """Append `command`'s event to every case `which` selects, by key."""
        c, r, u = q.cases, q.rounds, q.units
        rows = conn.execute(
            select(c.c.id, r.c.code.label("round_code"), u.c.code.label("unit_code"))
            .join(r, r.c.id == c.c.round_id)
            .join(u, u.c.id == c.c.unit_id)
            .where(which)
            .order_by(r.c.code, u.c.code)
        ).all()
        keys = []
        for row in rows:
            key = InstanceKey(row.round_code, row.unit_code)
            self.engine.execute(conn, InstanceRef(row.id, key), command)
            keys.append(key)
        return tuple(keys)

    # -- cases ----------------------------------------------------------------------

    def start_case(
        self,
        *,
        round_code: str,
        unit_code: str,
        group_code: str,
        definition: str,
        actor: str,
        at: datetime | None = None,
        batch: str | None = None,
        follows: str | Reference | None = None,
    ) -> Started:
        """Start a unit's inspection in a round on the latest version of `definition`,
        in batch `batch` of the round's plan if given, following (回头看) the unit's earlier
        case `follows` if given."""

        def work(conn: Connection) -> Started:
            round_row = find_round(conn, round_code)
            if round_row is None:
                raise NotFound(f"round {round_code} does not exist")
            round_id = round_row.id
            unit = find_unit(conn, unit_code)
            if unit is None:
                raise NotFound(f"unit {unit_code} does not exist (add it with `xunshi unit add`)")
            group = find_group(conn, round_id, group_code)
            if group is None:
                raise NotFound(f"group {group_code} does not exist in round {round_code}")
            planned = None
            if batch is not None:
                found = find_batch(conn, round_id, batch)
                if found is None:
                    raise NotFound(
                        f"batch {batch} does not exist in round {round_code} (plan it with "
                        "`xunshi round plan`)"
                    )
                planned = Planned(found.id, PlanDates(found.code, found.move_in_on, found.leave_on))
            # The key as stored, whatever case the codes were typed in.
            key = InstanceKey(round_row.code, unit.code)
            if _case_id(conn, round_id, unit.id) is not None:
                raise AlreadyExists(f"{key.label} already exists")
            earlier = None
            if follows is not None:
                earlier = _earlier_case(conn, reference(follows, "case"), key, unit.id, round_row)
            return self._start(
                conn, round_id, unit.id, group.id, key, definition, actor, at, planned, earlier
            )

        return self.db.run(work, immediate=True)

    def _start(
        self,
        conn: Connection,
        round_id: int,
        unit_id: int,
        group_id: int,
        key: InstanceKey,
        definition: str,
        actor: str,
        at: datetime | None,
        planned: Planned | None = None,
        earlier: InstanceRef | None = None,
    ) -> Started:
        if at is not None:
            start_on = conn.execute(
                select(q.rounds.c.start_on).where(q.rounds.c.id == round_id)
            ).scalar_one()
            if at.astimezone(self.engine.tz).date() < start_on:
                raise Refused(
                    f"{key.label} cannot start at {business_time(at, self.engine.tz)}: "
                    f"round {key.round} starts on {start_on.isoformat()}"
                )
        names = conn.execute(
            select(q.units.c.name.label("unit_name"), q.groups.c.leader.label("group_leader"))
            .select_from(q.units)
            .join(q.groups, q.groups.c.id == group_id)
            .where(q.units.c.id == unit_id)
        ).one()
        outcome = self.engine.start(
            conn,
            subject="case",
            definition=definition,
            actor=actor,
            role="office",
            at=at,
            key=key,
            plan=NO_PLAN if planned is None else planned.dates,
            # A 回头看's earlier case is in its first event, beside the names it started with.
            names=dict(names._mapping)
            | ({} if earlier is None or earlier.key is None else {"follows": str(earlier.key)}),
        )
        case_id = outcome.instance.id
        conn.execute(
            q.cases.insert(),
            {"id": case_id, "round_id": round_id, "unit_id": unit_id, "group_id": group_id},
        )
        if planned is not None:
            conn.execute(q.batch_cases.insert(), {"case_id": case_id, "batch_id": planned.id})
        if earlier is not None:
            conn.execute(
                q.case_follows.insert(), {"case_id": case_id, "earlier_case_id": earlier.id}
            )
        return Started(case_id, key)

    def import_plan(
        self,
        path: Path,
        *,
        actor: str,
        at: datetime | None = None,
        encoding: str | None = None,
    ) -> PlanImported:
        """Create the groups, units and cases of a plan sheet; all rows checked first."""

        def work(conn: Connection) -> PlanImported:
            plan = read_plan(conn, path, encoding=encoding)
            round_ids = {code: resolve_round(conn, code) for code in plan.rounds}
            unit_ids = dict(plan.known_units)
            for code, (name, category) in plan.new_units.items():
                unit_ids[code] = _insert_unit(conn, code, name, category)
            group_ids = dict(plan.known_groups)
            for (round_code, code), leader in plan.new_groups.items():
                group_ids[(round_code, code)] = _insert_group(
                    conn, round_ids[round_code], code, leader
                )
            batches = {
                key: Planned(stored.id, PlanDates(key[1], stored.move_in, stored.leave))
                for key, stored in plan.known_batches.items()
            }
            for (round_code, code), dates in plan.new_batches.items():
                move_in, leave = dates.get("move_in"), dates.get("leave")
                new_id = insert_batch(conn, round_ids[round_code], code, move_in, leave)
                batches[(round_code, code)] = Planned(new_id, PlanDates(code, move_in, leave))
            cases = tuple(
                self._start(
                    conn,
                    round_ids[row.round],
                    unit_ids[row.unit],
                    group_ids[(row.round, row.group)],
                    InstanceKey(row.round, row.unit),
                    row.definition,
                    actor,
                    at,
                    None if row.batch is None else batches[(row.round, row.batch)],
                )
                for row in plan.cases
            )
            return PlanImported(
                cases, len(plan.new_groups), len(plan.new_units), len(plan.new_batches)
            )

        return self.db.run(work, immediate=True)


@dataclass(frozen=True, slots=True)
class Planned:
    """The batch a new case joins: its row and its planned dates."""

    id: int
    dates: PlanDates


def _as(stored: str, given: str) -> str:
    """` (as U01)` when a code was given in another case than it is stored in."""
    return "" if stored == given else f" (as {stored})"


def _case_id(conn: Connection, round_id: int, unit_id: int) -> int | None:
    c = q.cases
    found = conn.execute(
        select(c.c.id).where(c.c.round_id == round_id, c.c.unit_id == unit_id)
    ).scalar_one_or_none()
    return None if found is None else int(found)


def _insert_group(conn: Connection, round_id: int, code: str, leader: str) -> int:
    return int(
        conn.execute(
            q.groups.insert().returning(q.groups.c.id),
            {"round_id": round_id, "code": code, "leader": leader},
        ).scalar_one()
    )


def _insert_unit(conn: Connection, code: str, name: str, category: str) -> int:
    return int(
        conn.execute(
            q.units.insert().returning(q.units.c.id),
            {"code": code, "name": name, "category": category},
        ).scalar_one()
    )


def _earlier_case(
    conn: Connection, ref: Reference, key: InstanceKey, unit_id: int, round_row: Any
) -> InstanceRef:
    """The unit's case of an earlier round that a 回头看 `key` follows, or a refusal."""
    earlier = resolve_case(conn, ref)
    row = conn.execute(
        select(q.cases.c.unit_id, q.rounds.c.start_on)
        .join(q.rounds, q.rounds.c.id == q.cases.c.round_id)
        .where(q.cases.c.id == earlier.id)
    ).one()
    if row.unit_id != unit_id:
        raise Refused(f"{key.label} cannot follow {earlier.label}: it inspected another unit")
    if row.start_on >= round_row.start_on:
        raise Refused(
            f"{key.label} cannot follow {earlier.label}: its round did not start before "
            f"round {key.round} ({round_row.start_on.isoformat()})"
        )
    return earlier
