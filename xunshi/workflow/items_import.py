"""Items import: problems and their measures from a CSV or XLSX sheet, one row per task.

Every row is checked against the file and the database first; a problem names its row
and column, and nothing is written unless every row is good.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from xunshi.errors import BadInput, XunshiError
from xunshi.storage import queries as q
from xunshi.workflow.codes import check_code
from xunshi.workflow.plan import SheetProblems, SheetRow, read_sheet

if TYPE_CHECKING:
    from xunshi.workflow.rectification import ItemFacts, Rectification, TaskFacts

ITEM_COLUMNS = (
    "round",
    "unit_code",
    "item_code",
    "title",
    "manifestations",
    "category_l1",
    "category_l2",
    "key_problem",
    "common_problem",
    "fix_now",
    "root_cause",
    "source",
    "measure",
    "responsible_leader",
    "lead_department",
    "cooperating_departments",
    "responsible_person",
    "due_on",
    "long_term",
)
_OPTIONAL = frozenset(
    {
        "manifestations",
        "key_problem",
        "common_problem",
        "fix_now",
        "root_cause",
        "source",
        "cooperating_departments",
        "due_on",
        "long_term",
    }
)
_REQUIRED = tuple(c for c in ITEM_COLUMNS if c not in _OPTIONAL)
_ITEM_FIELDS = (
    "title",
    "manifestations",
    "category_l1",
    "category_l2",
    "key_problem",
    "common_problem",
    "fix_now",
    "root_cause",
    "source",
)
_TRUE = frozenset({"是", "y", "yes", "true", "1", "√", "✓"})
_FALSE = frozenset({"否", "n", "no", "false", "0", ""})


@dataclass(frozen=True, slots=True)
class ImportedItems:
    """What an items import created."""

    items: int
    tasks: int


@dataclass
class _PlannedItem:
    case: str
    facts: ItemFacts
    first_row: int
    tasks: list[TaskFacts] = field(default_factory=list)


def import_items(
    service: Rectification,
    conn: Connection,
    path: Path,
    *,
    actor: str,
    role: str,
    at: datetime | None,
) -> ImportedItems:
    """Check every row of the sheet at `path`, then create its items and tasks."""
    rows = read_sheet(path, ITEM_COLUMNS, _OPTIONAL)
    planned = _check(service, conn, rows, path.name)
    tasks = 0
    for item in planned:
        ref = service._add_item(conn, item.case, item.facts, actor, role, "rectification", at)
        for facts in item.tasks:
            service._add_task(
                conn, service.resolve(conn, str(ref.id)), facts, actor, role, at, None
            )
            tasks += 1
    return ImportedItems(len(planned), tasks)


def _check(
    service: Rectification, conn: Connection, rows: list[SheetRow], source: str
) -> list[_PlannedItem]:
    from xunshi.workflow.rectification import SOURCES, ItemFacts, TaskFacts

    problems: list[tuple[int, str, str]] = []
    cases: dict[str, int | None] = {}
    categories = {
        (row.level1, row.level2)
        for row in conn.execute(select(q.categories.c.level1, q.categories.c.level2))
    }
    planned: dict[tuple[str, str], _PlannedItem] = {}
    seen_values: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        bad = [c for c in _REQUIRED if not row[c]]
        for column in bad:
            problems.append((row.number, column, "empty"))
        if bad:
            continue
        case = f"{row['round']}/{row['unit_code']}"
        if case not in cases:
            try:
                cases[case] = service.inspection.resolve(conn, case).id
            except XunshiError as exc:
                cases[case] = None
                problems.append((row.number, "unit_code", exc.message))
                continue
        if cases[case] is None:
            problems.append((row.number, "unit_code", f"case {case} does not exist"))
            continue
        try:
            code = check_code("item", row["item_code"])
        except BadInput as exc:
            problems.append((row.number, "item_code", exc.message))
            continue
        key = (case, code)
        if (row["category_l1"], row["category_l2"]) not in categories:
            problems.append(
                (
                    row.number,
                    "category_l2",
                    f"category {row['category_l1']}/{row['category_l2']} is not in the "
                    "category list",
                )
            )
            continue
        flags: dict[str, bool] = {}
        bad_flags = False
        for column in ("key_problem", "common_problem", "fix_now", "long_term"):
            value = row[column].strip().lower()
            if value not in _TRUE | _FALSE:
                problems.append((row.number, column, f"{row[column]!r} is not 是/否 (yes/no)"))
                bad_flags = True
            flags[column] = value in _TRUE
        if bad_flags:
            continue
        item_source = row["source"] or "inspection"
        if item_source not in SOURCES:
            problems.append(
                (row.number, "source", f"{item_source!r} is not one of {', '.join(SOURCES)}")
            )
            continue
        due_on = None
        if row["due_on"]:
            try:
                due_on = date.fromisoformat(row["due_on"])
            except ValueError:
                problems.append(
                    (row.number, "due_on", f"{row['due_on']!r} is not a date (YYYY-MM-DD)")
                )
                continue
        if due_on is not None and flags["long_term"]:
            problems.append(
                (row.number, "due_on", "a task is either long-term or has a due date, not both")
            )
            continue
        if due_on is None and not flags["long_term"]:
            problems.append((row.number, "due_on", "empty: give a due date or long_term = 是"))
            continue
        values = {name: row[name] for name in _ITEM_FIELDS}
        if key in seen_values:
            if seen_values[key] != values:
                first = planned[key].first_row
                differing = next(n for n in _ITEM_FIELDS if seen_values[key][n] != values[n])
                problems.append(
                    (row.number, differing, f"item {code} is described differently in row {first}")
                )
                continue
        else:
            taken = conn.execute(
                select(q.items.c.id).where(q.items.c.case_id == cases[case], q.items.c.code == code)
            ).first()
            if taken is not None:
                problems.append((row.number, "item_code", f"item {case}/{code} already exists"))
                continue
            seen_values[key] = values
            planned[key] = _PlannedItem(
                case,
                ItemFacts(
                    code=code,
                    title=row["title"],
                    category=f"{row['category_l1']}/{row['category_l2']}",
                    manifestations=row["manifestations"],
                    key_problem=flags["key_problem"],
                    common_problem=flags["common_problem"],
                    fix_now=flags["fix_now"],
                    root_cause=row["root_cause"],
                    source=item_source,
                ),
                row.number,
            )
        try:
            task = TaskFacts(
                measure=row["measure"],
                responsible_leader=row["responsible_leader"],
                lead_department=row["lead_department"],
                cooperating_departments=row["cooperating_departments"],
                responsible_person=row["responsible_person"],
                due_on=due_on,
                long_term=flags["long_term"],
            ).checked()
        except BadInput as exc:
            problems.append((row.number, "measure", exc.message))
            continue
        planned[key].tasks.append(task)
    if problems:
        raise SheetProblems(source, problems)
    return list(planned.values())
