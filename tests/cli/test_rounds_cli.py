"""`xunshi round show|plan|event|fire|events`, batches in plan sheets, `case start --batch`.

The world: round 2025-R1 (starts 2025-03-03) from a plan sheet with Chinese headers: U01 and
U02 (group G1) in batch 第一批 (moves in 2025-03-10, leaves 2025-04-18), U03 (G2) in 第二批
(2025-05-12 to 2025-06-20), all three on `regular_planned` (`regular` with 巡前准备 due on
the move-in date and 现场巡视 on the leave date), and U04 (G2, 常规巡视) in no batch.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_harness import BUILTIN, Cli
from click.testing import Result

ROUND = "2025-R1"
PLAN = """\
轮次,巡视组,组长,单位代码,单位名称,巡视类型,批次,进驻日期,撤离日期
2025-R1,G1,组长甲,U01,示例市财政局,regular_planned,第一批,2025-03-10,2025-04-18
2025-R1,G1,组长甲,U02,示例市审计局,regular_planned,第一批,,
2025-R1,G2,组长乙,U03,示例市统计局,regular_planned,第二批,2025-05-12,2025-06-20
2025-R1,G2,组长乙,U04,示例市某某区,常规巡视,,,
"""
HISTORY = """\
序号  时间                       事件        内容                                人员    角色          理由
1     2025-03-03T09:00:00+08:00  started     start → 巡前准备                    tester  office
2     2025-03-04T09:00:00+08:00  milestone   briefings_received (round event 1)  巡视办  office        情况通报会
3     2025-03-05T09:00:00+08:00  milestone   training_done (round event 2)       巡视办  office
4     2025-03-10T09:00:00+08:00  transition  move_in → 现场巡视 (round event 3)  组长甲  group_leader
"""  # noqa: E501
EVENTS = """\
编号  时间                       类型       内容                                      范围          案件  人员    角色          理由
1     2025-03-04T00:00:00+08:00  milestone  briefings_received                        batch 第一批  2     巡视办  office
2     2025-03-05T00:00:00+08:00  milestone  training_done                             batch 第一批  2     巡视办  office
3     2025-03-10T09:00:00+08:00  fire       move_in                                   batch 第一批  2     组长甲  group_leader
4     2025-03-10T11:00:00+08:00  milestone  contacts_published                        batch 第一批  2     组长甲  group_leader
5     2025-03-20T10:00:00+08:00  plan       撤离日期 2025-04-18 → 2025-04-25          batch 第一批  2     巡视办                延长现场巡视
6     2025-03-21T10:00:00+08:00  plan       进驻日期 2025-07-01, 撤离日期 2025-08-15  batch 第三批  0     巡视办
"""  # noqa: E501
OFFICE = ("--actor", "巡视办", "--role", "office")
LEADER = ("--actor", "组长甲", "--role", "group_leader")


def planned_definition() -> str:
    """`regular` with 巡前准备 due on the batch's move-in date, 现场巡视 on its leave date."""
    text = (BUILTIN / "regular.yaml").read_text(encoding="utf-8")
    text = text.replace("\nname: regular\n", "\nname: regular_planned\n")
    text = text.replace("\ntitle: 常规巡视\n", "\ntitle: 按计划常规巡视\n")
    # (现场巡视 is due on the leave date in the built-in already.)
    return text.replace("    due: 15wd\n", "    due: {plan: move_in, else: 15wd}\n", 1)


@pytest.fixture
def planned(ready: Cli, tmp_path: Path) -> Cli:
    """The world of the module docstring."""
    (tmp_path / "regular_planned.yaml").write_text(planned_definition(), encoding="utf-8")
    ready.run("definitions", "load", str(tmp_path / "regular_planned.yaml"))
    ready.run("round", "create", ROUND, "--title", "2025年第一轮巡视", "--start", "2025-03-03")
    (tmp_path / "plan.csv").write_text(PLAN, encoding="utf-8")
    imported = ready.out("plan", "import", str(tmp_path / "plan.csv"), "--at", "2025-03-03T09:00")
    assert imported == "Imported 4 cases (2 new groups, 4 new units, 2 new batches)\n"
    return ready


def onsite(cli: Cli) -> None:
    """Batch 第一批 moves in (the 动员会) on 2025-03-10, round events 1 to 4."""
    batch = ("--batch", "第一批")
    cli.run("round", "event", ROUND, "briefings_received", *batch, *OFFICE, "--at", "2025-03-04")
    cli.run("round", "event", ROUND, "training_done", *batch, *OFFICE, "--at", "2025-03-05")
    cli.run("round", "fire", ROUND, "move_in", *batch, *LEADER, "--at", "2025-03-10T09:00")
    cli.run(
        "round", "event", ROUND, "contacts_published", *batch, *LEADER, "--at", "2025-03-10T11:00"
    )


def test_round_show_prints_the_plan(planned: Cli) -> None:
    assert planned.out("round", "show", "2025-r1") == (
        "轮次  2025-R1  2025年第一轮巡视  开始 2025-03-03\n"
        "\n"
        "批次    进驻日期    撤离日期    巡视组  单位\n"
        "第一批  2025-03-10  2025-04-18  G1      U01, U02\n"
        "第二批  2025-05-12  2025-06-20  G2      U03\n"
        "未分批                          G2      U04\n"
    )
    shown = planned.json("round", "show", ROUND)
    assert shown["batches"][0] == {
        "batch": "第一批",
        "move_in_on": "2025-03-10",
        "leave_on": "2025-04-18",
        "groups": ["G1"],
        "units": ["U01", "U02"],
    }
    assert shown["unbatched"] == {
        "batch": None,
        "move_in_on": None,
        "leave_on": None,
        "groups": ["G2"],
        "units": ["U04"],
    }


def test_a_round_without_a_plan_or_cases(ready: Cli) -> None:
    ready.run("round", "create", ROUND, "--title", "2025年第一轮巡视", "--start", "2025-03-03")

    assert ready.out("round", "show", ROUND) == (
        "轮次  2025-R1  2025年第一轮巡视  开始 2025-03-03\nNo batches and no cases yet.\n"
    )
    assert ready.out("round", "events", ROUND) == "No round events.\n"
    assert ready.fail("round", "show", "2025-R9") == "round 2025-R9 does not exist"


def test_the_plan_dates_the_cases_of_each_batch(planned: Cli) -> None:
    listed = {c["key"]: c["due_on"] for c in planned.json("case", "list")}

    assert listed == {
        "2025-R1/U01": "2025-03-10",
        "2025-R1/U02": "2025-03-10",
        "2025-R1/U03": "2025-05-12",
        "2025-R1/U04": "2025-03-24",
    }


def test_round_event_and_fire_print_what_each_case_took(planned: Cli) -> None:
    assert planned.out(
        "round", "event", ROUND, "briefings_received", "--batch", "第一批", *OFFICE,
        "--at", "2025-03-04T09:00", "--reason", "情况通报会",
    ) == (
        "Round event 1: briefings_received recorded on 2 cases of round 2025-R1 (batch 第一批)\n"
        "  case 2025-R1/U01: 听取有关部门情况通报 (briefings_received) recorded\n"
        "  case 2025-R1/U02: 听取有关部门情况通报 (briefings_received) recorded\n"
    )  # fmt: skip
    assert planned.out(
        "round", "event", ROUND, "training_done", "--units", "u01，U02", *OFFICE,
        "--at", "2025-03-05T09:00",
    ) == (
        "Round event 2: training_done recorded on 2 cases of round 2025-R1 (units u01, U02)\n"
        "  case 2025-R1/U01: 巡前培训 (training_done) recorded\n"
        "  case 2025-R1/U02: 巡前培训 (training_done) recorded\n"
    )  # fmt: skip
    assert planned.out(
        "round", "fire", ROUND, "move_in", "--group", "G1", *LEADER, "--at", "2025-03-10T09:00"
    ) == (
        "Round event 3: move_in fired on 2 cases of round 2025-R1 (group G1)\n"
        "  case 2025-R1/U01: 巡前准备 → 现场巡视, due 2025-04-18\n"
        "  case 2025-R1/U02: 巡前准备 → 现场巡视, due 2025-04-18\n"
    )

    assert planned.out("case", "history", "2025-R1/U02") == HISTORY
    [event] = [e for e in planned.json("case", "history", "2025-R1/U01") if e["seq"] == 4]
    assert event["data"] == {"round_event": 3}


def test_round_event_json_lists_each_case_event(planned: Cli) -> None:
    done = planned.json(
        "round", "event", ROUND, "briefings_received", "--batch", "第一批", *OFFICE,
        "--at", "2025-03-04T09:00",
    )  # fmt: skip

    assert {k: v for k, v in done.items() if k != "events"} == {
        "round_event": 1,
        "round": ROUND,
        "kind": "milestone",
        "name": "briefings_received",
        "filters": {"batch": "第一批", "group": None, "units": []},
        "count": 2,
    }
    assert [(e["key"], e["seq"], e["kind"], e["data"]) for e in done["events"]] == [
        (f"{ROUND}/U01", 2, "milestone", {"milestone": "briefings_received", "round_event": 1}),
        (f"{ROUND}/U02", 2, "milestone", {"milestone": "briefings_received", "round_event": 1}),
    ]


def refused(cli: Cli, *args: str) -> Result:
    """A refusal naming several cases: exit 1, the `Error: …` line, one line per case."""
    result = cli.run(*args, code=1)
    assert result.stderr.startswith("Error: ")
    assert all(line.startswith("  case ") for line in result.stderr.splitlines()[1:])
    return result


def test_a_refused_round_event_names_each_case_and_writes_nothing(planned: Cli) -> None:
    planned.run(
        "case", "milestone", "2025-R1/U02", "briefings_received", *OFFICE, "--at", "2025-03-04"
    )
    before = planned.sql("SELECT * FROM event ORDER BY instance_id, seq")

    result = refused(planned, "round", "event", ROUND, "briefings_received", *OFFICE)

    assert result.stdout == ""
    assert result.stderr == (
        "Error: 1 of 4 cases of round 2025-R1 cannot record briefings_received; nothing was "
        "written:\n"
        "  case 2025-R1/U02: milestone briefings_received (听取有关部门情况通报) was already "
        "recorded at 2025-03-04 00:00\n"
    )
    assert planned.sql("SELECT * FROM event ORDER BY instance_id, seq") == before
    assert planned.sql("SELECT count(*) FROM round_event") == [(0,)]

    result = refused(planned, "round", "fire", ROUND, "move_in", *LEADER)
    both = (
        "milestones briefings_received (听取有关部门情况通报), training_done (巡前培训) "
        "not recorded"
    )
    assert result.stderr.splitlines() == [
        "Error: 4 of 4 cases of round 2025-R1 cannot move_in; nothing was written:",
        f"  case 2025-R1/U01 cannot move_in: {both}",
        "  case 2025-R1/U02 cannot move_in: milestone training_done (巡前培训) not recorded",
        f"  case 2025-R1/U03 cannot move_in: {both}",
        f"  case 2025-R1/U04 cannot move_in: {both}",
    ]
    assert planned.sql("SELECT * FROM event ORDER BY instance_id, seq") == before


def test_round_plan_moves_the_deadlines_due_on_the_changed_date(planned: Cli) -> None:
    onsite(planned)

    assert planned.out(
        "round", "plan", ROUND, "--batch", "第一批", "--leave", "2025-04-25", "--actor", "巡视办",
        "--at", "2025-03-20T10:00", "--reason", "延长现场巡视",
    ) == (
        "Batch 第一批 of round 2025-R1: 撤离日期 2025-04-18 → 2025-04-25 (round event 5); "
        "2 deadlines moved\n"
        "  case 2025-R1/U01 (onsite): due 2025-04-18 → 2025-04-25\n"
        "  case 2025-R1/U02 (onsite): due 2025-04-18 → 2025-04-25\n"
    )  # fmt: skip
    [moved] = [e for e in planned.json("case", "history", "2025-R1/U01") if e["seq"] == 6]
    assert (moved["kind"], moved["trigger"], moved["actor"]) == ("deadline", "plan", "巡视办")
    assert moved["reason"] == (
        "plan of round 2025-R1, batch 第一批 撤离日期 2025-04-18 → 2025-04-25: "
        "due 2025-04-18 → 2025-04-25, next rung level 0 at 2025-04-15 00:00 → "
        "level 0 at 2025-04-22 00:00"
    )
    assert moved["data"]["round_event"] == 5
    assert "期限    2025-04-25" in planned.out("case", "show", "2025-R1/U02")

    assert planned.out(
        "round", "plan", ROUND, "--batch", "第三批", "--move-in", "2025-07-01", "--leave",
        "2025-08-15", "--actor", "巡视办", "--at", "2025-03-21T10:00",
    ) == (
        "Batch 第三批 of round 2025-R1: planned: 进驻日期 2025-07-01, 撤离日期 2025-08-15 "
        "(round event 6); 0 deadlines moved\n"
    )  # fmt: skip
    assert planned.out("round", "events", ROUND) == EVENTS
    [plan_event] = [e for e in planned.json("round", "events", ROUND) if e["id"] == 5]
    assert plan_event["data"] == {
        "created": False,
        "move_in_on": {"old": "2025-03-10", "new": "2025-03-10"},
        "leave_on": {"old": "2025-04-18", "new": "2025-04-25"},
    }


def test_a_case_starts_in_a_batch(planned: Cli) -> None:
    planned.run("unit", "add", "U05", "--name", "示例市某某县")
    planned.run("round", "plan", ROUND, "--batch", "B3", "--move-in", "2025-07-01")

    shown = planned.json(
        "case", "start", "--round", ROUND, "--unit", "U05", "--group", "G2",
        "--definition", "regular_planned", "--batch", "b3", "--at", "2025-03-04",
    )  # fmt: skip

    assert shown["due_on"] == "2025-07-01"
    assert planned.json("round", "show", ROUND)["batches"][-1]["units"] == ["U05"]
    assert planned.fail(
        "case", "start", "--round", ROUND, "--unit", "U05", "--group", "G2",
        "--definition", "regular", "--batch", "B9",
    ) == "batch B9 does not exist in round 2025-R1 (plan it with `xunshi round plan`)"  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--batch", "第一批", "--leave", "2025-04-18"),
            "batch 第一批 of round 2025-R1 is already planned with 进驻日期 2025-03-10, "
            "撤离日期 2025-04-18: nothing to change",
        ),
        (
            ("--batch", "第一批", "--leave", "2025-03-07"),
            "batch 第一批 would leave on 2025-03-07, before it moves in (2025-03-10)",
        ),
        (
            ("--batch", "B9", "--move-in", "2025-03-01"),
            "batch B9 would move in on 2025-03-01, before round 2025-R1 starts (2025-03-03)",
        ),
        (("--batch", "第一批"), "nothing to plan: give --move-in, --leave or both"),
        (
            ("--batch", "第 一批", "--leave", "2025-04-18"),
            "batch code '第 一批' is not valid: use letters (Chinese too), digits, '.', '_' or "
            "'-' (at most 64)",
        ),
        (
            ("--batch", "B9", "--leave", "2025-13-01"),
            "--leave '2025-13-01' is not a date (YYYY-MM-DD)",
        ),
        (
            ("--batch", "B9", "--leave", "2025-04-18", "--at", "2999-01-01"),
            "time 2999-01-01 00:00 is later than now",
        ),
    ],
)
def test_round_plan_refusals(planned: Cli, args: tuple[str, ...], message: str) -> None:
    before = planned.sql("SELECT * FROM round_batch ORDER BY id")

    assert planned.fail("round", "plan", ROUND, *args).startswith(message)
    assert planned.sql("SELECT * FROM round_batch ORDER BY id") == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--batch", "B9"), "batch B9 does not exist in round 2025-R1"),
        (("--group", "G9"), "group G9 does not exist in round 2025-R1"),
        (("--units", "U01,U99"), "unit U99 has no case in round 2025-R1"),
        (("--units", " , "), "--units names no unit"),
        (
            ("--batch", "第二批", "--group", "G1"),
            "no case of round 2025-R1 matches batch 第二批, group G1",
        ),
    ],
)  # fmt: skip
def test_round_event_filters_that_name_nothing(
    planned: Cli, args: tuple[str, ...], message: str
) -> None:
    assert planned.fail("round", "event", ROUND, "briefings_received", *args, *OFFICE) == message


def sheet(tmp_path: Path, *rows: str) -> str:
    """A plan sheet for round 2025-R1 with the batch columns and `rows` (unit U05 on)."""
    path = tmp_path / "more.csv"
    header = "轮次,巡视组,组长,单位代码,单位名称,巡视类型,批次,进驻时间,撤离时间"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            ("2025-R1,G1,组长甲,U05,单位五,常规巡视,,2025-03-10,",),
            "more.csv row 2, column 进驻时间: a planned date needs a batch (批次) on its row",
        ),
        (
            ("2025-R1,G1,组长甲,U05,单位五,常规巡视,第一批,,2025-04-19",),
            "more.csv row 2, column 撤离时间: batch 第一批 of round 2025-R1 leaves on "
            "2025-04-18, not 2025-04-19 (change it with `xunshi round plan`)",
        ),
        (
            (
                "2025-R1,G1,组长甲,U05,单位五,常规巡视,第四批,2025-06-02,",
                "2025-R1,G1,组长甲,U06,单位六,常规巡视,第四批,2025-06-03,",
            ),
            "more.csv row 3, column 进驻时间: batch 第四批 moves in on 2025-06-02 in row 2, "
            "not 2025-06-03",
        ),
        (
            ("2025-R1,G1,组长甲,U05,单位五,常规巡视,第四批,2025-06-02,2025-06-01",),
            "more.csv row 2, column 撤离时间: batch 第四批 would leave on 2025-06-01, before it "
            "moves in (2025-06-02)",
        ),
        (
            ("2025-R1,G1,组长甲,U05,单位五,常规巡视,第四批,2025-06-02 09:30,",),
            "more.csv row 2, column 进驻时间: '2025-06-02 09:30' has a time of day: a planned "
            "date is a day",
        ),
        (
            ("2025-R1,G1,组长甲,U05,单位五,常规巡视,第四批,2025-02-28,",),
            "more.csv row 2, column 进驻时间: batch 第四批 would move in on 2025-02-28, before "
            "round 2025-R1 starts (2025-03-03)",
        ),
        (
            ("2025-R1,G1,组长甲,U05,单位五,常规巡视,第/四批,,",),
            "more.csv row 2, column 批次: batch code '第/四批' is not valid: use letters "
            "(Chinese too), digits, '.', '_' or '-' (at most 64)",
        ),
    ],
)
def test_batch_problems_in_a_plan_sheet(
    planned: Cli, tmp_path: Path, rows: tuple[str, ...], message: str
) -> None:
    before = planned.sql("SELECT * FROM round_batch ORDER BY id")

    assert planned.fail("plan", "import", sheet(tmp_path, *rows)) == message
    assert planned.sql("SELECT * FROM round_batch ORDER BY id") == before


def test_a_later_sheet_adds_cases_to_a_batch_in_any_case(planned: Cli, tmp_path: Path) -> None:
    rows = (
        "2025-R1,G1,组长甲,U05,单位五,常规巡视,第一批,2025-03-10,",
        "2025-R1,G2,组长乙,U06,单位六,常规巡视,b4,2025-06-02,2025-06-27",
        "2025-R1,G2,组长乙,U07,单位七,常规巡视,B4,,",
    )

    assert planned.out("plan", "import", sheet(tmp_path, *rows), "--at", "2025-03-04") == (
        "Imported 3 cases (0 new groups, 3 new units, 1 new batch)\n"
    )
    assert [(b["batch"], b["units"]) for b in planned.json("round", "show", ROUND)["batches"]] == [
        ("第一批", ["U01", "U02", "U05"]),
        ("第二批", ["U03"]),
        ("b4", ["U06", "U07"]),
    ]


def test_definitions_show_a_stage_due_on_the_plan(planned: Cli) -> None:
    shown = planned.out("definitions", "show", "regular_planned")

    assert re.search(r"巡前准备 +preparation +plan.move_in, else 15wd +\*briefings_received", shown)
    assert re.search(r"现场巡视 +onsite +plan.leave, else 30wd +\*contacts_published", shown)
    stages = planned.json("definitions", "show", "regular_planned")["states"]
    assert [s["due"] for s in stages[:3]] == [
        {"plan": "move_in", "else": "15wd"},
        {"plan": "leave", "else": "30wd"},
        "15wd",
    ]
