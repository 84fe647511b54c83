"""A round at a glance: every case where it stands, its escalations, what is overdue.

Escalations are counted by level, titled by the level's number and the instruments its rungs
use (`L1 提醒/预警`: the office's own stages remind, the unit's work is warned), not by any
stage's rung titles: one stage's ladder calls level 1 超期提醒 and another's 整改超期预警, and a
column counts every stage. Rungs that name no instrument fall back to `level_title`. Level 0
is a reminder before the due date, not an escalation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, or_, select

from xunshi.definitions.schema import INSTRUMENTS
from xunshi.display import level_title
from xunshi.keys import InstanceKey
from xunshi.read.cases import CaseQueries, CaseView
from xunshi.read.catalog import RoundInfo, round_info
from xunshi.read.clues import ClueQueries
from xunshi.read.context import ReadContext
from xunshi.read.escalations import EscalationQueries, EscalationView
from xunshi.read.history import StageEntries, read_stage_entries
from xunshi.read.items import ItemFilter, ItemQueries
from xunshi.storage import queries as q
from xunshi.workflow.outcomes import funds_data


@dataclass(frozen=True, slots=True)
class OverdueTask:
    """An open task past its due date: what is to be done, who answers for it, how late."""

    key: InstanceKey  # ROUND/UNIT/ITEM#N
    unit_name: str
    measure: str
    lead_department: str
    responsible_person: str
    due_on: date
    days_overdue: int

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "task": str(self.key),
            "unit_name": self.unit_name,
            "measure": self.measure,
            "lead_department": self.lead_department,
            "responsible_person": self.responsible_person,
            "due_on": self.due_on.isoformat(),
            "days_overdue": self.days_overdue,
        }


@dataclass(frozen=True, slots=True)
class Tally:
    """A counted milestone added up over a round: 个别谈话 86 人次 in 3 cases."""

    title: str
    unit: str
    total: int
    cases: int

    @property
    def label(self) -> str:
        """`个别谈话 86 人次（3 个单位）`."""
        return f"{self.title} {self.total} {self.unit}（{self.cases} 个单位）"

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {"title": self.title, "unit": self.unit, "total": self.total, "cases": self.cases}


@dataclass(frozen=True, slots=True)
class ClueTally:
    """One case's 问题线索 by state (numbers only, never what they say)."""

    key: InstanceKey
    unit_name: str
    counts: dict[str, int]  # state title → how many

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {"case": str(self.key), "unit_name": self.unit_name, "counts": self.counts}


@dataclass(frozen=True, slots=True)
class OutcomeTally:
    """整改成果 of a round's problems added up: rules made or revised (each once per
    problem), people held accountable, funds (hundredths of 万元), and how many problems
    recur from an earlier round (屡改屡犯)."""

    rules: int = 0
    accountable: int = 0
    funds: int = 0
    recurrences: int = 0

    @property
    def any(self) -> bool:
        """Whether there is anything to report."""
        return any((self.rules, self.accountable, self.funds, self.recurrences))

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape (funds as `"12.50"` 万元)."""
        return {
            "rules": self.rules,
            "accountable": self.accountable,
            "funds": funds_data(self.funds),
            "recurrences": self.recurrences,
        }


@dataclass(frozen=True, slots=True)
class RoundOverview:
    """A round as of a date: its cases, stages in lifecycle order, escalations, overdue tasks.

    `escalations` are those that went out (a proposal counts once the office confirmed it);
    `proposals` the 约谈/问责 proposals still waiting for the office's decision.
    """

    round: RoundInfo
    as_of: date
    cases: tuple[CaseView, ...]
    stages: tuple[str, ...]  # stage titles, in the order the round's lifecycles run through
    escalations: tuple[EscalationView, ...]
    overdue_tasks: tuple[OverdueTask, ...]
    proposals: tuple[EscalationView, ...] = ()
    workload: tuple[Tally, ...] = ()  # the counted milestones, added up
    clue_states: tuple[str, ...] = ()  # the clues' state titles, in lifecycle order
    clues: tuple[ClueTally, ...] = ()  # the cases with clues, by case
    outcomes: OutcomeTally = OutcomeTally()  # 整改成果 and 屡改屡犯 of its problems

    def clue_totals(self) -> dict[str, int]:
        """State title → how many of the round's clues are there, in lifecycle order."""
        return {
            state: sum(t.counts.get(state, 0) for t in self.clues) for state in self.clue_states
        }

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of inspection (definition titles) in the round, sorted."""
        return tuple(sorted({v.definition_title for v in self.cases}))

    def matrix(self) -> dict[str, dict[str, int]]:
        """Stage title → kind → how many cases are there."""
        counts: dict[str, dict[str, int]] = {stage: {} for stage in self.stages}
        for view in self.cases:
            row = counts[view.state_title]
            row[view.definition_title] = row.get(view.definition_title, 0) + 1
        return counts

    @property
    def overdue(self) -> tuple[CaseView, ...]:
        """The cases past their stage's due date."""
        return tuple(v for v in self.cases if v.overdue)

    @property
    def levels(self) -> tuple[int, ...]:
        """The levels raised in the round, lowest first."""
        return tuple(sorted({e.level for e in self.escalations}))

    @property
    def reminders(self) -> int:
        """How many reminders (level 0) were sent."""
        return sum(e.level == 0 for e in self.escalations)

    @property
    def raised(self) -> int:
        """How many escalations (level 1 and above) were raised."""
        return sum(e.level > 0 for e in self.escalations)

    def level_titles(self) -> dict[int, str]:
        """Level → its title, for the levels raised: `L3 约谈` when its rungs name their
        instrument (`L1 提醒/预警` when they differ), else `level_title`."""
        return level_titles((e.level, e.instrument) for e in self.escalations)

    def by_level(self) -> dict[int, int]:
        """Level → how many were raised, lowest first."""
        return {level: sum(e.level == level for e in self.escalations) for level in self.levels}

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "round": self.round.to_json(),
            "as_of": self.as_of.isoformat(),
            "stages": list(self.stages),
            "kinds": list(self.kinds),
            "matrix": self.matrix(),
            "cases": [v.to_json(tz) for v in self.cases],
            "escalations": [e.to_json(tz) for e in self.escalations],
            "levels": [
                {"level": level, "title": self.level_titles()[level], "count": count}
                for level, count in self.by_level().items()
            ],
            "reminders": self.reminders,
            "raised": self.raised,
            "pending_decisions": [e.id for e in self.proposals],
            "workload": [t.to_json() for t in self.workload],
            "clues": {
                "total": sum(self.clue_totals().values()),
                "by_state": self.clue_totals(),
                "cases": [t.to_json() for t in self.clues],
            },
            "outcomes": self.outcomes.to_json(),
            "overdue_cases": [str(v.key) for v in self.overdue],
            "overdue_tasks": [t.to_json() for t in self.overdue_tasks],
        }


def level_titles(raised: Iterable[tuple[int, str]]) -> dict[int, str]:
    """Level → its title, for the (level, instrument) of each escalation raised, lowest
    level first: `L3 约谈` when its rungs name their instrument (`L1 提醒/预警` when they
    differ), else `level_title`."""
    used: dict[int, set[str]] = {}
    for level, instrument in raised:
        used.setdefault(level, set()).add(instrument)
    titles = {}
    for level in sorted(used):
        named = [i for i in INSTRUMENTS if i in used[level]]
        titles[level] = (
            f"L{level} {'/'.join(named)}" if named and "" not in used[level] else level_title(level)
        )
    return titles


@dataclass(frozen=True, slots=True)
class Raised:
    """How many escalations (and reminders, level 0) went out for one unit of a round at one
    level with one instrument (a proposal once the office confirmed it)."""

    unit: str
    level: int
    instrument: str
    count: int


@dataclass(frozen=True, slots=True)
class RoundGlance:
    """What the desk's round page shows besides its cases, read in a few statements: the
    stages in lifecycle order, every case's stage entries (for the timeline), the
    escalations counted by unit and level, the overdue tasks."""

    round: RoundInfo
    as_of: date
    stages: tuple[str, ...]  # the titles of the given cases' stages, in lifecycle order
    entries: Mapping[int, StageEntries]  # case id → its stage entries
    raised: tuple[Raised, ...]
    overdue_tasks: tuple[OverdueTask, ...]

    def level_titles(self) -> dict[int, str]:
        """Level → its title, as `RoundOverview.level_titles` (over the whole round)."""
        return level_titles((r.level, r.instrument) for r in self.raised)


class OverviewQueries:
    """Round overviews."""

    def __init__(
        self,
        ctx: ReadContext,
        cases: CaseQueries,
        escalations: EscalationQueries,
        items: ItemQueries,
        clues: ClueQueries,
    ) -> None:
        self.ctx = ctx
        self.cases = cases
        self.escalations = escalations
        self.items = items
        self.clues = clues

    def of(self, round_code: str) -> RoundOverview:
        """The round as it stands today."""
        with self.ctx.reading() as conn:
            info = round_info(conn, round_code)
        views = self.cases.many(round_code=round_code)
        today = self.ctx.today()
        with self.ctx.reading() as conn:
            ranks = {}
            for view in views:
                defn = self.ctx.definition(conn, view.definition, view.definition_version)
                ranks[view.id] = [s.name for s in defn.states].index(view.state)
            problems = self.items.in_transaction(conn, ItemFilter(round_code=round_code))
            late_items = [item for item in problems if item.overdue]
            workload = self._workload(conn, [v.id for v in views], {v.id: v for v in views})
            clue_counts = self.clues.counts(conn, [v.id for v in views])
        ordered = sorted(views, key=lambda v: ranks[v.id])
        stages = tuple(dict.fromkeys(v.state_title for v in ordered))
        overdue_tasks = tuple(
            OverdueTask(
                key=item.key.task_key(task.number),
                unit_name=item.unit_name,
                measure=task.measure,
                lead_department=task.lead_department,
                responsible_person=task.responsible_person,
                due_on=task.due_on,
                days_overdue=(today - task.due_on).days,
            )
            for item in late_items
            for task in item.tasks
            if task.overdue and task.due_on is not None
        )
        every = self.escalations.many(round_code=round_code)
        return RoundOverview(
            round=info,
            as_of=today,
            cases=tuple(views),
            stages=stages,
            escalations=tuple(e for e in every if e.decision in (None, "confirmed")),
            overdue_tasks=overdue_tasks,
            proposals=tuple(e for e in every if e.decision == "pending"),
            workload=workload,
            clue_states=clue_counts.states,
            clues=tuple(
                ClueTally(v.key, v.unit_name, dict(clue_counts.by_case[v.id]))
                for v in views
                if v.id in clue_counts.by_case
            ),
            outcomes=OutcomeTally(
                rules=sum(len(item.outcome.rules) for item in problems),
                accountable=sum(item.outcome.accountable for item in problems),
                funds=sum(item.outcome.funds for item in problems),
                recurrences=sum(item.recurs_from is not None for item in problems),
            ),
        )

    def glance(self, round_code: str, views: Sequence[CaseView]) -> RoundGlance:
        """The round page's parts for `views` (cases of the round), in one read transaction
        of a few statements, whatever the number of cases."""
        today = self.ctx.today()
        with self.ctx.reading() as conn:
            info = round_info(conn, round_code)
            ranks = {}
            for view in views:
                defn = self.ctx.definition(conn, view.definition, view.definition_version)
                ranks[view.id] = [s.name for s in defn.states].index(view.state)
            ordered = sorted(views, key=lambda v: ranks[v.id])
            return RoundGlance(
                round=info,
                as_of=today,
                stages=tuple(dict.fromkeys(v.state_title for v in ordered)),
                entries=read_stage_entries(self.ctx, conn, info.id),
                raised=_raised(conn, info.id),
                overdue_tasks=_overdue_tasks(conn, info.id, today),
            )

    def _workload(
        self, conn: Connection, case_ids: list[int], views: dict[int, CaseView]
    ) -> tuple[Tally, ...]:
        """The counted milestones of the cases, added up per title and unit, in first-seen
        order (a stage entered twice, after 补充巡视, counts both times)."""
        by_case = counted_milestones(self.ctx, conn, views)
        totals: dict[tuple[str, str], int] = {}  # first-seen order: by case, then event
        seen: dict[tuple[str, str], set[int]] = {}
        for case_id in sorted(case_ids):
            for key, count in by_case.get(case_id, {}).items():
                totals[key] = totals.get(key, 0) + count
                seen.setdefault(key, set()).add(case_id)
        return tuple(
            Tally(title, unit, total, len(seen[(title, unit)]))
            for (title, unit), total in totals.items()
        )


def counted_milestones(
    ctx: ReadContext, conn: Connection, views: Mapping[int, CaseView]
) -> dict[int, dict[tuple[str, str], int]]:
    """Case id → (milestone title, unit counted in) → the numbers its milestones recorded,
    added up (a stage entered twice, after 补充巡视, counts both times); each case's entries
    in the order its events recorded them."""
    e = q.events
    found: dict[int, dict[tuple[str, str], int]] = {}
    case_ids = list(views)
    for start in range(0, len(case_ids), 500):
        rows = conn.execute(
            select(e.c.instance_id, e.c.data)
            .where(e.c.instance_id.in_(case_ids[start : start + 500]))
            .where(e.c.kind == "milestone")
            .where(e.c.data.like('%"count":%'))
            .order_by(e.c.instance_id, e.c.seq)
        )
        for instance_id, data in rows:
            fields = json.loads(data)
            view = views[instance_id]
            defn = ctx.definition(conn, view.definition, view.definition_version)
            name = fields["milestone"]
            declared = next(
                (m for st in defn.states for m in st.milestones if m.name == name), None
            )
            if declared is None or not declared.count:
                continue
            tally = found.setdefault(instance_id, {})
            key = (declared.title, declared.count)
            tally[key] = tally.get(key, 0) + int(fields["count"])
    return found


def _raised(conn: Connection, round_id: int) -> tuple[Raised, ...]:
    """The escalations of a round's cases, items and clues that went out (not a void
    instance's, not a proposal still pending or dismissed), counted by unit, level and
    instrument: what `EscalationQueries.many` lists, added up."""
    x, c, u, i, it, cl = q.escalations, q.cases, q.units, q.instances, q.items, q.clues
    rows = conn.execute(
        select(u.c.code, x.c.level, x.c.instrument, func.count())
        .select_from(x)
        .join(i, i.c.id == x.c.instance_id)
        .outerjoin(it, it.c.id == x.c.instance_id)
        .outerjoin(cl, cl.c.id == x.c.instance_id)
        .join(c, c.c.id == func.coalesce(it.c.case_id, cl.c.case_id, x.c.instance_id))
        .join(u, u.c.id == c.c.unit_id)
        .where(c.c.round_id == round_id, i.c.voided.is_(False))
        .where(or_(x.c.decision.is_(None), x.c.decision == "confirmed"))
        .group_by(u.c.code, x.c.level, x.c.instrument)
        .order_by(u.c.code, x.c.level, x.c.instrument)
    )
    return tuple(Raised(unit, level, instrument, count) for unit, level, instrument, count in rows)


def _overdue_tasks(conn: Connection, round_id: int, today: date) -> tuple[OverdueTask, ...]:
    """The open tasks past their due date of a round's problems (not a void one's), by
    unit, problem and number: the tasks `ItemView.tasks` marks overdue."""
    t, it, i, c, u = q.tasks, q.items, q.instances, q.cases, q.units
    r = q.rounds
    rows = conn.execute(
        select(
            r.c.code,
            u.c.code,
            u.c.name,
            it.c.code,
            t.c.number,
            t.c.measure,
            t.c.lead_department,
            t.c.responsible_person,
            t.c.due_on,
        )
        .select_from(t)
        .join(it, it.c.id == t.c.item_id)
        .join(i, i.c.id == it.c.id)
        .join(c, c.c.id == it.c.case_id)
        .join(r, r.c.id == c.c.round_id)
        .join(u, u.c.id == c.c.unit_id)
        .where(c.c.round_id == round_id, i.c.voided.is_(False))
        .where(t.c.status != "done", t.c.due_on.is_not(None), t.c.due_on < today)
        .order_by(u.c.code, it.c.code, t.c.number)
    )
    return tuple(
        OverdueTask(
            key=InstanceKey(round_code, unit_code, item_code).task_key(number),
            unit_name=unit_name,
            measure=measure,
            lead_department=lead_department,
            responsible_person=responsible_person,
            due_on=due_on,
            days_overdue=(today - due_on).days,
        )
        for (
            round_code,
            unit_code,
            unit_name,
            item_code,
            number,
            measure,
            lead_department,
            responsible_person,
            due_on,
        ) in rows
    )
