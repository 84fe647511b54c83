"""A problem list on the populated desk (`desk_harness`): the three cases driven into 集中整改,
items with tasks in each unit, one item awaiting its acceptance (销号), an overdue task that
has escalated, a registered clue, and a second round nobody outside the office sees a case of.

Built on top of `desk_harness.populate` (which stays as it is): `with_items(desk)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from desk_harness import ROUND, Desk
from forward import forward_path

from xunshi.services.commands import ItemFacts, TaskFacts

OTHER_ROUND = "2025-R1"
CATEGORIES_YAML = """\
categories:
  党的建设:
    - 政治建设
    - 组织建设
  业务工作:
    - 财务管理
"""
ITEM_U01 = f"{ROUND}/U01/P01"  # 某某电力公司 (G1): one open task
ACCEPTING = f"{ROUND}/U01/P02"  # 某某电力公司: every task done, 申请销号
ITEM_U02 = f"{ROUND}/U02/P01"  # 某某港务集团 (G1): task #1 open, #2 overdue
ITEM_U03 = f"{ROUND}/U03/P01"  # the unit named <script>… (G2): one open task
DUE = date(2024, 12, 31)
EARLY_DUE = date(2024, 9, 3)  # task #2 of ITEM_U02: overdue and escalated
# When the escalations were swept (the clock stays there): 2024-09-25 09:00 in Shanghai.
SWEPT_AFTER = timedelta(days=23)


@dataclass(frozen=True, slots=True)
class Place:
    """An item by its codes, and the paths of its page and API."""

    round: str
    unit: str
    code: str

    @classmethod
    def of(cls, key: str) -> Place:
        """`2024-R1/U01/P01` → its place."""
        round_code, unit, code = key.split("/")
        return cls(round_code, unit, code)

    @property
    def page(self) -> str:
        """The item page."""
        return f"/items/{self.round}/{self.unit}/{self.code}"

    def action(self, number: int, name: str) -> str:
        """The address a task form posts to."""
        return f"{self.page}/tasks/{number}/{name}"


def task_facts(due_on: date, measure: str) -> TaskFacts:
    """A dated measure with who answers for it."""
    return TaskFacts(
        measure=measure,
        responsible_leader="赵副总经理",
        lead_department="财务部",
        cooperating_departments="审计部",
        responsible_person="钱科长",
        due_on=due_on,
    )


def item_facts(code: str, title: str, category: str = "党的建设/政治建设") -> ItemFacts:
    """A problem of the list."""
    return ItemFacts(
        code=code,
        title=title,
        category=category,
        manifestations=f"{title}的具体表现",
        root_cause=f"{title}的根源",
    )


def drive_to_rectification(desk: Desk, case: str) -> None:
    """Move a regular case along its forward path into 集中整改 (rectification)."""
    cases = desk.app.services.cases
    for step in forward_path():
        if step.stage == "rectification":
            return
        for need in step.needs:
            count = 12 if need.counted else None
            cases.record_milestone(case, need.name, actor="张组长", role=need.role, count=count)
        if step.evaluation is not None:
            raise AssertionError("no evaluation before rectification")
        cases.fire(case, step.trigger, actor="张组长", role=step.role)
    raise AssertionError("rectification is not on the forward path")


def with_items(desk: Desk) -> Desk:
    """Give the desk its problem list, escalations, a clue and a second round."""
    services = desk.app.services
    items = services.items
    items.load_categories(CATEGORIES_YAML, "categories.yaml")
    for unit in ("U01", "U02", "U03"):
        drive_to_rectification(desk, f"{ROUND}/{unit}")
    office = {"actor": "李明", "role": "office"}
    for key, title, category in (
        (ITEM_U01, "三重一大决策制度执行不到位", "党的建设/政治建设"),
        (ACCEPTING, "基层党组织换届不及时", "党的建设/组织建设"),
        (ITEM_U02, "财务报销审核不严", "业务工作/财务管理"),
        (ITEM_U03, "干部选拔程序不规范", "党的建设/组织建设"),
    ):
        place = Place.of(key)
        items.add_item(
            f"{place.round}/{place.unit}", item_facts(place.code, title, category), **office
        )
        items.add_task(key, task_facts(DUE, f"{title}：建立健全制度"), **office)
        items.fire(key, "plan", **office)
        items.fire(key, "begin", **office)
    items.add_task(ITEM_U02, task_facts(EARLY_DUE, "追回违规报销款项"), **office)
    # ACCEPTING: its task done, the application submitted by the party secretary.
    items.complete_task(
        f"{ACCEPTING}#1", evidence="换届选举材料", actor="孙书记", role="party_secretary"
    )
    items.fire(ACCEPTING, "submit", actor="孙书记", role="party_secretary")
    services.clues.add_clue(
        f"{ROUND}/U01",
        code="C01",
        summary="某项目招标存在围标串标迹象",
        actor="李明",
        role="office",
    )
    services.cases.create_round(OTHER_ROUND, "2025年第一轮巡视", date(2025, 3, 3))
    desk.clock.advance(SWEPT_AFTER)
    desk.app.sweeper.sweep()
    return desk
