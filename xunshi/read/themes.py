"""The thematic view (专题): problems across units by category, for the office's thematic
reports — so that a problem seen in many units is fixed as a class, with a mechanism."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from xunshi.read.catalog import RoundInfo, round_info
from xunshi.read.context import ReadContext
from xunshi.read.items import ItemFilter, ItemQueries
from xunshi.storage import queries as q

COLUMNS: tuple[str, ...] = (
    "一级类别",
    "二级类别",
    "涉及单位数",
    "问题数",
    "重点问题",
    "共性问题",
    "已销号",
    "长期整改",
    "未销号",
    "超期",
    "屡改屡犯",
    "涉及单位",
)


@dataclass(frozen=True, slots=True)
class Theme:
    """One category's figures in a round."""

    level1: str
    level2: str
    units: tuple[str, ...]  # unit names, by code
    items: int
    key_problems: int
    common_problems: int
    accepted: int
    long_term: int
    open: int
    overdue: int
    recurrences: int = 0  # problems found again (屡改屡犯): recurring from an earlier round

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "category": f"{self.level1}/{self.level2}",
            "level1": self.level1,
            "level2": self.level2,
            "unit_count": len(self.units),
            "units": list(self.units),
            "items": self.items,
            "key_problems": self.key_problems,
            "common_problems": self.common_problems,
            "accepted": self.accepted,
            "long_term": self.long_term,
            "open": self.open,
            "overdue": self.overdue,
            "recurrences": self.recurrences,
        }

    def row(self) -> dict[str, Any]:
        """The export row."""
        return dict(
            zip(
                COLUMNS,
                [
                    self.level1,
                    self.level2,
                    len(self.units),
                    self.items,
                    self.key_problems,
                    self.common_problems,
                    self.accepted,
                    self.long_term,
                    self.open,
                    self.overdue,
                    self.recurrences,
                    "、".join(self.units),
                ],
                strict=True,
            )
        )


@dataclass(frozen=True, slots=True)
class ThematicView:
    """The thematic view of a round on a date: its categories' figures, in the list's order."""

    round: RoundInfo
    as_of: date
    themes: tuple[Theme, ...]

    def to_json(self) -> list[dict[str, Any]]:
        """The `--json` shape: one entry per category."""
        return [theme.to_json() for theme in self.themes]


class ThemeQueries:
    """The thematic view of a round."""

    def __init__(self, ctx: ReadContext, items: ItemQueries) -> None:
        self.ctx = ctx
        self.items = items

    def of(self, round_code: str) -> ThematicView:
        """Per category of the office's list (in its order), the round's figures.

        `accepted`: 销号 (a state tagged `accepted`); `long_term`: in a state tagged
        `long_term`; `open`: everything else; `overdue`: items whose stage or an open task
        is past due; `recurrences`: items that recur from an earlier round's (屡改屡犯).
        """
        c = q.categories
        with self.ctx.reading() as conn:
            info = round_info(conn, round_code)
            views = self.items.in_transaction(conn, ItemFilter(round_code=round_code))
            listed = conn.execute(select(c.c.level1, c.c.level2).order_by(c.c.position, c.c.id))
            order = {(row.level1, row.level2): n for n, row in enumerate(listed)}
        grouped: dict[tuple[str, str], list[Any]] = {}
        for view in views:
            grouped.setdefault((view.category_l1, view.category_l2), []).append(view)
        themes = []
        for key in sorted(grouped, key=lambda k: order.get(k, len(order))):
            members = grouped[key]
            units = {v.unit: v.unit_name for v in members}
            accepted = sum("accepted" in v.tags for v in members)
            long_term = sum("long_term" in v.tags and "accepted" not in v.tags for v in members)
            themes.append(
                Theme(
                    level1=key[0],
                    level2=key[1],
                    units=tuple(units[code] for code in sorted(units)),
                    items=len(members),
                    key_problems=sum(v.key_problem for v in members),
                    common_problems=sum(v.common_problem for v in members),
                    accepted=accepted,
                    long_term=long_term,
                    open=len(members) - accepted - long_term,
                    overdue=sum(v.overdue for v in members),
                    recurrences=sum(v.recurs_from is not None for v in members),
                )
            )
        return ThematicView(info, self.ctx.today(), tuple(themes))
