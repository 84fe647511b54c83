"""Writing the leading group's statistics (巡视工作统计) to files: XLSX, CSV or Markdown.

The report has several tables (the main table by unit, group and total; problems by
category; clues by disposition; evaluation grades). A workbook has a sheet for each; CSV
and Markdown put them one after another, each under its title.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Any

from xunshi.read.statistics import RoundStatistics
from xunshi.reports.workbook import Sheet, heading, write_workbook

REPORT = "巡视工作统计"


def title(view: RoundStatistics) -> str:
    """The title: `2025年第一轮巡视 巡视工作统计 截至 2025-06-30`."""
    return heading(view.round.title, REPORT, view.as_of)


def write_xlsx(view: RoundStatistics, out: Path | IO[bytes]) -> None:
    """A workbook with a sheet per table, each titled and set up for printing."""
    sheets = [
        Sheet(name, heading(view.round.title, name, view.as_of), columns, rows)
        for name, columns, rows in view.sections()
    ]
    write_workbook(sheets, out)


def write_csv(view: RoundStatistics, out: IO[str]) -> None:
    """Each table under a row with its title, a blank row between them."""
    writer = csv.writer(out)
    for n, (name, columns, rows) in enumerate(view.sections()):
        if n:
            writer.writerow([])
        writer.writerow([heading(view.round.title, name, view.as_of)])
        writer.writerow(columns)
        writer.writerows(rows)


def write_markdown(view: RoundStatistics, out: IO[str]) -> None:
    """A Markdown document: the report's title, then each table under its heading."""
    out.write(f"# {title(view)}\n")
    for name, columns, rows in view.sections():
        out.write(f"\n## {name}\n\n")
        out.write(markdown_table(columns, rows))


def markdown_table(columns: tuple[str, ...], rows: list[list[Any]]) -> str:
    """A GitHub-style table; numbers right-aligned; `|` and line breaks in cells escaped."""
    numeric = [
        bool(rows) and all(isinstance(row[n], int | float) for row in rows if row[n] != "")
        for n in range(len(columns))
    ]
    lines = [
        "| " + " | ".join(_cell(c) for c in columns) + " |",
        "| " + " | ".join("---:" if right else "---" for right in numeric) + " |",
    ]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
