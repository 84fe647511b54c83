"""The sample files in `examples/` are what the README says: valid, and each what it claims.

The workbooks are written by `examples/make_xlsx.py`; they must hold what it writes now.
"""

from __future__ import annotations

import runpy
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from cli_harness import REPO, Cli, drive, hours_after
from forward import steps_to
from openpyxl import load_workbook

from xunshi.services.plan import PLAN_SHEET
from xunshi.services.sheets import read_sheet

EXAMPLES = REPO / "examples"
ROUND = "2025-R1"
START = "2025-03-03T09:00"
# run_path compiles the script without writing bytecode into examples/.
GENERATOR: dict[str, Any] = runpy.run_path(str(EXAMPLES / "make_xlsx.py"))


def cells(path: Path) -> list[tuple[str, list[list[tuple[object, str]]]]]:
    """Every worksheet of a workbook: its title and each cell's value and number format."""
    book = load_workbook(path)
    return [
        (sheet.title, [[(c.value, c.number_format) for c in row] for row in sheet.iter_rows()])
        for sheet in book.worksheets
    ]


@pytest.mark.parametrize("name", ["plan.xlsx", "problems.xlsx"])
def test_the_workbooks_are_what_the_script_writes(tmp_path: Path, name: str) -> None:
    GENERATOR["build"](tmp_path)
    assert cells(EXAMPLES / name) == cells(tmp_path / name)


def test_the_plan_is_the_same_in_csv_and_xlsx() -> None:
    as_csv = read_sheet(EXAMPLES / "plan.csv", PLAN_SHEET)
    as_xlsx = read_sheet(EXAMPLES / "plan.xlsx", PLAN_SHEET)
    rows = [row.values for row in as_csv.rows]
    assert len(rows) == 6
    assert [row.values for row in as_xlsx.rows] == rows


def import_plan(cli: Cli, name: str) -> list[Any]:
    """A fresh database with round 2025-R1 and the example plan `name`; its cases."""
    cli.run("init")
    cli.run("round", "create", ROUND, "--title", "2025年第一轮巡视", "--start", "2025-03-03")
    imported = cli.out("plan", "import", str(EXAMPLES / name), "--at", START)
    assert imported == "Imported 6 cases (2 new groups, 6 new units)\n"
    return list(cli.json("case", "list", "--round", ROUND))


def test_both_plans_import_the_same_cases(tmp_path: Path) -> None:
    from_csv = import_plan(Cli(tmp_path / "csv.db"), "plan.csv")
    from_xlsx = import_plan(Cli(tmp_path / "xlsx.db"), "plan.xlsx")
    assert from_xlsx == from_csv
    assert {case["definition"] for case in from_csv} == {"regular", "special", "mobile"}


def test_the_problems_import_into_a_case_in_rectification(cli: Cli) -> None:
    import_plan(cli, "plan.csv")
    # To 整改, where problems are added.
    drive(cli, f"{ROUND}/U01", steps_to("rectification"), hours_after(START))
    loaded = cli.out("categories", "load", str(EXAMPLES / "categories.yaml"))
    assert loaded == "Categories: 11 added, 0 kept, 0 removed\n"
    cli.run("tags", "load", str(EXAMPLES / "tags.yaml"))
    imported = cli.out("items", "import", str(EXAMPLES / "problems.xlsx"), "--actor", "巡视办")
    assert imported == "Imported 4 items with 6 tasks\n"
    tasks = []
    for listed in cli.json("item", "list", "--round", ROUND):
        item = cli.json("item", "show", listed["key"])
        tasks += [(item["code"], task["measure"], task["due_on"]) for task in item["tasks"]]
    rows = GENERATOR["PROBLEMS"]
    assert tasks == [
        (row[2], row[10], row[14].isoformat() if isinstance(row[14], date) else None)
        for row in rows
    ]


def test_the_lifecycle_validates_and_loads(ready: Cli) -> None:
    path = EXAMPLES / "our_rectification.yaml"
    validated = ready.out("definitions", "validate", str(path))
    assert validated == f"{path}: ok (our_rectification, 4 states, 3 transitions)\n"
    assert ready.out("definitions", "load", str(path)) == "Loaded our_rectification v1\n"
    shown = ready.json("definitions", "show", "our_rectification")
    assert shown["subject"] == "item"


def test_the_calendar_loads(ready: Cli) -> None:
    loaded = ready.out("calendar", "load", str(EXAMPLES / "calendar-2027.yaml"))
    assert loaded.startswith("Loaded 2027 from calendar-2027.yaml")
    year = ready.json("calendar", "show", "2027")
    assert (year["holidays"], year["workdays"]) == (28, 5)
    days = {day["date"]: day for day in year["days"]}
    made_up = [d for d, day in days.items() if day["kind"] == "workday"]
    assert all(datetime.fromisoformat(d).weekday() >= 5 for d in made_up)
    assert days["2027-10-01"]["title"] == "国庆节"
