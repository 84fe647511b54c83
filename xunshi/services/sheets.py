"""Sheets people fill in: CSV (UTF-8, with or without BOM) or XLSX, a header row, one row each.

Every problem names its row (as a spreadsheet numbers it, the header being row 1) and its
column; a sheet's rows are all checked before anything is written.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from xunshi.errors import BadInput


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One row of a sheet: its spreadsheet row number and its values by column."""

    number: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")


class SheetProblems(BadInput):
    """The sheet has problems; nothing was written."""

    def __init__(self, source: str, problems: list[tuple[int, str, str]]) -> None:
        number, column, first = problems[0]
        message = f"{source} row {number}, column {column}: {first}"
        if len(problems) > 1:
            rows = sorted({n for n, _, _ in problems[1:]})
            shown = ", ".join(str(r) for r in rows[:8]) + (", …" if len(rows) > 8 else "")
            message += f" (and {len(problems) - 1} more in rows {shown})"
        super().__init__(message)
        self.problems = problems


def read_sheet(path: Path, columns: tuple[str, ...], optional: frozenset[str]) -> list[SheetRow]:
    """Rows of a CSV (UTF-8, with or without BOM) or XLSX (first sheet) with a header row."""
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = list(_csv_rows(path))
    elif suffix in (".xlsx", ".xlsm"):
        table = list(_xlsx_rows(path))
    else:
        raise BadInput(f"{path.name}: expected a .csv or .xlsx file")
    if not table:
        raise BadInput(f"{path.name}: the file is empty (it needs a header row)")
    header = [h.strip() for h in table[0]]
    missing = [c for c in columns if c not in header and c not in optional]
    if missing:
        noun = "column" if len(missing) == 1 else "columns"
        raise BadInput(f"{path.name} row 1: missing {noun} {', '.join(missing)}")
    unknown = [h for h in header if h and h not in columns]
    if unknown:
        raise BadInput(
            f"{path.name} row 1: unknown {'column' if len(unknown) == 1 else 'columns'} "
            f"{', '.join(unknown)} (expected {', '.join(columns)})"
        )
    twice = sorted({h for h in header if h and header.count(h) > 1})
    if twice:
        raise BadInput(f"{path.name} row 1: column {', '.join(twice)} appears more than once")
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if any(c.strip() for c in cells[len(header) :]):
            raise BadInput(
                f"{path.name} row {number}: more cells than the header has columns ({len(header)})"
            )
        values = {
            name: (cells[i].strip() if i < len(cells) else "")
            for i, name in enumerate(header)
            if name
        }
        rows.append(SheetRow(number, values))
    if not rows:
        raise BadInput(f"{path.name}: no rows below the header")
    return rows


def _csv_rows(path: Path) -> Iterator[list[str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield from csv.reader(handle)
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path.name}: not UTF-8 text (save the CSV as UTF-8)") from exc
    except csv.Error as exc:
        raise BadInput(f"{path.name}: not a readable CSV ({exc})") from exc


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook  # only for .xlsx sheets (start-up time)

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise BadInput(f"{path.name}: not a readable XLSX workbook ({exc})") from exc
    try:
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield [_cell_text(v) for v in values]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        midnight = value.time() == datetime.min.time()
        return value.date().isoformat() if midnight else value.isoformat()
    return str(value)
