"""Plan sheets: a round's groups, units, batches and cases from a CSV or XLSX file.

Every row is read and checked against the file and the database before anything is
written; a problem names its row (as a spreadsheet numbers it, the header being row 1)
and its column. A row may put its case in a batch (批次) with the batch's planned move-in
and leave dates; the rows of one batch agree on its dates (a row may leave them empty).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, select

from xunshi.errors import BadInput
from xunshi.services.sheets import Column, SheetRow, parse_day, read_sheet
from xunshi.storage import queries as q
from xunshi.texts import check_batch, check_code, check_name

# The plan sheet's columns: English names, and the headers an office writes.
PLAN_SHEET = (
    Column("round", ("轮次",)),
    Column("group", ("巡视组",)),
    Column("group_leader", ("组长",)),
    Column("unit_code", ("单位代码",)),
    Column("unit_name", ("单位名称",)),
    Column("unit_category", ("单位类别",), optional=True),
    Column("definition", ("巡视类型",)),
    Column("batch", ("批次",), optional=True),
    Column("move_in", ("进驻日期", "进驻时间"), optional=True),
    Column("leave", ("撤离日期", "撤离时间"), optional=True),
)
_REQUIRED = tuple(c.name for c in PLAN_SHEET if not c.optional)
_PLAN_DATES = {"move_in": "moves in", "leave": "leaves"}
# The columns that are names, checked as `unit add` and `group add` check them.
_NAMES = (
    ("group_leader", "group leader"),
    ("unit_name", "unit name"),
    ("unit_category", "unit category"),
)


@dataclass(frozen=True, slots=True)
class PlannedCase:
    """One case the plan starts."""

    round: str
    group: str
    unit: str
    definition: str
    batch: str | None = None


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """A batch the database has: its id and planned dates."""

    id: int
    move_in: date | None
    leave: date | None


@dataclass
class Plan:
    """A checked plan: what exists already and what to create."""

    rounds: set[str] = field(default_factory=set)
    known_units: dict[str, int] = field(default_factory=dict)
    new_units: dict[str, tuple[str, str]] = field(default_factory=dict)
    known_groups: dict[tuple[str, str], int] = field(default_factory=dict)
    new_groups: dict[tuple[str, str], str] = field(default_factory=dict)
    known_batches: dict[tuple[str, str], StoredBatch] = field(default_factory=dict)
    # (round, batch) → its dates by column (`move_in`, `leave`), as the rows give them.
    new_batches: dict[tuple[str, str], dict[str, date]] = field(default_factory=dict)
    cases: list[PlannedCase] = field(default_factory=list)


def read_plan(conn: Connection, path: Path, *, encoding: str | None = None) -> Plan:
    """Read and check a plan sheet against the database; raise SheetProblems if any."""
    sheet = read_sheet(path, PLAN_SHEET, encoding=encoding)
    checker = _PlanChecker(conn)
    for row in sheet.rows:
        checker.check(row)
    if checker.problems:
        raise sheet.problems(checker.problems)
    return checker.plan


class _PlanChecker:
    """Checks rows one by one, remembering what earlier rows planned."""

    def __init__(self, conn: Connection) -> None:
        r, g, u, c, d, b = q.rounds, q.groups, q.units, q.cases, q.definitions, q.batches
        stored_rounds = conn.execute(select(r.c.code, r.c.id, r.c.start_on)).all()
        self.rounds = {row.code: row.id for row in stored_rounds}
        self.starts = {row.code: row.start_on for row in stored_rounds}
        self.batches = {
            (row.round_code, row.code): StoredBatch(row.id, row.move_in_on, row.leave_on)
            for row in conn.execute(
                select(
                    b.c.id, b.c.code, b.c.move_in_on, b.c.leave_on, r.c.code.label("round_code")
                ).join(r, r.c.id == b.c.round_id)
            )
        }
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
        latest: dict[str, tuple[int, str, str]] = {}
        for row in conn.execute(select(d.c.name, d.c.version, d.c.title, d.c.subject)):
            if row.name not in latest or row.version > latest[row.name][0]:
                latest[row.name] = (row.version, row.title, row.subject)
        self.definitions = {name: subject for name, (_, _, subject) in latest.items()}
        # A definition may be named by the title of its latest version (常规巡视).
        self.titled: dict[str, list[str]] = {}
        for name, (_, title, _) in sorted(latest.items()):
            self.titled.setdefault(title, []).append(name)
        # Codes match in any case: each code as stored (or as first planned), by lower case.
        self.spelled: dict[tuple[str, ...], str] = {}
        for code in self.rounds:
            self.spelled[("round", code.lower())] = code
        for code in self.units:
            self.spelled[("unit", code.lower())] = code
        for round_code, code in self.groups:
            self.spelled[("group", round_code.lower(), code.lower())] = code
        for round_code, code in self.batches:
            self.spelled[("batch", round_code.lower(), code.lower())] = code
        self.plan = Plan()
        self.problems: list[tuple[int, str, str]] = []
        self._group_rows: dict[tuple[str, str], int] = {}
        self._unit_rows: dict[str, int] = {}
        self._case_rows: dict[tuple[str, str], int] = {}
        self._batch_rows: dict[tuple[str, str, str], int] = {}  # (round, batch, column) → row

    def problem(self, row: SheetRow, column: str, message: str) -> None:
        """Note a problem in one cell."""
        self.problems.append((row.number, column, message))

    def check(self, row: SheetRow) -> None:
        """Check one row; plan what it creates if it is good."""
        empty = [c for c in _REQUIRED if not row[c]]
        for column in empty:
            self.problem(row, column, "empty")
        if empty:
            return
        cells_ok = True
        for column, kind in (("round", "round"), ("group", "group"), ("unit_code", "unit")):
            try:
                check_code(kind, row[column])
            except BadInput as exc:
                self.problem(row, column, exc.message)
                cells_ok = False
        for column, kind in _NAMES:
            try:
                check_name(kind, row[column], required=column != "unit_category")
            except BadInput as exc:
                self.problem(row, column, exc.message)
                cells_ok = False
        if not cells_ok:
            return
        row = self._as_stored(row)
        if row["round"] not in self.rounds:
            self.problem(
                row,
                "round",
                f"round {row['round']} does not exist (create it with `xunshi round create`)",
            )
            return
        definition = self._definition(row)
        good = self._check_group(row) & self._check_unit(row) & (definition is not None)
        good &= self._check_case(row)
        good &= self._check_batch(row)
        if good:
            assert definition is not None
            self.plan.rounds.add(row["round"])
            self.plan.cases.append(
                PlannedCase(
                    row["round"], row["group"], row["unit_code"], definition, row["batch"] or None
                )
            )

    def _check_batch(self, row: SheetRow) -> bool:
        """The row's batch and its dates: well formed, in order, agreeing with the others."""
        if not row["batch"]:
            dated = [column for column in _PLAN_DATES if row[column]]
            for column in dated:
                self.problem(row, column, "a planned date needs a batch (批次) on its row")
            return not dated
        try:
            check_batch(row["batch"])
        except BadInput as exc:
            self.problem(row, "batch", exc.message)
            return False
        dates: dict[str, date] = {}
        for column in _PLAN_DATES:
            if row[column]:
                try:
                    dates[column] = parse_day(row[column], "a planned date")
                except BadInput as exc:
                    self.problem(row, column, exc.message)
        if len(dates) < sum(1 for column in _PLAN_DATES if row[column]):
            return False
        return self._check_batch_dates(row, dates)

    def _check_batch_dates(self, row: SheetRow, dates: dict[str, date]) -> bool:
        round_code, code = row["round"], row["batch"]
        key = (round_code, code)
        stored = self.batches.get(key)
        if stored is not None:
            have = {"move_in": stored.move_in, "leave": stored.leave}
            for column, day in dates.items():
                known = have[column]
                if known != day:
                    planned = known.isoformat() if known is not None else "no date yet"
                    self.problem(
                        row,
                        column,
                        f"batch {code} of round {round_code} {_PLAN_DATES[column]} on "
                        f"{planned}, not {day.isoformat()} (change it with `xunshi round plan`)",
                    )
                    return False
            self.plan.known_batches[key] = stored
            return True
        planned_dates = self.plan.new_batches.setdefault(key, {})
        for column, day in dates.items():
            earlier = planned_dates.get(column)
            if earlier is not None and earlier != day:
                self.problem(
                    row,
                    column,
                    f"batch {code} {_PLAN_DATES[column]} on {earlier.isoformat()} in row "
                    f"{self._batch_rows[(round_code, code, column)]}, not {day.isoformat()}",
                )
                return False
        merged = {**planned_dates, **dates}
        move_in, leave = merged.get("move_in"), merged.get("leave")
        if move_in is not None and leave is not None and leave < move_in:
            column = "leave" if "leave" in dates else "move_in"
            self.problem(
                row,
                column,
                f"batch {code} would leave on {leave.isoformat()}, before it moves in "
                f"({move_in.isoformat()})",
            )
            return False
        start = self.starts[round_code]
        if move_in is not None and move_in < start and "move_in" in dates:
            self.problem(
                row,
                "move_in",
                f"batch {code} would move in on {move_in.isoformat()}, before round "
                f"{round_code} starts ({start.isoformat()})",
            )
            return False
        for column in dates:
            self._batch_rows.setdefault((round_code, code, column), row.number)
        planned_dates.update(dates)
        return True

    def _as_stored(self, row: SheetRow) -> SheetRow:
        """The row with its codes spelled as stored or as an earlier row spelled them."""
        round_code = self.spelled.get(("round", row["round"].lower()), row["round"])
        spellings = {
            "round": round_code,
            "unit_code": self.spelled.setdefault(
                ("unit", row["unit_code"].lower()), row["unit_code"]
            ),
            "group": self.spelled.setdefault(
                ("group", round_code.lower(), row["group"].lower()), row["group"]
            ),
        }
        if row["batch"]:
            spellings["batch"] = self.spelled.setdefault(
                ("batch", round_code.lower(), row["batch"].strip().lower()), row["batch"].strip()
            )
        return SheetRow(row.number, {**row.values, **spellings})

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

    def _definition(self, row: SheetRow) -> str | None:
        """The name of the definition the row asks for, by name or by title; None if none."""
        given = row["definition"]
        names = [given] if given in self.definitions else self.titled.get(given, [])
        if not names:
            # A plan starts cases: offering an item definition would only mislead.
            cases = sorted(name for name, subject in self.definitions.items() if subject == "case")
            known = ", ".join(cases) or "none"
            self.problem(
                row, "definition", f"no case definition called {given} (registered: {known})"
            )
            return None
        if len(names) > 1:
            self.problem(
                row,
                "definition",
                f"{given} is ambiguous: the title of definitions {' and '.join(names)} "
                "(write the name of one)",
            )
            return None
        (name,) = names
        subject = self.definitions[name]
        if subject != "case":
            self.problem(row, "definition", f"definition {name} is for {subject}s, not cases")
            return None
        return name

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
