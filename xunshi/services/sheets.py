"""Sheets people fill in: CSV (UTF-8, with or without BOM) or XLSX, a header row, one row each.

Every problem names its row (as a spreadsheet numbers it, the header being row 1) and its
column; a sheet's rows are all checked before anything is written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from xunshi.display import plural
from xunshi.errors import BadInput

# A cell as read: its text, or None for an XLSX formula saved without its value.
Cell = str | None

Problem = tuple[int, str, str]  # (row number, column, message)

NO_FORMULA_VALUE = "formula without a value: save the file in Excel first"


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One row of a sheet: its spreadsheet row number and its values by column."""

    number: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")


class SheetProblems(BadInput):
    """The sheet has problems; nothing was written."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        number, column, first = problems[0]
        message = f"{source} row {number}, column {column}: {first}"
        if len(problems) > 1:
            rows = sorted({n for n, _, _ in problems[1:]})
            shown = ", ".join(str(r) for r in rows[:8]) + (", …" if len(rows) > 8 else "")
            more = plural(len(problems) - 1, "more problem", "more problems")
            message += f" (and {more} in {'row' if len(rows) == 1 else 'rows'} {shown})"
        super().__init__(message)
        self.problems = problems


def read_sheet(path: Path, columns: tuple[str, ...], optional: frozenset[str]) -> list[SheetRow]:
    """Rows of a CSV (UTF-8, with or without BOM) or XLSX (first sheet) with a header row."""
    if not path.exists():
        raise BadInput(f"{path}: no such file")
    if path.is_dir():
        raise BadInput(f"{path}: is a directory")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table: list[list[Cell]] = list(_csv_rows(path))
    elif suffix in (".xlsx", ".xlsm"):
        table = _xlsx_rows(path)
    else:
        raise BadInput(f"{path.name}: expected a .csv or .xlsx file")
    if not table:
        raise BadInput(f"{path.name}: the file is empty (it needs a header row)")
    if any(c is None for c in table[0]):
        raise BadInput(f"{path.name} row 1: a header is a {NO_FORMULA_VALUE}")
    header = [(h or "").strip() for h in table[0]]
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
    formulas: list[Problem] = []
    for number, cells in enumerate(table[1:], start=2):
        if all(c is not None and not c.strip() for c in cells):
            continue
        if any(c is None or c.strip() for c in cells[len(header) :]):
            raise BadInput(
                f"{path.name} row {number}: more cells than the header has columns ({len(header)})"
            )
        values: dict[str, str] = {}
        for name, cell in zip(header, cells, strict=False):
            if not name:
                continue
            if cell is None:
                formulas.append((number, name, NO_FORMULA_VALUE))
                continue
            values[name] = cell.strip()
        rows.append(SheetRow(number, values))
    if formulas:
        raise SheetProblems(path.name, formulas)
    if not rows:
        raise BadInput(f"{path.name}: no rows below the header")
    return rows


def _csv_rows(path: Path) -> Iterator[list[Cell]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path.name}: not UTF-8 text (save the CSV as UTF-8)") from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        start = reader.line_num + 1  # a quoted cell may hold line breaks
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise BadInput(_csv_problem(path.name, str(exc), start, reader.line_num)) from exc
        yield list(row)


def _csv_problem(source: str, error: str, start: int, line: int) -> str:
    if error == "unexpected end of data":
        return (
            f'{source} line {start}: a quote (") opens a cell that is never closed '
            "(the file ends inside it)"
        )
    if error.endswith("expected after '\"'"):
        return (
            f'{source} line {line}: text follows the closing quote (") of a cell '
            '(a quote inside a quoted cell is written "")'
        )
    return f"{source} line {line}: not a readable CSV ({error})"


# -- XLSX -----------------------------------------------------------------------------------


def _xlsx_rows(path: Path) -> list[list[Cell]]:
    # Formulas first: with `data_only` openpyxl reads a formula saved without its value
    # (a workbook written by a program and never opened in Excel) as an empty cell.
    formulas: set[tuple[int, int]] = set()
    table: list[list[Cell]] = []
    for r, cells in enumerate(_worksheet(path, data_only=False)):
        row: list[Cell] = []
        for c, cell in enumerate(cells):
            if cell.data_type == "f":
                formulas.add((r, c))
            row.append(_cell_text(cell.value))
        table.append(row)
    if formulas:
        for r, cells in enumerate(_worksheet(path, data_only=True)):
            for c, cell in enumerate(cells):
                if (r, c) in formulas:
                    table[r][c] = _computed(cell)
    return table


def _worksheet(path: Path, *, data_only: bool) -> Iterator[tuple[Any, ...]]:
    from openpyxl import load_workbook  # only for .xlsx sheets (start-up time)

    try:
        workbook = load_workbook(path, read_only=True, data_only=data_only)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise BadInput(f"{path.name}: not a readable XLSX workbook ({exc})") from exc
    try:
        yield from workbook.worksheets[0].iter_rows()
    except Exception as exc:  # a damaged worksheet shows only when it is read
        raise BadInput(f"{path.name}: not a readable XLSX workbook ({exc})") from exc
    finally:
        workbook.close()


def _computed(cell: Any) -> Cell:
    """A formula cell's saved value; None if it was saved without one."""
    if cell.value is None:
        # Excel saves a formula whose result is "" as an empty value of type `str`.
        return "" if cell.data_type == "str" else None
    return _cell_text(cell.value)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        midnight = value.time() == datetime.min.time()
        return value.date().isoformat() if midnight else value.isoformat()
    return str(value)
