"""Due dates on a year without calendar data are marked (暂定) wherever people read them.

Issue #8, defect 11. `chinesecalendar` has no data before 2004, so a round of 2003 counts
weekends only, as 2027 does until its data is loaded, and the tests do not depend on today.
Case 2003-R1/U01 starts Monday 2003-03-03 09:00: 巡前准备 (15wd) is due 2003-03-24 (暂定).
"""

from __future__ import annotations

import re

import pytest
from cli_harness import Cli, drive, hours_after
from forward import steps_to

ROUND = "2003-R1"
CASE = f"{ROUND}/U01"
ITEM = f"{CASE}/P01"
CATEGORIES = "categories:\n  党的建设: [政治建设]\n"
# A 2003 file with 春节 only (before the case, so no due date moves): loaded, the year has
# data and nothing through it is 暂定 any more.
CALENDAR_2003 = "year: 2003\nholidays:\n  - {from: 2003-02-01, to: 2003-02-07}\nworkdays: []\n"


@pytest.fixture
def early(ready: Cli) -> Cli:
    """Round 2003-R1 with group G1, unit U01 and its case started 2003-03-03 09:00."""
    ready.run("round", "create", ROUND, "--title", "2003年第一轮巡视", "--start", "2003-03-03")
    ready.run("group", "add", ROUND, "G1", "--leader", "张三")
    ready.run("unit", "add", "U01", "--name", "示例市财政局")
    ready.run(
        "case", "start", "--round", ROUND, "--unit", "U01", "--group", "G1",
        "--definition", "regular", "--at", "2003-03-03T09:00",
    )  # fmt: skip
    return ready


def on_case(cli: Cli, command: str, *args: str, role: str = "office") -> str:
    """`case COMMAND CASE ARGS --role ROLE`; its stdout."""
    return cli.out("case", command, CASE, *args, "--role", role)


def test_case_show_and_list_mark_the_due_date(early: Cli) -> None:
    shown = early.out("case", "show", CASE).splitlines()

    assert re.fullmatch(r"期限    2003-03-24 \(暂定\)  超期 \d+ 天", shown[5]), shown[5]
    listed = early.out("case", "list").splitlines()[1]
    assert re.search(r"  2003-03-24 \(暂定\)  超期 \d+ 天$", listed), listed
    assert early.json("case", "show", CASE)["provisional"] is True
    report = early.out("report", "round", ROUND).splitlines()
    # The case among every case, then among the overdue ones.
    rows = [line for line in report if line.startswith(CASE)]
    assert len(rows) == 2
    assert all("  2003-03-24 (暂定)  " in row for row in rows), rows


def test_case_fire_and_resume_mark_the_new_due_date(early: Cli) -> None:
    on_case(early, "milestone", "briefings_received", "--at", "2003-03-04T09:00")
    on_case(early, "milestone", "training_done", "--at", "2003-03-04T10:00")

    fired = on_case(early, "fire", "move_in", "--at", "2003-03-05T09:00", role="group_leader")
    on_case(early, "suspend", "--reason", "巡视组临时召回", "--at", "2003-03-06T09:00")
    resumed = on_case(early, "resume", "--at", "2003-03-10T09:00")

    # 现场巡视 (30wd, no plan) from Wednesday 03-05 on weekends only: six weeks, to Wednesday 04-16.
    assert fired == f"case {CASE}: 巡前准备 → 现场巡视, due 2003-04-16 (暂定)\n"
    # (03-06, 03-10] holds two working days on weekends only: 03-07 and 03-10.
    assert resumed == f"case {CASE}: resumed, due 2003-04-18 (暂定)\n"


def test_item_show_and_fire_mark_the_stage_due_date(early: Cli) -> None:
    (early.path.parent / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    early.run("categories", "load", "categories.yaml")
    # Into 整改, where problems are added: one event an hour until 2003-03-04 03:00.
    drive(early, CASE, steps_to("rectification"), hours_after("2003-03-03T09:00", first=1))

    added = early.out(
        "item", "add", CASE, "--code", "P01", "--title", "理论学习不深入",
        "--category", "党的建设/政治建设", "--at", "2003-03-04T10:00",
    )  # fmt: skip
    fired = early.out("item", "fire", ITEM, "plan", "--role", "office", "--at", "2003-03-05T10:00")
    early.run(
        "task", "add", ITEM, "--measure", "制定学习计划", "--leader", "赵书记",
        "--department", "办公室", "--person", "钱主任", "--due", "2003-10-31",
        "--role", "unit_liaison", "--at", "2003-03-06T10:00",
    )  # fmt: skip

    assert added.splitlines()[3] == "状态    问题确认 (identified)  期限 2003-03-18 (暂定)  超期"
    assert fired == f"item {ITEM}: 问题确认 → 制定措施, due 2003-03-19 (暂定)\n"
    shown = early.out("item", "show", ITEM).splitlines()
    assert shown[3] == "状态    制定措施 (planned)  期限 2003-03-19 (暂定)  超期"
    # A task's due date is the office's own date, which no calendar load ever moves: it is
    # not 暂定 (only the working days its reminders count are).
    assert shown[-2].split()[-2:] == ["2003-10-31", "超期"]


def test_loading_the_year_drops_the_mark(early: Cli) -> None:
    path = early.path.parent / "cal2003.yaml"
    path.write_text(CALENDAR_2003, encoding="utf-8")

    early.run("calendar", "load", str(path))

    shown = early.out("case", "show", CASE).splitlines()
    assert re.fullmatch(r"期限    2003-03-24  超期 \d+ 天", shown[5]), shown[5]
    assert early.json("case", "show", CASE)["provisional"] is False
