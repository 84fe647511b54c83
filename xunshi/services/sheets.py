"""Sheets people fill in: CSV or XLSX, a header row, one row each.

A sheet's columns have an English name and the Chinese headers an office writes
(`Column`); a header row may mix both. A CSV is UTF-8 (with or without BOM), GB18030
when its bytes are not UTF-8, or the encoding the caller names. Every problem names its
row (as a spreadsheet numbers it, the header being row 1) and its column as the sheet's
own header names it; a sheet's rows are all checked before anything is written.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from xunshi.display import plural
from xunshi.errors import BadInput

# A cell as read: its text, or None for an XLSX formula saved without its value.
Cell = str | None

Problem = tuple[int, str, str]  # (row number, column, message)

NO_FORMULA_VALUE = "formula without a value: save the file in Excel first"


@dataclass(frozen=True, slots=True)
class Column:
    """A column a sheet may have: its English name and the Chinese headers offices write."""

    name: str
    titles: tuple[str, ...]
    optional: bool = False


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One row of a sheet: its spreadsheet row number and its values by column name."""

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


@dataclass(frozen=True, slots=True)
class Sheet:
    """A sheet's rows below its header, and how the sheet names each column."""

    source: str
    rows: tuple[SheetRow, ...]
    labels: Mapping[str, str]

    def label(self, column: str) -> str:
        """The column as this sheet's header names it (in the sheet's language if absent)."""
        return self.labels[column]

    def problems(self, problems: list[Problem]) -> SheetProblems:
        """The error for `problems` (columns by name), naming each column as the sheet does."""
        return SheetProblems(self.source, [(n, self.label(c), m) for n, c, m in problems])


# What a cell may not hold: NUL (no database stores it) and lone surrogates, which a CSV
# read as unicode_escape or utf-7 can produce from `\ud800` or `+2AA-` (not characters).
_NOT_TEXT = re.compile(r"[\x00\ud800-\udfff]")
NOT_TEXT = "not text that can be stored"


def read_sheet(path: Path, columns: Sequence[Column], *, encoding: str | None = None) -> Sheet:
    """The rows of a CSV or XLSX (first worksheet) with a header row of `columns`."""
    if encoding is not None:
        check_encoding(encoding)
    if not path.exists():
        raise BadInput(f"{path}: no such file")
    if path.is_dir():
        raise BadInput(f"{path}: is a directory")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table: list[list[Cell]] = list(_csv_rows(path, encoding))
    elif suffix in (".xlsx", ".xlsm"):
        table = _xlsx_rows(path)
    else:
        raise BadInput(f"{path.name}: expected a .csv or .xlsx file")
    if not table:
        raise BadInput(f"{path.name}: the file is empty (it needs a header row)")
    header = _Header(path.name, table[0], columns)
    rows: list[SheetRow] = []
    unreadable: list[Problem] = []  # cells without a value, or with what is not text
    for number, cells in enumerate(table[1:], start=2):
        if all(c is not None and not c.strip() for c in cells):
            continue
        if any(c is None or c.strip() for c in cells[len(header.names) :]):
            raise BadInput(
                f"{path.name} row {number}: more cells than the header has columns "
                f"({len(header.names)})"
            )
        values: dict[str, str] = {}
        for name, cell in zip(header.names, cells, strict=False):
            if name is None:
                continue
            if cell is None:
                unreadable.append((number, name, NO_FORMULA_VALUE))
                continue
            found = _NOT_TEXT.search(cell)
            if found:
                unreadable.append((number, name, f"holds {found.group()!r}: {NOT_TEXT}"))
                continue
            values[name] = cell.strip()
        rows.append(SheetRow(number, values))
    sheet = Sheet(path.name, tuple(rows), header.labels)
    if unreadable:
        raise sheet.problems(unreadable)
    if not rows:
        raise BadInput(f"{path.name}: no rows below the header")
    return sheet


class _Header:
    """A header row read against the sheet's columns: which column each cell gives."""

    def __init__(self, source: str, cells: list[Cell], columns: Sequence[Column]) -> None:
        if any(c is None for c in cells):
            raise BadInput(f"{source} row 1: a header is a {NO_FORMULA_VALUE}")
        header = [(c or "").strip() for c in cells]
        english = {c.name: c.name for c in columns}
        chinese = {title: c.name for c in columns for title in c.titles}
        in_english = sum(h in english for h in header)
        in_chinese = sum(h in chinese for h in header)
        # The sheet's language: most of its known headers', else whether it is written in
        # Chinese at all; messages name absent columns in it.
        self.chinese = in_chinese >= in_english and (
            in_chinese > 0 or any(map(_is_chinese, header))
        )
        self.names: list[str | None] = [english.get(h) or chinese.get(h) for h in header]
        given = {n: h for n, h in zip(self.names, header, strict=True) if n is not None}
        missing = [c for c in columns if c.name not in given and not c.optional]
        if missing:
            noun = "column" if len(missing) == 1 else "columns"
            listed = ", ".join(self._missing(c) for c in missing)
            raise BadInput(f"{source} row 1: missing {noun} {listed}")
        unknown = [h for h, n in zip(header, self.names, strict=True) if h and n is None]
        if unknown:
            expected = ", ".join(self._accepted(c) for c in columns)
            raise BadInput(
                f"{source} row 1: unknown {'column' if len(unknown) == 1 else 'columns'} "
                f"{', '.join(unknown)} (expected {expected})"
            )
        twice = [self._twice(c, header) for c in columns if self.names.count(c.name) > 1]
        if twice:
            raise BadInput(f"{source} row 1: {'; '.join(twice)}")
        self.labels = {c.name: given.get(c.name) or self._language(c) for c in columns}

    def _language(self, column: Column) -> str:
        return column.titles[0] if self.chinese else column.name

    def _missing(self, column: Column) -> str:
        return f"{column.titles[0]} ({column.name})" if self.chinese else column.name

    def _accepted(self, column: Column) -> str:
        return "/".join(column.titles) if self.chinese else column.name

    def _twice(self, column: Column, header: list[str]) -> str:
        headers = [h for h, n in zip(header, self.names, strict=True) if n == column.name]
        if len(set(headers)) == 1:
            return f"column {headers[0]} appears more than once"
        return f"columns {' and '.join(dict.fromkeys(headers))} are the same column: keep one"


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# -- values ---------------------------------------------------------------------------------

_DAY = re.compile(
    r"([0-9]{4})(?:-([0-9]{1,2})-([0-9]{1,2})|/([0-9]{1,2})/([0-9]{1,2})"
    r"|年([0-9]{1,2})月([0-9]{1,2})日)"
)
_TIME_OF_DAY = re.compile(r"(?:T|\s+)([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?")
DATE_FORMS = "2025-09-30, 2025/9/30 or 2025年9月30日"


def parse_day(text: str, what: str = "a due date") -> date:
    """A day as offices write it (2025-09-30, 2025/9/30, 2025年9月30日); midnight may follow.

    `what` names the date in the refusal of a time of day (`a due date is a day`).
    """
    raw = text.strip()
    found = _DAY.match(raw)
    if found is not None:
        year, *parts = found.groups()
        month, day = (int(p) for p in parts if p is not None)
        rest = raw[found.end() :]
        clock = _TIME_OF_DAY.fullmatch(rest)
        if not rest or clock is not None:
            try:
                result = date(int(year), month, day)
            except ValueError:
                pass
            else:
                if clock is not None and any(int(g) for g in clock.groups() if g):
                    raise BadInput(f"{text!r} has a time of day: {what} is a day")
                return result
    raise BadInput(f"{text!r} is not a date ({DATE_FORMS})")


# -- CSV ------------------------------------------------------------------------------------


def check_encoding(name: str) -> str:
    """`name` if Python knows it as a text encoding; BadInput otherwise."""
    try:
        # Not b"": decoding nothing never looks the codec up.
        b"a".decode(name)
    except LookupError:  # unknown, or a codec that is not a text encoding (rot13, base64)
        raise BadInput(f"unknown encoding {name!r}") from None
    except UnicodeEncodeError:  # a name no codec has: it is not even ASCII ('\ud800')
        raise BadInput(f"unknown encoding {name!r}") from None
    except UnicodeError:  # a text encoding that needs more than one byte (utf-16)
        pass
    except ValueError:  # a name with a NUL character
        raise BadInput(f"unknown encoding {name!r}") from None
    return name


def _csv_rows(path: Path, encoding: str | None) -> Iterator[list[Cell]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{path}: cannot be read ({exc.strerror})") from exc
    text = _decode(path.name, data, encoding)
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


def _decode(source: str, data: bytes, encoding: str | None) -> str:
    if encoding is not None:
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            raise BadInput(f"{source} line {_line(data, exc.start)}: not {encoding} text") from exc
        except UnicodeError as exc:  # a codec that says no without saying where (punycode)
            raise BadInput(f"{source}: not {encoding} text") from exc
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as not_utf8:
        try:
            # What Excel on a Chinese Windows saves as "CSV"; GBK is a subset of it.
            return data.decode("gb18030").removeprefix("\ufeff")
        except UnicodeDecodeError as not_gb18030:
            # The encoding that read further is the likelier one: name where it stopped.
            line = _line(data, max(not_utf8.start, not_gb18030.start))
            raise BadInput(
                f"{source} line {line}: neither UTF-8 nor GB18030 text "
                "(save the CSV as UTF-8, or name its encoding)"
            ) from not_gb18030


def _line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


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
        return value.date().isoformat() if midnight else value.isoformat(sep=" ")
    return str(value)
