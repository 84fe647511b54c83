"""Codes are matched in any case and stored as written (issue #8, sheets section).

People type `u01` for unit U01 and `2024-r1` for round 2024-R1; a second unit `u01` beside
U01 is the same unit, so adding it is refused as a duplicate, never a second register entry.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cli_harness import ROUND, Cli, start_case

PLAN_HEADER = "round,group,group_leader,unit_code,unit_name,unit_category,definition\n"


def dump(cli: Cli) -> list[tuple[object, ...]]:
    """Every unit, group, round and case row (what a refused command must leave as it was)."""
    with sqlite3.connect(cli.path) as conn:
        rows = []
        for table in ("inspection_round", "unit", "inspection_group", "inspection_case", "event"):
            rows += [(table, *r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY 1")]
    conn.close()
    return rows


def test_codes_in_another_case_find_what_is_stored(world: Cli) -> None:
    shown = world.json("case", "show", "2024-r1/u01")

    assert shown["key"] == f"{ROUND}/U01"
    assert [c["key"] for c in world.json("case", "list", "--round", "2024-r1")] == [f"{ROUND}/U01"]
    start_case(world, "u02")
    assert world.json("case", "show", f"{ROUND}/U02")["key"] == f"{ROUND}/U02"
    assert world.json("case", "list")[-1]["key"] == f"{ROUND}/U02"


def test_a_code_differing_only_in_case_is_a_duplicate(world: Cli) -> None:
    before = dump(world)

    assert world.fail("unit", "add", "u01", "--name", "另一个单位") == (
        "unit u01 already exists (as U01)"
    )
    assert world.fail(
        "round", "create", "2024-r1", "--title", "再一轮", "--start", "2024-09-02"
    ) == ("round 2024-r1 already exists (as 2024-R1)")
    assert world.fail("group", "add", ROUND, "g1", "--leader", "李四") == (
        f"group g1 already exists in round {ROUND} (as G1)"
    )
    assert (
        world.fail(
            "case",
            "start",
            "--round",
            ROUND,
            "--unit",
            "u01",
            "--group",
            "g1",
            "--definition",
            "regular",
        )
        == f"case {ROUND}/U01 already exists"
    )
    assert dump(world) == before


def test_a_plan_sheet_matches_codes_in_any_case(world: Cli, tmp_path: Path) -> None:
    sheet = tmp_path / "plan.csv"
    sheet.write_text(
        PLAN_HEADER
        + "2024-r1,g1,张三,u02,示例市审计局,市直机关,regular\n"
        + "2024-R1,G2,李四,U03,示例市统计局,市直机关,regular\n"
        + "2024-R1,g2,李四,u03x,示例市档案局,市直机关,regular\n",
        encoding="utf-8",
    )

    world.run("plan", "import", str(sheet))

    cases = [c["key"] for c in world.json("case", "list")]
    assert cases == [f"{ROUND}/U01", f"{ROUND}/U02", f"{ROUND}/U03", f"{ROUND}/u03x"]
    groups = [g["code"] for g in world.json("group", "list", ROUND)]
    assert groups == ["G1", "G2"]


def test_a_plan_sheet_naming_one_unit_twice_in_two_cases_is_refused(
    world: Cli, tmp_path: Path
) -> None:
    sheet = tmp_path / "plan.csv"
    sheet.write_text(
        PLAN_HEADER
        + "2024-R1,G1,张三,U09,示例市统计局,市直机关,regular\n"
        + "2024-R1,G1,张三,u09,示例市统计局,市直机关,regular\n",
        encoding="utf-8",
    )
    before = dump(world)

    message = world.fail("plan", "import", str(sheet))

    assert "row 3" in message and "U09" in message
    assert dump(world) == before
