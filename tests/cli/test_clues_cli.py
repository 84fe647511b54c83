"""`xunshi clue add|list|show|fire|history|link|unlink` and `xunshi clues import`: 问题线索,
with exact output.

The world's case 2024-R1/U01 started 2024-09-02 09:00 in 巡前准备; `onsite` moves it on
site at 13:00 (one step an hour from 11:00). Only the office and the receiving body see a
clue: every reading command takes the role asking.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_harness import KEY, START, Cli, drive, hours_after
from forward import steps_to

C01 = f"{KEY}:C01"
C02 = f"{KEY}:C02"
C09 = f"{KEY}:C09"
SUMMARY = "反映某处处长在项目审批中收受礼金"
AS_OFFICE = ("--actor", "王主任", "--role", "office")
AS_DISCIPLINE = ("--actor", "纪检监察组", "--role", "discipline_group")

SHOWN_C01 = """\
线索    2024-R1/U01:C01  #2
单位    U01 示例市财政局  (常规巡视, 巡视组 G1)
摘要    反映某处处长在项目审批中收受礼金
状态    移交 (handed_over)  期限 2024-12-03  超期
移交    纪检监察组 (discipline_group)
版本    2
"""
LISTED = """\
编号  线索             摘要                              移交        处置  状态  期限        超期
2     2024-R1/U01:C01  反映某处处长在项目审批中收受礼金  纪检监察组        移交  2024-12-03  超期
3     2024-R1/U01:C02  反映某科长违规兼职取酬            市审计局          移交  2024-12-03  超期
"""
CLUE_KEYS = {
    "id",
    "key",
    "case",
    "round",
    "unit",
    "group",
    "code",
    "summary",
    "receiver",
    "receiver_name",
    "disposition",
    "outcome",
    "items",
    "definition",
    "definition_version",
    "state",
    "state_title",
    "entered_at",
    "due_on",
    "provisional",
    "overdue",
    "suspended",
    "version",
    "voided",
}


def add_c01(cli: Cli) -> str:
    """`clue add` of C01 by the group leader at 2024-09-02 10:00, while the case prepares."""
    return cli.out(
        "clue", "add", KEY, "--code", "C01", "--summary", SUMMARY,
        "--actor", "张三", "--role", "group_leader", "--at", "2024-09-02T10:00",
    )  # fmt: skip


def hand_over(cli: Cli, clue: str, *to: str, at: str = "2024-09-03T10:00") -> str:
    """`clue fire CLUE hand_over TO…` as the office; its stdout."""
    return cli.out("clue", "fire", clue, "hand_over", *to, *AS_OFFICE, "--at", at)


@pytest.fixture
def onsite(world: Cli) -> Cli:
    """The world with C01 registered at 10:00 and the case on site from 13:00."""
    add_c01(world)
    drive(world, KEY, steps_to("onsite"), hours_after(START, first=2))
    return world


@pytest.fixture
def handed(onsite: Cli) -> Cli:
    """C01 handed over to 纪检监察组 and C02 (registered 09:00) to 市审计局 on 2024-09-03 10:00."""
    onsite.run(
        "clue", "add", KEY, "--code", "C02", "--summary", "反映某科长违规兼职取酬", *AS_OFFICE,
        "--at", "2024-09-03T09:00",
    )  # fmt: skip
    hand_over(onsite, C01, "--to", "discipline_group")
    hand_over(onsite, C02, "--to-other", "市审计局")
    return onsite


# -- registering and handing over ---------------------------------------------------------


def test_add_registers_a_clue_and_a_handover_waits_for_the_on_site_stage(world: Cli) -> None:
    assert add_c01(world) == f"clue {C01} registered (#2)\n"
    assert world.json("clue", "show", C01, "--role", "office")["state"] == "registered"

    assert world.fail(
        "clue",
        "fire",
        C01,
        "hand_over",
        "--to",
        "discipline_group",
        *AS_OFFICE,
        "--at",
        "2024-09-02T10:30",
    ) == (
        f"clue {C01} cannot hand_over at 2024-09-02 10:30: case {KEY} was in 巡前准备 "
        "(preparation); clues are handed over from 现场巡视 (onsite) on"
    )
    drive(world, KEY, steps_to("onsite"), hours_after(START, first=2))
    assert hand_over(world, C01, "--to", "discipline_group") == (
        f"clue {C01}: 登记 → 移交, due 2024-12-03\n"
    )


def test_add_refusals_name_what_is_wrong(world: Cli) -> None:
    def add(*args: str) -> str:
        return world.fail("clue", "add", KEY, "--code", "C09", *args)

    assert add("--summary", "某科长，手机13812345678", *AS_OFFICE) == (
        "clue summary must not hold personal details and this looks like a telephone number: "
        "describe the person by role (e.g. 某处处长), never by name or number"
    )
    assert add("--summary", SUMMARY, "--actor", "李联络员", "--role", "unit_liaison") == (
        "role unit_liaison may not register clues; allowed: office, group_leader"
    )
    assert world.fail("clue", "add", "2024-R1/U09", "--code", "C01", "--summary", SUMMARY,
                      *AS_OFFICE) == "case 2024-R1/U09 does not exist"  # fmt: skip
    assert world.usage("clue", "add", KEY, "--code", "C09", *AS_OFFICE) == (
        "Error: Missing option '--summary'."
    )


def test_fire_refuses_what_a_step_does_not_record_and_both_receivers(onsite: Cli) -> None:
    assert onsite.fail("clue", "fire", C01, "hand_over", *AS_OFFICE) == (
        f"clue {C01}: hand_over hands it over: give the receiver (--to discipline_group, --to "
        "organization_dept or --to-other NAME)"
    )
    assert onsite.fail(
        "clue", "fire", C01, "hand_over", "--to", "discipline_group", "--to-other", "市审计局",
        *AS_OFFICE,
    ) == "give --to or --to-other, not both"  # fmt: skip
    assert (
        onsite.fail("clue", "fire", C01, "withdraw", "--outcome", "合并", *AS_OFFICE)
        == f"clue {C01}: withdraw does not conclude it; drop --outcome"
    )
    assert onsite.usage("clue", "fire", C01, "dispose", "--disposition", "调查", *AS_OFFICE) == (
        "Error: Invalid value for '--disposition': '调查' is not one of '谈话函询', '初步核实', "
        "'暂存待查', '予以了结', '立案审查'."
    )
    assert onsite.fail("clue", "fire", "2024-R1/U01/C01", "withdraw", *AS_OFFICE) == (
        "clue '2024-R1/U01/C01' is not a clue id or key: use the number or ROUND/UNIT:CODE, "
        "e.g. 2024-R1/U01:C01"
    )


# -- who sees a clue ------------------------------------------------------------------------


def test_show_and_list_for_the_office_and_the_receiving_body(handed: Cli) -> None:
    assert handed.out("clue", "show", C01, "--role", "office") == SHOWN_C01
    assert handed.out("clue", "show", "2", "--role", "discipline_group") == SHOWN_C01
    assert handed.out("clue", "list", "--role", "office") == LISTED
    assert handed.out("clue", "list", "--role", "discipline_group", "--round", "2024-R1") == (
        "\n".join(LISTED.splitlines()[:2]) + "\n"
    )
    assert handed.out("clue", "list", "--role", "office", "--state", "registered") == (
        "No clues.\n"
    )
    shown = handed.json("clue", "show", C01, "--role", "office")
    assert set(shown) == CLUE_KEYS
    assert (shown["key"], shown["case"], shown["receiver"], shown["disposition"]) == (
        C01,
        KEY,
        "discipline_group",
        None,
    )
    assert (shown["due_on"], shown["overdue"], shown["items"]) == ("2024-12-03", True, [])


def test_a_unit_liaison_asking_for_a_clue_s_summary_is_refused(handed: Cli) -> None:
    refusal = f"role unit_liaison may not see clue {C01}'s summary"

    assert handed.fail("clue", "show", C01, "--role", "unit_liaison") == refusal
    assert handed.fail("clue", "history", C01, "--role", "unit_liaison") == refusal
    assert handed.out("clue", "list", "--role", "unit_liaison") == "No clues.\n"
    assert handed.json("clue", "list", "--role", "unit_liaison") == []
    assert handed.fail("clue", "show", C01, "--role", "organization_dept") == (
        f"role organization_dept may not see clue {C01}'s summary"
    )
    assert handed.usage("clue", "show", C01) == "Error: Missing option '--role'."


# -- the disposition deadline ----------------------------------------------------------------


def test_a_clue_handed_over_on_site_escalates_to_the_office_three_months_after(
    handed: Cli,
) -> None:
    # Due 2024-12-03 (three months after 09-03): the reminder fires ten working days before,
    # the office hears of the overdue disposition from 12-04 00:00.
    before = handed.json("escalate", "--now", "2024-12-03T23:59")
    assert [(e["case"], e["level"]) for e in before if ":" in e["case"]] == [(C01, 0), (C02, 0)]

    assert handed.out("escalate", "--now", "2024-12-04") == (
        "编号  案件             阶段  级别  名称      方式           通知    期限        发出"
        "              状态    送达\n"
        "6     2024-R1/U01:C01  移交  1     处置超期  预警 → office  office  2024-12-03  "
        "2024-12-04 00:00  待处理  log 已送达\n"
        "7     2024-R1/U01:C02  移交  1     处置超期  预警 → office  office  2024-12-03  "
        "2024-12-04 00:00  待处理  log 已送达\n"
    )
    listed = handed.json("escalations", "list", "--round", "2024-R1", "--open")
    assert [(e["case"], e["level"], e["recipient"]) for e in listed if ":" in e["case"]] == [
        (C01, 0, "office"),
        (C02, 0, "office"),
        (C01, 1, "office"),
        (C02, 1, "office"),
    ]


def test_dispose_and_conclude_by_the_receiver_and_the_history(handed: Cli) -> None:
    assert handed.fail(
        "clue",
        "fire",
        C01,
        "dispose",
        "--disposition",
        "初步核实",
        "--actor",
        "组织部",
        "--role",
        "organization_dept",
    ) == (f"clue {C01} was handed over to 纪检监察组; organization_dept (组织部) may not act on it")
    assert handed.out(
        "clue", "fire", C01, "dispose", "--disposition", "初步核实", *AS_DISCIPLINE,
        "--at", "2024-11-20T09:00",
    ) == f"clue {C01}: 移交 → 处置中\n"  # fmt: skip
    assert handed.out(
        "clue", "fire", C01, "conclude", "--outcome", "经初步核实，反映问题部分属实，已予诫勉",
        *AS_DISCIPLINE, "--at", "2025-01-10T09:00",
    ) == f"clue {C01}: 处置中 → 办结\n"  # fmt: skip

    assert handed.out("clue", "history", C01, "--role", "discipline_group") == (
        "序号  时间                       事件        内容                                       "
        "              人员        角色              理由\n"
        "1     2024-09-02T10:00:00+08:00  started     start → 登记                               "
        "              张三        group_leader\n"
        "2     2024-09-03T10:00:00+08:00  transition  hand_over → 移交: 纪检监察组               "
        "              王主任      office\n"
        "3     2024-11-20T09:00:00+08:00  transition  dispose → 处置中: 初步核实                 "
        "              纪检监察组  discipline_group\n"
        "4     2025-01-10T09:00:00+08:00  transition  conclude → 办结: 经初步核实，反映问题部分属"
        "实，已予诫勉  纪检监察组  discipline_group\n"
    )
    assert handed.out("clue", "show", C01, "--role", "office") == (
        f"线索    {C01}  #2\n"
        "单位    U01 示例市财政局  (常规巡视, 巡视组 G1)\n"
        f"摘要    {SUMMARY}\n"
        "状态    办结 (concluded)\n"
        "移交    纪检监察组 (discipline_group)\n"
        "处置    初步核实\n"
        "结果    经初步核实，反映问题部分属实，已予诫勉\n"
        "版本    4\n"
    )
    # Disposed in time: nothing escalates.
    assert [e for e in handed.json("escalate", "--now", "2024-12-04") if e["case"] == C01] == []
    assert handed.out("audit", "verify").startswith("OK: ")


# -- problems that arose from a clue -----------------------------------------------------------

CATEGORIES = "categories:\n  廉洁建设:\n    - 违反中央八项规定精神\n"


def test_problems_link_to_their_clue_and_show_it(rectifying: Cli, tmp_path: Path) -> None:
    world = rectifying  # in 整改 since 2024-09-03 03:00
    (tmp_path / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    world.run("categories", "load", "categories.yaml")
    world.run(
        "clue", "add", KEY, "--code", "C01", "--summary", SUMMARY, *AS_OFFICE,
        "--at", "2024-09-03T09:00",
    )  # fmt: skip
    hand_over(world, C01, "--to", "discipline_group")
    for code, extra in (("P01", ["--clue", "C01"]), ("P02", [])):
        world.run(
            "item", "add", KEY, "--code", code, "--title", "违规发放津贴补贴",
            "--category", "廉洁建设/违反中央八项规定精神", "--source", "lead", *extra,
            "--actor", "王主任", "--at", "2024-09-04T10:00",
        )  # fmt: skip

    assert "线索    C01\n" in world.out("item", "show", f"{KEY}/P01")
    assert "线索" not in world.out("item", "show", f"{KEY}/P02")
    assert world.out("clue", "link", C01, f"{KEY}/P02", *AS_DISCIPLINE) == (
        f"clue {C01}: linked to item {KEY}/P02\n"
    )
    assert "问题    P01, P02\n" in world.out("clue", "show", C01, "--role", "office")
    assert world.json("item", "show", f"{KEY}/P02")["clues"] == [C01]
    assert world.usage("clue", "unlink", C01, f"{KEY}/P02", *AS_OFFICE) == (
        "Error: Missing option '--reason'."
    )
    assert (
        world.out("clue", "unlink", C01, f"{KEY}/P02", "--reason", "关联错误", *AS_OFFICE)
        == f"clue {C01}: unlinked from item {KEY}/P02\n"
    )
    assert world.fail("clue", "link", C01, f"{KEY}/P01", *AS_OFFICE) == (
        f"clue {C01} is already linked to item {KEY}/P01"
    )
    assert world.fail(
        "item", "add", KEY, "--code", "P03", "--title", "问题", "--clue", "C09",
        "--category", "廉洁建设/违反中央八项规定精神", "--actor", "王主任",
    ) == f"clue {C09} does not exist"  # fmt: skip
    history = world.out("clue", "history", C01, "--role", "office").splitlines()
    assert [line.split()[2:4] for line in history[3:]] == [
        ["link", "item_linked"],
        ["link", "item_linked"],
        ["link", "item_unlinked"],
    ]


# -- the sheet ----------------------------------------------------------------------------------


def test_clues_import_registers_and_hands_over_every_row_or_none(
    onsite: Cli, tmp_path: Path
) -> None:
    sheet = tmp_path / "线索.csv"
    sheet.write_text(
        "轮次,单位代码,线索编号,线索摘要,移交对象,移交日期\n"
        "2024-R1,U01,C02,反映某科长违规兼职取酬,纪检监察组,2024-09-04\n"
        "2024-R1,U01,C03,反映某站站长虚报冒领,,\n"
        "2024-R1,U01,C01,反映某所所长挪用公款,组织部,\n",
        encoding="utf-8",
    )

    assert onsite.fail("clues", "import", str(sheet), "--at", "2024-09-05T10:00") == (
        f"线索.csv row 4, column 线索编号: clue {C01} already exists"
    )
    assert onsite.out("clue", "list", "--role", "office").count("\n") == 2  # C01 alone

    sheet.write_text(sheet.read_text(encoding="utf-8").replace(",C01,", ",C04,"), "utf-8")
    assert onsite.out("clues", "import", str(sheet), "--at", "2024-09-05T10:00") == (
        "Imported 3 clues (2 handed over)\n"
    )
    listed = onsite.json("clue", "list", "--role", "office")
    assert [(c["code"], c["state"], c["receiver_name"], c["due_on"]) for c in listed] == [
        ("C01", "registered", None, None),
        ("C02", "handed_over", "纪检监察组", "2024-12-04"),
        ("C03", "registered", None, None),
        ("C04", "handed_over", "组织部", "2024-12-05"),
    ]
    assert [c["code"] for c in onsite.json("clue", "list", "--role", "organization_dept")] == [
        "C04"
    ]


# -- the round's report ---------------------------------------------------------------------


def test_report_round_counts_the_clues_by_case_and_state(handed: Cli) -> None:
    handed.run(
        "clue", "add", KEY, "--code", "C03", "--summary", "反映某站站长虚报冒领", *AS_OFFICE,
        "--at", "2024-09-04T09:00",
    )  # fmt: skip
    lines = handed.out("report", "round", "2024-R1").splitlines()

    start = lines.index("问题线索 clues: 3 (登记 1, 移交 2)")
    assert lines[start : start + 4] == [
        "问题线索 clues: 3 (登记 1, 移交 2)",
        "案件         单位          登记  移交",
        "2024-R1/U01  示例市财政局  1     2",
        "合计                       1     2",
    ]


def test_void_withdraws_a_clue_that_the_lists_then_leave_out(handed: Cli) -> None:
    assert handed.fail("clue", "void", C02, "--reason", "误录", *AS_DISCIPLINE) == (
        f"clue {C02} cannot be voided: role discipline_group (纪检监察组) may not; "
        "allowed: office (巡视办)"
    )
    assert (
        handed.out(
            "clue", "void", C02, "--reason", "与C01重复", *AS_OFFICE, "--at", "2024-09-04T10:00"
        )
        == f"clue {C02}: void (已撤销)\n"
    )
    assert handed.out("clue", "list", "--role", "office").splitlines()[1:] == [
        LISTED.splitlines()[1]
    ]
    listed = handed.out("clue", "list", "--role", "office", "--include-void").splitlines()
    assert listed[2].split() == [
        "3",
        C02,
        "反映某科长违规兼职取酬",
        "市审计局",
        "已撤销",
        "2024-12-03",
    ]
    shown = handed.out("clue", "show", C02, "--role", "office")
    assert "撤销    2024-09-04 10:00  王主任 (office)  与C01重复\n" in shown
    assert handed.json("clue", "show", C02, "--role", "office")["voided"] == {
        "at": "2024-09-04T10:00:00+08:00",
        "actor": "王主任",
        "role": "office",
        "reason": "与C01重复",
    }
    assert handed.fail("clue", "void", C02, "--reason", "再次", *AS_OFFICE).startswith(
        f"clue {C02} is void (撤销): 与C01重复"
    )
