"""The thematic view (专题): problems across units by category, for the office's thematic
reports — so that a problem seen in many units is fixed as a class, with a mechanism."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xunshi.display import table
from xunshi.reports.ledger import write_sheet

if TYPE_CHECKING:
    from xunshi.bootstrap import App

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
                    "、".join(self.units),
                ],
                strict=True,
            )
        )


def build_themes(app: App, round_code: str) -> list[Theme]:
    """Per category of the office's list (in its order), the round's figures.

    `accepted`: 销号 (a state tagged `accepted`); `long_term`: in a state tagged `long_term`;
    `open`: everything else; `overdue`: items whose stage or an open task is past due.
    """
    with app.db.transaction() as conn:
        app.inspection.round_id(conn, round_code)
        views = app.items.many(conn, round_code=round_code)
    order = {(c.level1, c.level2): n for n, c in enumerate(app.rectification.categories())}
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
            )
        )
    return themes


def themes_table(themes: list[Theme], units_shown: int = 3) -> str:
    """The thematic view as a table for people (the first units named, the rest counted)."""
    rows = []
    for theme in themes:
        row = list(theme.row().values())
        shown = "、".join(theme.units[:units_shown])
        more = len(theme.units) - units_shown
        row[-1] = f"{shown}等{len(theme.units)}个单位" if more > 0 else shown
        rows.append(row)
    return table(COLUMNS, rows)


def write_themes(themes: list[Theme], out: Path, fmt: str) -> None:
    """Export as CSV (UTF-8 with BOM) or XLSX."""
    rows = [t.row() for t in themes]
    if fmt == "xlsx":
        write_sheet("专题汇总", COLUMNS, rows, out, {"涉及单位": 60}, frozenset())
        return
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(list(row.values()) for row in rows)
