"""`xunshi case start | list | show | fire | milestone | history` (DESIGN §4, §7).

`case show` counts "days left" from the real today, so the tests match that one line with a
pattern and compare every other line exactly (or use `--as-of`, which counts from its date).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_harness import (
    CASE_KEYS,
    HEX64,
    HISTORY_KEYS,
    KEY,
    ROUND,
    Cli,
    drive,
    hours_after,
    start_args,
    start_case,
)
from forward import forward_path, steps_to

SHOWN_AT_START = """\
案件    2024-R1/U01  #1
单位    U01 示例市财政局
巡视组  G1  组长 张三
类型    常规巡视 (regular v1)
阶段    巡前准备 (preparation)  since 2024-09-02 09:00
期限    2024-09-24  …
里程碑
  · 听取有关部门情况通报 briefings_received (必需)
  · 巡前培训 training_done (必需)
可执行  move_in
版本    1
"""
DAYS_LEFT = re.compile(r"(期限    \d{4}-\d\d-\d\d(?: \(暂定\))?)  (?:超期 \d+ 天|还有 \d+ 天)$")


def today_free(text: str) -> str:
    """`case show` text with the days-left part of its 期限 line (which depends on today) cut."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("期限"):
            lines.append(line)
            continue
        match = DAYS_LEFT.fullmatch(line)
        assert match is not None, line
        lines.append(f"{match[1]}  …")
    return "\n".join(lines) + "\n"


def on_case(command: str, *args: str, role: str = "group_leader", actor: str = "张三") -> list[str]:
    """The arguments of `case fire|milestone KEY ARGS --actor A --role R`."""
    return ["case", command, KEY, *args, "--actor", actor, "--role", role]


def act(cli: Cli, command: str, *args: str, role: str = "group_leader", actor: str = "张三") -> str:
    """`case fire|milestone KEY ARGS --actor A --role R`; its stdout."""
    return cli.out(*on_case(command, *args, role=role, actor=actor))


def refused(cli: Cli, command: str, *args: str, role: str = "group_leader") -> str:
    """The one-line refusal of `case fire|milestone KEY ARGS --actor 张三 --role R`."""
    return cli.fail(*on_case(command, *args, role=role))


def prepare(cli: Cli) -> None:
    """Record the preparation stage's two required milestones."""
    act(cli, "milestone", "briefings_received", "--at", "2024-09-03T10:00")
    act(cli, "milestone", "training_done", "--at", "2024-09-04T10:00")


# -- start ------------------------------------------------------------------------------------


def test_start_prints_the_case(world: Cli) -> None:
    text = start_case(world, "U02").stdout

    assert today_free(text) == (
        SHOWN_AT_START.replace("2024-R1/U01  #1", "2024-R1/U02  #2").replace(
            "U01 示例市财政局", "U02 示例市审计局"
        )
    )


def test_start_json(world: Cli) -> None:
    started = world.json(*start_args("U02", "special"))

    assert set(started) == CASE_KEYS
    assert (started["id"], started["key"], started["definition"]) == (2, "2024-R1/U02", "special")
    assert started["state"] == "preparation"


def test_start_now(world: Cli) -> None:
    start_case(world, "U02", at=None)

    shown = world.json("case", "show", "2024-R1/U02")
    assert shown["overdue"] is False
    assert shown["entered_at"] == world.json("case", "history", "2")[0]["recorded_at"]


def test_start_twice(world: Cli) -> None:
    assert world.fail(*start_args("U01")) == "case 2024-R1/U01 already exists"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--round", "NOPE", "round NOPE does not exist"),
        ("--unit", "NOPE", "unit NOPE does not exist (add it with `xunshi unit add`)"),
        ("--group", "NOPE", "group NOPE does not exist in round 2024-R1"),
        (
            "--definition",
            "nope",
            "no case definition called nope "
            "(registered: lookback, mobile, overseas, regular, special)",
        ),
        ("--definition", "rectification", "definition rectification is for items, not cases"),
        (
            "--at",
            "2024-09-02 9am",
            "--at '2024-09-02 9am' is not an ISO 8601 time (e.g. 2024-09-27 or 2024-09-27T09:30)",
        ),
    ],
)
def test_start_refused(world: Cli, option: str, value: str, message: str) -> None:
    options = {"--round": ROUND, "--unit": "U02", "--group": "G1", "--definition": "regular"}
    options[option] = value
    args = [part for pair in options.items() for part in pair]

    assert world.fail("case", "start", *args) == message
    assert len(world.json("case", "list")) == 1


def test_start_in_the_future(world: Cli) -> None:
    message = world.fail(*start_args("U02", at="2999-01-01T09:00"))

    assert re.fullmatch(
        r"time 2999-01-01 09:00 is later than now \(\d{4}-\d\d-\d\d \d\d:\d\d\); "
        r"events cannot be recorded ahead of time",
        message,
    )


def test_a_case_does_not_start_before_its_round(world: Cli, tmp_path: Path) -> None:
    # The round starts 2024-09-02 (business time); the case may start that day, not before.
    assert world.fail(*start_args("U02", at="2024-09-01T23:59")) == (
        f"case {ROUND}/U02 cannot start at 2024-09-01 23:59: round {ROUND} starts on 2024-09-02"
    )
    sheet = tmp_path / "plan.csv"
    sheet.write_text(
        "round,group,group_leader,unit_code,unit_name,unit_category,definition\n"
        f"{ROUND},G1,张三,U02,示例市审计局,市直机关,regular\n",
        encoding="utf-8",
    )
    assert world.fail("plan", "import", str(sheet), "--at", "2024-08-30") == (
        f"case {ROUND}/U02 cannot start at 2024-08-30 00:00: round {ROUND} starts on 2024-09-02"
    )
    assert len(world.json("case", "list")) == 1
    assert world.json(*start_args("U02", at="2024-09-02T00:00"))["key"] == f"{ROUND}/U02"


@pytest.mark.parametrize("start", ["1800-01-01", "1999-12-31", "2101-01-01", "2925-03-03"])
def test_a_round_starts_in_a_plausible_year(ready: Cli, start: str) -> None:
    assert ready.fail("round", "create", "R9", "--title", "第九轮", "--start", start) == (
        f"round start {start} is not a plausible date: a round starts between 2000 and 2100"
    )
    assert ready.json("round", "list") == []


# -- show -------------------------------------------------------------------------------------


def test_show_by_key_and_by_id(world: Cli) -> None:
    by_key = world.out("case", "show", KEY)

    assert today_free(by_key) == SHOWN_AT_START
    assert world.out("case", "show", "1") == by_key
    assert world.out("case", "show", " 2024-R1 / U01 ") == by_key


def test_show_json(world: Cli) -> None:
    shown = world.json("case", "show", KEY)

    assert set(shown) == CASE_KEYS
    assert shown == {
        "id": 1,
        "key": KEY,
        "definition": "regular",
        "definition_version": 1,
        "state": "preparation",
        "state_title": "巡前准备",
        "entered_at": "2024-09-02T09:00:00+08:00",
        "due_on": "2024-09-24",
        "provisional": False,
        "overdue": True,
        "suspended": False,
        "milestones": {"briefings_received": None, "training_done": None},
        "counts": {},
        "follows": None,
        "evaluation": None,
        "version": 1,
        "round": ROUND,
        "unit": "U01",
        "group": "G1",
        "voided": None,
    }


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("99", "case #99 does not exist"),
        ("2024-R1/U02", "case 2024-R1/U02 does not exist"),
        ("NOPE/U01", "case NOPE/U01 does not exist"),
        (
            "U01",
            "case 'U01' is not a case id or key: use the number or ROUND/UNIT, e.g. 2024-R1/U01",
        ),
        (
            "a/b/c",
            "case 'a/b/c' is not a case id or key: use the number or ROUND/UNIT, e.g. 2024-R1/U01",
        ),
    ],
)
def test_show_unknown_case(world: Cli, ref: str, message: str) -> None:
    assert world.fail("case", "show", ref) == message


def test_show_as_of(world: Cli) -> None:
    prepare(world)
    act(world, "fire", "move_in", "--at", "2024-09-05T16:30")

    assert world.out("case", "show", KEY, "--as-of", "2024-09-03") == (
        "案件    2024-R1/U01  #1  (as of 2024-09-03 23:59)\n"
        "单位    U01 示例市财政局\n"
        "巡视组  G1  组长 张三\n"
        "类型    常规巡视 (regular v1)\n"
        "阶段    巡前准备 (preparation)  since 2024-09-02 09:00\n"
        "期限    2024-09-24  还有 21 天\n"
        "里程碑\n"
        "  ✓ 听取有关部门情况通报 briefings_received (必需)  2024-09-03 10:00\n"
        "  · 巡前培训 training_done (必需)\n"
        "可执行  move_in\n"
        "版本    2\n"
    )
    before_ten = world.json("case", "show", KEY, "--as-of", "2024-09-03T09:59")
    assert before_ten["milestones"] == {"briefings_received": None, "training_done": None}
    # 现场巡视 is due 30 working days after 2024-09-05 (中秋 and 国庆 off, 09-14, 09-29 and
    # 10-12 worked): 2024-10-23, the last day it is not overdue.
    due = world.json("case", "show", KEY, "--as-of", "2024-10-23")
    assert (due["state"], due["version"], due["due_on"]) == ("onsite", 4, "2024-10-23")
    assert due["overdue"] is False
    after = world.json("case", "show", KEY, "--as-of", "2024-10-24")
    assert after["overdue"] is True  # as of 2024-10-24, not today


def test_show_as_of_before_the_case(world: Cli) -> None:
    assert world.fail("case", "show", KEY, "--as-of", "2024-09-01") == (
        "case 2024-R1/U01 did not exist at 2024-09-01 23:59 (its history starts 2024-09-02 09:00)"
    )


def test_show_as_of_not_iso(world: Cli) -> None:
    assert world.fail("case", "show", KEY, "--as-of", "last week") == (
        "--as-of 'last week' is not an ISO 8601 time (e.g. 2024-09-27 or 2024-09-27T09:30)"
    )


# -- list ---------------------------------------------------------------------------------------


def test_list(world: Cli) -> None:
    start_case(world, "U02", at=None)

    lines = world.out("case", "list").splitlines()

    assert (
        lines[0]
        == "编号  案件         单位          类型      阶段      进入        期限        剩余"
    )
    assert re.fullmatch(
        r"1     2024-R1/U01  示例市财政局  常规巡视  巡前准备  2024-09-02  2024-09-24  超期 \d+ 天",
        lines[1],
    )
    assert re.fullmatch(
        r"2     2024-R1/U02  示例市审计局  常规巡视  巡前准备  \d{4}-\d\d-\d\d  "
        r"\d{4}-\d\d-\d\d(?: \(暂定\))?  还有 \d+ 天",
        lines[2],
    )
    assert len(lines) == 3


def test_list_json_keys_are_the_design_ones(world: Cli) -> None:
    listed = world.json("case", "list")

    assert [set(c) for c in listed] == [CASE_KEYS]
    assert listed == [world.json("case", "show", KEY)]


def test_list_filters(world: Cli) -> None:
    start_case(world, "U02", at=None)
    prepare(world)
    act(world, "fire", "move_in", "--at", "2024-09-05T16:30")
    world.run("round", "create", "2024-R2", "--title", "第二轮", "--start", "2024-10-08")

    def keys(*args: str) -> list[str]:
        return [c["key"] for c in world.json("case", "list", *args)]

    assert keys() == [KEY, "2024-R1/U02"]
    assert keys("--round", ROUND) == [KEY, "2024-R1/U02"]
    assert keys("--round", "2024-R2") == []
    assert keys("--state", "onsite") == [KEY]
    assert keys("--state", "preparation") == ["2024-R1/U02"]
    assert keys("--overdue") == [KEY]
    assert keys("--overdue", "--state", "preparation") == []
    assert world.out("case", "list", "--round", "2024-R2") == "No cases.\n"


def test_list_unknown_round(world: Cli) -> None:
    assert world.fail("case", "list", "--round", "NOPE") == "round NOPE does not exist"


def test_list_unknown_state_is_refused(world: Cli) -> None:
    # Like an unknown round, a misspelt state must not silently print "No cases.".
    message = world.fail("case", "list", "--state", "onsit")

    assert "onsit" in message


# -- milestone ----------------------------------------------------------------------------------


def test_milestone(world: Cli) -> None:
    assert act(world, "milestone", "briefings_received", "--at", "2024-09-03T10:00") == (
        "case 2024-R1/U01: 听取有关部门情况通报 (briefings_received) recorded\n"
    )
    shown = world.json("case", "show", KEY)
    assert shown["milestones"] == {
        "briefings_received": "2024-09-03T10:00:00+08:00",
        "training_done": None,
    }
    assert shown["version"] == 2


def test_milestone_json(world: Cli) -> None:
    args = ["training_done", "--reason", "培训已完成", "--at", "2024-09-03T10:00"]
    event = world.json(*on_case("milestone", *args, actor="李四", role="office"))

    assert set(event) == HISTORY_KEYS | {"data"}
    assert {k: v for k, v in event.items() if k not in ("recorded_at", "hash")} == {
        "seq": 2,
        "kind": "milestone",
        "trigger": None,
        "from": None,
        "to": None,
        "actor": "李四",
        "role": "office",
        "reason": "培训已完成",
        "data": {"milestone": "training_done"},
        "occurred_at": "2024-09-03T10:00:00+08:00",
    }
    assert HEX64.fullmatch(event["hash"])


def test_milestone_twice(world: Cli) -> None:
    act(world, "milestone", "briefings_received", "--at", "2024-09-03T10:00")

    assert refused(world, "milestone", "briefings_received") == (
        "case 2024-R1/U01: milestone briefings_received (听取有关部门情况通报) was already "
        "recorded at 2024-09-03 10:00"
    )


def test_milestone_of_another_stage(world: Cli) -> None:
    assert refused(world, "milestone", "midterm_consultation") == (
        "case 2024-R1/U01 cannot record midterm_consultation: stage 巡前准备 (preparation) has no "
        "such milestone (its milestones: briefings_received, training_done)"
    )


def test_milestone_role_not_allowed(world: Cli) -> None:
    drive(world, KEY, steps_to("onsite"), hours_after("2024-09-02T09:00"))

    assert refused(world, "milestone", "midterm_consultation", role="unit_liaison") == (
        "case 2024-R1/U01 cannot record midterm_consultation (中期会商): role unit_liaison "
        "(被巡视单位联络员) may not; allowed: group_leader (巡视组组长), office (巡视办)"
    )


def test_milestone_role_not_defined(world: Cli) -> None:
    assert refused(world, "milestone", "training_done", role="boss") == (
        "role boss is not defined by regular (roles: office, leading_group, group_leader, "
        "party_secretary, unit_liaison, discipline_group, organization_dept, functional_dept)"
    )


def test_the_unit_records_its_own_rectification_milestones(rectifying: Cli) -> None:
    # 整改's three lists and reports are the unit's (its party secretary's) to record, not the
    # office's; the main leader's report (in 整改报告) only the secretary's.
    assert refused(rectifying, "milestone", "three_lists", role="office") == (
        "case 2024-R1/U01 cannot record three_lists (制定问题、任务、责任三张清单): role office "
        "(巡视办) may not; allowed: party_secretary (被巡视党组织书记), unit_liaison "
        "(被巡视单位联络员)"
    )
    assert refused(rectifying, "milestone", "leader_report", role="party_secretary") == (
        "case 2024-R1/U01 cannot record leader_report: stage 集中整改 (rectification) has no "
        "such milestone (its milestones: three_lists, democratic_life_meeting)"
    )
    act(rectifying, "milestone", "three_lists", role="unit_liaison", actor="联络员")
    act(rectifying, "milestone", "democratic_life_meeting", role="party_secretary", actor="赵书记")
    act(rectifying, "fire", "to_report", role="party_secretary", actor="赵书记")
    assert refused(rectifying, "milestone", "leader_report", role="unit_liaison") == (
        "case 2024-R1/U01 cannot record leader_report (报送主要负责人组织落实情况报告): role "
        "unit_liaison (被巡视单位联络员) may not; allowed: party_secretary (被巡视党组织书记)"
    )
    act(rectifying, "milestone", "leader_report", role="party_secretary", actor="赵书记")
    milestones = rectifying.json("case", "show", KEY)["milestones"]
    assert [name for name, at in milestones.items() if at] == ["leader_report"]


def test_a_counted_milestone_is_recorded_with_its_number(world: Cli) -> None:
    # 现场巡视 counts its talks (人次), petitions (件) and documents (份); nothing else.
    drive(world, KEY, steps_to("onsite"), hours_after("2024-09-02T09:00"))
    before = world.json("case", "history", KEY)

    assert refused(world, "milestone", "individual_talks") == (
        "case 2024-R1/U01: milestone individual_talks (个别谈话) is counted in 人次: give --count N"
    )
    assert refused(world, "milestone", "leader_talk", "--count", "1") == (
        "case 2024-R1/U01: milestone leader_talk (与主要负责人沟通) is not counted; drop --count"
    )
    assert refused(world, "milestone", "individual_talks", "--count", "1000001") == (
        "case 2024-R1/U01: --count must be a whole number from 0 to 1000000"
    )
    for count in ("-1", "12人", "１２", "1" * 10):
        assert refused(world, "milestone", "individual_talks", "--count", count) == (
            f"--count must be a whole number, not {count!r}"
        )
    assert world.json("case", "history", KEY) == before

    assert act(world, "milestone", "individual_talks", "--count", "12") == (
        "case 2024-R1/U01: 个别谈话 (individual_talks) recorded, 12 人次\n"
    )
    event = world.json(*on_case("milestone", "petitions_received", "--count", "0"))
    assert event["data"] == {"milestone": "petitions_received", "count": 0}
    counted = [e["data"] for e in world.json("case", "history", KEY)[-2:]]
    assert counted == [
        {"milestone": "individual_talks", "count": 12},
        {"milestone": "petitions_received", "count": 0},
    ]


def test_milestone_needs_a_role_and_takes_the_actor_from_xunshi_actor(world: Cli) -> None:
    # Issue #8, defect 7: $XUNSHI_ACTOR is the fallback for --actor on every command.
    world.run(
        "case", "milestone", KEY, "training_done", "--role", "office",
        env={"XUNSHI_ACTOR": "巡视办乙"},
    )  # fmt: skip
    assert world.json("case", "history", KEY)[-1]["actor"] == "巡视办乙"
    assert world.usage("case", "milestone", KEY, "training_done", "--actor", "张三") == (
        "Error: Missing option '--role'."
    )


# -- fire -----------------------------------------------------------------------------------------


def test_fire(world: Cli) -> None:
    prepare(world)

    assert act(world, "fire", "move_in", "--at", "2024-09-05T16:30") == (
        "case 2024-R1/U01: 巡前准备 → 现场巡视, due 2024-10-23\n"
    )
    shown = world.json("case", "show", KEY)
    assert (shown["state"], shown["entered_at"], shown["due_on"], shown["version"]) == (
        "onsite",
        "2024-09-05T16:30:00+08:00",
        "2024-10-23",
        4,
    )
    assert shown["milestones"] == {
        "contacts_published": None,
        "individual_talks": None,
        "petitions_received": None,
        "document_review": None,
        "sinking_visits": None,
        "midterm_consultation": None,
        "audit_linkage": None,
        "leader_talk": None,
    }


def test_fire_json(world: Cli) -> None:
    prepare(world)

    event = world.json(
        *on_case("fire", "move_in", "--reason", "准备完毕", "--at", "2024-09-05T16:30")
    )

    assert set(event) == HISTORY_KEYS | {"data"}
    assert (event["seq"], event["kind"], event["trigger"]) == (4, "transition", "move_in")
    assert (event["from"], event["to"], event["reason"]) == (
        "preparation",
        "onsite",
        "准备完毕",
    )


def test_fire_without_the_required_milestones(world: Cli) -> None:
    assert refused(world, "fire", "move_in") == (
        "case 2024-R1/U01 cannot move_in: milestones briefings_received (听取有关部门情况通报), "
        "training_done (巡前培训) not recorded"
    )
    act(world, "milestone", "briefings_received", "--at", "2024-09-03T10:00")
    assert refused(world, "fire", "move_in") == (
        "case 2024-R1/U01 cannot move_in: milestone training_done (巡前培训) not recorded"
    )
    assert world.json("case", "show", KEY)["version"] == 2


def test_fire_a_trigger_from_another_state(world: Cli) -> None:
    assert refused(world, "fire", "close", role="office") == (
        "case 2024-R1/U01 cannot close from 巡前准备 (preparation); possible now: move_in"
    )


def test_fire_an_unknown_trigger(world: Cli) -> None:
    assert refused(world, "fire", "move_out") == (
        "case 2024-R1/U01 cannot move_out: regular has no such trigger (move_in, leave_site, "
        "report, revise_report, approve_report, send_back, to_party_group, give_feedback, "
        "start_rectification, revise_plan, approve_plan, to_report, accept_report, to_ongoing, "
        "periodic_report, to_evaluation, rerectify, close)"
    )


def test_fire_with_a_role_not_allowed(world: Cli) -> None:
    prepare(world)

    assert refused(world, "fire", "move_in", role="office") == (
        "case 2024-R1/U01 cannot move_in: role office (巡视办) may not; allowed: group_leader "
        "(巡视组组长)"
    )


def test_fire_with_a_role_not_defined(world: Cli) -> None:
    assert refused(world, "fire", "move_in", role="boss") == (
        "role boss is not defined by regular (roles: office, leading_group, group_leader, "
        "party_secretary, unit_liaison, discipline_group, organization_dept, functional_dept)"
    )


def test_a_refusal_writes_nothing(world: Cli) -> None:
    before = world.json("case", "history", KEY)

    refused(world, "fire", "move_in")
    refused(world, "fire", "close", role="office")
    refused(world, "milestone", "nope")

    assert world.json("case", "history", KEY) == before
    assert world.json("audit", "verify")["events"] == 1


def test_a_closed_case_refuses_everything(world: Cli) -> None:
    drive(world, KEY, len(forward_path()), hours_after("2024-09-02T09:00"))

    assert world.out("case", "show", KEY) == (
        "案件    2024-R1/U01  #1\n"
        "单位    U01 示例市财政局\n"
        "巡视组  G1  组长 张三\n"
        "类型    常规巡视 (regular v1)\n"
        "阶段    完成 (closed)  since 2024-09-04 18:00\n"
        "整改评估  好 100分（组织领导 20，整改落实 40，建章立制 20，成果运用 20） "
        "2024-09-04 17:00 张三\n"
        "版本    35\n"
    )
    shown = world.json("case", "show", KEY)
    assert (shown["due_on"], shown["overdue"], shown["milestones"]) == (None, False, {})
    assert refused(world, "fire", "send_back", role="office") == (
        "case 2024-R1/U01 is 完成 (closed); nothing more can happen"
    )
    assert refused(world, "milestone", "three_lists", role="party_secretary") == (
        "case 2024-R1/U01 is 完成 (closed); nothing more can happen"
    )
    assert [c["key"] for c in world.json("case", "list", "--state", "closed")] == [KEY]
    assert world.json("case", "list", "--overdue") == []


# -- times --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "occurred_at"),
    [
        ("2024-09-03", "2024-09-03T00:00:00+08:00"),
        ("2024-09-03T10:00", "2024-09-03T10:00:00+08:00"),
        ("2024-09-03 10:00:30", "2024-09-03T10:00:30+08:00"),
        ("2024-09-03T02:00:00Z", "2024-09-03T10:00:00+08:00"),
        ("2024-09-03T10:00:00+00:00", "2024-09-03T18:00:00+08:00"),
        ("2024-09-03T10:00+09:00", "2024-09-03T09:00:00+08:00"),
    ],
)
def test_at_is_iso_in_the_business_time_zone(world: Cli, at: str, occurred_at: str) -> None:
    act(world, "milestone", "training_done", "--at", at)

    assert world.json("case", "history", KEY)[-1]["occurred_at"] == occurred_at


def test_at_follows_xunshi_tz(world: Cli) -> None:
    utc = {"XUNSHI_TZ": "UTC"}
    world.run(*on_case("milestone", "training_done", "--at", "2024-09-03T10:00"), env=utc)

    history = world.json("case", "history", KEY, env=utc)
    assert history[-1]["occurred_at"] == "2024-09-03T10:00:00+00:00"
    assert world.json("case", "history", KEY)[-1]["occurred_at"] == "2024-09-03T18:00:00+08:00"


def test_unknown_time_zone(world: Cli) -> None:
    assert world.fail("case", "show", KEY, env={"XUNSHI_TZ": "Mars/Olympus"}) == (
        "unknown time zone 'Mars/Olympus' (XUNSHI_TZ)"
    )


def test_at_in_the_future(world: Cli) -> None:
    message = refused(world, "milestone", "training_done", "--at", "2999-01-01")

    assert re.fullmatch(
        r"time 2999-01-01 00:00 is later than now \(\d{4}-\d\d-\d\d \d\d:\d\d\); "
        r"events cannot be recorded ahead of time",
        message,
    )


def test_at_before_the_last_event(world: Cli) -> None:
    act(world, "milestone", "briefings_received", "--at", "2024-09-03T10:00")

    assert refused(world, "milestone", "training_done", "--at", "2024-09-03T09:59") == (
        "time 2024-09-03 09:59 is earlier than the last event of case 2024-R1/U01 "
        "(2024-09-03 10:00)"
    )


@pytest.mark.parametrize("at", ["yesterday", "2024-13-01", "2024-09-03T25:00", "03/09/2024"])
def test_at_not_iso(world: Cli, at: str) -> None:
    message = refused(world, "milestone", "training_done", "--at", at)

    assert message.startswith(f"--at {at!r} is not ")
    assert world.json("case", "show", KEY)["version"] == 1


def test_at_defaults_to_now(world: Cli) -> None:
    act(world, "milestone", "training_done")

    event = world.json("case", "history", KEY)[-1]
    assert event["occurred_at"] == event["recorded_at"]


# -- history --------------------------------------------------------------------------------------


def history_world(world: Cli) -> None:
    act(world, "milestone", "briefings_received", "--at", "2024-09-03T10:00")
    args = ["training_done", "--reason", "培训已完成", "--at", "2024-09-04"]
    world.run(*on_case("milestone", *args, actor="李四", role="office"))
    act(world, "fire", "move_in", "--reason", "准备完毕", "--at", "2024-09-05T08:30:00Z")


def test_history(world: Cli) -> None:
    history_world(world)

    assert world.out("case", "history", KEY) == (
        "序号  时间                       事件        内容                人员    角色          "
        "理由\n"
        "1     2024-09-02T09:00:00+08:00  started     start → 巡前准备    tester  office\n"
        "2     2024-09-03T10:00:00+08:00  milestone   briefings_received  张三    group_leader\n"
        "3     2024-09-04T00:00:00+08:00  milestone   training_done       李四    office        "
        "培训已完成\n"
        "4     2024-09-05T16:30:00+08:00  transition  move_in → 现场巡视  张三    group_leader  "
        "准备完毕\n"
    )
    assert world.out("case", "history", "1") == world.out("case", "history", KEY)


def test_history_json(world: Cli) -> None:
    history_world(world)

    history = world.json("case", "history", KEY)

    for event in history:
        assert set(event) == HISTORY_KEYS | {"data"}
        assert HEX64.fullmatch(event["hash"])
        assert event["recorded_at"].endswith("+08:00")
    assert [
        (e["seq"], e["kind"], e["trigger"], e["from"], e["to"], e["actor"], e["role"], e["reason"])
        for e in history
    ] == [
        (1, "started", None, None, "preparation", "tester", "office", None),
        (2, "milestone", None, None, None, "张三", "group_leader", None),
        (3, "milestone", None, None, None, "李四", "office", "培训已完成"),
        (
            4,
            "transition",
            "move_in",
            "preparation",
            "onsite",
            "张三",
            "group_leader",
            "准备完毕",
        ),
    ]
    assert [e["occurred_at"] for e in history] == [
        "2024-09-02T09:00:00+08:00",
        "2024-09-03T10:00:00+08:00",
        "2024-09-04T00:00:00+08:00",
        "2024-09-05T16:30:00+08:00",
    ]
    assert len({e["hash"] for e in history}) == 4


def test_history_of_an_unknown_case(world: Cli) -> None:
    assert world.fail("case", "history", "2024-R1/U02") == "case 2024-R1/U02 does not exist"


# -- people and text (issue #8, defect 7) -----------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "message"),
    [
        ("", "actor must not be empty"),
        ("  ", "actor must not be empty"),
        ("张三\n李四", "actor must be one line of text (no line breaks or control characters)"),
        ("张" * 201, "actor is 201 characters long; at most 200"),
    ],
)
def test_a_blank_broken_or_huge_actor_is_refused_and_writes_nothing(
    world: Cli, actor: str, message: str
) -> None:
    before = world.json("case", "history", KEY)
    assert (
        world.fail("case", "milestone", KEY, "training_done", "--actor", actor, "--role", "office")
        == message
    )
    assert world.json("case", "history", KEY) == before


def test_an_actor_is_stripped(world: Cli) -> None:
    world.run("case", "milestone", KEY, "training_done", "--actor", "  张三 ", "--role", "office")
    assert world.json("case", "history", KEY)[-1]["actor"] == "张三"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("round", "create", "R9", "--title", "第一轮\n巡视", "--start", "2025-03-03"),
         "round title must be one line of text (no line breaks or control characters)"),
        (("unit", "add", "U09", "--name", "单" * 30000),
         "unit name is 30000 characters long; at most 200"),
        (("group", "add", "2024-R1", "G9", "--leader", "组长\t甲"),
         "group leader must be one line of text (no line breaks or control characters)"),
        (("unit", "add", "U09", "--name", "示例单位", "--category", "类别\n二"),
         "unit category must be one line of text (no line breaks or control characters)"),
        (("case", "suspend", KEY, "--actor", "巡视办", "--role", "office", "--reason", "理" * 2001),
         "reason is 2001 characters long; at most 2000"),
    ],
)  # fmt: skip
def test_names_and_texts_are_one_line_and_not_huge(
    world: Cli, args: tuple[str, ...], message: str
) -> None:
    before = world.json("case", "history", KEY)
    assert world.fail(*args) == message
    assert world.json("case", "history", KEY) == before
    assert world.json("unit", "list") == world.json("unit", "list")


def test_show_as_of_a_later_day_is_refused(world: Cli) -> None:
    # Issue #8, defect 8: `case show --as-of 2099-01-01` showed 超期 26,956 天.
    message = world.fail("case", "show", KEY, "--as-of", "2099-01-01")
    assert message.startswith("--as-of 2099-01-01 23:59 is later than now (")
    assert message.endswith("); a case can be shown only as it was")


def test_a_lookback_case_follows_an_earlier_case_of_its_unit(world: Cli) -> None:
    world.run("round", "create", "2025-R1", "--title", "2025年第一轮巡视", "--start", "2025-03-03")
    world.run("group", "add", "2025-R1", "G1", "--leader", "李四")
    args = ["case", "start", "--round", "2025-R1", "--unit", "U01", "--group", "G1"]
    args += ["--definition", "lookback", "--at", "2025-03-03T09:00"]

    assert world.fail(*args, "--follows", "2024-R1/U02") == "case 2024-R1/U02 does not exist"
    shown = world.out(*args, "--follows", KEY)
    assert "接续    2024-R1/U01（回头看）\n" in shown
    assert world.json("case", "show", "2025-R1/U01")["follows"] == KEY
