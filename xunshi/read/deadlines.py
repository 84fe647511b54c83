"""The open deadlines of a round: what falls due on which business date (the calendar feed).

A deadline is one date by which something must be done:

- `case`: a case's current stage (巡前准备 … 整改) and its due date;
- `item`: a problem's current stage (问题确认, 制定措施, 长期整改, 申请销号 …) and its due date;
- `task`: an open measure (整改措施) and its 完成时限.

The dates are those `case list`, `item list` and the ledger show: each source reads the same
views (`CaseQueries`, `ItemQueries`), so a stage's due date and its 暂定 flag come from the
stored projection, never recomputed here. A new subject (clue dispositions) is one more
source: a function from its views to `Deadline`s, called in `DeadlineQueries.of`.

Left out, because nothing falls due: a stage without a due date, a final stage (完成, 归档),
a suspended case or problem (its clock is stopped, and its due date moves by the working
days paused when it resumes: it comes back then, under the same identity, on its new date),
a task done, a long-term task (长期整改: no date), and a void case or problem (撤销, with its
tasks: the views leave void records out).

Every deadline has an identity made of what it is (`case/2024-R1/U01/onsite`,
`item/2024-R1/U01/P01/identified`, `task/2024-R1/U01/P01#1`), so that it is the same in
every export and a calendar that imports it again updates the event instead of adding one.
A stage entered again (a problem reopened, a long-term review) keeps its identity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from xunshi.errors import BadInput, NotFound
from xunshi.keys import InstanceKey
from xunshi.read.cases import CaseQueries, CaseView
from xunshi.read.catalog import RoundInfo, round_info
from xunshi.read.context import ReadContext
from xunshi.read.items import ItemFilter, ItemQueries, ItemView, TaskView
from xunshi.storage import queries as q
from xunshi.workflow.resolve import find_group, find_unit

# The order deadlines of one day are listed in: a case's stage, a problem's, a measure.
KINDS: tuple[str, ...] = ("case", "item", "task")


@dataclass(frozen=True, slots=True)
class Deadline:
    """One open deadline: what is due, on which business date, of which unit and group."""

    kind: str  # one of KINDS
    key: InstanceKey  # the case, the item, or the task (ROUND/UNIT/ITEM#N)
    stage: str  # the stage's state name; "" for a task
    what: str  # the stage's title (现场巡视), or the task's measure
    due_on: date  # a business date
    provisional: bool  # 暂定: counted on weekends only, the year's calendar not loaded
    unit_name: str
    group: str
    group_leader: str
    inspection: str  # the kind of inspection (the case definition's title: 常规巡视)
    problem: str  # `P01 标题` for an item or a task; "" for a case
    responsible: tuple[tuple[str, str], ...]  # (title, who) for a task: 责任领导 …
    revision: int  # rises whenever the case or item changes (its version)
    changed_at: datetime  # when the case or item last changed (its last event)

    @property
    def ident(self) -> str:
        """What it is, the same in every export: `case/2024-R1/U01/onsite`, `task/…/P01#1`."""
        if self.kind == "task":
            return f"task/{self.key}"
        return f"{self.kind}/{self.key}/{self.stage}"

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "id": self.ident,
            "kind": self.kind,
            "key": str(self.key),
            "stage": self.stage or None,
            "what": self.what,
            "due_on": self.due_on.isoformat(),
            "provisional": self.provisional,
            "unit_name": self.unit_name,
            "group": self.group,
            "group_leader": self.group_leader,
            "inspection": self.inspection,
            "problem": self.problem or None,
            "responsible": dict(self.responsible),
            "revision": self.revision,
            "changed_at": self.changed_at.astimezone(tz).isoformat(),
        }


@dataclass(frozen=True, slots=True)
class RoundDeadlines:
    """The open deadlines of a round (of one group, of one unit), by date."""

    round: RoundInfo
    group: str | None  # the group's code as stored, when only its cases are wanted
    unit: str | None  # the unit's code as stored, when only its case is wanted
    unit_name: str | None
    deadlines: tuple[Deadline, ...]

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "round": self.round.to_json(),
            "group": self.group,
            "unit": self.unit,
            "deadlines": [d.to_json(tz) for d in self.deadlines],
        }


@dataclass(frozen=True, slots=True)
class _Scope:
    """The round, and the group and unit (codes as stored) the filters name."""

    round: RoundInfo
    group: str | None
    unit: str | None
    unit_name: str | None

    def holds(self, key: InstanceKey, group: str) -> bool:
        """Whether a case (or an item of it) of `group` is in the scope."""
        return (self.group is None or group == self.group) and (
            self.unit is None or key.unit == self.unit
        )


class DeadlineQueries:
    """Open deadlines, for the calendar feed."""

    def __init__(self, ctx: ReadContext, cases: CaseQueries, items: ItemQueries) -> None:
        self.ctx = ctx
        self.cases = cases
        self.items = items

    def of(
        self, round_code: str, *, group: str | None = None, unit: str | None = None
    ) -> RoundDeadlines:
        """The open deadlines of a round, of one group's cases, of one unit's case; by date.

        An unknown round, group or unit, a unit the round does not inspect, and a unit
        another group inspects are refused.
        """
        with self.ctx.reading() as conn:
            scope = _scope(conn, round_code, group, unit)
            cases = [
                v
                for v in self.cases.in_transaction(conn, round_code=scope.round.code)
                if scope.holds(v.key, v.group)
            ]
            case = None if scope.unit is None else InstanceKey(scope.round.code, scope.unit)
            items = [
                v
                for v in self.items.in_transaction(conn, ItemFilter(case, scope.round.code))
                if scope.holds(v.key, v.group)
            ]
        leaders = {v.key: v.group_leader for v in cases}
        found = [*case_deadlines(cases), *item_deadlines(items, leaders)]
        found.extend(task_deadlines(items, leaders))
        found.sort(key=_order)
        return RoundDeadlines(scope.round, scope.group, scope.unit, scope.unit_name, tuple(found))


def case_deadlines(cases: Iterable[CaseView]) -> Iterable[Deadline]:
    """Each case's current stage, when it has a due date that runs."""
    for view in cases:
        if view.final or view.suspended or view.due_on is None:
            continue
        yield Deadline(
            kind="case",
            key=view.key,
            stage=view.state,
            what=view.state_title,
            due_on=view.due_on,
            provisional=view.provisional,
            unit_name=view.unit_name,
            group=view.group,
            group_leader=view.group_leader,
            inspection=view.definition_title,
            problem="",
            responsible=(),
            revision=view.version,
            changed_at=view.changed_at,
        )


def item_deadlines(
    items: Iterable[ItemView], leaders: Mapping[InstanceKey, str]
) -> Iterable[Deadline]:
    """Each problem's current stage, when it has a due date that runs."""
    for view in items:
        if view.final or view.suspended or view.due_on is None:
            continue
        yield Deadline(
            kind="item",
            key=view.key,
            stage=view.state,
            what=view.state_title,
            due_on=view.due_on,
            provisional=view.provisional,
            unit_name=view.unit_name,
            group=view.group,
            group_leader=leaders.get(view.case, ""),
            inspection=view.kind,
            problem=f"{view.code} {view.title}",
            responsible=(),
            revision=view.version,
            changed_at=view.changed_at,
        )


def task_deadlines(
    items: Iterable[ItemView], leaders: Mapping[InstanceKey, str]
) -> Iterable[Deadline]:
    """Each open task with a due date (the office's own date: never 暂定)."""
    for view in items:
        for task in view.tasks:
            if task.status == "done" or task.due_on is None:
                continue
            yield Deadline(
                kind="task",
                key=view.key.task_key(task.number),
                stage="",
                what=task.measure,
                due_on=task.due_on,
                provisional=False,
                unit_name=view.unit_name,
                group=view.group,
                group_leader=leaders.get(view.case, ""),
                inspection=view.kind,
                problem=f"{view.code} {view.title}",
                responsible=_responsible(task),
                # A task's changes are events of its item: the item's version rises with them.
                revision=view.version,
                changed_at=view.changed_at,
            )


def _responsible(task: TaskView) -> tuple[tuple[str, str], ...]:
    """Who answers for a task, under the ledger's titles; empty ones left out."""
    named = (
        ("责任领导", task.responsible_leader),
        ("牵头部门", task.lead_department),
        ("配合部门", task.cooperating_departments),
        ("责任人", task.responsible_person),
    )
    return tuple((title, who) for title, who in named if who)


def _order(deadline: Deadline) -> tuple[Any, ...]:
    """By date, then cases' stages, problems' stages and tasks, each by key."""
    key = deadline.key
    return (
        deadline.due_on,
        KINDS.index(deadline.kind),
        key.round,
        key.unit,
        key.item or "",
        key.task or 0,
    )


def _scope(conn: Connection, round_code: str, group: str | None, unit: str | None) -> _Scope:
    """The round and the filters, each found (in any case) or refused."""
    info = round_info(conn, round_code)
    group_code = None
    if group is not None:
        found_group = find_group(conn, info.id, group)
        if found_group is None:
            raise NotFound(f"group {group} does not exist in round {info.code}")
        group_code = str(found_group.code)
    if unit is None:
        return _Scope(info, group_code, None, None)
    found_unit = find_unit(conn, unit)
    if found_unit is None:
        raise NotFound(f"unit {unit} does not exist")
    c, g = q.cases, q.groups
    inspected_by = conn.execute(
        select(g.c.code)
        .join(c, c.c.group_id == g.c.id)
        .where(c.c.round_id == info.id, c.c.unit_id == found_unit.id)
    ).scalar_one_or_none()
    if inspected_by is None:
        raise NotFound(f"unit {found_unit.code} is not inspected in round {info.code}")
    if group_code is not None and inspected_by != group_code:
        raise BadInput(
            f"unit {found_unit.code} is inspected by group {inspected_by} "
            f"in round {info.code}, not by {group_code}"
        )
    return _Scope(info, group_code, str(found_unit.code), str(found_unit.name))
