"""The rectification ledger (整改台账): one row per task, the columns offices use.

The rows are built here; `xunshi.reports.ledger` writes them to files.

Every item appears: an item without tasks (no measure made yet) is one row whose measure
columns are empty, 整改状态 `未制定措施` and 预警 empty (the light is a measure's deadline;
a late item stage shows in 备注 as 问题阶段超期). So the ledger counts the same problems as
the thematic view.

整改成果 (建章立制（项）, 制度名称, 问责人数, 挽回损失（万元）) are the problem's: its tasks'
and its own outcomes added up, each rule once; they fill its first row only (its other rows
leave them empty), so that a column's sum is the round's. 屡改屡犯 names the earlier round's
problem it recurs from, on every row of the problem like its other facts.
业务领域 is the item's tags (、 between them); 共性问题 is computed (see `read.common`).

Warning light (预警): 红 — the task is open and past its due date; 黄 — open and due within
five working days; 绿 — done, long-term, or due later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from xunshi.keys import Reference, reference
from xunshi.read.catalog import RoundInfo, round_info
from xunshi.read.context import ReadContext
from xunshi.read.extensions import extension_summary
from xunshi.read.items import ItemFilter, ItemQueries, ItemView, TaskView
from xunshi.storage import queries as q
from xunshi.storage.types import UTCDateTime
from xunshi.workflow.calendar import Calendar
from xunshi.workflow.resolve import resolve_case

COLUMNS: tuple[str, ...] = (
    "序号",
    "轮次",
    "巡视组",
    "被巡视单位",
    "巡视类型",
    "问题",
    "具体表现",
    "一级类别",
    "二级类别",
    "业务领域",
    "重点问题",
    "共性问题",
    "立行立改",
    "问题根源",
    "整改措施",
    "责任领导",
    "牵头部门",
    "责任人",
    "完成时限",
    "原定完成时限",
    "延期情况",
    "整改状态",
    "整改进展",
    "佐证材料",
    "完成时间",
    "验收情况",
    "销号时间",
    "预警",
    "备注",
    # 整改成果 and 屡改屡犯 (issue #10), after every earlier column
    "建章立制（项）",
    "制度名称",
    "问责人数",
    "挽回损失（万元）",
    "屡改屡犯",
)
NO_MEASURE = "未制定措施"  # 整改状态 of an item without tasks
YELLOW_WORKING_DAYS = 5

Row = dict[str, Any]  # one ledger row, by column title


@dataclass(frozen=True, slots=True)
class Ledger:
    """The ledger of a round (or one case) on a date: one row per task (or task-less item)."""

    round: RoundInfo
    as_of: date
    rows: tuple[Row, ...]
    unit_name: str | None = None  # the unit, when the ledger is of one case

    def to_json(self) -> list[dict[str, Any]]:
        """The `--json` shape: the rows, dates as ISO text."""
        return [
            {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()}
            for row in self.rows
        ]


class LedgerQueries:
    """The rectification ledger."""

    def __init__(self, ctx: ReadContext, items: ItemQueries) -> None:
        self.ctx = ctx
        self.items = items

    def of(self, round_code: str, case: str | Reference | None = None) -> Ledger:
        """The ledger rows of a round (or of one case in it), by unit, item and task."""
        with self.ctx.reading() as conn:
            info = round_info(conn, round_code)
            unit_name = None if case is None else _unit_name(conn, case)
            views = self.items.in_transaction(conn, ItemFilter(case, round_code))
            accepted_on = self._accepted_dates(conn, views)
            cal = self.ctx.calendar(conn)
        today = self.ctx.today()
        rows: list[Row] = []
        for view in views:
            closed_on = _closed_on(view, accepted_on)
            for n, task in enumerate(view.tasks or (None,)):
                row = _row(len(rows) + 1, view, task, closed_on, cal, today)
                rows.append(row | _outcome_values(view, first=n == 0))
        return Ledger(info, today, tuple(rows), unit_name)

    def _accepted_dates(self, conn: Connection, views: list[ItemView]) -> dict[int, date]:
        """When each item was last accepted (销号): entered a state tagged `accepted`."""
        accepting: dict[int, frozenset[str]] = {}
        for view in views:
            defn = self.ctx.definition(conn, view.definition, view.definition_version)
            accepting[view.id] = defn.tagged("accepted")
        states = sorted(set().union(*accepting.values())) if accepting else []
        if not states:
            return {}
        e = q.events
        item_ids = list(accepting)
        found: dict[int, date] = {}
        for start in range(0, len(item_ids), 500):
            chunk = item_ids[start : start + 500]
            rows = conn.execute(
                select(
                    e.c.instance_id,
                    e.c.from_state,
                    e.c.to_state,
                    func.max(e.c.occurred_at, type_=UTCDateTime()),
                )
                .where(
                    e.c.instance_id.in_(chunk), e.c.kind == "transition", e.c.to_state.in_(states)
                )
                .group_by(e.c.instance_id, e.c.from_state, e.c.to_state)
            )
            for instance_id, from_state, to_state, occurred in rows:
                # Accepted is entered from elsewhere; moving on among accepted states (归档)
                # does not change the 销号 date.
                accepted = accepting[instance_id]
                if to_state not in accepted or from_state in accepted:
                    continue
                on = self.ctx.business_date(occurred)
                found[instance_id] = max(on, found.get(instance_id, on))
        return found


def _unit_name(conn: Connection, case: str | Reference) -> str:
    """The name of the unit a case inspects."""
    ref = resolve_case(conn, reference(case, "case"))
    c, u = q.cases, q.units
    found: str = conn.execute(
        select(u.c.name).join(c, c.c.unit_id == u.c.id).where(c.c.id == ref.id)
    ).scalar_one()
    return found


def _row(
    number: int,
    view: ItemView,
    task: TaskView | None,
    accepted_on: date | None,
    cal: Calendar,
    today: date,
) -> Row:
    """A task's row, or (`task` None) the row of an item without tasks."""
    remarks = [f"问题状态：{view.state_title}"]
    if task is not None and task.cooperating_departments:
        remarks.append(f"配合部门：{task.cooperating_departments}")
    if view.stage_overdue and (task is None or not task.overdue):
        remarks.append("问题阶段超期")
    values: list[Any] = [
        number,
        view.round,
        view.group,
        view.unit_name,
        view.kind,
        f"{view.code} {view.title}",
        view.manifestations,
        view.category_l1,
        view.category_l2,
        "、".join(view.domain_tags),
        _yes(view.key_problem),
        _yes(view.common_problem),
        _yes(view.fix_now),
        view.root_cause,
        *_task_values(task),
        _acceptance(view),
        accepted_on,
        "" if task is None else light(task, cal, today),
        "；".join(remarks),
    ]
    return dict(zip(COLUMNS[: len(values)], values, strict=True))


def _outcome_values(view: ItemView, *, first: bool) -> Row:
    """建章立制 … 屡改屡犯: the problem's outcome on its first row, its earlier problem on
    every row."""
    outcome = view.outcome
    recurs = "" if view.recurs_from is None else str(view.recurs_from)
    figures: list[Any] = (
        [
            len(outcome.rules),
            "".join(f"《{title}》" for title in outcome.rules),
            outcome.accountable,
            _wan(outcome.funds),
        ]
        if first
        else [None, "", None, None]
    )
    return dict(zip(COLUMNS[-5:], [*figures, recurs], strict=True))


def _task_values(task: TaskView | None) -> list[Any]:
    """整改措施 … 完成时间: the task's, or empty ones and `未制定措施` without a task.

    原定完成时限 is the due date before the first approved extension (empty when never
    extended), 延期情况 what became of the latest request."""
    if task is None:
        return ["", "", "", "", None, None, "", NO_MEASURE, "", "", None]
    return [
        task.measure,
        task.responsible_leader,
        task.lead_department,
        task.responsible_person,
        "长期" if task.long_term else task.due_on,
        task.original_due,
        extension_summary(task.extensions),
        _status(task),
        task.progress,
        task.evidence,
        task.completed_on,
    ]


def _closed_on(view: ItemView, accepted_on: dict[int, date]) -> date | None:
    """The 销号 date while the item is closed (a reopened item has none until accepted again)."""
    return accepted_on.get(view.id) if "accepted" in view.tags else None


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def _status(task: TaskView) -> str:
    if task.status == "done":
        return "已完成"
    if task.long_term:
        return "长期坚持"
    return "超期未完成" if task.overdue else "整改中"


def light(task: TaskView, cal: Calendar, today: date) -> str:
    """红 overdue, 黄 due within five working days, 绿 otherwise."""
    if task.status == "done" or task.due_on is None:
        return "绿"
    if today > task.due_on:
        return "红"
    if cal.count_working_days(today, task.due_on) <= YELLOW_WORKING_DAYS:
        return "黄"
    return "绿"


def _acceptance(view: ItemView) -> str:
    """Accepted (a state tagged `accepted`), or the acceptance recorded so far (`acceptance`)."""
    if "accepted" in view.tags:
        return "三方验收通过"
    if "acceptance" not in view.tags:
        return ""
    return " ".join(
        f"{title}{'✓' if name in view.milestones else '…'}"
        for name, title in view.declared_milestones
    )


def _wan(hundredths: int) -> int | float:
    """Funds in 万元 as a number a sheet adds up: 3, 12.5, 0.07 (hundredths of 万元 in)."""
    return hundredths // 100 if hundredths % 100 == 0 else hundredths / 100
