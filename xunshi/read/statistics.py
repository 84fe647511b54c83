"""The leading group's statistics (巡视工作统计): a round's figures per unit, per group and in
total — the work on site (the counted milestones: talks, letters, documents), the problems
found and how their rectification stands, the clues handed over and disposed, the
evaluation grades — and the problems by category and the clues by disposition per group.

Every figure is counted from the records, never typed: void cases, problems and clues are
left out, as everywhere else. A problem is 已销号 in a state tagged `accepted`, 长期整改 in
one tagged `long_term` (and not accepted), 整改中 otherwise; 超期 when its stage or an open
task is past due. 整改完成率 is 已销号 ÷ 发现问题. A clue is 移交 once handed over (it has
a receiver) and 已处置 once its disposition is recorded. 整改成果 (建章立制, 问责人数,
挽回损失) add up the problems' outcomes (their tasks' and their own, each rule once per
problem); 屡改屡犯 counts the problems recurring from an earlier round's. A problem with
several business-domain tags counts once under each in the tag breakdown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from xunshi.read.cases import CaseQueries, CaseView
from xunshi.read.catalog import RoundInfo, round_info
from xunshi.read.context import ReadContext
from xunshi.read.items import ItemFilter, ItemQueries, ItemView
from xunshi.read.overview import counted_milestones
from xunshi.storage import queries as q
from xunshi.workflow.clues import DISPOSITIONS
from xunshi.workflow.outcomes import funds_text

TOTAL = "合计"


@dataclass(frozen=True, slots=True)
class Figures:
    """The figures of a unit, a group or the round: everything adds up across units."""

    units: int = 0
    workload: tuple[int, ...] = ()  # per counted milestone, in `RoundStatistics.workload`'s order
    problems: int = 0
    key_problems: int = 0
    fix_now: int = 0
    accepted: int = 0
    open: int = 0
    long_term: int = 0
    overdue: int = 0
    clues_handed_over: int = 0
    clues_disposed: int = 0
    grades: tuple[int, ...] = ()  # cases per grade, in `RoundStatistics.grades`' order
    rules: int = 0  # 建章立制: rules made or revised (each title once per problem)
    accountable: int = 0  # 问责人数
    funds: int = 0  # 挽回损失, in hundredths of 万元 (exact sums)
    recurring: int = 0  # 屡改屡犯: problems recurring from an earlier round's

    @property
    def completion_rate(self) -> float | None:
        """已销号 ÷ 发现问题 (None without problems)."""
        return None if self.problems == 0 else self.accepted / self.problems

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            units=self.units + other.units,
            workload=_add(self.workload, other.workload),
            problems=self.problems + other.problems,
            key_problems=self.key_problems + other.key_problems,
            fix_now=self.fix_now + other.fix_now,
            accepted=self.accepted + other.accepted,
            open=self.open + other.open,
            long_term=self.long_term + other.long_term,
            overdue=self.overdue + other.overdue,
            clues_handed_over=self.clues_handed_over + other.clues_handed_over,
            clues_disposed=self.clues_disposed + other.clues_disposed,
            grades=_add(self.grades, other.grades),
            rules=self.rules + other.rules,
            accountable=self.accountable + other.accountable,
            funds=self.funds + other.funds,
            recurring=self.recurring + other.recurring,
        )


def _add(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(x + y for x, y in zip(a, b, strict=True))


@dataclass(frozen=True, slots=True)
class StatisticsRow:
    """One row of the main table: a unit (its case), a group's subtotal, or the round's total."""

    level: str  # unit, group, total
    group: str  # the group's code ("" for the total)
    unit: str  # the unit's code ("" for a subtotal or the total)
    unit_name: str
    kind: str  # the case's definition title ("" for a subtotal or the total)
    figures: Figures
    evaluation: str = ""  # a unit's latest 整改评估: `较好 86分`

    @property
    def label(self) -> str:
        """What the first column says: the unit, `G1 小计`, or 合计."""
        if self.level == "total":
            return TOTAL
        if self.level == "group":
            return f"{self.group} 小计"
        return self.unit_name


@dataclass(frozen=True, slots=True)
class Breakdown:
    """A count of something (problems by category, clues by disposition) per group."""

    title: str  # the section's title
    headers: tuple[str, ...]  # what the rows are (`一级类别`, `二级类别`)
    groups: tuple[str, ...]  # the group codes, the columns
    rows: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...]  # (labels, count per group)

    def table(self) -> tuple[tuple[str, ...], list[list[Any]]]:
        """Column titles and rows, each row's counts per group and then their total."""
        columns = (*self.headers, *self.groups, TOTAL)
        rows: list[list[Any]] = [[*labels, *counts, sum(counts)] for labels, counts in self.rows]
        totals = [sum(counts[n] for _, counts in self.rows) for n in range(len(self.groups))]
        rows.append([TOTAL, *[""] * (len(self.headers) - 1), *totals, sum(totals)])
        return columns, rows

    def to_json(self) -> list[dict[str, Any]]:
        """One entry per row: its labels and the count per group."""
        return [
            {
                **dict(zip(self.headers, labels, strict=True)),
                "by_group": dict(zip(self.groups, counts, strict=True)),
                "total": sum(counts),
            }
            for labels, counts in self.rows
        ]


@dataclass(frozen=True, slots=True)
class RoundStatistics:
    """A round's statistics as of a date."""

    round: RoundInfo
    as_of: date
    workload: tuple[str, ...]  # the counted milestones' columns: `个别谈话（人次）`
    grades: tuple[str, ...]  # the evaluation grades the round's lifecycles declare, best first
    rows: tuple[StatisticsRow, ...]  # by group: its units, then its subtotal; the total last
    by_category: Breakdown
    by_tag: Breakdown
    by_disposition: Breakdown
    by_grade: Breakdown

    @property
    def total(self) -> Figures:
        """The round's figures."""
        return self.rows[-1].figures

    def columns(self) -> tuple[str, ...]:
        """The main table's column titles."""
        return (
            "巡视组",
            "单位",
            "巡视类型",
            *self.workload,
            "发现问题",
            "重点问题",
            "立行立改",
            "已销号",
            "整改中",
            "长期整改",
            "超期",
            "整改完成率",
            "移交线索",
            "已处置线索",
            "建章立制（项）",
            "问责人数",
            "挽回损失（万元）",
            "屡改屡犯",
            "整改评估",
        )

    def main_rows(self) -> list[list[Any]]:
        """The main table's rows, as `columns` titles them."""
        return [self._cells(row) for row in self.rows]

    def _cells(self, row: StatisticsRow) -> list[Any]:
        f = row.figures
        if row.level == "unit":
            evaluation = row.evaluation
        else:
            evaluation = "、".join(
                f"{grade} {n}" for grade, n in zip(self.grades, f.grades, strict=True) if n
            )
        return [
            "" if row.level == "total" else row.group,
            row.label,
            row.kind,
            *f.workload,
            f.problems,
            f.key_problems,
            f.fix_now,
            f.accepted,
            f.open,
            f.long_term,
            f.overdue,
            percent(f.completion_rate),
            f.clues_handed_over,
            f.clues_disposed,
            f.rules,
            f.accountable,
            funds_text(f.funds),
            f.recurring,
            evaluation,
        ]

    def sections(self) -> list[tuple[str, tuple[str, ...], list[list[Any]]]]:
        """Every table of the report: (title, column titles, rows)."""
        found = [("巡视工作统计", self.columns(), self.main_rows())]
        for part in (self.by_category, self.by_tag, self.by_disposition, self.by_grade):
            if part.rows:
                columns, rows = part.table()
                found.append((part.title, columns, rows))
        return found

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "round": self.round.to_json(),
            "as_of": self.as_of.isoformat(),
            "workload": list(self.workload),
            "grades": list(self.grades),
            "rows": [self._row_json(row) for row in self.rows],
            "by_category": self.by_category.to_json(),
            "by_tag": self.by_tag.to_json(),
            "by_disposition": self.by_disposition.to_json(),
            "by_grade": self.by_grade.to_json(),
        }

    def _row_json(self, row: StatisticsRow) -> dict[str, Any]:
        f = row.figures
        return {
            "level": row.level,
            "group": row.group or None,
            "unit": row.unit or None,
            "unit_name": row.unit_name or None,
            "kind": row.kind or None,
            "units": f.units,
            "workload": dict(zip(self.workload, f.workload, strict=True)),
            "problems": f.problems,
            "key_problems": f.key_problems,
            "fix_now": f.fix_now,
            "accepted": f.accepted,
            "open": f.open,
            "long_term": f.long_term,
            "overdue": f.overdue,
            "completion_rate": (None if f.completion_rate is None else round(f.completion_rate, 4)),
            "clues_handed_over": f.clues_handed_over,
            "clues_disposed": f.clues_disposed,
            "rules": f.rules,
            "accountable": f.accountable,
            "funds": funds_text(f.funds),
            "recurring": f.recurring,
            "grades": dict(zip(self.grades, f.grades, strict=True)),
            "evaluation": row.evaluation or None,
        }


def percent(rate: float | None) -> str:
    """`85.7%`, or `—` when there is nothing to divide by."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


@dataclass(frozen=True, slots=True)
class _Clue:
    case_id: int
    receiver: str
    disposition: str


class StatisticsQueries:
    """The leading group's statistics of a round."""

    def __init__(self, ctx: ReadContext, cases: CaseQueries, items: ItemQueries) -> None:
        self.ctx = ctx
        self.cases = cases
        self.items = items

    def of(self, round_code: str) -> RoundStatistics:
        """The round's statistics as they stand today."""
        with self.ctx.reading() as conn:
            info = round_info(conn, round_code)
            views = self.cases.in_transaction(conn, round_code=round_code)
            items = self.items.in_transaction(conn, ItemFilter(round_code=round_code))
            by_id = {v.id: v for v in views}
            counted = counted_milestones(self.ctx, conn, by_id)
            clues = _clues(conn, list(by_id))
            grades = self._grades(conn, views)
            workload = self._counted(conn, views, counted)
            categories = _category_order(conn)
            tag_order = _tag_order(conn)
        columns = tuple(f"{title}（{unit}）" for title, unit in workload)
        by_unit: dict[int, list[ItemView]] = {}
        case_of = {(v.key.round, v.key.unit): v.id for v in views}
        for item in items:
            by_unit.setdefault(case_of[(item.key.round, item.key.unit)], []).append(item)
        clues_of: dict[int, list[_Clue]] = {}
        for clue in clues:
            clues_of.setdefault(clue.case_id, []).append(clue)
        groups = tuple(dict.fromkeys(v.group for v in sorted(views, key=_group_order)))
        rows: list[StatisticsRow] = []
        none = Figures(workload=(0,) * len(workload), grades=(0,) * len(grades))
        total = none
        for group in groups:
            subtotal = none
            for view in sorted((v for v in views if v.group == group), key=lambda v: v.key.unit):
                figures = _figures(
                    view,
                    by_unit.get(view.id, []),
                    clues_of.get(view.id, []),
                    tuple(counted.get(view.id, {}).get(key, 0) for key in workload),
                    grades,
                )
                rows.append(
                    StatisticsRow(
                        "unit",
                        group,
                        view.key.unit,
                        view.unit_name,
                        view.definition_title,
                        figures,
                        _evaluation_text(view),
                    )
                )
                subtotal = subtotal + figures
            rows.append(StatisticsRow("group", group, "", "", "", subtotal))
            total = total + subtotal
        rows.append(StatisticsRow("total", "", "", "", "", total))
        group_of = {v.id: v.group for v in views}
        item_group = {i.id: group_of[case_of[(i.key.round, i.key.unit)]] for i in items}
        return RoundStatistics(
            round=info,
            as_of=self.ctx.today(),
            workload=columns,
            grades=grades,
            rows=tuple(rows),
            by_category=_breakdown(
                "问题分类统计",
                ("一级类别", "二级类别"),
                groups,
                ((i.category_l1, i.category_l2) for i in items),
                (item_group[i.id] for i in items),
                categories,
            ),
            by_tag=_breakdown(
                "问题业务领域统计",
                ("业务领域",),
                groups,
                ((tag,) for i in items for tag in i.domain_tags),
                (
                    group_of[case_of[(i.key.round, i.key.unit)]]
                    for i in items
                    for _ in i.domain_tags
                ),
                [(t,) for t in tag_order],
            ),
            by_disposition=_breakdown(
                "问题线索处置统计",
                ("处置方式",),
                groups,
                ((c.disposition,) for c in clues if c.disposition),
                (group_of[c.case_id] for c in clues if c.disposition),
                [(d,) for d in DISPOSITIONS],
            ),
            by_grade=_breakdown(
                "整改评估等次统计",
                ("等次",),
                groups,
                ((v.evaluation.scores.grade,) for v in views if v.evaluation is not None),
                (v.group for v in views if v.evaluation is not None),
                [(g,) for g in grades],
            ),
        )

    def _counted(
        self,
        conn: Connection,
        views: Sequence[CaseView],
        counted: dict[int, dict[tuple[str, str], int]],
    ) -> tuple[tuple[str, str], ...]:
        """The counted milestones (title, unit) the round's lifecycles declare, in their
        order, then any recorded under a version no longer declaring them."""
        declared = [
            (m.title, m.count)
            for view in views
            for state in self.ctx.definition(conn, view.definition, view.definition_version).states
            for m in state.milestones
            if m.count
        ]
        recorded = [key for case_id in sorted(counted) for key in counted[case_id]]
        return tuple(dict.fromkeys([*declared, *recorded]))

    def _grades(self, conn: Connection, views: Sequence[CaseView]) -> tuple[str, ...]:
        """The grades the round's lifecycles declare, best first (first declared first)."""
        found: dict[str, int] = {}
        for view in views:
            evaluation = self.ctx.definition(
                conn, view.definition, view.definition_version
            ).evaluation
            if evaluation is None:
                continue
            for grade, floor in evaluation.grades:
                found.setdefault(grade, floor)
        for view in views:  # a grade recorded under a version no longer declaring it
            if view.evaluation is not None:
                found.setdefault(view.evaluation.scores.grade, -1)
        return tuple(sorted(found, key=lambda g: -found[g]))


def _group_order(view: CaseView) -> tuple[str, str]:
    return (view.group, view.key.unit)


def _figures(
    view: CaseView,
    items: Sequence[ItemView],
    clues: Sequence[_Clue],
    workload: tuple[int, ...],
    grades: tuple[str, ...],
) -> Figures:
    accepted = sum("accepted" in i.tags for i in items)
    long_term = sum("long_term" in i.tags and "accepted" not in i.tags for i in items)
    grade = None if view.evaluation is None else view.evaluation.scores.grade
    return Figures(
        units=1,
        workload=workload,
        problems=len(items),
        key_problems=sum(i.key_problem for i in items),
        fix_now=sum(i.fix_now for i in items),
        accepted=accepted,
        open=len(items) - accepted - long_term,
        long_term=long_term,
        overdue=sum(i.overdue for i in items),
        clues_handed_over=sum(bool(c.receiver) for c in clues),
        clues_disposed=sum(bool(c.disposition) for c in clues),
        grades=tuple(int(g == grade) for g in grades),
        rules=sum(len(i.outcome.rules) for i in items),
        accountable=sum(i.outcome.accountable for i in items),
        funds=sum(i.outcome.funds for i in items),
        recurring=sum(i.recurs_from is not None for i in items),
    )


def _evaluation_text(view: CaseView) -> str:
    if view.evaluation is None:
        return ""
    scores = view.evaluation.scores
    return f"{scores.grade} {scores.score}分"


def _breakdown(
    title: str,
    headers: tuple[str, ...],
    groups: tuple[str, ...],
    labels: Iterable[tuple[str, ...]],
    owners: Iterable[str],
    order: Sequence[tuple[str, ...]],
) -> Breakdown:
    """Count `labels` per group (`owners` pairs with them), rows in `order`, others after."""
    counts: dict[tuple[str, ...], list[int]] = {}
    for label, group in zip(labels, owners, strict=True):
        counts.setdefault(label, [0] * len(groups))[groups.index(group)] += 1
    rank = {label: n for n, label in enumerate(order)}
    rows = sorted(counts, key=lambda label: (rank.get(label, len(rank)), label))
    return Breakdown(title, headers, groups, tuple((r, tuple(counts[r])) for r in rows))


def _clues(conn: Connection, case_ids: list[int]) -> list[_Clue]:
    """The cases' clues that are not void: their case, receiver and disposition."""
    cl, i = q.clues, q.instances
    found: list[_Clue] = []
    for start in range(0, len(case_ids), 500):
        rows = conn.execute(
            select(cl.c.case_id, cl.c.receiver, cl.c.disposition)
            .join(i, i.c.id == cl.c.id)
            .where(cl.c.case_id.in_(case_ids[start : start + 500]))
            .where(i.c.voided.is_(False))
            .order_by(cl.c.case_id, cl.c.code)
        )
        found.extend(_Clue(r.case_id, r.receiver or "", r.disposition or "") for r in rows)
    return found


def _category_order(conn: Connection) -> list[tuple[str, ...]]:
    """The office's category list, in its order."""
    c = q.categories
    rows = conn.execute(select(c.c.level1, c.c.level2).order_by(c.c.position, c.c.id))
    return [(row.level1, row.level2) for row in rows]


def _tag_order(conn: Connection) -> list[str]:
    """The office's tag list (业务领域), in its order."""
    t = q.tags
    return list(conn.execute(select(t.c.name).order_by(t.c.position, t.c.id)).scalars())
