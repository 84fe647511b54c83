"""Plan sheets: a round's groups, units and cases from a CSV or XLSX file.

Every row is read and checked against the file and the database before anything is
written; a problem names its row (as a spreadsheet numbers it, the header being row 1)
and its column.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, select

from xunshi.errors import BadInput
from xunshi.storage import queries as q
from xunshi.workflow.codes import check_code
from xunshi.workflow.engine import InstanceRef

PLAN_COLUMNS = (
    "round",
    "group",
    "group_leader",
    "unit_code",
    "unit_name",
    "unit_category",
    "definition",
)
_OPTIONAL = frozenset({"unit_category"})


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
    from openpyxl import load_workbook

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


@dataclass(frozen=True, slots=True)
class PlannedCase:
    """One case the plan starts."""

    round: str
    group: str
    unit: str
    definition: str


@dataclass
class Plan:
    """A checked plan: what exists already and what to create."""

    rounds: set[str] = field(default_factory=set)
    known_units: dict[str, int] = field(default_factory=dict)
    new_units: dict[str, tuple[str, str]] = field(default_factory=dict)
    known_groups: dict[tuple[str, str], int] = field(default_factory=dict)
    new_groups: dict[tuple[str, str], str] = field(default_factory=dict)
    cases: list[PlannedCase] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What a plan import created."""

    cases: list[InstanceRef]
    groups: int
    units: int


def read_plan(conn: Connection, path: Path) -> Plan:
    """Read and check a plan sheet against the database; raise SheetProblems if any."""
    rows = read_sheet(path, PLAN_COLUMNS, _OPTIONAL)
    checker = _PlanChecker(conn)
    for row in rows:
        checker.check(row)
    if checker.problems:
        raise SheetProblems(path.name, checker.problems)
    return checker.plan


class _PlanChecker:
    """Checks rows one by one, remembering what earlier rows planned."""

    def __init__(self, conn: Connection) -> None:
        r, g, u, c, d = q.rounds, q.groups, q.units, q.cases, q.definitions
        self.rounds = {row.code: row.id for row in conn.execute(select(r.c.code, r.c.id))}
        self.units = {
            row.code: (row.id, row.name, row.category)
            for row in conn.execute(select(u.c.id, u.c.code, u.c.name, u.c.category))
        }
        self.groups = {
            (row.round_code, row.code): (row.id, row.leader)
            for row in conn.execute(
                select(g.c.id, g.c.code, g.c.leader, r.c.code.label("round_code")).join(
                    r, r.c.id == g.c.round_id
                )
            )
        }
        self.cases = {
            (row.round_code, row.unit_code)
            for row in conn.execute(
                select(r.c.code.label("round_code"), u.c.code.label("unit_code"))
                .select_from(c)
                .join(r, r.c.id == c.c.round_id)
                .join(u, u.c.id == c.c.unit_id)
            )
        }
        self.definitions = {
            row.name: row.subject for row in conn.execute(select(d.c.name, d.c.subject).distinct())
        }
        self.plan = Plan()
        self.problems: list[tuple[int, str, str]] = []
        self._group_rows: dict[tuple[str, str], int] = {}
        self._unit_rows: dict[str, int] = {}
        self._case_rows: dict[tuple[str, str], int] = {}

    def problem(self, row: SheetRow, column: str, message: str) -> None:
        """Note a problem in one cell."""
        self.problems.append((row.number, column, message))

    def check(self, row: SheetRow) -> None:
        """Check one row; plan what it creates if it is good."""
        empty = [c for c in PLAN_COLUMNS if c not in _OPTIONAL and not row[c]]
        for column in empty:
            self.problem(row, column, "empty")
        if empty:
            return
        codes_ok = True
        for column, kind in (("round", "round"), ("group", "group"), ("unit_code", "unit")):
            try:
                check_code(kind, row[column])
            except BadInput as exc:
                self.problem(row, column, exc.message)
                codes_ok = False
        if not codes_ok:
            return
        if row["round"] not in self.rounds:
            self.problem(
                row,
                "round",
                f"round {row['round']} does not exist (create it with `xunshi round create`)",
            )
            return
        good = self._check_group(row) & self._check_unit(row) & self._check_definition(row)
        good &= self._check_case(row)
        if good:
            self.plan.rounds.add(row["round"])
            self.plan.cases.append(
                PlannedCase(row["round"], row["group"], row["unit_code"], row["definition"])
            )

    def _check_group(self, row: SheetRow) -> bool:
        key = (row["round"], row["group"])
        leader = row["group_leader"]
        stored = self.groups.get(key)
        if stored is not None:
            if stored[1] != leader:
                self.problem(
                    row,
                    "group_leader",
                    f"group {key[1]} of round {key[0]} is led by {stored[1]}, not {leader}",
                )
                return False
            self.plan.known_groups[key] = stored[0]
            return True
        planned = self.plan.new_groups.get(key)
        if planned is not None and planned != leader:
            self.problem(
                row,
                "group_leader",
                f"group {key[1]} is led by {planned} in row {self._group_rows[key]}, not {leader}",
            )
            return False
        if planned is None:
            self.plan.new_groups[key] = leader
            self._group_rows[key] = row.number
        return True

    def _check_unit(self, row: SheetRow) -> bool:
        code, name, category = row["unit_code"], row["unit_name"], row["unit_category"]
        stored = self.units.get(code)
        if stored is not None:
            if stored[1] != name:
                self.problem(
                    row, "unit_name", f"unit {code} is registered as {stored[1]}, not {name}"
                )
                return False
            if category and stored[2] != category:
                self.problem(
                    row,
                    "unit_category",
                    f"unit {code} is registered in category {stored[2] or '(none)'}, "
                    f"not {category}",
                )
                return False
            self.plan.known_units[code] = stored[0]
            return True
        planned = self.plan.new_units.get(code)
        if planned is not None and planned != (name, category):
            self.problem(
                row,
                "unit_name",
                f"unit {code} is described differently in row {self._unit_rows[code]}",
            )
            return False
        if planned is None:
            self.plan.new_units[code] = (name, category)
            self._unit_rows[code] = row.number
        return True

    def _check_definition(self, row: SheetRow) -> bool:
        name = row["definition"]
        subject = self.definitions.get(name)
        if subject is None:
            known = ", ".join(sorted(self.definitions)) or "none"
            self.problem(row, "definition", f"no definition called {name} (registered: {known})")
            return False
        if subject != "case":
            self.problem(row, "definition", f"definition {name} is for {subject}s, not cases")
            return False
        return True

    def _check_case(self, row: SheetRow) -> bool:
        key = (row["round"], row["unit_code"])
        if key in self.cases:
            self.problem(row, "unit_code", f"case {key[0]}/{key[1]} already exists")
            return False
        if key in self._case_rows:
            self.problem(
                row,
                "unit_code",
                f"unit {key[1]} appears twice in round {key[0]} (also row {self._case_rows[key]})",
            )
            return False
        self._case_rows[key] = row.number
        return True
