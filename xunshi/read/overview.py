"""A round at a glance: every case where it stands, its escalations, what is overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from xunshi.read.cases import CaseQueries, CaseView
from xunshi.read.catalog import RoundInfo
from xunshi.read.context import ReadContext
from xunshi.read.escalations import EscalationQueries, EscalationView
from xunshi.storage import queries as q
from xunshi.workflow.resolve import resolve_round


@dataclass(frozen=True, slots=True)
class RoundOverview:
    """A round as of a date: its cases, stages in lifecycle order, escalations."""

    round: RoundInfo
    as_of: date
    cases: tuple[CaseView, ...]
    stages: tuple[str, ...]  # stage titles, in the order the round's lifecycles run through
    escalations: tuple[EscalationView, ...]

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

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "round": self.round.to_json(),
            "as_of": self.as_of.isoformat(),
            "stages": list(self.stages),
            "matrix": self.matrix(),
            "cases": [v.to_json(tz) for v in self.cases],
            "escalations": [e.to_json(tz) for e in self.escalations],
            "overdue": [str(v.key) for v in self.overdue],
        }


class OverviewQueries:
    """Round overviews."""

    def __init__(
        self, ctx: ReadContext, cases: CaseQueries, escalations: EscalationQueries
    ) -> None:
        self.ctx = ctx
        self.cases = cases
        self.escalations = escalations

    def of(self, round_code: str) -> RoundOverview:
        """The round as it stands today."""
        r = q.rounds
        with self.ctx.reading() as conn:
            resolve_round(conn, round_code)
            row = conn.execute(
                select(r.c.id, r.c.code, r.c.title, r.c.start_on).where(r.c.code == round_code)
            ).one()
        views = self.cases.many(round_code=round_code)
        with self.ctx.reading() as conn:
            ranks = {}
            for view in views:
                defn = self.ctx.definition(conn, view.definition, view.definition_version)
                ranks[view.id] = [s.name for s in defn.states].index(view.state)
        ordered = sorted(views, key=lambda v: ranks[v.id])
        stages = tuple(dict.fromkeys(v.state_title for v in ordered))
        return RoundOverview(
            round=RoundInfo(*row),
            as_of=self.ctx.today(),
            cases=tuple(views),
            stages=stages,
            escalations=tuple(self.escalations.many(round_code=round_code)),
        )
