"""Writing the rectification ledger (整改台账) to files: CSV for scripts, XLSX for people."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import IO

from xunshi.read.ledger import COLUMNS, Ledger
from xunshi.reports.workbook import Sheet, heading, write_workbook

REPORT = "整改台账"


def title(ledger: Ledger) -> str:
    """The title row: `2024年第二轮巡视 整改台账 截至 2025-02-14` (of one case: 单位名整改台账)."""
    report = REPORT if ledger.unit_name is None else f"{ledger.unit_name}{REPORT}"
    return heading(ledger.round.title, report, ledger.as_of)


def write_csv(ledger: Ledger, out: IO[str]) -> None:
    """The header and the rows, dates as ISO text (the caller chooses the encoding)."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in ledger.rows:
        writer.writerow(
            [value.isoformat() if isinstance(value, date) else value for value in row.values()]
        )


def write_xlsx(ledger: Ledger, out: Path | IO[bytes]) -> None:
    """A workbook of one sheet, titled and set up for printing (see `reports.workbook`)."""
    rows = [[row[c] for c in COLUMNS] for row in ledger.rows]
    write_workbook([Sheet(REPORT, title(ledger), COLUMNS, rows)], out)
