"""Writing a thematic report (专题报告) to files: XLSX for people, CSV, or Markdown.

The XLSX has two sheets, titled and set up for printing (see `reports.workbook`): 问题分布
(one row per item, then the totals) and 机制建设 (the mechanism measures and their status).
The CSV and the Markdown hold the same in one document: the theme, its department and what
it takes in, the items, the totals, the measures.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Any

from xunshi.read.theme_reports import (
    ITEM_COLUMNS,
    MEASURE_COLUMNS,
    TOTAL_COLUMNS,
    ThemeReport,
)
from xunshi.reports.workbook import Sheet, heading, write_workbook

REPORT = "专题报告"


def title(report: ThemeReport) -> str:
    """The title row: `2024年第一轮巡视 专题报告：承包商管理 截至 2024-09-13`."""
    return heading(report.round.title, f"{REPORT}：{report.title}", report.as_of)


def scope(report: ThemeReport) -> list[tuple[str, str]]:
    """What the theme is: its department and what it takes in."""
    return [
        ("专题", f"{report.code} {report.title}"),
        ("牵头部门", report.department),
        ("纳入标签", "、".join(report.tags) or "无"),
        ("纳入类别", "、".join(report.categories) or "无"),
        ("指定问题", "、".join(report.linked) or "无"),
    ]


def item_rows(report: ThemeReport) -> list[list[Any]]:
    """One row per item, by unit and code."""
    return [item.cells(n) for n, item in enumerate(report.items, start=1)]


def measure_rows(report: ThemeReport) -> list[list[Any]]:
    """One row per mechanism measure."""
    return [[m.number, m.text, m.status] for m in report.measures]


def write_csv(report: ThemeReport, out: IO[str]) -> None:
    """The theme, the items, the totals and the measures, each block after a blank line."""
    writer = csv.writer(out)
    writer.writerows(scope(report))
    writer.writerow([])
    writer.writerow(ITEM_COLUMNS)
    writer.writerows(item_rows(report))
    writer.writerow([])
    writer.writerow(TOTAL_COLUMNS)
    writer.writerow(report.totals.cells())
    writer.writerow([])
    writer.writerow(MEASURE_COLUMNS)
    writer.writerows(measure_rows(report))


def write_xlsx(report: ThemeReport, out: Path | IO[bytes]) -> None:
    """Two sheets: the items with a totals row, and the measures."""
    totals = report.totals
    total_row = ["合计", f"{totals.units}个单位", f"{totals.items}个问题", "", "", "", "", ""]
    total_row += [f"已销号{totals.accepted}", f"未销号{totals.open}", f"长期{totals.long_term}", ""]
    head = f"{title(report)}（牵头部门：{report.department}）"
    write_workbook(
        [
            Sheet("问题分布", head, ITEM_COLUMNS, [*item_rows(report), total_row]),
            Sheet("机制建设", head, MEASURE_COLUMNS, measure_rows(report)),
        ],
        out,
    )


def write_md(report: ThemeReport, out: IO[str]) -> None:
    """A Markdown document: heading, scope, the items table, the totals, the measures."""
    lines = [f"# {title(report)}", ""]
    lines += [f"- {name}：{value}" for name, value in scope(report)]
    lines += ["", "## 问题分布", "", *_table(ITEM_COLUMNS, item_rows(report)), ""]
    lines += ["## 合计", "", *_table(TOTAL_COLUMNS, [report.totals.cells()]), ""]
    lines += ["## 机制建设", ""]
    lines += _table(MEASURE_COLUMNS, measure_rows(report)) if report.measures else ["无"]
    out.write("\n".join(lines) + "\n")


def _table(columns: tuple[str, ...], rows: list[list[Any]]) -> list[str]:
    """A Markdown table (a `|` in a cell escaped)."""

    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    return [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
        *("| " + " | ".join(cell(v) for v in row) + " |" for row in rows),
    ]
