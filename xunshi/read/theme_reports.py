"""Thematic reports (专题报告): a theme's problem across units, its responsible department,
its mechanism measures, and the totals — what `theme list|show` and `report theme` show.

A theme takes in the round's live items that carry one of its tags, or are in one of its
categories, or were linked to it by hand (`theme link`): the union of the three. Per item:
accepted (销号: a state tagged `accepted`), long-term (a state tagged `long_term`, not
accepted) or open (everything else), as in the thematic view by category.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from xunshi.errors import NotFound
from xunshi.read.catalog import RoundInfo, round_info
from xunshi.read.context import ReadContext
from xunshi.read.items import ItemFilter, ItemQueries, ItemView
from xunshi.storage import queries as q

ITEM_COLUMNS: tuple[str, ...] = (
    "序号",
    "被巡视单位",
    "问题编号",
    "问题",
    "问题类别",
    "业务领域",
    "共性问题",
    "问题状态",
    "是否销号",
    "未完成措施",
    "已完成措施",
    "纳入方式",
)
MEASURE_COLUMNS: tuple[str, ...] = ("序号", "机制措施", "状态")
TOTAL_COLUMNS: tuple[str, ...] = ("涉及单位", "问题数", "已销号", "未销号", "长期整改")


@dataclass(frozen=True, slots=True)
class ThemeMeasure:
    """A mechanism measure (建章立制, 长效机制) and its status."""

    number: int
    text: str
    status: str

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {"number": self.number, "text": self.text, "status": self.status}


@dataclass(frozen=True, slots=True)
class ThemeItem:
    """One item of a theme: where it is, what it is, how far its rectification is."""

    view: ItemView
    ways: tuple[str, ...]  # 标签 / 类别 / 指定: how the theme takes it in

    @property
    def accepted(self) -> bool:
        """销号: in a state tagged `accepted`."""
        return "accepted" in self.view.tags

    @property
    def long_term(self) -> bool:
        """In a state tagged `long_term` and not accepted."""
        return "long_term" in self.view.tags and not self.accepted

    @property
    def tasks_done(self) -> int:
        """Its tasks done."""
        return sum(t.status == "done" for t in self.view.tasks)

    @property
    def tasks_open(self) -> int:
        """Its tasks not done."""
        return len(self.view.tasks) - self.tasks_done

    def cells(self, number: int) -> list[Any]:
        """The row of `ITEM_COLUMNS`."""
        v = self.view
        return [
            number,
            v.unit_name,
            str(v.key),
            v.title,
            f"{v.category_l1}/{v.category_l2}",
            "、".join(v.domain_tags),
            "是" if v.common_problem else "否",
            v.state_title,
            "是" if self.accepted else "否",
            self.tasks_open,
            self.tasks_done,
            "、".join(self.ways),
        ]

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        v = self.view
        return {
            "unit": v.unit,
            "unit_name": v.unit_name,
            "item": str(v.key),
            "title": v.title,
            "category": f"{v.category_l1}/{v.category_l2}",
            "tags": list(v.domain_tags),
            "common_problem": v.common_problem,
            "state": v.state,
            "state_title": v.state_title,
            "accepted": self.accepted,
            "long_term": self.long_term,
            "tasks_open": self.tasks_open,
            "tasks_done": self.tasks_done,
            "linked_by": list(self.ways),
        }


@dataclass(frozen=True, slots=True)
class ThemeTotals:
    """A theme's totals: units, items, accepted, open, long-term."""

    units: int
    items: int
    accepted: int
    open: int
    long_term: int

    def cells(self) -> list[int]:
        """The row of `TOTAL_COLUMNS`."""
        return [self.units, self.items, self.accepted, self.open, self.long_term]

    def to_json(self) -> dict[str, int]:
        """The `--json` shape."""
        names = ("units", "items", "accepted", "open", "long_term")
        return dict(zip(names, self.cells(), strict=True))


@dataclass(frozen=True, slots=True)
class ThemeReport:
    """A theme on a date: what it takes in, its items by unit, its measures, its totals."""

    round: RoundInfo
    as_of: date
    code: str
    title: str
    department: str
    tags: tuple[str, ...]
    categories: tuple[str, ...]
    linked: tuple[str, ...]  # the items linked by hand, as keys
    items: tuple[ThemeItem, ...]
    measures: tuple[ThemeMeasure, ...]

    @property
    def totals(self) -> ThemeTotals:
        """Units, items, accepted, open, long-term."""
        accepted = sum(i.accepted for i in self.items)
        long_term = sum(i.long_term for i in self.items)
        return ThemeTotals(
            units=len({i.view.unit for i in self.items}),
            items=len(self.items),
            accepted=accepted,
            open=len(self.items) - accepted - long_term,
            long_term=long_term,
        )

    @property
    def measures_done(self) -> int:
        """Measures whose status is 已完成."""
        return sum(m.status == "已完成" for m in self.measures)

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "round": self.round.code,
            "as_of": self.as_of.isoformat(),
            "code": self.code,
            "title": self.title,
            "department": self.department,
            "tags": list(self.tags),
            "categories": list(self.categories),
            "linked": list(self.linked),
            "items": [i.to_json() for i in self.items],
            "measures": [m.to_json() for m in self.measures],
            "totals": self.totals.to_json(),
        }


class ThemeReportQueries:
    """Themes of a round and their reports."""

    def __init__(self, ctx: ReadContext, items: ItemQueries) -> None:
        self.ctx = ctx
        self.items = items

    def of(self, round_code: str, code: str) -> ThemeReport:
        """The report of theme `code` of the round."""
        with self.ctx.reading() as conn:
            info = round_info(conn, round_code)
            t = q.themes
            theme_id = conn.execute(
                select(t.c.id).where(
                    t.c.round_id == info.id, func.lower(t.c.code) == code.strip().lower()
                )
            ).scalar_one_or_none()
            if theme_id is None:
                raise NotFound(f"theme {code} does not exist in round {info.code}")
            views = self.items.in_transaction(conn, ItemFilter(round_code=info.code))
            return self._report(conn, info, int(theme_id), views)

    def many(self, round_code: str) -> list[ThemeReport]:
        """Every theme of the round, by code."""
        with self.ctx.reading() as conn:
            info = round_info(conn, round_code)
            t = q.themes
            ids = conn.execute(
                select(t.c.id).where(t.c.round_id == info.id).order_by(t.c.code)
            ).scalars()
            views = self.items.in_transaction(conn, ItemFilter(round_code=info.code))
            return [self._report(conn, info, int(i), views) for i in list(ids)]

    def _report(
        self, conn: Connection, info: RoundInfo, theme_id: int, views: list[ItemView]
    ) -> ThemeReport:
        t, tt, tc, ti, tm = (
            q.themes,
            q.theme_tags,
            q.theme_categories,
            q.theme_items,
            q.theme_measures,
        )
        theme = conn.execute(
            select(t.c.code, t.c.title, t.c.department).where(t.c.id == theme_id)
        ).one()
        tags = tuple(
            conn.execute(
                select(q.tags.c.name)
                .join(tt, tt.c.tag_id == q.tags.c.id)
                .where(tt.c.theme_id == theme_id)
                .order_by(q.tags.c.position, q.tags.c.id)
            ).scalars()
        )
        cat = q.categories
        categories = tuple(
            f"{row.level1}/{row.level2}"
            for row in conn.execute(
                select(cat.c.level1, cat.c.level2)
                .join(tc, tc.c.category_id == cat.c.id)
                .where(tc.c.theme_id == theme_id)
                .order_by(cat.c.position, cat.c.id)
            )
        )
        linked_ids = set(
            conn.execute(select(ti.c.item_id).where(ti.c.theme_id == theme_id)).scalars()
        )
        members = []
        for view in views:
            ways = []
            if set(view.domain_tags) & set(tags):
                ways.append("标签")
            if f"{view.category_l1}/{view.category_l2}" in categories:
                ways.append("类别")
            if view.id in linked_ids:
                ways.append("指定")
            if ways:
                members.append(ThemeItem(view, tuple(ways)))
        measures = tuple(
            ThemeMeasure(row.number, row.text, row.status)
            for row in conn.execute(
                select(tm.c.number, tm.c.text, tm.c.status)
                .where(tm.c.theme_id == theme_id)
                .order_by(tm.c.number)
            )
        )
        linked = tuple(str(v.key) for v in views if v.id in linked_ids)
        return ThemeReport(
            round=info,
            as_of=self.ctx.today(),
            code=theme.code,
            title=theme.title,
            department=theme.department,
            tags=tags,
            categories=categories,
            linked=linked,
            items=tuple(members),
            measures=measures,
        )
