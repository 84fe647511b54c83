"""Worlds for the integration tests: a round with a group, units, cases driven along `regular`.

Imported by the tests of this folder as `worlds` (pytest puts the folder on `sys.path`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from forward import forward_path
from sqlalchemy import select

from xunshi.bootstrap import App
from xunshi.services.results import Started
from xunshi.storage import queries as q
from xunshi.storage.tables import metadata
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.resolve import InstanceRef

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROUND = "2024-R1"
GROUP = "G1"
KEY = f"{ROUND}/U01"


def shanghai(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """An instant given in business time (Asia/Shanghai)."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@dataclass(frozen=True, slots=True)
class Step:
    """One command of the forward path: a milestone to record or a trigger to fire."""

    kind: str  # "milestone" | "evaluate" | "fire"
    name: str
    role: str
    count: int | None = None  # what a counted milestone is recorded with


# The whole forward path of `regular`, stage by stage: the required milestones, then the
# trigger; read from the definition (tests/forward.py).
FORWARD: tuple[tuple[str, tuple[Step, ...]], ...] = tuple(
    (
        step.stage,
        (
            *(Step("milestone", n.name, n.role, 12 if n.counted else None) for n in step.needs),
            *([Step("evaluate", "", step.evaluation.role)] if step.evaluation else []),
            Step("fire", step.trigger, step.role),
        ),
    )
    for step in forward_path()
)


def snapshot(app: App) -> Snapshot:
    """Every row of every table of `app`'s database, in primary-key order."""
    with app.db.transaction() as conn:
        return Snapshot(
            {
                table.name: tuple(
                    tuple(row)
                    for row in conn.execute(select(table).order_by(*table.primary_key.columns))
                )
                for table in metadata.sorted_tables
            }
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a refused command must leave untouched: every row of every table."""

    tables: dict[str, tuple[tuple[Any, ...], ...]]


def evaluate(app: App, key: str, role: str = "office") -> None:
    """A passing 整改评估 of case `key` (full marks on every dimension of its definition)."""
    for step in forward_path():
        if step.evaluation is not None:
            scores = step.evaluation
            app.services.cases.evaluate(
                key,
                score=scores.score,
                grade=scores.grade,
                dimensions=dict(scores.dimensions),
                actor="巡视办",
                role=role,
            )
            return
    raise ValueError("the forward path has no evaluation")


class World:
    """A round `2024-R1` with group `G1`; units and cases are made on demand."""

    def __init__(self, app: App, clock: ManualClock) -> None:
        self.app = app
        self.clock = clock
        app.services.cases.create_round(ROUND, "2024年第一轮巡视", date(2024, 9, 2))
        app.services.cases.add_group(ROUND, GROUP, "张组长")

    def case(self, unit: str = "U01", definition: str = "regular") -> Started:
        """Add unit `unit` and start its case in the round."""
        self.app.services.cases.add_unit(unit, f"单位{unit}")
        return self.app.services.cases.start_case(
            round_code=ROUND,
            unit_code=unit,
            group_code=GROUP,
            definition=definition,
            actor="巡视办",
        )

    def run(self, key: str, steps: Sequence[Step], *, pace: timedelta | None = None) -> None:
        """Run `steps` on case `key`, advancing the clock by `pace` before each."""
        for step in steps:
            if pace is not None:
                self.clock.advance(pace)
            if step.kind == "milestone":
                self.app.services.cases.record_milestone(
                    key, step.name, actor="张组长", role=step.role, count=step.count
                )
            elif step.kind == "evaluate":
                evaluate(self.app, key, step.role)
            else:
                self.app.services.cases.fire(key, step.name, actor="张组长", role=step.role)

    def drive_to(self, key: str, state: str, *, pace: timedelta | None = None) -> None:
        """Move case `key` along the forward path until it enters `state`."""
        for stage, steps in FORWARD:
            if stage == state:
                return
            self.run(key, steps, pace=pace)
        if state != "closed":
            raise ValueError(f"{state} is not on the forward path")

    def drive_from(self, key: str, start: str, end: str) -> None:
        """Move case `key`, now in `start`, along the forward path until it enters `end`
        (`closed`: to the end)."""
        running = False
        for stage, steps in FORWARD:
            running = running or stage == start
            if stage == end:
                return
            if running:
                self.run(key, steps)

    def close_case_ready(self, key: str) -> None:
        """Carry case `key` from 集中整改 through the report and publication into 常态化整改,
        where only settled items and 整改评估 stand between it and 完成."""
        self.drive_from(key, "rectification", "ongoing")

    def close_case(self, key: str) -> None:
        """From 常态化整改 or 整改评估: on to 整改评估 (settled items required), evaluate, close."""
        self.drive_from(key, self.app.services.read.cases.one(key).state, "closed")

    def milestones_of(self, key: str, stage: str) -> None:
        """Record the required milestones of `stage` (the case must be in it)."""
        steps = dict(FORWARD)[stage]
        self.run(key, [s for s in steps if s.kind == "milestone"])

    def snapshot(self) -> Snapshot:
        """Every row of every table, in primary-key order."""
        return snapshot(self.app)

    def row(self, ref: Started | InstanceRef) -> dict[str, Any]:
        """The instance row of a case."""
        with self.app.db.transaction() as conn:
            found = conn.execute(select(q.instances).where(q.instances.c.id == ref.id))
            return dict(found.mappings().one())
