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
    # the levels raised (the default ladder has three: 0, 1 and 2) and their instruments (the
    # office's own stages only remind).
    summary = lines.index("督办 escalations: 4 (L1 提醒 2, L2 提醒 2); 提醒 reminders: 2")
    header = [cell.strip() for cell in lines[summary + 1].split("  ") if cell.strip()]
    assert header == ["案件", "单位", "L0 提醒", "L1 提醒", "L2 提醒"]
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
        "reminders", "raised", "pending_decisions", "overdue_cases", "overdue_tasks", "workload",
        "clues", "outcomes",
    }  # fmt: skip
    assert found["round"]["code"] == ROUND
    assert found["levels"] == [
        {"level": 0, "title": "L0 提醒", "count": 1},
        {"level": 1, "title": "L1 提醒", "count": 1},
        {"level": 2, "title": "L2 提醒", "count": 1},
    ]
    assert (found["reminders"], found["raised"], found["pending_decisions"]) == (1, 2, [])
    assert found["workload"] == []
    assert found["clues"] == {"total": 0, "by_state": {}, "cases": []}
    assert found["overdue_cases"] == [KEY]
    assert found["overdue_tasks"] == []
    assert [case["key"] for case in found["cases"]] == [KEY]


def test_report_round_counts_a_proposal_once_the_office_confirms_it(rectifying: Cli) -> None:
    # The case in 整改 climbs its whole ladder: levels 0-2 go out, 约谈 (3) and 问责建议 (4)
    # wait for the office. The groups' 12 talks (the forward path's count) are its workload.
    rectifying.run("escalate")

    lines = rectifying.out("report", "round", ROUND).splitlines()

    assert "巡视工作量 workload: 个别谈话 12 人次（1 个单位）" in lines
    summary = lines.index(
        "督办 escalations: 2 (L1 预警 1, L2 督办函 1); 提醒 reminders: 1; 待决定 proposals: 2"
    )
    assert lines[summary + 2].split() == [KEY, "示例市财政局", "1", "1", "1"]
    rectifying.run(
        "escalations", "decide", "5", "--confirm", "--reason", "逾期", "--role", "office"
    )
    found = rectifying.json("report", "round", ROUND)
    assert [(level["title"], level["count"]) for level in found["levels"]] == [
        ("L0 提醒", 1),
        ("L1 预警", 1),
        ("L2 督办函", 1),
        ("L4 问责建议", 1),
    ]
    assert (found["reminders"], found["raised"], found["pending_decisions"]) == (1, 3, [4])
    assert found["workload"] == [{"title": "个别谈话", "unit": "人次", "total": 12, "cases": 1}]


def test_report_round_of_an_unknown_round(world: Cli) -> None:
    assert world.fail("report", "round", "2099-R9") == "round 2099-R9 does not exist"
    assert world.usage("report", "round") == "Error: Missing argument 'ROUND'."
