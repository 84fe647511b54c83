"""`xunshi categories | item | task | items import | ledger export | report themes` (issue 4).

The CLI runs on the system clock, so the items are added with `--at` in the past (the
world's case started 2024-09-02 09:00): item P01 is added 2024-09-03 10:00, so its
identified stage is due 2024-09-18 (09-14 is a make-up working day, 09-15..17 holidays)
and is overdue today. Commands after the fixture run "now".
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cli_harness import HISTORY_KEYS, KEY, ROUND, START, Cli, drive, hours_after, start_args
from forward import steps_to
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell

P01 = f"{KEY}/P01"
P02 = f"{KEY}/P02"
CATEGORIES = """\
categories:
  党的建设: [政治建设, 组织建设]
  全面从严治党: [作风建设]
  业务工作: [财务管理]
"""

ITEM_KEYS = {
    "id",
    "key",
    "case",
    "round",
    "unit",
    "group",
    "code",
    "title",
    "manifestations",
    "category",
    "tags",
    "key_problem",
    "common_problem",
    "fix_now",
    "root_cause",
    "source",
    "definition",
    "definition_version",
    "state",
    "state_title",
    "entered_at",
    "due_on",
    "provisional",
    "overdue",
    "suspended",
    "milestones",
    "version",
    "tasks",
    "voided",
    "clues",
    "outcome",  # 整改成果: its tasks' and its own added up
    "own_outcome",  # null, or what `item outcome` recorded
    "recurs_from",  # null, or the earlier round's item (屡改屡犯)
}
ITEM_COLUMNS = (
    "round,unit_code,item_code,title,manifestations,category_l1,category_l2,key_problem,"
    "common_problem,fix_now,root_cause,source,measure,responsible_leader,lead_department,"
    "cooperating_departments,responsible_person,due_on,long_term"
)
SHOWN_P01 = """\
问题    2024-R1/U01/P01  #2  理论学习不深入
单位    U01 示例市财政局  (常规巡视, 巡视组 G1)
类别    党的建设/政治建设  重点问题
状态    问题确认 (identified)  期限 2024-09-18  超期
表现    中心组学习流于形式
根源    重视不够
版本    1
"""


def add_p01(cli: Cli, *extra: str) -> str:
    """`item add` of P01 (a key problem) at 2024-09-03 10:00; its stdout."""
    return cli.out(
        "item", "add", KEY, "--code", "P01", "--title", "理论学习不深入",
        "--category", "党的建设/政治建设", "--manifestations", "中心组学习流于形式",
        "--root-cause", "重视不够", "--key", "--actor", "王主任",
        "--at", "2024-09-03T10:00", *extra,
    )  # fmt: skip


def task_args(item: str, *extra: str, due: str | None = "2024-10-31") -> list[str]:
    """`task add ITEM …` as the unit liaison."""
    args = ["task", "add", item, "--measure", "制定学习计划", "--leader", "赵书记"]
    args += ["--department", "办公室", "--person", "钱主任", "--actor", "李联络员"]
    args += ["--role", "unit_liaison", *extra]
    return args if due is None else [*args, "--due", due]


@pytest.fixture
def items(rectifying: Cli, tmp_path: Path) -> Cli:
    """The world with U01 in 整改, the category list, P01 (identified) and P02 (rectifying,
    业务工作/财务管理) with task #1 due 2024-10-31 owned by 财务处/孙科长."""
    world = rectifying
    (tmp_path / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    world.run("categories", "load", "categories.yaml")
    add_p01(world)
    world.run(
        "item", "add", KEY, "--code", "P02", "--title", "财务审批不严",
        "--category", "业务工作/财务管理", "--source", "audit", "--actor", "王主任",
        "--at", "2024-09-03T11:00",
    )  # fmt: skip
    for trigger, at in (("plan", "2024-09-04T10:00"), ("begin", "2024-09-05T10:00")):
        world.run(
            "item", "fire", P02, trigger, "--actor", "李联络员", "--role", "unit_liaison",
            "--at", at,
        )  # fmt: skip
    world.run(
        "task", "add", P02, "--measure", "修订审批办法", "--leader", "钱副局长",
        "--department", "财务处", "--person", "孙科长", "--due", "2024-10-31",
        "--actor", "李联络员", "--role", "unit_liaison", "--at", "2024-09-05T11:00",
    )  # fmt: skip
    return world


# -- categories -----------------------------------------------------------------------------


def test_categories_load_and_list(ready: Cli, tmp_path: Path) -> None:
    (tmp_path / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    assert ready.out("categories", "list") == (
        "No categories (load them with `xunshi categories load FILE`).\n"
    )
    assert ready.out("categories", "load", "categories.yaml") == (
        "Categories: 4 added, 0 kept, 0 removed\n"
    )
    assert ready.out("categories", "list") == (
        "一级类别      二级类别\n"
        "党的建设      政治建设\n"
        "党的建设      组织建设\n"
        "全面从严治党  作风建设\n"
        "业务工作      财务管理\n"
    )
    listed = ready.json("categories", "list")
    assert [(c["level1"], c["level2"]) for c in listed] == [
        ("党的建设", "政治建设"),
        ("党的建设", "组织建设"),
        ("全面从严治党", "作风建设"),
        ("业务工作", "财务管理"),
    ]
    assert all(isinstance(c["id"], int) for c in listed)
    (tmp_path / "fewer.yaml").write_text(
        "categories:\n  业务工作: [财务管理, 资产管理]\n  党的建设: [政治建设]\n", encoding="utf-8"
    )
    assert ready.json("categories", "load", "fewer.yaml") == {"added": 1, "kept": 2, "removed": 2}
    assert [c["level2"] for c in ready.json("categories", "list")] == [
        "财务管理",
        "资产管理",
        "政治建设",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("categories: [a\n", "bad.yaml: not valid YAML (line 2)"),
        (
            "kinds: {党的建设: [政治建设]}\n",
            "bad.yaml: expected one key, categories: {一级类别: [二级类别, …]}",
        ),
        ("categories: {}\n", "bad.yaml: categories must map each 一级类别 to a list of 二级类别"),
        (
            "categories: {党的建设: 政治建设}\n",
            "bad.yaml: category 党的建设 needs a list of 二级类别",
        ),
        (
            "categories: {党的建设: [政治/建设]}\n",
            "bad.yaml: 党的建设: '政治/建设' must be text without '/'",
        ),
        (
            "categories: {党的建设: [政治建设, 政治建设]}\n",
            "bad.yaml: 党的建设/政治建设 is listed twice",
        ),
    ],
)
def test_a_malformed_category_file_exits_1(
    ready: Cli, tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    assert ready.fail("categories", "load", "bad.yaml") == message
    assert ready.json("categories", "list") == []


def test_categories_in_use_cannot_be_removed_and_a_missing_file_is_named(
    items: Cli, tmp_path: Path
) -> None:
    (tmp_path / "less.yaml").write_text("categories: {党的建设: [组织建设]}\n", encoding="utf-8")
    message = items.fail("categories", "load", "less.yaml")
    prefix = "less.yaml: categories still used by items cannot be removed: "
    assert message.startswith(prefix), message
    assert sorted(message.removeprefix(prefix).split(", ")) == [
        "业务工作/财务管理",
        "党的建设/政治建设",
    ]
    assert items.fail("categories", "load", "nowhere.yaml") == "nowhere.yaml: no such file"
    assert len(items.json("categories", "list")) == 4


# -- items ----------------------------------------------------------------------------------


def start_in_rectification(cli: Cli, unit: str) -> None:
    """Start the unit's case at START and move it into 整改, one event an hour."""
    cli.run(*start_args(unit))
    drive(cli, f"{ROUND}/{unit}", steps_to("rectification"), hours_after(START, first=1))


def test_item_add_prints_the_item_and_show_shows_it(rectifying: Cli, tmp_path: Path) -> None:
    world = rectifying
    (tmp_path / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    world.run("categories", "load", "categories.yaml")
    assert add_p01(world) == SHOWN_P01
    assert world.out("item", "show", P01) == SHOWN_P01
    assert world.out("item", "show", "2") == SHOWN_P01
    shown = world.json("item", "show", P01)
    assert set(shown) == ITEM_KEYS
    assert {k: shown[k] for k in ("key", "state", "due_on", "entered_at", "source", "tasks")} == {
        "key": P01,
        "state": "identified",
        "due_on": "2024-09-18",
        "entered_at": "2024-09-03T10:00:00+08:00",
        "source": "inspection",
        "tasks": [],
    }


def test_item_add_refuses_bad_input_with_one_line(items: Cli) -> None:
    def add(*args: str) -> str:
        return items.fail("item", "add", *args, "--title", "问题", "--actor", "王主任")

    assert add(KEY, "--code", "P01", "--category", "党的建设/政治建设") == (
        f"item {P01} already exists"
    )
    assert add(KEY, "--code", "P03", "--category", "党的建设/宣传建设") == (
        "category 党的建设/宣传建设 is not in the category list (see `xunshi categories list`)"
    )
    assert add(f"{ROUND}/U09", "--code", "P03", "--category", "党的建设/政治建设") == (
        "case 2024-R1/U09 does not exist"
    )
    assert add(KEY, "--code", "P/3", "--category", "党的建设/政治建设") == (
        "item code 'P/3' is not valid: use letters, digits, '.', '_' or '-' "
        "(at most 64, starting with a letter or digit)"
    )
    assert [i["code"] for i in items.json("item", "list")] == ["P01", "P02"]


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        # Issue #8, defect 11: a typo lists the item definitions, not every definition.
        ("rectifcation", "no item definition called rectifcation (registered: rectification)"),
        ("regular", "definition regular is for cases, not items"),
    ],
)
def test_item_add_with_a_definition_that_drives_no_items(
    items: Cli, definition: str, message: str
) -> None:
    assert items.fail(
        "item", "add", KEY, "--code", "P03", "--title", "问题", "--category", "党的建设/政治建设",
        "--definition", definition,
    ) == message  # fmt: skip
    assert [i["code"] for i in items.json("item", "list")] == ["P01", "P02"]


def test_item_show_names_a_late_task_apart_from_the_stage(items: Cli) -> None:
    # Issue #8, defect 11: "期限 … 超期" read as the item's own deadline being missed.
    items.run("item", "fire", P01, "plan", "--actor", "王主任", "--role", "office")
    items.run(*task_args(P01))  # due 2024-10-31, long past

    lines = items.out("item", "show", P01).splitlines()

    # The stage was entered today: its own deadline is still ahead.
    assert re.fullmatch(
        r"状态    制定措施 \(planned\)  期限 \d{4}-\d\d-\d\d(?: \(暂定\))?", lines[3]
    )
    assert lines[4] == "任务超期: #1"
    assert lines[-2].split() == [
        "#1",
        "制定学习计划",
        "赵书记",
        "办公室",
        "钱主任",
        "2024-10-31",
        "超期",
    ]
    shown = items.json("item", "show", P01)
    assert (shown["overdue"], shown["tasks"][0]["overdue"]) == (True, True)


def test_item_show_of_a_stage_without_deadline_and_a_late_task(items: Cli) -> None:
    # P02 is 整改中 (no stage deadline) with task #1 due 2024-10-31.
    assert items.out("item", "show", P02) == (
        "问题    2024-R1/U01/P02  #3  财务审批不严\n"
        "单位    U01 示例市财政局  (常规巡视, 巡视组 G1)\n"
        "类别    业务工作/财务管理\n"
        "状态    整改中 (rectifying)\n"
        "任务超期: #1\n"
        "\n"
        "任务  措施          责任领导  牵头部门  责任人  时限        状态\n"
        "#1    修订审批办法  钱副局长  财务处    孙科长  2024-10-31  超期\n"
        "版本    4\n"
    )
    items.run("task", "done", f"{P02}#1", "--evidence", "新办法", "--role", "unit_liaison")
    assert "超期" not in items.out("item", "show", P02)


def test_item_list_and_its_filters(items: Cli) -> None:
    assert items.out("item", "list") == (
        "编号  问题             标题            类别               状态      任务  超期\n"
        "2     2024-R1/U01/P01  理论学习不深入  党的建设/政治建设  问题确认  0/0   超期\n"
        "3     2024-R1/U01/P02  财务审批不严    业务工作/财务管理  整改中    0/1   超期\n"
    )

    def codes(*args: str) -> list[str]:
        listed = items.json("item", "list", *args)
        assert all(set(i) == ITEM_KEYS for i in listed)
        return [i["key"] for i in listed]

    assert codes("--case", KEY) == [P01, P02]
    assert codes("--round", ROUND) == [P01, P02]
    assert codes("--state", "rectifying") == [P02]
    assert codes("--state", "accepted") == []
    assert codes("--category", "业务工作") == [P02]
    assert codes("--category", "党的建设/政治建设") == [P01]
    assert codes("--category", "党的建设/组织建设") == []
    assert codes("--owner", "财务处") == [P02]
    assert codes("--owner", "孙科长") == [P02]
    assert codes("--owner", "无名氏") == []
    assert codes("--overdue") == [P01, P02]
    # A task due far ahead on an item with no stage deadline: not overdue.
    items.run(
        "task", "update", f"{P02}#1", "--due", "2099-12-31", "--actor", "王", "--role", "office"
    )
    assert codes("--overdue") == [P01]
    assert codes("--overdue", "--category", "业务工作") == []
    assert items.out("item", "list", "--state", "archived") == "No items.\n"
    assert items.fail("item", "list", "--state", "closed") == (
        "no item definition has a state called closed (states: accepted, archived, "
        "identified, long_term, planned, rectifying, submitted)"
    )
    assert items.fail("item", "list", "--round", "2099-R9") == "round 2099-R9 does not exist"
    assert items.fail("item", "list", "--case", f"{ROUND}/U09") == "case 2024-R1/U09 does not exist"


def test_item_fire_milestone_and_history(items: Cli) -> None:
    def fire(item: str, trigger: str, role: str) -> str:
        return items.out("item", "fire", item, trigger, "--actor", "某人", "--role", role)

    # The new stage's due date counts from today (the CLI runs on the system clock).
    assert re.fullmatch(
        r"item 2024-R1/U01/P01: 问题确认 → 制定措施, due \d{4}-\d\d-\d\d(?: \(暂定\))?\n",
        fire(P01, "plan", "office"),
    )
    assert items.fail(
        "item", "fire", P01, "begin", "--actor", "张三", "--role", "group_leader"
    ) == (
        f"item {P01} cannot begin: role group_leader (巡视组组长) may not; "
        "allowed: unit_liaison (被巡视单位联络员), party_secretary (被巡视党组织书记), "
        "functional_dept (职能部门), office (巡视办)"
    )
    assert fire(P01, "begin", "unit_liaison") == "item 2024-R1/U01/P01: 制定措施 → 整改中\n"
    assert items.fail("item", "fire", P01, "submit", "--actor", "李", "--role", "unit_liaison") == (
        f"item {P01} cannot submit: it has no tasks (add its measures with `xunshi task add`)"
    )
    items.run(*task_args(P01))
    items.run(*task_args(P01, due="2024-11-30"))
    assert items.fail("item", "fire", P01, "submit", "--actor", "李", "--role", "unit_liaison") == (
        f"item {P01} cannot submit: tasks #1, #2 not done"
    )
    for number in (1, 2):
        items.run(
            "task", "done", f"{P01}#{number}", "--evidence", "学习计划",
            "--actor", "李", "--role", "unit_liaison",
        )  # fmt: skip
    event = items.json("item", "fire", P01, "submit", "--actor", "李", "--role", "unit_liaison")
    assert set(event) == HISTORY_KEYS | {"data"}
    assert (event["trigger"], event["from"], event["to"]) == ("submit", "rectifying", "submitted")
    assert items.fail("item", "fire", P01, "accept", "--actor", "王", "--role", "office") == (
        f"item {P01} cannot accept: milestones secretary_signed (党组织书记签字), "
        "office_accepted (巡视办审核), discipline_accepted (纪检监察组审核) not recorded"
    )
    assert items.fail(
        "item", "milestone", P01, "office_accepted", "--actor", "李", "--role", "unit_liaison"
    ) == (
        f"item {P01} cannot record office_accepted (巡视办审核): role unit_liaison "
        "(被巡视单位联络员) may not; allowed: office (巡视办)"
    )
    assert items.fail(
        "item", "milestone", P01, "secretary_signed", "--actor", "李", "--role", "unit_liaison"
    ) == (
        f"item {P01} cannot record secretary_signed (党组织书记签字): role unit_liaison "
        "(被巡视单位联络员) may not; allowed: party_secretary (被巡视党组织书记)"
    )
    items.run(
        "item", "milestone", P01, "secretary_signed",
        "--actor", "赵书记", "--role", "party_secretary",
    )  # fmt: skip
    assert items.out(
        "item", "milestone", P01, "office_accepted", "--actor", "王", "--role", "office"
    ) == (f"item {P01}: 巡视办审核 (office_accepted) recorded\n")
    recorded = items.json(
        "item", "milestone", P01, "discipline_accepted",
        "--actor", "钱组长", "--role", "discipline_group",
    )  # fmt: skip
    assert (recorded["kind"], recorded["data"]) == (
        "milestone",
        {"milestone": "discipline_accepted"},
    )
    assert fire(P01, "accept", "office") == "item 2024-R1/U01/P01: 申请销号 → 已销号\n"
    history = items.json("item", "history", P01)
    assert all(set(e) == HISTORY_KEYS | {"data"} for e in history)
    assert [(e["seq"], e["kind"], e["trigger"]) for e in history] == [
        (1, "started", None),
        (2, "transition", "plan"),
        (3, "transition", "begin"),
        (4, "task", "task_added"),
        (5, "task", "task_added"),
        (6, "task", "task_done"),
        (7, "task", "task_done"),
        (8, "transition", "submit"),
        (9, "milestone", None),
        (10, "milestone", None),
        (11, "milestone", None),
        (12, "transition", "accept"),
    ]
    text = items.out("item", "history", P01).splitlines()
    assert text[0].split() == ["序号", "时间", "事件", "内容", "人员", "角色", "理由"]
    assert " ".join(text[1].split()) == (
        "1 2024-09-03T10:00:00+08:00 started start → 问题确认 王主任 office"
    )
    # Task events name the task by its id (#2: P02's task is #1), as `task add` prints it.
    assert text[4].split()[2:] == ["task", "task_added", "#2", "李联络员", "unit_liaison"]
    assert len(text) == 13
    assert items.json("audit", "verify")["ok"] is True


def test_task_add_update_done(items: Cli) -> None:
    assert items.out(*task_args(P01)) == f"task {P01}#1 added (#2)\n"
    added = items.json(*task_args(P01, "--cooperating", "审计处", due=None), "--long-term")
    assert {k: added[k] for k in ("id", "task", "number")} == {
        "id": 3,
        "task": f"{P01}#2",
        "number": 2,
    }
    assert added["data"]["long_term"] is True  # what the task_added event recorded
    liaison = ["--actor", "李", "--role", "unit_liaison"]
    progress = items.out("task", "update", f"{P01}#1", "--progress", "已起草", *liaison)
    assert progress == f"task {P01}#1 updated\n"
    updated = items.json(
        "task", "update", "2", "--person", "周秘书", "--due", "2024-11-15",
        "--actor", "王", "--role", "office",
    )  # fmt: skip
    assert updated == {
        "id": 2,
        "task": f"{P01}#1",
        "number": 1,
        "data": {"task": 2, "changes": {"responsible_person": "周秘书", "due_on": "2024-11-15"}},
    }
    # --due on a long-term task makes it a dated one.
    dated = items.json(
        "task", "update", f"{P01}#2", "--due", "2024-12-31", "--actor", "王", "--role", "office"
    )
    assert dated["data"]["changes"] == {"due_on": "2024-12-31", "long_term": False}
    assert items.out(
        "task", "done", f"{P01}#1", "--evidence", "学习计划文件", "--actor", "李",
        "--role", "unit_liaison",
    ) == (f"task {P01}#1 done\n")  # fmt: skip
    done = items.json(
        "task", "done", "3", "--evidence", "会议纪要", "--actor", "李", "--role", "unit_liaison"
    )
    assert (done["task"], done["data"]["evidence"]) == (f"{P01}#2", "会议纪要")
    tasks = items.json("item", "show", P01)["tasks"]
    assert [
        (t["number"], t["responsible_person"], t["cooperating_departments"], t["due_on"],
         t["long_term"], t["progress"], t["status"], t["evidence"])
        for t in tasks
    ] == [
        (1, "周秘书", "", "2024-11-15", False, "已起草", "done", "学习计划文件"),
        (2, "钱主任", "审计处", "2024-12-31", False, "", "done", "会议纪要"),
    ]  # fmt: skip
    assert items.fail(
        "task", "done", f"{P01}#1", "--evidence", "再次", "--actor", "李", "--role", "unit_liaison"
    ).startswith(f"task {P01}#1 is done (on ")


def test_bad_item_and_task_arguments_exit_1_with_one_line(items: Cli) -> None:
    assert items.fail("item", "show", f"{KEY}/P09") == f"item {KEY}/P09 does not exist"
    assert items.fail("item", "show", "P01") == (
        "item 'P01' is not an item id or key: use the number or ROUND/UNIT/CODE, "
        "e.g. 2024-R1/U01/P01"
    )
    assert items.fail("item", "history", "99") == "item #99 does not exist"
    assert items.fail(
        "item", "fire", f"{KEY}/P09", "plan", "--actor", "王", "--role", "office"
    ) == (f"item {KEY}/P09 does not exist")
    assert items.fail(*task_args(f"{KEY}/P09")) == f"item {KEY}/P09 does not exist"
    assert items.fail(*task_args(P01, due="2024-1031")) == (
        "--due '2024-1031' is not a date (YYYY-MM-DD)"
    )
    assert items.fail(*task_args(P01), "--long-term") == (
        "a task is either long-term or has a due date (--due), not both"
    )
    update = ["--progress", "x", "--actor", "李", "--role", "unit_liaison"]
    assert (
        items.fail("task", "update", "P01#1", *update)
        == f"item 'P01' is not an item id or key: use the number or ROUND/UNIT/CODE, e.g. {P01}"
    )
    assert items.fail("task", "update", f"{P02}#7", *update) == f"item {P02} has no task #7"
    assert items.fail("task", "update", "abc", *update) == (
        "task 'abc' is not a task id or key: use the number or ITEM#N, e.g. 2024-R1/U01/P01#1"
    )
    assert items.fail("task", "update", "99", *update) == "task #99 does not exist"
    assert items.fail(
        "task",
        "update",
        f"{P02}#1",
        "--due",
        "31/10/2024",
        "--actor",
        "李",
        "--role",
        "unit_liaison",
    ) == ("--due '31/10/2024' is not a date (YYYY-MM-DD)")
    assert items.fail("task", "update", f"{P02}#1", "--actor", "李", "--role", "unit_liaison") == (
        "nothing to update: give a new value or --progress"
    )
    # Nothing of the above was written.
    assert len(items.json("item", "history", P02)) == 4
    assert items.json("item", "show", P01)["tasks"] == []


def test_missing_required_options_are_usage_errors(items: Cli) -> None:
    assert items.usage("task", "add", P01, "--measure", "m") == (
        "Error: Missing option '--leader'."
    )
    assert items.usage("task", "done", f"{P02}#1", "--actor", "李", "--role", "office") == (
        "Error: Missing option '--evidence'."
    )


# -- import, ledger, themes ---------------------------------------------------------------


def write_items(path: Path, *lines: str) -> Path:
    """An items CSV: the header, then `lines`."""
    path.write_text("\n".join([ITEM_COLUMNS, *lines]) + "\n", encoding="utf-8")
    return path


GOOD_LINES = (
    "2024-R1,U02,P01,违规发放津贴,超标准发放,全面从严治党,作风建设,是,否,否,制度缺失,audit,"
    "清退违规津贴,孙局长,财务处,审计处,李会计,2024-09-30,",
    "2024-R1,U02,P01,违规发放津贴,超标准发放,全面从严治党,作风建设,是,,否,制度缺失,audit,"
    "建立津贴制度,孙局长,人事处,,周科长,,是",
    "2024-R1,U01,P03,会议记录不全,,党的建设,组织建设,否,否,否,,,补全会议记录,赵书记,办公室,,"
    "钱主任,2024-10-15,",
)


def test_items_import(items: Cli, tmp_path: Path) -> None:
    start_in_rectification(items, "U02")
    path = write_items(tmp_path / "items.csv", *GOOD_LINES)
    assert items.out("items", "import", str(path), "--actor", "王主任") == (
        "Imported 2 items with 3 tasks\n"
    )
    listed = items.json("item", "list", "--round", ROUND)
    assert [(i["key"], len(i["tasks"])) for i in listed] == [
        (P01, 0),
        (P02, 1),
        (f"{KEY}/P03", 1),
        (f"{ROUND}/U02/P01", 2),
    ]
    again = write_items(tmp_path / "more.csv", GOOD_LINES[2].replace("P03", "P04"))
    assert items.json("items", "import", str(again), "--actor", "王主任") == {
        "items": 1,
        "tasks": 1,
    }


def test_a_bad_items_file_exits_1_naming_row_and_column_and_imports_nothing(
    items: Cli, tmp_path: Path
) -> None:
    bad = GOOD_LINES[2].replace("2024-10-15", "2024-10-45").replace("P03", "P05")
    path = write_items(
        tmp_path / "items.csv", GOOD_LINES[2], bad, GOOD_LINES[2].replace("P03", "P06")
    )
    assert items.fail("items", "import", str(path), "--actor", "王主任") == (
        "items.csv row 3, column due_on: '2024-10-45' is not a date "
        "(2025-09-30, 2025/9/30 or 2025年9月30日)"
    )
    assert [i["code"] for i in items.json("item", "list")] == ["P01", "P02"]
    assert items.fail("items", "import", "nowhere.csv", "--actor", "王主任") == (
        "nowhere.csv: no such file"
    )


def test_items_import_in_the_encoding_given(items: Cli, tmp_path: Path) -> None:
    start_in_rectification(items, "U02")
    path = tmp_path / "items.csv"
    path.write_bytes(("\n".join([ITEM_COLUMNS, *GOOD_LINES]) + "\n").encode("gb18030"))
    import_ = ["items", "import", str(path), "--actor", "王主任", "--encoding"]

    assert items.fail(*import_, "utf-8") == "items.csv line 2: not utf-8 text"
    assert items.fail(*import_, "gb-18030x") == "unknown encoding 'gb-18030x'"
    assert len(items.json("item", "list")) == 2
    assert items.out(*import_, "gb18030") == "Imported 2 items with 3 tasks\n"


def test_ledger_export_xlsx_and_csv(items: Cli, tmp_path: Path) -> None:
    items.run(*task_args(P01, "--cooperating", "审计处"))
    assert items.out(
        "ledger", "export", "--round", ROUND, "--format", "xlsx", "--out", "ledger.xlsx"
    ) == ("Wrote 2 rows to ledger.xlsx\n")
    sheet = load_workbook(tmp_path / "ledger.xlsx").active
    assert sheet is not None
    # The CLI runs on the system clock: as of today.
    assert re.fullmatch(r"2024年第一轮巡视 整改台账 截至 \d{4}-\d{2}-\d{2}", str(sheet["A1"].value))
    rows = [[c.value for c in line] for line in sheet.iter_rows(min_row=2)]
    assert rows[0][:6] == ["序号", "轮次", "巡视组", "被巡视单位", "巡视类型", "问题"]
    assert len(rows[0]) == 34  # 26; 业务领域, the extensions' 2; 整改成果 and 屡改屡犯 at the end
    assert [(r[0], r[5], r[14], r[17], r[21]) for r in rows[1:]] == [
        (1, "P01 理论学习不深入", "制定学习计划", "钱主任", "超期未完成"),
        (2, "P02 财务审批不严", "修订审批办法", "孙科长", "超期未完成"),
    ]
    due = sheet.cell(row=3, column=19)
    assert isinstance(due, Cell)
    assert due.is_date
    assert (sheet.freeze_panes, sheet.auto_filter.ref) == ("A3", "A2:AH4")
    assert items.json(
        "ledger", "export", "--round", ROUND, "--case", KEY, "--format", "csv", "--out", "l.csv"
    ) == {"rows": 2, "out": "l.csv", "format": "csv"}
    raw = (tmp_path / "l.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert lines[0] == [c.value for c in sheet[2]]
    assert [line[18] for line in lines[1:]] == ["2024-10-31", "2024-10-31"]
    assert items.fail(
        "ledger", "export", "--round", "2099-R9", "--format", "csv", "--out", "x.csv"
    ) == ("round 2099-R9 does not exist")
    assert not (tmp_path / "x.csv").exists()
    assert items.usage(
        "ledger", "export", "--round", ROUND, "--format", "pdf", "--out", "x.pdf"
    ).startswith("Error: Invalid value for '--format'")


# -- output files: --out -, the format from the extension, --force -----------------------


def test_ledger_export_to_stdout(items: Cli) -> None:
    text = items.out("ledger", "export", "--round", ROUND, "--out", "-")
    assert text.startswith("序号,轮次,巡视组,被巡视单位,")  # CSV, no BOM, nothing else
    lines = list(csv.reader(text.splitlines()))
    assert [(line[0], line[5], line[21]) for line in lines[1:]] == [
        ("1", "P01 理论学习不深入", "未制定措施"),
        ("2", "P02 财务审批不严", "超期未完成"),
    ]
    assert items.out("ledger", "export", "--round", ROUND, "--format", "csv", "--out", "-") == text
    # The export is the output: --json does not add a summary to it.
    assert items.run("--json", "ledger", "export", "--round", ROUND, "--out", "-").stdout == text
    assert items.fail("ledger", "export", "--round", ROUND, "--format", "xlsx", "--out", "-") == (
        "--format xlsx needs --out FILE"
    )


def test_the_format_follows_the_extension(items: Cli, tmp_path: Path) -> None:
    assert items.out("ledger", "export", "--round", ROUND, "--out", "台账.xlsx") == (
        "Wrote 2 rows to 台账.xlsx\n"
    )
    sheet = load_workbook(tmp_path / "台账.xlsx").active
    assert sheet is not None
    assert sheet.max_row == 4
    assert items.json("ledger", "export", "--round", ROUND, "--out", "台账.CSV") == {
        "rows": 2,
        "out": "台账.CSV",
        "format": "csv",
    }
    assert (tmp_path / "台账.CSV").read_bytes().startswith("\ufeff序号,".encode())
    # With --format, a file may be called anything the format does not contradict.
    items.run("ledger", "export", "--round", ROUND, "--format", "csv", "--out", "台账")
    assert (tmp_path / "台账").read_bytes() == (tmp_path / "台账.CSV").read_bytes()


def test_an_unknown_extension_without_format_is_refused_naming_the_formats(
    items: Cli, tmp_path: Path
) -> None:
    assert items.fail("ledger", "export", "--round", ROUND, "--out", "台账.txt") == (
        "cannot tell the format of 台账.txt from its extension: name it .xlsx or .csv, "
        "or give --format xlsx|csv"
    )
    assert items.fail("report", "themes", "--round", ROUND, "--out", "专题.pdf") == (
        "cannot tell the format of 专题.pdf from its extension: name it .csv or .xlsx, "
        "or give --format csv|xlsx"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["categories.yaml", "xunshi.db"]


def test_a_format_and_an_extension_that_disagree_are_refused(items: Cli, tmp_path: Path) -> None:
    assert items.fail(
        "ledger", "export", "--round", ROUND, "--format", "csv", "--out", "台账.xlsx"
    ) == ("--format csv but 台账.xlsx ends in .xlsx")
    assert items.fail(
        "report", "themes", "--round", ROUND, "--format", "xlsx", "--out", "专题.csv"
    ) == ("--format xlsx but 专题.csv ends in .csv")
    assert items.fail(
        "report", "themes", "--round", ROUND, "--format", "table", "--out", "专题.csv"
    ) == ("--format table prints a table; write a file as csv or xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["categories.yaml", "xunshi.db"]


def test_report_themes_writes_the_file_out_names(items: Cli, tmp_path: Path) -> None:
    assert items.out("report", "themes", "--round", ROUND, "--out", "专题.xlsx") == (
        "Wrote 2 categories to 专题.xlsx\n"
    )
    sheet = load_workbook(tmp_path / "专题.xlsx").active
    assert sheet is not None
    assert [c.value for c in sheet[2]][:2] == ["一级类别", "二级类别"]
    text = items.out("report", "themes", "--round", ROUND, "--out", "-")
    assert text.splitlines()[0].startswith("一级类别,二级类别,涉及单位数,")
    assert items.out("report", "themes", "--round", ROUND, "--format", "csv") == text
    assert items.out("report", "themes", "--round", ROUND, "--format", "table") == THEMES_TABLE


def test_an_existing_file_is_kept_unless_force(items: Cli, tmp_path: Path) -> None:
    existing = tmp_path / "台账.xlsx"
    existing.write_bytes(b"the office's own copy")
    assert items.fail("ledger", "export", "--round", ROUND, "--out", "台账.xlsx") == (
        "台账.xlsx exists; use --force to overwrite it"
    )
    assert items.fail("report", "themes", "--round", ROUND, "--out", "台账.xlsx") == (
        "台账.xlsx exists; use --force to overwrite it"
    )
    assert existing.read_bytes() == b"the office's own copy"
    # A refused export (an unknown round) leaves the file as it was, even with --force.
    assert items.fail(
        "ledger", "export", "--round", "2099-R9", "--out", "台账.xlsx", "--force"
    ) == ("round 2099-R9 does not exist")
    assert existing.read_bytes() == b"the office's own copy"
    assert items.out("ledger", "export", "--round", ROUND, "--out", "台账.xlsx", "--force") == (
        "Wrote 2 rows to 台账.xlsx\n"
    )
    assert load_workbook(existing).active is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "categories.yaml",
        "xunshi.db",
        "台账.xlsx",
    ]


THEMES_TABLE = """\
一级类别  二级类别  涉及单位数  问题数  重点问题  共性问题  已销号  长期整改  未销号  超期  屡改屡犯  涉及单位
党的建设  政治建设  1           1       1         0         0       0         1       1     0         示例市财政局
业务工作  财务管理  1           1       0         0         0       0         1       1     0         示例市财政局
"""  # noqa: E501


def test_report_themes(items: Cli, tmp_path: Path) -> None:
    assert items.out("report", "themes", "--round", ROUND) == THEMES_TABLE
    themes: list[dict[str, Any]] = items.json("report", "themes", "--round", ROUND)
    assert [(t["category"], t["items"], t["open"], t["overdue"], t["units"]) for t in themes] == [
        ("党的建设/政治建设", 1, 1, 1, ["示例市财政局"]),
        ("业务工作/财务管理", 1, 1, 1, ["示例市财政局"]),
    ]
    assert items.out(
        "report", "themes", "--round", ROUND, "--format", "csv", "--out", "themes.csv"
    ) == ("Wrote 2 categories to themes.csv\n")
    assert (tmp_path / "themes.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert items.json(
        "report", "themes", "--round", ROUND, "--format", "xlsx", "--out", "themes.xlsx"
    ) == {"categories": 2, "out": "themes.xlsx"}
    sheet = load_workbook(tmp_path / "themes.xlsx").active
    assert sheet is not None
    assert [c.value for c in sheet[3]] == [
        "党的建设",
        "政治建设",
        1,
        1,
        1,
        0,
        0,
        0,
        1,
        1,
        0,  # 屡改屡犯
        "示例市财政局",
    ]
    assert items.fail("report", "themes", "--round", ROUND, "--format", "xlsx") == (
        "--format xlsx needs --out FILE"
    )
    assert items.fail("report", "themes", "--round", "2099-R9") == "round 2099-R9 does not exist"


def test_json_output_of_every_command_parses(items: Cli, tmp_path: Path) -> None:
    """`--json` on every rectification command prints one JSON document."""
    (tmp_path / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    liaison = ["--actor", "李", "--role", "unit_liaison"]
    office = ["--actor", "王", "--role", "office"]
    new_item = ["--code", "P05", "--title", "新问题", "--category", "业务工作/财务管理"]
    commands: list[list[str]] = [
        ["categories", "load", "categories.yaml"],
        ["categories", "list"],
        ["item", "add", KEY, *new_item, "--actor", "王"],
        ["item", "list"],
        ["item", "show", P02],
        ["item", "history", P02],
        ["item", "fire", P01, "plan", *office],
        ["task", "update", f"{P02}#1", "--progress", "进展", *liaison],
        ["task", "done", f"{P02}#1", "--evidence", "文件", *liaison],
        ["item", "fire", P02, "submit", *liaison],
        ["item", "milestone", P02, "office_accepted", *office],
        ["ledger", "export", "--round", ROUND, "--format", "csv", "--out", "l.csv"],
        ["report", "themes", "--round", ROUND],
    ]
    kinds = []
    for command in commands:
        result = items.invoke(["--db", items.url, "--json", *command])
        assert result.exit_code == 0, (command, result.stderr)
        kinds.append(type(json.loads(result.stdout)).__name__)
    assert kinds == [
        "dict",
        "list",
        "dict",
        "list",
        "dict",
        "list",
        "dict",
        "dict",
        "dict",
        "dict",
        "dict",
        "dict",
        "list",
    ]


# -- item facts (issue #8, defect 1) ----------------------------------------------------------


def test_item_update_records_the_change_and_its_reason(items: Cli) -> None:
    office = ["--actor", "王主任", "--role", "office"]
    assert items.out(
        "item", "update", P01, "--title", "理论学习走过场", "--no-key",
        "--category", "全面从严治党/作风建设", "--reason", "反馈意见修订", *office,
    ) == f"item {P01} updated: title, category, key_problem\n"  # fmt: skip
    shown = items.json("item", "show", P01)
    assert (shown["title"], shown["category"], shown["key_problem"]) == (
        "理论学习走过场",
        "全面从严治党/作风建设",
        False,
    )
    history = items.json("item", "history", P01)
    assert history[0]["data"]["facts"]["title"] == "理论学习不深入"
    assert (history[-1]["kind"], history[-1]["reason"]) == ("facts", "反馈意见修订")
    assert "facts: title, category, key_problem" in items.out("item", "history", P01)
    # What the history says is what the row says: an edit behind xunshi's back shows.
    items.sql("UPDATE rectification_item SET title = '悄悄改过' WHERE code = 'P01'")
    assert items.run("audit", "verify", code=1).stderr == (
        f"item {P01} seq 2: item facts: row says title = '悄悄改过', history replays to "
        "'理论学习走过场'\nError: audit failed: 1 problem in 1 chain\n"
    )


def test_item_update_refusals(items: Cli) -> None:
    office = ["--actor", "王主任", "--role", "office"]
    assert items.fail("item", "update", P01, "--reason", "x", *office) == (
        "nothing to update: give --title, --manifestations, --category, a flag, --root-cause "
        "or --tag"
    )
    assert items.fail("item", "update", P01, "--key", "--reason", "x", *office) == (
        f"nothing changes for item {P01}"
    )
    assert items.fail(
        "item", "update", P01, "--category", "不存在/类别", "--reason", "x", *office
    ) == ("category 不存在/类别 is not in the category list (see `xunshi categories list`)")
    assert items.usage("item", "update", P01, "--title", "新", *office) == (
        "Error: Missing option '--reason'."
    )


def test_item_codes_match_in_any_case(items: Cli, tmp_path: Path) -> None:
    # `p01` finds P01; adding p01 beside P01 is a duplicate; a sheet's rows for p03 and P03
    # are one item (spelled as its first row spells it).
    assert items.json("item", "show", P01.lower())["key"] == P01
    assert items.fail(
        "item", "add", KEY.lower(), "--code", "p01", "--title", "另一个问题",
        "--category", "党的建设/政治建设", "--actor", "王主任",
    ) == f"item {P01.rsplit('/', 1)[0]}/p01 already exists (as P01)"  # fmt: skip
    lines = [GOOD_LINES[2], GOOD_LINES[2].replace("U01,P03", "u01,p03").replace("补全", "复核")]
    path = write_items(tmp_path / "items.csv", *lines)

    assert items.json("items", "import", str(path), "--actor", "王主任") == {"items": 1, "tasks": 2}
    keys = [i["key"] for i in items.json("item", "list", "--case", KEY)]
    assert keys == [P01, P02, f"{KEY}/P03"]


# -- when problems may be added (#8.8) --------------------------------------------------------


def p09(*extra: str) -> list[str]:
    """`item add` of P09 to case U01."""
    return [
        "item", "add", KEY, "--code", "P09", "--title", "会议记录不全",
        "--category", "党的建设/组织建设", "--actor", "王主任", *extra,
    ]  # fmt: skip


def test_problems_are_added_only_in_the_stages_the_definition_allows(
    world: Cli, tmp_path: Path
) -> None:
    (tmp_path / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    world.run("categories", "load", "categories.yaml")
    rule = (
        "problems are added in 整改方案 (rectification_plan) or 集中整改 (rectification), "
        "立行立改 (--fix-now) problems also in 现场巡视 (onsite)"
    )
    assert world.fail(*p09()) == f"case {KEY} is in 巡前准备 (preparation): {rule}"
    assert world.fail(*p09("--fix-now")) == f"case {KEY} is in 巡前准备 (preparation): {rule}"
    drive(world, KEY, steps_to("onsite"), hours_after(START, first=1))
    assert world.fail(*p09()) == f"case {KEY} is in 现场巡视 (onsite): {rule}"
    assert world.json(*p09("--fix-now"))["key"] == f"{KEY}/P09"


def test_a_problem_is_not_dated_before_its_case_entered_its_stage(
    rectifying: Cli, tmp_path: Path
) -> None:
    (tmp_path / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    rectifying.run("categories", "load", "categories.yaml")
    before = rectifying.json("item", "list")

    assert rectifying.fail(*p09("--at", "2024-09-02T12:00")) == (
        f"item {KEY}/P09 cannot be added at 2024-09-02 12:00: case {KEY} entered 集中整改 "
        "(rectification) at 2024-09-03 08:00"
    )
    path = write_items(tmp_path / "items.csv", GOOD_LINES[2])
    assert rectifying.fail(
        "items", "import", str(path), "--actor", "王主任", "--at", "2024-01-01"
    ) == (
        f"item {KEY}/P03 cannot be added at 2024-01-01 00:00: case {KEY} entered 集中整改 "
        "(rectification) at 2024-09-03 08:00"
    )
    assert rectifying.json("item", "list") == before
    assert rectifying.json(*p09("--at", "2024-09-03T08:00"))["key"] == f"{KEY}/P09"
