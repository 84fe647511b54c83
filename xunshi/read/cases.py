"""Cases as people and scripts see them: `case show`, `case list`, `case show --as-of`.

A void case (撤销) is left out of lists unless they ask for it (`include_void`); shown, it
says who voided it, when and why, and that nothing more can happen to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, and_, or_, select

from xunshi.definitions.schema import Definition
from xunshi.errors import BadInput
from xunshi.keys import InstanceKey, Reference, reference
from xunshi.paging import WHOLE, Page, keyset
from xunshi.read.context import ReadContext
from xunshi.storage import queries as q
from xunshi.timeparse import business_time
from xunshi.workflow.audit import Event, event_from_row, replay
from xunshi.workflow.deadlines import NO_PLAN
from xunshi.workflow.decide import replayed_deadline
from xunshi.workflow.evaluation import Scores
from xunshi.workflow.plan import plan_dates, recorded_dates
from xunshi.workflow.resolve import resolve_case, resolve_round
from xunshi.workflow.voids import VoidRecord, void_record, void_records


def void_json(record: VoidRecord | None, tz: ZoneInfo) -> dict[str, Any] | None:
    """The `voided` of a view's JSON: null, or when, who, in which role and why."""
    if record is None:
        return None
    return {
        "at": record.at.astimezone(tz).isoformat(),
        "actor": record.actor,
        "role": record.role,
        "reason": record.reason,
    }


@dataclass(frozen=True, slots=True)
class MilestoneView:
    """One milestone of the current stage and whether it is recorded."""

    name: str
    title: str
    required: bool
    recorded_at: datetime | None
    unit: str = ""  # what a counted milestone counts (人次, 件)
    count: int | None = None  # the number it was recorded with (shown by `case show`)


@dataclass(frozen=True, slots=True)
class EvaluationView:
    """A case's latest 整改评估: its scores, and who recorded it, when and why."""

    scores: Scores
    at: datetime
    actor: str
    role: str | None
    reason: str | None

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            **self.scores.to_data(),
            "dimensions": dict(self.scores.dimensions),
            "lookback": self.scores.lookback,
            "at": self.at.astimezone(tz).isoformat(),
            "actor": self.actor,
            "role": self.role,
            "reason": self.reason,
        }


def evaluation_of(event: Event) -> EvaluationView:
    """The evaluation an `evaluated` event recorded."""
    return EvaluationView(
        Scores.from_data(event.data), event.occurred_at, event.actor, event.role, event.reason
    )


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case as people and scripts see it."""

    id: int
    key: InstanceKey
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
    changed_at: datetime  # when its last event happened
    unit_name: str
    group: str
    group_leader: str
    triggers: tuple[str, ...]  # what may be fired now (none while suspended, or void)
    voided: VoidRecord | None = None  # withdrawn (撤销): who, when, why
    follows: InstanceKey | None = None  # the earlier case a 回头看 re-inspects
    evaluation: EvaluationView | None = None  # the latest 整改评估, if any

    @property
    def round(self) -> str:
        """The round's code."""
        return self.key.round

    @property
    def unit(self) -> str:
        """The unit's code."""
        return self.key.unit

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape (DESIGN §7)."""
        return {
            "id": self.id,
            "key": str(self.key),
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
            "counts": {m.name: m.count for m in self.milestones if m.count is not None},
            "version": self.version,
            "round": self.round,
            "unit": self.unit,
            "group": self.group,
            "voided": void_json(self.voided, tz),
            "follows": None if self.follows is None else str(self.follows),
            "evaluation": None if self.evaluation is None else self.evaluation.to_json(tz),
        }


def _case_select() -> Select[Any]:
    i, c, r, u, g, f = q.instances, q.cases, q.rounds, q.units, q.groups, q.case_follows
    # The earlier case a 回头看 follows (the same unit): its round's code.
    earlier, earlier_round = q.cases.alias("earlier"), q.rounds.alias("earlier_round")
    return (
        select(
            i,
            r.c.code.label("round_code"),
            u.c.code.label("unit_code"),
            u.c.name.label("unit_name"),
            g.c.code.label("group_code"),
            g.c.leader.label("group_leader"),
            earlier_round.c.code.label("follows_round"),
        )
        .select_from(c)
        .join(i, i.c.id == c.c.id)
        .join(r, r.c.id == c.c.round_id)
        .join(u, u.c.id == c.c.unit_id)
        .join(g, g.c.id == c.c.group_id)
        .outerjoin(f, f.c.case_id == c.c.id)
        .outerjoin(earlier, earlier.c.id == f.c.earlier_case_id)
        .outerjoin(earlier_round, earlier_round.c.id == earlier.c.round_id)
    )


class CaseQueries:
    """Case views from the projection (or, `as_of`, from the history)."""

    def __init__(self, ctx: ReadContext) -> None:
        self.ctx = ctx

    def one(self, case: str | Reference) -> CaseView:
        """The current view of one case."""
        with self.ctx.reading() as conn:
            ref = resolve_case(conn, reference(case, "case"))
            row = conn.execute(_case_select().where(q.cases.c.id == ref.id)).mappings().one()
            voided = void_record(conn, ref.id) if row["voided"] else None
            view = self._view(conn, row, self.ctx.today(), voided)
            return _with_evaluations(conn, _with_counts(conn, [(view, row["stage_seq"])]))[0]

    def many(
        self,
        *,
        round_code: str | None = None,
        state: str | None = None,
        overdue: bool = False,
        include_void: bool = False,
    ) -> list[CaseView]:
        """Cases of a round / in a state / overdue, by key; void ones only if asked for."""
        with self.ctx.reading() as conn:
            return self.in_transaction(
                conn,
                round_code=round_code,
                state=state,
                overdue=overdue,
                include_void=include_void,
            )

    def in_transaction(
        self,
        conn: Connection,
        *,
        round_code: str | None = None,
        state: str | None = None,
        overdue: bool = False,
        include_void: bool = False,
    ) -> list[CaseView]:
        """`many` inside a read transaction another query opened."""
        round_id = None if round_code is None else resolve_round(conn, round_code)
        if state is not None:
            self.ctx.registry.check_state(conn, "case", state)
        today = self.ctx.today()
        stmt = _filtered(_case_select(), round_id, state, overdue, include_void, today)
        return self._views(conn, conn.execute(stmt).mappings().all(), today)

    def stream(
        self,
        *,
        round_code: str | None = None,
        state: str | None = None,
        overdue: bool = False,
        include_void: bool = False,
        page: Page[InstanceKey] = WHOLE,
    ) -> Iterator[CaseView]:
        """`many`'s cases (ROUND/UNIT order), the page of them after `page.after`, read in
        keyset batches each in a short read of its own, so that memory does not grow with
        the list. The filters are checked before this returns (a bad one raises here)."""
        with self.ctx.reading() as conn:
            round_id = None if round_code is None else resolve_round(conn, round_code)
            if state is not None:
                self.ctx.registry.check_state(conn, "case", state)
        today = self.ctx.today()
        r, u = q.rounds, q.units

        def fetch(
            after: InstanceKey | None, size: int
        ) -> tuple[list[CaseView], InstanceKey | None]:
            stmt = _filtered(_case_select(), round_id, state, overdue, include_void, today)
            if after is not None:
                stmt = stmt.where(
                    or_(
                        r.c.code > after.round,
                        and_(r.c.code == after.round, u.c.code > after.unit),
                    )
                )
            with self.ctx.reading() as conn:
                rows = conn.execute(stmt.limit(size)).mappings().all()
                views = self._views(conn, rows, today)
            last = views[-1].key if len(rows) == size else None
            return views, last

        return keyset(fetch, page)

    def _views(
        self, conn: Connection, rows: Sequence[Mapping[Any, Any]], today: date
    ) -> list[CaseView]:
        """The views of case rows, with their counted milestones and evaluations."""
        voided = void_records(conn, [row["id"] for row in rows if row["voided"]])
        views = [
            (self._view(conn, row, today, voided.get(row["id"])), row["stage_seq"]) for row in rows
        ]
        return _with_evaluations(conn, _with_counts(conn, views))

    def as_of(self, case: str | Reference, instant: datetime) -> CaseView:
        """The case as its history says it was at `instant` (business time).

        Its due date is replayed from the history, suspensions and resumes included,
        exactly as the live path moves it. A later day than today is refused (the end of
        today means now).
        """
        tz = self.ctx.tz
        now = self.ctx.now()
        if instant > now:
            if instant.astimezone(tz).date() != now.astimezone(tz).date():
                raise BadInput(
                    f"--as-of {business_time(instant, tz)} is later than now "
                    f"({business_time(now, tz)}); a case can be shown only as it was"
                )
            instant = now
        with self.ctx.reading() as conn:
            ref = resolve_case(conn, reference(case, "case"))
            row = conn.execute(_case_select().where(q.cases.c.id == ref.id)).mappings().one()
            history = [
                event_from_row(e)
                for e in conn.execute(q.HISTORY, {"instance_id": ref.id}).mappings()
            ]
            if not history:
                raise BadInput(f"{ref.label} has no history")
            events = [e for e in history if e.occurred_at <= instant]
            if not events:
                started = business_time(history[0].occurred_at, tz)
                raise BadInput(
                    f"{ref.label} did not exist at {business_time(instant, tz)} "
                    f"(its history starts {started})"
                )
            projection = replay(events)
            defn = self.ctx.definition(
                conn, projection.definition_name, projection.definition_version
            )
            assert projection.entered_at is not None
            pauses = [
                (e.kind, e.occurred_at)
                for e in events
                if e.seq > projection.stage_seq and e.kind in ("suspended", "resumed")
            ]
            deadline = replayed_deadline(
                defn,
                projection.state,
                projection.entered_at,
                pauses,
                self.ctx.calendar(conn, defn.calendar),
                tz,
                # The plan as it is now, as the calendar is: history says how it moved. The
                # milestones a due counts from, as recorded by then.
                (plan_dates(conn, ref.id) if defn.uses_plan else NO_PLAN)._replace(
                    milestones=recorded_dates(
                        ((e.data, e.occurred_at) for e in events if e.kind == "milestone"),
                        defn.due_milestones,
                        tz,
                    ),
                    visited=frozenset(
                        e.to_state
                        for e in events
                        if e.seq < projection.stage_seq
                        and e.kind in ("started", "transition")
                        and e.to_state
                    ),
                ),
            )
            past = dict(row)
            past.update(
                state=projection.state,
                entered_at=projection.entered_at,
                version=projection.version,
                milestones=json.dumps(projection.milestones),
                last_occurred_at=projection.last_occurred_at,
                suspended=projection.suspended,
                due_on=deadline.due_on,
                provisional=deadline.provisional,
                definition_version=projection.definition_version,
                voided=projection.voided,
            )
            voided = _void_in(events) if projection.voided else None
            view = self._view(conn, past, instant.astimezone(tz).date(), voided)
            evaluated = [e for e in events if e.kind == "evaluated"]
            if evaluated:
                view = replace(view, evaluation=evaluation_of(evaluated[-1]))
            counts = {
                str(e.data["milestone"]): int(e.data["count"])
                for e in events
                if e.seq > projection.stage_seq and e.kind == "milestone" and "count" in e.data
            }
            if not counts:
                return view
            milestones = tuple(replace(m, count=counts.get(m.name)) for m in view.milestones)
            return replace(view, milestones=milestones)

    def _view(
        self,
        conn: Connection,
        row: Mapping[Any, Any],
        today: date,
        voided: VoidRecord | None = None,
    ) -> CaseView:
        defn = self.ctx.definition(conn, row["definition_name"], row["definition_version"])
        state = defn.state(row["state"])
        due_on: date | None = row["due_on"]
        suspended = bool(row["suspended"])
        # A void case is never late, and (like a suspended one) offers no trigger.
        stopped = suspended or voided is not None
        overdue = due_on is not None and not stopped and today > due_on
        triggers = () if stopped else tuple(t.trigger for t in defn.transitions_from(state.name))
        return CaseView(
            id=row["id"],
            key=InstanceKey(row["round_code"], row["unit_code"]),
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
            changed_at=row["last_occurred_at"],
            unit_name=row["unit_name"],
            group=row["group_code"],
            group_leader=row["group_leader"],
            triggers=triggers,
            follows=None
            if row["follows_round"] is None
            else InstanceKey(row["follows_round"], row["unit_code"]),
            voided=voided,
        )


def _filtered(
    stmt: Select[Any],
    round_id: int | None,
    state: str | None,
    overdue: bool,
    include_void: bool,
    today: date,
) -> Select[Any]:
    """The case select narrowed to the filters, in ROUND/UNIT order (a case's key: unique)."""
    i, r, u = q.instances, q.rounds, q.units
    stmt = stmt.order_by(r.c.code, u.c.code)
    if round_id is not None:
        stmt = stmt.where(r.c.id == round_id)
    if state is not None:
        stmt = stmt.where(i.c.state == state)
    if overdue:
        # A void case is never overdue: nothing more can happen to it.
        stmt = stmt.where(and_(i.c.due_on < today, i.c.suspended.is_(False), i.c.voided.is_(False)))
    if not include_void:
        stmt = stmt.where(i.c.voided.is_(False))
    return stmt


def _with_counts(conn: Connection, views: list[tuple[CaseView, int]]) -> list[CaseView]:
    """The views with the numbers their stages' counted milestones were recorded with (each
    view with the `stage_seq` of its current stage entry)."""
    counted = {v.id: seq for v, seq in views if any(m.unit and m.recorded_at for m in v.milestones)}
    counts: dict[int, dict[str, int]] = {}
    e = q.events
    ids = list(counted)
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(e.c.instance_id, e.c.seq, e.c.data)
            .where(e.c.instance_id.in_(ids[start : start + 500]))
            .where(e.c.kind == "milestone", e.c.data.like('%"count":%'))
            .order_by(e.c.instance_id, e.c.seq)
        )
        for instance_id, seq, data in rows:
            if seq > counted[instance_id]:
                fields = json.loads(data)
                counts.setdefault(instance_id, {})[fields["milestone"]] = int(fields["count"])
    return [
        replace(
            view,
            milestones=tuple(
                replace(m, count=counts[view.id].get(m.name)) for m in view.milestones
            ),
        )
        if view.id in counts
        else view
        for view, _seq in views
    ]


def _with_evaluations(conn: Connection, views: list[CaseView]) -> list[CaseView]:
    """The views with each case's latest 整改评估 (an `evaluated` event), if any."""
    found: dict[int, EvaluationView] = {}
    e = q.events
    ids = [v.id for v in views]
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(e)
            .where(e.c.instance_id.in_(ids[start : start + 500]), e.c.kind == "evaluated")
            .order_by(e.c.instance_id, e.c.seq)
        ).mappings()
        for row in rows:
            found[row["instance_id"]] = evaluation_of(event_from_row(row))
    if not found:
        return views
    return [replace(v, evaluation=found[v.id]) if v.id in found else v for v in views]


def _void_in(events: list[Event]) -> VoidRecord | None:
    """The void record of a history that voided its instance (its `voided` event)."""
    for event in reversed(events):
        if event.kind == "voided":
            return VoidRecord(event.occurred_at, event.actor, event.role, event.reason or "")
    return None


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
            unit=m.count,
        )
        for m in declared.milestones
    )
