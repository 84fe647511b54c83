"""Writing the thematic view (专题汇总) to files: CSV or XLSX."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO

from xunshi.read.themes import COLUMNS, ThematicView
from xunshi.reports.workbook import Sheet, heading, write_workbook

REPORT = "专题汇总"


def title(view: ThematicView) -> str:
    """The title row: `2024年第二轮巡视 专题汇总 截至 2025-02-14`."""
    return heading(view.round.title, REPORT, view.as_of)


def write_csv(view: ThematicView, out: IO[str]) -> None:
    """The header and one row per category (the caller chooses the encoding)."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(list(theme.row().values()) for theme in view.themes)


def write_xlsx(view: ThematicView, out: Path | IO[bytes]) -> None:
    """A workbook of one sheet, titled and set up for printing (see `reports.workbook`)."""
    rows = [list(theme.row().values()) for theme in view.themes]
    write_workbook([Sheet(REPORT, title(view), COLUMNS, rows)], out)
