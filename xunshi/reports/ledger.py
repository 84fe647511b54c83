"""Writing the rectification ledger (整改台账) to files: CSV for scripts, XLSX for people."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from xunshi.read.ledger import COLUMNS, DATE_COLUMNS, WIDTHS, Row


def write_csv(rows: Sequence[Row], out: Path) -> None:
    """UTF-8 with a BOM, so that Excel shows the Chinese text."""
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(
                [value.isoformat() if isinstance(value, date) else value for value in row.values()]
            )


def write_xlsx(rows: Sequence[Row], out: Path) -> None:
    """A workbook with a bold, frozen header row, filters, column widths and real dates."""
    write_sheet("整改台账", COLUMNS, rows, out, WIDTHS, DATE_COLUMNS)


def write_sheet(
    title: str,
    columns: tuple[str, ...],
    rows: Sequence[Row],
    out: Path,
    widths: dict[str, int],
    date_columns: frozenset[str],
) -> None:
    """One worksheet: header, frozen panes, auto filter, widths, date cells."""
    # openpyxl only when a workbook is written (start-up time of every other command).
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    sheet.append(list(columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for row in rows:
        sheet.append([row[c] for c in columns])
    for index, name in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = widths.get(name, max(10, len(name) * 2 + 4))
        if name in date_columns:
            for cell in sheet[letter][1:]:
                if isinstance(cell.value, date):
                    cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    workbook.save(out)
