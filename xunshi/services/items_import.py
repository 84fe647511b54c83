"""Items import: problems and their measures from a CSV or XLSX sheet, one row per task.

Every row is checked against the file and the database first; a problem names its row
and column, and nothing is written unless every row is good.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from xunshi.errors import BadInput, XunshiError
from xunshi.keys import InstanceKey
from xunshi.services.commands import SOURCES, ItemFacts, TaskFacts
from xunshi.services.sheets import Column, Problem, Sheet, parse_day, read_sheet
from xunshi.services.tags import split_tags, unknown_tag
from xunshi.texts import check_code

# The items sheet's columns: English names, and the headers an office writes (问题根源 is
# the ledger's title for the root cause).
ITEM_SHEET = (
    Column("round", ("轮次",)),
    Column("unit_code", ("单位代码",)),
    Column("item_code", ("问题编号",)),
    Column("title", ("问题",)),
    Column("manifestations", ("具体表现",), optional=True),
    Column("category_l1", ("一级类别",)),
    Column("category_l2", ("二级类别",)),
    Column("key_problem", ("重点问题",), optional=True),
    # Computed now (see read/common.py): only an empty cell or 否 is taken.
    Column("common_problem", ("共性问题",), optional=True),
    Column("tags", ("业务标签", "业务领域"), optional=True),
    Column("fix_now", ("立行立改",), optional=True),
    Column("root_cause", ("原因分析", "问题根源"), optional=True),
    Column("source", ("问题来源",), optional=True),
    Column("measure", ("整改措施",)),
    Column("responsible_leader", ("责任领导",)),
    Column("lead_department", ("牵头部门",)),
    Column("cooperating_departments", ("配合部门",), optional=True),
    Column("responsible_person", ("责任人",)),
    Column("due_on", ("完成时限",), optional=True),
    Column("long_term", ("长期整改",), optional=True),
    # 屡改屡犯: the earlier round's item (ROUND/UNIT/CODE) a 回头看's problem recurs from
    Column("recurs_from", ("屡改屡犯来源",), optional=True),
)
ITEM_COLUMNS = tuple(c.name for c in ITEM_SHEET)
_REQUIRED = tuple(c.name for c in ITEM_SHEET if not c.optional)
_ITEM_FIELDS = (
    "title",
    "manifestations",
    "category_l1",
    "category_l2",
    "key_problem",
    "fix_now",
    "root_cause",
    "source",
    "recurs_from",
    "tags",
)
_FLAGS = ("key_problem", "common_problem", "fix_now", "long_term")
COMPUTED_COMMON = (
    "共性问题 is computed now (the same category and tag in several units of the round), "
    "not typed: leave it empty"
)
_TRUE = frozenset({"是", "y", "yes", "true", "1", "√", "✓"})
_FALSE = frozenset({"否", "n", "no", "false", "0", ""})
# A source as the ledger writes it (巡视发现) or by its key (inspection).
_SOURCES = {**{key: key for key in SOURCES}, **{label: key for key, label in SOURCES.items()}}
_SOURCE_FORMS = ", ".join(f"{label}/{key}" for key, label in SOURCES.items())


class ItemLookups(Protocol):
    """What checking the sheet asks of the database."""

    def case(self, key: InstanceKey) -> tuple[int, InstanceKey]:
        """The id of case `key` and its key as stored (codes match in any case); a
        XunshiError naming it if there is none."""
        ...

    def categories(self) -> set[tuple[str, str]]:
        """Every (一级, 二级) of the category list."""
        ...

    def item_exists(self, case_id: int, code: str) -> bool:
        """Whether the case already has an item `code` (in any case)."""
        ...

    def check_recurrence(self, case_id: int, key: InstanceKey, earlier: str) -> None:
        """A XunshiError naming why, unless item `key` of the case may recur from the item
        `earlier` (屡改屡犯: the case follows that item's case)."""
        ...

    def tags(self) -> list[str]:
        """The tag list's names, in its order."""
        ...


@dataclass
class PlannedItem:
    """One item of the sheet, checked, with its tasks."""

    case: InstanceKey
    facts: ItemFacts
    first_row: int
    tasks: list[TaskFacts] = field(default_factory=list)


def plan_items(
    lookups: ItemLookups, path: Path, *, encoding: str | None = None
) -> list[PlannedItem]:
    """Read and check every row of the sheet at `path`; the items to create, in order."""
    return _check(lookups, read_sheet(path, ITEM_SHEET, encoding=encoding))


def _check(lookups: ItemLookups, sheet: Sheet) -> list[PlannedItem]:
    problems: list[Problem] = []
    cases: dict[InstanceKey, tuple[int, InstanceKey] | None] = {}
    categories = lookups.categories()
    known_tags = lookups.tags()
    planned: dict[tuple[InstanceKey, str], PlannedItem] = {}
    seen_values: dict[tuple[InstanceKey, str], dict[str, str]] = {}
    for row in sheet.rows:
        bad = [c for c in _REQUIRED if not row[c]]
        for column in bad:
            problems.append((row.number, column, "empty"))
        if bad:
            continue
        typed = InstanceKey(row["round"], row["unit_code"])
        if typed not in cases:
            try:
                cases[typed] = lookups.case(typed)
            except XunshiError as exc:
                cases[typed] = None
                problems.append((row.number, "unit_code", exc.message))
                continue
        found = cases[typed]
        if found is None:
            problems.append((row.number, "unit_code", f"{typed.label} does not exist"))
            continue
        case_id, case = found  # the key as stored: u01 and U01 are one case
        try:
            code = check_code("item", row["item_code"])
        except BadInput as exc:
            problems.append((row.number, "item_code", exc.message))
            continue
        key = (case, code.lower())  # P01 and p01 are one item
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
        for column in _FLAGS:
            value = row[column].strip().lower()
            if value not in _TRUE | _FALSE:
                problems.append((row.number, column, f"{row[column]!r} is not 是/否 (yes/no)"))
                bad_flags = True
            flags[column] = value in _TRUE
        if bad_flags:
            continue
        if flags["common_problem"]:
            problems.append((row.number, "common_problem", COMPUTED_COMMON))
            continue
        tags = split_tags(row["tags"])
        unknown = [tag for tag in tags if tag not in known_tags]
        if unknown:
            problems.append((row.number, "tags", unknown_tag(unknown[0], known_tags)))
            continue
        item_source = _SOURCES.get(row["source"] or "inspection")
        if item_source is None:
            problems.append(
                (row.number, "source", f"{row['source']!r} is not one of {_SOURCE_FORMS}")
            )
            continue
        due_on = None
        if row["due_on"]:
            try:
                due_on = parse_day(row["due_on"])
            except BadInput as exc:
                problems.append((row.number, "due_on", exc.message))
                continue
        if due_on is not None and flags["long_term"]:
            problems.append(
                (row.number, "due_on", "a task is either long-term or has a due date, not both")
            )
            continue
        if due_on is None and not flags["long_term"]:
            long_term = sheet.label("long_term")
            problems.append((row.number, "due_on", f"empty: give a due date or {long_term} = 是"))
            continue
        # What the item is, as its first row says; 是 and yes, 巡视发现 and inspection agree.
        resolved = {
            **{name: str(flag) for name, flag in flags.items()},
            "source": item_source,
            "tags": "、".join(sorted(set(tags))),
        }
        values = {name: resolved.get(name, row[name]) for name in _ITEM_FIELDS}
        if key in seen_values:
            if seen_values[key] != values:
                first = planned[key].first_row
                differing = next(n for n in values if seen_values[key][n] != values[n])
                problems.append(
                    (row.number, differing, f"item {code} is described differently in row {first}")
                )
                continue
        else:
            item_key = InstanceKey(case.round, case.unit, code)
            if lookups.item_exists(case_id, code):
                problems.append((row.number, "item_code", f"{item_key.label} already exists"))
                continue
            if row["recurs_from"]:
                try:
                    lookups.check_recurrence(case_id, item_key, row["recurs_from"])
                except XunshiError as exc:
                    problems.append((row.number, "recurs_from", exc.message))
                    continue
            seen_values[key] = values
            planned[key] = PlannedItem(
                case,
                ItemFacts(
                    code=code,
                    title=row["title"],
                    category=f"{row['category_l1']}/{row['category_l2']}",
                    manifestations=row["manifestations"],
                    key_problem=flags["key_problem"],
                    fix_now=flags["fix_now"],
                    root_cause=row["root_cause"],
                    source=item_source,
                    recurs_from=row["recurs_from"] or None,
                    tags=tags,
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
        raise sheet.problems(problems)
    return list(planned.values())
