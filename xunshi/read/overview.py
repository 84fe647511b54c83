"""A round at a glance: every case where it stands, its escalations, what is overdue.

Escalations are counted by level, titled by the level's number (`level_title`), not by any
stage's rung titles: one stage's ladder calls level 1 超期督办 and another's 整改超期督办, and
a column counts every stage. Level 0 is a reminder before the due date, not an escalation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from xunshi.display import level_title
from xunshi.keys import InstanceKey
from xunshi.read.cases import CaseQueries, CaseView
from xunshi.read.catalog import RoundInfo, round_info
from xunshi.read.context import ReadContext
from xunshi.read.escalations import EscalationQueries, EscalationView
from xunshi.read.items import ItemFilter, ItemQueries


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
class RoundOverview:
    """A round as of a date: its cases, stages in lifecycle order, escalations, overdue tasks."""

    round: RoundInfo
    as_of: date
    cases: tuple[CaseView, ...]
    stages: tuple[str, ...]  # stage titles, in the order the round's lifecycles run through
    escalations: tuple[EscalationView, ...]
    overdue_tasks: tuple[OverdueTask, ...]

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
        """Level → its title (`level_title`), for the levels raised."""
        return {level: level_title(level) for level in self.levels}

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
                {"level": level, "title": level_title(level), "count": count}
                for level, count in self.by_level().items()
            ],
            "reminders": self.reminders,
            "raised": self.raised,
            "overdue_cases": [str(v.key) for v in self.overdue],
            "overdue_tasks": [t.to_json() for t in self.overdue_tasks],
        }


class OverviewQueries:
    """Round overviews."""

    def __init__(
        self,
        ctx: ReadContext,
        cases: CaseQueries,
        escalations: EscalationQueries,
        items: ItemQueries,
    ) -> None:
        self.ctx = ctx
        self.cases = cases
        self.escalations = escalations
        self.items = items

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
            late_items = self.items.in_transaction(
                conn, ItemFilter(round_code=round_code, overdue=True)
            )
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
        return RoundOverview(
            round=info,
            as_of=today,
            cases=tuple(views),
            stages=stages,
            escalations=tuple(self.escalations.many(round_code=round_code)),
            overdue_tasks=overdue_tasks,
        )
