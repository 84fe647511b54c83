"""问题线索 as the roles that may see them see them: `clue show`, `clue list`, `clue history`.

Every query takes the role asking (`--role` in the CLI; the signed-in user's at the web
desk). Only the office and the clue's receiving body see a clue (`workflow/clues.py`):
another role asking for one is refused (the web desk will answer 404, revealing nothing),
and lists hold only the clues the role may see — a unit liaison's list is empty, so it does
not even learn that clues exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, select

from xunshi.definitions.schema import Definition
from xunshi.errors import Refused
from xunshi.keys import InstanceKey, Reference, reference
from xunshi.read.cases import void_json
from xunshi.read.context import ReadContext
from xunshi.read.history import History, read_history
from xunshi.storage import queries as q
from xunshi.workflow.clues import RECEIVERS, may_see, sight_refused
from xunshi.workflow.resolve import InstanceRef, resolve_case, resolve_clue, resolve_round
from xunshi.workflow.voids import VoidRecord, void_records


@dataclass(frozen=True, slots=True)
class ClueView:
    """A clue as the office or its receiver sees it."""

    id: int
    key: InstanceKey
    unit_name: str
    group: str
    kind: str  # the case's definition title (常规巡视 …)
    code: str
    summary: str
    receiver: str  # discipline_group, organization_dept, other, or "" before the handover
    receiver_name: str
    disposition: str
    outcome: str
    items: tuple[str, ...]  # the codes of the problems it gave rise to
    definition: str
    definition_version: int
    state: str
    state_title: str
    final: bool
    entered_at: datetime
    due_on: date | None
    provisional: bool
    overdue: bool
    suspended: bool
    version: int
    voided: VoidRecord | None = None  # withdrawn (撤销): who, when, why

    @property
    def case(self) -> InstanceKey:
        """The case the clue belongs to."""
        return self.key.case

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape of a clue."""
        return {
            "id": self.id,
            "key": str(self.key),
            "case": str(self.case),
            "round": self.key.round,
            "unit": self.key.unit,
            "group": self.group,
            "code": self.code,
            "summary": self.summary,
            "receiver": self.receiver or None,
            "receiver_name": self.receiver_name or None,
            "disposition": self.disposition or None,
            "outcome": self.outcome or None,
            "items": [str(InstanceKey(self.key.round, self.key.unit, code)) for code in self.items],
            "definition": self.definition,
            "definition_version": self.definition_version,
            "state": self.state,
            "state_title": self.state_title,
            "entered_at": self.entered_at.astimezone(tz).isoformat(),
            "due_on": None if self.due_on is None else self.due_on.isoformat(),
            "provisional": self.provisional,
            "overdue": self.overdue,
            "suspended": self.suspended,
            "version": self.version,
            "voided": void_json(self.voided, tz),
        }


@dataclass(frozen=True, slots=True)
class ClueCounts:
    """Clues by case and state: the states' titles in lifecycle order, and the counts."""

    states: tuple[str, ...]
    by_case: Mapping[int, Mapping[str, int]]


def _clue_select() -> Select[Any]:
    i, cl, c, r, u, g = q.instances, q.clues, q.cases, q.rounds, q.units, q.groups
    case_instance = i.alias("case_instance")
    return (
        select(
            i,
            cl.c.code.label("clue_code"),
            cl.c.summary,
            cl.c.receiver,
            cl.c.receiver_name,
            cl.c.disposition,
            cl.c.outcome,
            r.c.code.label("round_code"),
            u.c.code.label("unit_code"),
            u.c.name.label("unit_name"),
            g.c.code.label("group_code"),
            case_instance.c.definition_name.label("case_definition"),
            case_instance.c.definition_version.label("case_definition_version"),
        )
        .select_from(cl)
        .join(i, i.c.id == cl.c.id)
        .join(c, c.c.id == cl.c.case_id)
        .join(case_instance, case_instance.c.id == c.c.id)
        .join(r, r.c.id == c.c.round_id)
        .join(u, u.c.id == c.c.unit_id)
        .join(g, g.c.id == c.c.group_id)
    )


class ClueQueries:
    """Clue views and histories, for a role that may see them."""

    def __init__(self, ctx: ReadContext) -> None:
        self.ctx = ctx

    def one(self, clue: str | Reference, *, role: str) -> ClueView:
        """One clue; refused for a role that may not see it."""
        with self.ctx.reading() as conn:
            ref = self._visible(conn, clue, role)
            row = conn.execute(_clue_select().where(q.clues.c.id == ref.id)).mappings().one()
            return self._views(conn, [row])[0]

    def history(self, clue: str | Reference, *, role: str) -> History:
        """Every event of one clue, oldest first; refused for a role that may not see it."""
        with self.ctx.reading() as conn:
            return read_history(self.ctx, conn, self._visible(conn, clue, role))

    def many(
        self,
        *,
        role: str,
        case: str | Reference | None = None,
        round_code: str | None = None,
        state: str | None = None,
        overdue: bool = False,
        include_void: bool = False,
    ) -> list[ClueView]:
        """The clues `role` may see that match every filter given, by case and code; void
        (撤销) ones only if asked for."""
        cl, i, r, u = q.clues, q.instances, q.rounds, q.units
        with self.ctx.reading() as conn:
            self._check_role(conn, role)
            stmt = _clue_select().order_by(r.c.code, u.c.code, cl.c.code)
            if role in RECEIVERS:
                stmt = stmt.where(cl.c.receiver == role)
            elif not may_see(role, ""):
                return []
            if case is not None:
                stmt = stmt.where(cl.c.case_id == resolve_case(conn, reference(case, "case")).id)
            if round_code is not None:
                stmt = stmt.where(r.c.id == resolve_round(conn, round_code))
            if state is not None:
                self.ctx.registry.check_state(conn, "clue", state)
                stmt = stmt.where(i.c.state == state)
            if not include_void:
                stmt = stmt.where(i.c.voided.is_(False))
            views = self._views(conn, list(conn.execute(stmt).mappings()))
            return [v for v in views if v.overdue] if overdue else views

    def counts(self, conn: Connection, case_ids: Sequence[int]) -> ClueCounts:
        """How many clues each case has in each state (numbers only: no role needed)."""
        cl, i = q.clues, q.instances
        found: dict[int, dict[str, int]] = {}
        ranks: dict[str, int] = {}
        for start in range(0, len(case_ids), 500):
            rows = conn.execute(
                select(cl.c.case_id, i.c.definition_name, i.c.definition_version, i.c.state)
                .join(i, i.c.id == cl.c.id)
                .where(cl.c.case_id.in_(list(case_ids[start : start + 500])))
                .where(i.c.voided.is_(False))
                .order_by(cl.c.case_id, cl.c.code)
            )
            for case_id, name, version, state in rows:
                defn = self.ctx.definition(conn, name, version)
                title = defn.state(state).title
                rank = [s.name for s in defn.states].index(state)
                ranks[title] = min(rank, ranks.get(title, rank))
                tally = found.setdefault(case_id, {})
                tally[title] = tally.get(title, 0) + 1
        states = tuple(sorted(ranks, key=lambda title: ranks[title]))
        return ClueCounts(states, found)

    # -- internals ------------------------------------------------------------------------

    def _visible(self, conn: Connection, clue: str | Reference, role: str) -> InstanceRef:
        """The clue, if `role` may see it; else the refusal."""
        ref = resolve_clue(conn, reference(clue, "clue"))
        assert ref.row is not None
        defn = self.ctx.definition(conn, ref.row["definition_name"], ref.row["definition_version"])
        _check_declared(defn, role)
        if not may_see(role, ref.row["receiver"]):
            raise sight_refused(role, ref.label)
        return ref

    def _check_role(self, conn: Connection, role: str) -> None:
        """Refuse a role no clue definition declares (a typo must not read as no clues)."""
        names = self.ctx.registry.names(conn, "clue")
        roles: dict[str, None] = {}
        for name in names:
            defn = self.ctx.definition(conn, name, self.ctx.registry.latest_version(conn, name))
            if defn.role(role) is not None:
                return
            roles.update(dict.fromkeys(r.name for r in defn.roles))
        raise Refused(
            f"role {role} is not defined by any clue definition (roles: {', '.join(roles)})"
        )

    def _views(self, conn: Connection, rows: Sequence[Mapping[Any, Any]]) -> list[ClueView]:
        items = _linked_codes(conn, [row["id"] for row in rows])
        voided = void_records(conn, [row["id"] for row in rows if row["voided"]])
        today = self.ctx.today()
        views = [self._view(conn, row, items.get(row["id"], ()), today) for row in rows]
        # A void clue says so, and is never overdue: nothing more can happen to it.
        return [
            replace(view, voided=voided[view.id], overdue=False) if view.id in voided else view
            for view in views
        ]

    def _view(
        self, conn: Connection, row: Mapping[Any, Any], items: tuple[str, ...], today: date
    ) -> ClueView:
        defn = self.ctx.definition(conn, row["definition_name"], row["definition_version"])
        kind = self.ctx.definition(
            conn, row["case_definition"], row["case_definition_version"]
        ).title
        state = defn.state(row["state"])
        due_on: date | None = row["due_on"]
        suspended = bool(row["suspended"])
        return ClueView(
            id=row["id"],
            key=InstanceKey(row["round_code"], row["unit_code"], clue=row["clue_code"]),
            unit_name=row["unit_name"],
            group=row["group_code"],
            kind=kind,
            code=row["clue_code"],
            summary=row["summary"],
            receiver=row["receiver"],
            receiver_name=row["receiver_name"],
            disposition=row["disposition"],
            outcome=row["outcome"],
            items=items,
            definition=defn.name,
            definition_version=row["definition_version"],
            state=state.name,
            state_title=state.title,
            final=state.final,
            entered_at=row["entered_at"],
            due_on=due_on,
            provisional=bool(row["provisional"]),
            overdue=due_on is not None and not suspended and today > due_on,
            suspended=suspended,
            version=row["version"],
        )


def _check_declared(defn: Definition, role: str) -> None:
    if defn.role(role) is None:
        roles = ", ".join(r.name for r in defn.roles)
        raise Refused(f"role {role} is not defined by {defn.name} (roles: {roles})")


def _linked_codes(conn: Connection, clue_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """Clue id → the codes of the problems linked to it, in code order."""
    links, it = q.clue_items, q.items
    found: dict[int, list[str]] = {}
    for start in range(0, len(clue_ids), 500):
        rows = conn.execute(
            select(links.c.clue_id, it.c.code)
            .join(it, it.c.id == links.c.item_id)
            .where(links.c.clue_id.in_(clue_ids[start : start + 500]))
            .order_by(links.c.clue_id, it.c.code)
        )
        for clue_id, code in rows:
            found.setdefault(clue_id, []).append(code)
    return {clue_id: tuple(codes) for clue_id, codes in found.items()}
