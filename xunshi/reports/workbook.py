"""The one way xunshi writes a workbook for people: titled, and printable as an office prints.

Every sheet has a title row (the round, the report, the as-of date) above a bold header
row, and the table below it. Printed, it is landscape, one page wide (as many tall as it
takes), with the header row repeated on every page and `第 N 页 / 共 M 页` in the footer.
On screen the panes are frozen below the header and the header carries the filters.
Columns are as wide as their content (a Chinese character counts double), up to
`MAX_WIDTH`; a column with longer text wraps it. Dates are real date cells; text is text,
even when it starts with `=` (never a formula).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from xunshi.display import width as text_width

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

MAX_WIDTH = 24  # 12 Chinese characters; longer text wraps (a 27-column ledger must fit a page)
MIN_WIDTH = 6
PADDING = 2
DATE_WIDTH = 10  # yyyy-mm-dd
DATE_FORMAT = "yyyy-mm-dd"
FOOTER = "第 &P 页 / 共 &N 页"  # page N of M, as Excel and LibreOffice fill them in
TITLE_ROW = 1
HEADER_ROW = 2


@dataclass(frozen=True, slots=True)
class Sheet:
    """One worksheet: its tab, the title row, the column titles and the rows (in order)."""

    name: str  # the tab (Excel allows 31 characters)
    title: str  # the title row, see `heading`
    columns: tuple[str, ...]
    rows: Sequence[Sequence[Any]]


def heading(round_title: str, report: str, as_of: date) -> str:
    """The title row: `2024年第二轮巡视 整改台账 截至 2025-02-14`."""
    return f"{round_title} {report} 截至 {as_of.isoformat()}"


def column_width(title: str, values: Sequence[Any]) -> tuple[int, bool]:
    """How wide a column is (in Excel's character units) and whether its text wraps."""
    widest = max([_cell_width(title), *(_cell_width(v) for v in values)])
    wanted = max(MIN_WIDTH, widest + PADDING)
    return (MAX_WIDTH, True) if wanted > MAX_WIDTH else (wanted, False)


def _cell_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, date):
        return DATE_WIDTH
    return max(text_width(line) for line in str(value).splitlines() or [""])


def write_workbook(sheets: Sequence[Sheet], out: Path | IO[bytes]) -> None:
    """Write `sheets` (in order) as one workbook."""
    # openpyxl only when a workbook is written (start-up time of every other command).
    from openpyxl import Workbook

    workbook = Workbook()
    default = workbook.active
    for spec in sheets:
        _fill(workbook.create_sheet(spec.name[:31]), spec)
    if default is not None:
        workbook.remove(default)
    workbook.save(out)


def _fill(sheet: Worksheet, spec: Sheet) -> None:
    """One sheet: title row, header, rows, widths, and the print settings."""
    # openpyxl only when a workbook is written (start-up time of every other command).
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.page import PageMargins
    from openpyxl.worksheet.properties import PageSetupProperties

    count = len(spec.columns)
    last = get_column_letter(count)
    end = HEADER_ROW + len(spec.rows)
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)

    title = _as_text(sheet.cell(row=TITLE_ROW, column=1, value=spec.title))
    sheet.merge_cells(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    title.font = Font(bold=True, size=14)
    title.alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[TITLE_ROW].height = 24

    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for index, name in enumerate(spec.columns, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=index, value=name)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.border = border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    for values in spec.rows:
        sheet.append(list(values))

    for index, name in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        values = [row[index - 1] for row in spec.rows]
        sheet.column_dimensions[letter].width, wrap = column_width(name, values)
        alignment = Alignment(vertical="top", wrap_text=wrap)
        for cell in sheet[letter][HEADER_ROW:end]:
            _as_text(cell)
            cell.border = border
            cell.alignment = alignment
            if isinstance(cell.value, date):
                cell.number_format = DATE_FORMAT

    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{last}{end}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages tall as the rows need
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.horizontalCentered = True
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    footer = sheet.oddFooter  # one footer for every page (no odd/even or first-page one)
    assert footer is not None
    footer.center.text = FOOTER


def _as_text(cell: Cell) -> Cell:
    """The cell, its text kept as text: openpyxl makes a formula of every string that starts
    with `=`, and a measure or a name typed as `=HYPERLINK(…)` must not run in Excel."""
    if cell.data_type == "f":
        cell.data_type = "s"
    return cell
