"""`xunshi report round ROUND`: a round at a glance (stages by kind, cases, escalations by
level, overdue cases and tasks), for people and as one JSON document.

The CLI runs on the system clock: the world's case, started 2024-09-02, is long overdue, and
one sweep raises every rung of its ladder.
"""

from __future__ import annotations

import re

from cli_harness import KEY, ROUND, Cli, start_case


def test_report_round(world: Cli) -> None:
    start_case(world, "U02")
    world.run("escalate")

    lines = world.out("report", "round", ROUND).splitlines()

    assert re.fullmatch(r"2024年第一轮巡视 \(2024-R1\) as of \d{4}-\d{2}-\d{2}", lines[0])
    assert lines[2:6] == [
        "阶段      常规巡视  合计",
        "巡前准备  2         2",
        "合计      2         2",
        "",
    ]
    # Two reminders (level 0) apart from the escalations; the columns titled by level, for
    # the levels raised (the default ladder has three: 0, 1 and 2).
    summary = lines.index("督办 escalations: 4 (L1 督办 2, L2 告诫 2); 提醒 reminders: 2")
    header = [cell.strip() for cell in lines[summary + 1].split("  ") if cell.strip()]
    assert header == ["案件", "单位", "L0 提醒", "L1 督办", "L2 告诫"]
    assert lines[summary + 2].split() == [KEY, "示例市财政局", "1", "1", "1"]
    assert lines[summary + 3].split() == ["2024-R1/U02", "示例市审计局", "1", "1", "1"]
    assert lines[summary + 4].split() == ["合计", "2", "2", "2"]
    assert "超期案件 overdue cases: 2" in lines
    assert lines[-1] == "No task is overdue."


def test_report_round_json(world: Cli) -> None:
    world.run("escalate")

    found = world.json("report", "round", ROUND)

    assert set(found) == {
        "round", "as_of", "stages", "kinds", "matrix", "cases", "escalations", "levels",
        "reminders", "raised", "overdue_cases", "overdue_tasks",
    }  # fmt: skip
    assert found["round"]["code"] == ROUND
    assert found["levels"] == [
        {"level": 0, "title": "L0 提醒", "count": 1},
        {"level": 1, "title": "L1 督办", "count": 1},
        {"level": 2, "title": "L2 告诫", "count": 1},
    ]
    assert (found["reminders"], found["raised"]) == (1, 2)
    assert found["overdue_cases"] == [KEY]
    assert found["overdue_tasks"] == []
    assert [case["key"] for case in found["cases"]] == [KEY]


def test_report_round_of_an_unknown_round(world: Cli) -> None:
    assert world.fail("report", "round", "2099-R9") == "round 2099-R9 does not exist"
    assert world.usage("report", "round") == "Error: Missing argument 'ROUND'."
