"""Clues import: 问题线索 from a CSV or XLSX sheet, one row each, handed over when it says so.

Every row is checked against the file and the database first — the case, the code, the
summary, the receiver, the dates and whether the case took a clue (and its handover) then;
a problem names its row and column, and nothing is written unless every row is good.

A row's dates are days (the start of the day, as `--at` reads a date): 登记日期 when it was
registered, 移交日期 when it was handed over. Without them it is registered (and handed
over, with a receiver) at the import's time; with only 移交日期, registered then too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from xunshi.errors import BadInput, XunshiError
from xunshi.keys import InstanceKey
from xunshi.services.commands import Handover
from xunshi.services.sheets import Column, Problem, SheetRow, parse_day, read_sheet
from xunshi.texts import check_code
from xunshi.timeparse import business_time
from xunshi.workflow.clues import check_summary, receiver_of
from xunshi.workflow.resolve import InstanceRef

# The clues sheet's columns: English names and the headers an office writes. No column for
# who the clue is about: the summary describes the person by role.
CLUE_SHEET = (
    Column("round", ("轮次",)),
    Column("unit_code", ("单位代码",)),
    Column("clue_code", ("线索编号",)),
    Column("summary", ("线索摘要", "摘要")),
    Column("registered_on", ("登记日期",), optional=True),
    Column("receiver", ("移交对象",), optional=True),
    Column("handed_over_on", ("移交日期",), optional=True),
)
_REQUIRED = tuple(c.name for c in CLUE_SHEET if not c.optional)
T = TypeVar("T")


class ClueLookups(Protocol):
    """What checking the sheet asks of the database."""

    def case(self, key: InstanceKey) -> InstanceRef:
        """Case `key` with its row (codes match in any case); a XunshiError naming it if
        there is none."""
        ...

    def clue_exists(self, case_id: int, code: str) -> bool:
        """Whether the case already has a clue `code` (in any case)."""
        ...

    def check_registration(self, case: InstanceRef, key: InstanceKey, at: datetime) -> None:
        """Refuse (a XunshiError) a clue the case does not take at `at`."""
        ...

    def check_handover(self, case: InstanceRef, key: InstanceKey, at: datetime) -> None:
        """Refuse (a XunshiError) a handover the case did not allow at `at`."""
        ...


@dataclass(frozen=True, slots=True)
class PlannedClue:
    """One row of the sheet, checked."""

    case: InstanceKey
    code: str
    summary: str
    registered_at: datetime
    handover: Handover | None
    handed_over_at: datetime


def plan_clues(
    lookups: ClueLookups,
    path: Path,
    now: datetime,
    tz: ZoneInfo,
    *,
    encoding: str | None = None,
) -> list[PlannedClue]:
    """Read and check every row of the sheet at `path`; the clues to register, in order.

    `now` is the import's time (`--at`, else the clock's): rows without dates happen then.
    """
    sheet = read_sheet(path, CLUE_SHEET, encoding=encoding)
    problems: list[Problem] = []
    cases: dict[InstanceKey, InstanceRef | None] = {}
    seen: dict[tuple[InstanceKey, str], int] = {}
    planned: list[PlannedClue] = []
    for row in sheet.rows:
        try:
            found = _row(row, lookups, cases, seen, now, tz)
        except _RowProblem as problem:
            problems.append((row.number, problem.column, problem.message))
            continue
        planned.append(found)
    if problems:
        raise sheet.problems(problems)
    return planned


class _RowProblem(Exception):
    """What is wrong with one cell of a row."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


def _row(
    row: SheetRow,
    lookups: ClueLookups,
    cases: dict[InstanceKey, InstanceRef | None],
    seen: dict[tuple[InstanceKey, str], int],
    now: datetime,
    tz: ZoneInfo,
) -> PlannedClue:
    """One row checked, or the first problem of it."""
    for column in _REQUIRED:
        if not row[column]:
            raise _RowProblem(column, "empty")
    typed = InstanceKey(row["round"], row["unit_code"])
    if typed not in cases:
        try:
            cases[typed] = lookups.case(typed)
        except XunshiError as exc:
            cases[typed] = None
            raise _RowProblem("unit_code", exc.message) from None
    case = cases[typed]
    if case is None:
        raise _RowProblem("unit_code", f"{typed.label} does not exist")
    assert case.key is not None  # the key as stored: u01 and U01 are one case
    code = _cell(row, "clue_code", lambda text: check_code("clue", text))
    key = case.key.clue_key(code)
    first = seen.setdefault((case.key, code.lower()), row.number)
    if first != row.number:
        raise _RowProblem("clue_code", f"{key.label} is in row {first} already")
    if lookups.clue_exists(case.id, code):
        raise _RowProblem("clue_code", f"{key.label} already exists")
    summary = _cell(row, "summary", check_summary)
    handover = None
    if row["receiver"]:
        receiver, name = _cell(row, "receiver", receiver_of)
        handover = Handover(receiver, name if receiver == "other" else "")
    elif row["handed_over_on"]:
        raise _RowProblem("handed_over_on", "a handover date without a receiver (移交对象)")
    handed_at = _day(row, "handed_over_on", tz) or now
    registered_at = _day(row, "registered_on", tz) or (handed_at if handover else now)
    for column, at in (("registered_on", registered_at), ("handed_over_on", handed_at)):
        if at > now:
            raise _RowProblem(column, f"{business_time(at, tz)} is later than the import's time")
    _check(lookups.check_registration, case, key, registered_at, "registered_on", row)
    if handover is not None:
        if handed_at < registered_at:
            raise _RowProblem("handed_over_on", "the clue is handed over before it is registered")
        _check(lookups.check_handover, case, key, handed_at, "handed_over_on", row)
    return PlannedClue(case.key, code, summary, registered_at, handover, handed_at)


def _cell(row: SheetRow, column: str, check: Callable[[str], T]) -> T:
    try:
        return check(row[column])
    except BadInput as exc:
        raise _RowProblem(column, exc.message) from None


def _day(row: SheetRow, column: str, tz: ZoneInfo) -> datetime | None:
    """The start of the day a date cell names, in the business time zone."""
    if not row[column]:
        return None
    day = _cell(row, column, parse_day)
    return datetime.combine(day, time(), tzinfo=tz)


def _check(
    rule: Callable[[InstanceRef, InstanceKey, datetime], None],
    case: InstanceRef,
    key: InstanceKey,
    at: datetime,
    column: str,
    row: SheetRow,
) -> None:
    """A refusal of the database's rules, as the problem of the column that dated it (the
    receiver's or the case's when the sheet gives no date)."""
    try:
        rule(case, key, at)
    except XunshiError as exc:
        fallback = "receiver" if column == "handed_over_on" else "unit_code"
        raise _RowProblem(column if row[column] else fallback, exc.message) from None
