"""`case void`, `item void`, `unit rename`, `group leader`: corrections as people type them.

Exact output throughout: what each prints, the one `Error:` line of each refusal, how a
void case or item shows and where it no longer does, the history lines the corrections add,
and `audit verify` covering the void case and naming a row edited outside xunshi.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_harness import KEY, ROUND, START, Cli, start_case

U02 = f"{ROUND}/U02"
P01 = f"{KEY}/P01"
P02 = f"{KEY}/P02"
OFFICE = ("--actor", "巡视办", "--role", "office")
CATEGORIES = "categories:\n  党的建设: [政治建设]\n  业务工作: [财务管理]\n"


def void(cli: Cli, kind: str, name: str, *args: str, reason: str = "重复录入") -> str:
    """`KIND void NAME --reason R ARGS` as the office; its stdout."""
    return cli.out(kind, "void", name, "--reason", reason, *OFFICE, *args)


@pytest.fixture
def two(world: Cli) -> Cli:
    """The world with a second case, 2024-R1/U02 (示例市审计局), started at START too."""
    start_case(world, "U02", at=START)
    return world


@pytest.fixture
def problems(rectifying: Cli, tmp_path: Path) -> Cli:
    """U01 in 整改 with P01 (政治建设, 2024-09-03 10:00) and P02 (财务管理, 11:00)."""
    (tmp_path / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    rectifying.run("categories", "load", "categories.yaml")
    for code, title, category, at in (
        ("P01", "理论学习不深入", "党的建设/政治建设", "2024-09-03T10:00"),
        ("P02", "财务审批不严", "业务工作/财务管理", "2024-09-03T11:00"),
    ):
        rectifying.run(
            "item", "add", KEY, "--code", code, "--title", title, "--category", category,
            "--actor", "王主任", "--at", at,
        )  # fmt: skip
    return rectifying


# -- case void ---------------------------------------------------------------------------


def test_a_void_case_leaves_the_list_and_says_why_everywhere(two: Cli) -> None:
    assert void(two, "case", U02, "--at", "2024-09-03T10:00") == f"case {U02}: void (已撤销)\n"

    listed = two.out("case", "list").splitlines()
    assert len(listed) == 2
    assert listed[1].startswith("1     2024-R1/U01  示例市财政局  常规巡视  巡前准备")
    assert two.out("case", "list", "--include-void").splitlines()[2] == (
        "2     2024-R1/U02  示例市审计局  常规巡视  巡前准备  2024-09-02  2024-09-24  已撤销"
    )
    assert two.out("case", "show", U02) == (
        "案件    2024-R1/U02  #2\n"
        "单位    U02 示例市审计局\n"
        "巡视组  G1  组长 张三\n"
        "类型    常规巡视 (regular v1)\n"
        "阶段    巡前准备 (preparation)  已撤销 void  since 2024-09-02 09:00\n"
        "撤销    2024-09-03 10:00  巡视办 (office)  重复录入\n"
        "期限    2024-09-24  已撤销\n"
        "里程碑\n"
        "  · 听取有关部门情况通报 briefings_received (必需)\n"
        "  · 巡前培训 training_done (必需)\n"
        "版本    2\n"
    )
    assert two.json("case", "show", U02)["voided"] == {
        "at": "2024-09-03T10:00:00+08:00",
        "actor": "巡视办",
        "role": "office",
        "reason": "重复录入",
    }
    assert two.out("case", "history", U02) == (
        "序号  时间                       事件     内容              人员    角色    理由\n"
        "1     2024-09-02T09:00:00+08:00  started  start → 巡前准备  tester  office\n"
        "2     2024-09-03T10:00:00+08:00  voided   void              巡视办  office  重复录入\n"
    )
    assert two.out("case", "list", "--overdue", "--include-void").count("U02") == 0


def test_a_void_case_refuses_every_command_with_one_line(two: Cli) -> None:
    void(two, "case", U02, "--at", "2024-09-03T10:00")
    why = f"case {U02} is void (撤销): 重复录入; nothing more can happen to it"

    assert two.fail(
        "case", "fire", U02, "move_in", "--actor", "张三", "--role", "group_leader"
    ) == (why)
    assert two.fail("case", "milestone", U02, "training_done", *OFFICE) == why
    assert two.fail("case", "suspend", U02, "--reason", "召回", *OFFICE) == why
    assert two.fail("case", "void", U02, "--reason", "再撤", *OFFICE) == why
    assert two.out("case", "history", U02).count("\n") == 3  # header, started, voided


def test_only_the_office_voids_a_case_and_always_with_a_reason(two: Cli) -> None:
    assert two.fail(
        "case", "void", U02, "--reason", "误录", "--actor", "张三", "--role", "group_leader"
    ) == (
        f"case {U02} cannot be voided: role group_leader (巡视组组长) may not; "
        "allowed: office (巡视办)"
    )
    assert two.usage("case", "void", U02, *OFFICE) == "Error: Missing option '--reason'."
    assert two.fail("case", "void", U02, "--reason", " ", *OFFICE) == (
        f"voiding case {U02} needs a reason (--reason)"
    )
    assert two.json("case", "show", U02)["voided"] is None


def test_audit_verify_covers_a_void_case_and_names_its_row_edited(two: Cli) -> None:
    void(two, "case", U02, "--at", "2024-09-03T10:00")

    assert two.out("audit", "verify") == "OK: 2 chains, 3 events verified\n"

    two.sql("UPDATE instance SET voided = 0 WHERE id = 2")
    result = two.run("audit", "verify", code=1)
    assert result.stdout == ""
    assert result.stderr == (
        "case 2024-R1/U02 seq 2: row says voided = False, history replays to True\n"
        "Error: audit failed: 1 problem in 1 chain\n"
    )


def test_void_json(two: Cli) -> None:
    voided = two.json("case", "void", U02, "--reason", "重复录入", *OFFICE, "--at", "2024-09-03")

    assert (voided["key"], voided["dependents"]) == (U02, [])
    event = voided["event"]
    assert (event["seq"], event["kind"], event["trigger"], event["reason"]) == (
        2,
        "voided",
        "void",
        "重复录入",
    )
    assert event["occurred_at"] == "2024-09-03T00:00:00+08:00"


# -- item void, a case with its problems ----------------------------------------------------


def test_a_case_with_problems_is_voided_with_them_or_not_at_all(problems: Cli) -> None:
    assert problems.fail("case", "void", KEY, "--reason", "误录", *OFFICE) == (
        f"case {KEY} has 2 problems not void (P01, P02): void them first, or the case with its "
        "problems (--with-items)"
    )
    assert void(problems, "item", P02, reason="与P01重复") == f"item {P02}: void (已撤销)\n"
    assert problems.usage("item", "void", P01, "--reason", "误录", *OFFICE, "--with-items") == (
        "Error: No such option '--with-items'."
    )

    assert void(problems, "case", KEY, "--with-items", reason="误录") == (
        f"case {KEY}: void (已撤销), with item {P01}\n"
    )
    assert re.split(r"\s{2,}", problems.out("case", "history", KEY).splitlines()[-1])[2:4] == [
        "voided",
        f"void with {P01}",
    ]
    assert re.split(r"\s{2,}", problems.out("item", "history", P01).splitlines()[-1])[2:] == [
        "voided",
        f"void with {KEY}",
        "巡视办",
        "office",
        "误录",
    ]


def test_void_items_leave_the_lists_the_ledger_and_the_themes(problems: Cli) -> None:
    void(problems, "item", P02, "--at", "2024-09-04T10:00", reason="与P01重复")

    assert problems.out("item", "list").splitlines()[1:] == [
        "2     2024-R1/U01/P01  理论学习不深入  党的建设/政治建设  问题确认  0/0   超期"
    ]
    assert problems.out("item", "list", "--include-void").splitlines()[2] == (
        "3     2024-R1/U01/P02  财务审批不严    业务工作/财务管理  问题确认  0/0   已撤销"
    )
    shown = problems.out("item", "show", P02).splitlines()
    assert shown[3:5] == [
        "状态    问题确认 (identified)  已撤销 void  期限 2024-09-18",
        "撤销    2024-09-04 10:00  巡视办 (office)  与P01重复",
    ]
    assert problems.json("item", "show", P02)["overdue"] is False
    ledger = problems.out("ledger", "export", "--round", ROUND, "--out", "-").splitlines()
    assert [row.split(",")[5] for row in ledger[1:]] == ["P01 理论学习不深入"]
    themes = problems.json("report", "themes", "--round", ROUND)
    assert [(t["category"], t["items"]) for t in themes] == [("党的建设/政治建设", 1)]

    void(problems, "item", P01, reason="误录")
    assert problems.out("item", "list", "--round", ROUND) == "No items.\n"
    assert problems.out("report", "themes", "--round", ROUND) == "No items in this round.\n"


def test_nothing_more_happens_to_a_void_item(problems: Cli) -> None:
    void(problems, "item", P02, reason="与P01重复")
    why = f"item {P02} is void (撤销): 与P01重复; nothing more can happen to it"

    assert problems.fail(
        "item", "fire", P02, "plan", "--actor", "李", "--role", "unit_liaison"
    ) == (why)
    assert problems.fail(
        "task", "add", P02, "--measure", "整改", "--leader", "赵", "--department", "财务处",
        "--person", "钱", "--due", "2024-12-31", "--actor", "李", "--role", "unit_liaison",
    ) == why  # fmt: skip
    assert problems.fail("item", "update", P02, "--title", "新标题", "--reason", "改", *OFFICE) == (
        why
    )


# -- unit rename, group leader --------------------------------------------------------------


def test_unit_rename_and_group_leader_are_in_each_case_history(two: Cli) -> None:
    void(two, "case", U02, "--at", "2024-09-03T10:00")

    assert two.out(
        "unit", "rename", "u01", "示例市财政局（新）", "--reason", "机构改革", "--actor", "巡视办",
        "--at", "2024-09-05T10:00",
    ) == "Unit U01 renamed 示例市财政局 → 示例市财政局（新） (recorded in 1 case)\n"  # fmt: skip
    assert two.out(
        "group", "leader", "2024-r1/G1", "李四", "--reason", "工作调动", "--actor", "巡视办",
        "--at", "2024-09-06T10:00",
    ) == "Group 2024-R1/G1: leader 张三 → 李四 (recorded in 2 cases)\n"  # fmt: skip

    assert two.out("unit", "list") == (
        "单位  名称                类别\n"
        "U01   示例市财政局（新）  市直机关\n"
        "U02   示例市审计局        市直机关\n"
    )
    assert two.out("group", "list", ROUND) == "巡视组  组长\nG1      李四\n"
    assert two.out("case", "history", KEY) == (
        "序号  时间                       事件            内容  "
        "                                       人员    角色    理由\n"
        "1     2024-09-02T09:00:00+08:00  started       "
        "  start → 巡前准备                             tester  office\n"
        "2     2024-09-05T10:00:00+08:00  unit_renamed  "
        "  unit U01: 示例市财政局 → 示例市财政局（新）  巡视办  office  机构改革\n"
        "3     2024-09-06T10:00:00+08:00  leader_changed"
        "  group 2024-R1/G1: 张三 → 李四                巡视办  office  工作调动\n"
    )
    assert [line.split()[2] for line in two.out("case", "history", U02).splitlines()[1:]] == [
        "started",
        "voided",
        "leader_changed",
    ]
    assert two.out("case", "show", KEY).splitlines()[1:3] == [
        "单位    U01 示例市财政局（新）",
        "巡视组  G1  组长 李四",
    ]
    assert two.out("audit", "verify") == "OK: 2 chains, 6 events verified\n"

    two.sql("UPDATE unit SET name = '示例市财政厅' WHERE code = 'U01'")
    result = two.run("audit", "verify", code=1)
    assert result.stderr == (
        "case 2024-R1/U01 seq 2: unit row says name = '示例市财政厅', history replays to "
        "'示例市财政局（新）'\n"
        "Error: audit failed: 1 problem in 1 chain\n"
    )


def test_rename_json(two: Cli) -> None:
    renamed = two.json("unit", "rename", "U02", "示例市审计局（新）", "--reason", "更名")

    assert renamed == {
        "subject": "unit",
        "code": "U02",
        "old": "示例市审计局",
        "new": "示例市审计局（新）",
        "cases": [U02],
    }
    assert two.json("group", "leader", "2024-R1/G1", "李四", "--reason", "调动") == {
        "subject": "group",
        "code": "2024-R1/G1",
        "old": "张三",
        "new": "李四",
        "cases": [KEY, U02],
    }


def test_renames_refuse_bad_input_with_one_line(two: Cli) -> None:
    before = two.out("unit", "list")

    assert two.fail("unit", "rename", "U09", "某单位", "--reason", "更名") == (
        "unit U09 does not exist"
    )
    assert two.fail("unit", "rename", "U01", "示例市财政局", "--reason", "更名") == (
        "unit U01 is already called 示例市财政局"
    )
    assert two.fail("unit", "rename", "U01", "新名", "--reason", "更名", "--at", "2024-09-01") == (
        "time 2024-09-01 00:00 is earlier than the last event of case 2024-R1/U01 "
        "(2024-09-02 09:00)"
    )
    assert two.usage("unit", "rename", "U01", "新名") == "Error: Missing option '--reason'."
    assert two.fail("group", "leader", "G1", "李四", "--reason", "调动") == (
        "group 'G1' is not ROUND/GROUP, e.g. 2024-R1/G1"
    )
    assert two.fail("group", "leader", f"{ROUND}/G9", "李四", "--reason", "调动") == (
        "group G9 does not exist in round 2024-R1"
    )
    assert two.fail("group", "leader", f"{ROUND}/G1", "张三", "--reason", "调动") == (
        "group 2024-R1/G1 is already led by 张三"
    )
    assert two.out("unit", "list") == before
    assert two.out("audit", "verify") == "OK: 2 chains, 2 events verified\n"
