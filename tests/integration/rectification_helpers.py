"""Helpers of the rectification tests: a round with cases, a category list, items and tasks.

Imported by the tests of this folder as `rectification_helpers` (pytest puts the folder on
`sys.path`). Everything works on any backend: the tests hand in an `App` and its clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from worlds import World

from xunshi.bootstrap import App
from xunshi.keys import parse_reference
from xunshi.services.commands import ItemFacts, TaskFacts
from xunshi.services.results import TaskChange
from xunshi.storage import queries as q
from xunshi.workflow.audit import Event
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.resolve import InstanceRef, resolve_item

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROUND = "2024-R1"
OFFICE = "王主任"  # 巡视办
LEADER = "张组长"  # 巡视组组长
LIAISON = "李联络员"  # 被巡视单位联络员

CATEGORIES_YAML = """\
categories:
  党的建设:
    - 政治建设
    - 组织建设
  全面从严治党:
    - 作风建设
    - 廉洁纪律
  业务工作:
    - 财务管理
"""
# The list above, in the office's order.
CATEGORIES: tuple[tuple[str, str], ...] = (
    ("党的建设", "政治建设"),
    ("党的建设", "组织建设"),
    ("全面从严治党", "作风建设"),
    ("全面从严治党", "廉洁纪律"),
    ("业务工作", "财务管理"),
)
TAGS_YAML = """\
tags:
  - 承包商管理
  - 合同资产管理
  - 工程余料管理
"""
CONTRACTORS, CONTRACTS, SURPLUS = "承包商管理", "合同资产管理", "工程余料管理"
POLITICS = "党的建设/政治建设"
ORGANISATION = "党的建设/组织建设"
STYLE = "全面从严治党/作风建设"
INTEGRITY = "全面从严治党/廉洁纪律"
FINANCE = "业务工作/财务管理"

# The acceptance of `submitted`: milestone → the one role that may record it (the party
# secretary signs the application; the office and the discipline inspection group review it).
ACCEPTANCE: tuple[tuple[str, str], ...] = (
    ("secretary_signed", "party_secretary"),
    ("office_accepted", "office"),
    ("discipline_accepted", "discipline_group"),
)
ACTOR_OF = {
    "office": OFFICE,
    "group_leader": LEADER,
    "unit_liaison": LIAISON,
    "party_secretary": "王书记",
    "discipline_group": "纪检监察组赵组长",
}


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant given in business time (Asia/Shanghai)."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def task_facts(
    due_on: date | None = None,
    *,
    long_term: bool = False,
    measure: str = "建立健全制度",
    leader: str = "赵副局长",
    department: str = "办公室",
    person: str = "钱科长",
    cooperating: str = "",
) -> TaskFacts:
    """A measure with who answers for it."""
    return TaskFacts(
        measure=measure,
        responsible_leader=leader,
        lead_department=department,
        responsible_person=person,
        cooperating_departments=cooperating,
        due_on=due_on,
        long_term=long_term,
    )


class Rectifying:
    """Round `2024-R1` with group `G1`, the category list above; cases and items on demand."""

    def __init__(self, app: App, clock: ManualClock) -> None:
        self.app = app
        self.clock = clock
        self.world = World(app, clock)
        self.svc = app.services.items
        self.svc.load_categories(CATEGORIES_YAML, "categories.yaml")
        self.svc.load_tags(TAGS_YAML, "tags.yaml")

    def case(
        self, unit: str = "U01", name: str | None = None, *, stage: str = "rectification"
    ) -> str:
        """Add unit `unit` (named `name`), start its regular case and move it (at once) into
        `stage`, where problems may be added (整改; on-site for 立行立改); its key."""
        self.app.services.cases.add_unit(unit, name or f"单位{unit}")
        self.app.services.cases.start_case(
            round_code=ROUND, unit_code=unit, group_code="G1", definition="regular", actor=OFFICE
        )
        key = f"{ROUND}/{unit}"
        self.world.drive_to(key, stage)
        return key

    def item(
        self,
        unit: str,
        code: str,
        category: str = POLITICS,
        *,
        title: str | None = None,
        key_problem: bool = False,
        tags: Sequence[str] = (),
        fix_now: bool = False,
        source: str = "inspection",
    ) -> str:
        """Add item `code` to the unit's case; its key `2024-R1/UNIT/CODE`."""
        self.svc.add_item(
            f"{ROUND}/{unit}",
            ItemFacts(
                code=code,
                title=title or f"问题{code}",
                category=category,
                manifestations=f"{code}的具体表现",
                key_problem=key_problem,
                fix_now=fix_now,
                root_cause=f"{code}的问题根源",
                source=source,
                tags=tuple(tags),
            ),
            actor=OFFICE,
        )
        return f"{ROUND}/{unit}/{code}"

    def task(self, item: str, due_on: date | None = None, **facts: Any) -> TaskChange:
        """Add a task to `item` (as the unit liaison); due `due_on`, else long-term."""
        return self.svc.add_task(
            item,
            task_facts(due_on, long_term=due_on is None, **facts),
            actor=LIAISON,
            role="unit_liaison",
        )

    def fire(self, item: str, trigger: str, role: str) -> str:
        """Fire `trigger` on `item` in `role`; the state it is in afterwards."""
        outcome = self.svc.fire(item, trigger, actor=ACTOR_OF.get(role, "某人"), role=role)
        return outcome.instance.state

    def milestone(self, item: str, name: str, role: str) -> None:
        """Record milestone `name` of the item's stage in `role`."""
        self.svc.record_milestone(item, name, actor=ACTOR_OF.get(role, "某人"), role=role)

    def done(self, task: str, evidence: str = "制度文件") -> None:
        """Complete task `task` (as the unit liaison)."""
        self.svc.complete_task(task, evidence=evidence, actor=LIAISON, role="unit_liaison")

    def begin(self, item: str) -> None:
        """identified → planned → rectifying."""
        self.fire(item, "plan", "unit_liaison")
        self.fire(item, "begin", "unit_liaison")

    def submit_all(self, item: str) -> None:
        """Complete every open task of a rectifying item, then submit it."""
        for view_task in self.view(item).tasks:
            if view_task.status != "done":
                self.done(str(view_task.id))
        self.fire(item, "submit", "unit_liaison")

    def accept_submitted(self, item: str) -> None:
        """Record the three-party acceptance of a submitted item and accept it."""
        for name, role in ACCEPTANCE:
            self.milestone(item, name, role)
        self.fire(item, "accept", "office")

    def accept(self, item: str) -> None:
        """From rectifying: complete the tasks, submit, three-party acceptance, accept."""
        self.submit_all(item)
        self.accept_submitted(item)

    def view(self, item: str) -> Any:
        """The item's ItemView."""
        return self.app.services.read.items.one(item)

    def ref(self, item: str) -> InstanceRef:
        """The item's InstanceRef."""
        with self.app.db.transaction() as conn:
            return resolve_item(conn, parse_reference(item, "item"))

    def history(self, item: str) -> list[Event]:
        """The item's history."""
        return list(self.app.services.read.history.of(item, "item").events)

    def state(self, item: str) -> str:
        """The item's state."""
        return str(self.view(item).state)

    def advance(self, delta: timedelta = timedelta(hours=1)) -> None:
        """Move the clock on."""
        self.clock.advance(delta)

    def close_case_ready(self, case: str) -> None:
        """Carry `case` from 集中整改 (where `case()` put it) into 常态化整改."""
        self.world.close_case_ready(case)

    def close_case(self, case: str) -> None:
        """From 常态化整改 or 整改评估: on to 整改评估 (settled items required), evaluate, close."""
        self.world.close_case(case)

    def sql(self, statement: str, **params: Any) -> None:
        """Run one statement (to tamper with the database), committed."""
        with self.app.db.transaction() as conn:
            conn.execute(text(statement), params)


def event_summary(events: Sequence[Event]) -> list[tuple[int, str, str | None, str | None]]:
    """(seq, kind, trigger, to) of each event."""
    return [(e.seq, e.kind, e.trigger, e.to_state) for e in events]


def task_rows(app: App, item_id: int) -> list[dict[str, Any]]:
    """The stored tasks of an item, by number."""
    t = q.tasks
    with app.db.transaction() as conn:
        rows = conn.execute(select(t).where(t.c.item_id == item_id).order_by(t.c.number))
        return [dict(row._mapping) for row in rows]


def sweep(app: App, label: str) -> list[tuple[int, int, date]]:
    """One sweep at the clock's now; (task id, level, due date) of what it raised for `label`.

    The case's own stage escalations (its `regular` ladder) are left out.
    """
    raised = app.sweeper.sweep().raised
    return [(r.task_id, r.level, r.due_on) for r in raised if r.label == label]
