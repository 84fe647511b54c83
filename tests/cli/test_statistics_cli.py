"""`xunshi report statistics ROUND [--format table|csv|md|xlsx] [--out FILE] [--force]`.

The figures themselves are checked against a hand-counted fixture in
tests/integration/test_statistics.py; here: the command's outputs and refusals.
"""

from __future__ import annotations

from pathlib import Path

from cli_harness import ROUND, Cli, drive, hours_after
from forward import steps_to
from openpyxl import load_workbook


def on_site(world: Cli) -> None:
    """2024-R1/U01 past its on-site stage: 个别谈话 recorded (12 人次, the harness's count)."""
    drive(world, f"{ROUND}/U01", steps_to("drafting"), hours_after("2024-09-02T09:00"))


def test_tables_on_the_terminal_and_json(world: Cli) -> None:
    on_site(world)
    text = world.out("report", "statistics", ROUND)
    lines = text.splitlines()
    assert lines[0].startswith(f"2024年第一轮巡视 ({ROUND}) 巡视工作统计 as of ")
    assert lines[2] == "巡视工作统计:"
    assert lines[3].split()[:4] == ["巡视组", "单位", "巡视类型", "个别谈话（人次）"]
    assert lines[4].split()[:4] == ["G1", "示例市财政局", "常规巡视", "12"]
    assert lines[6].split()[:2] == ["合计", "12"]
    shape = world.json("report", "statistics", ROUND)
    assert shape["rows"][-1]["workload"]["个别谈话（人次）"] == 12
    assert [r["level"] for r in shape["rows"]] == ["unit", "group", "total"]


def test_markdown_csv_and_a_workbook(world: Cli, tmp_path: Path) -> None:
    on_site(world)
    md = world.out("report", "statistics", ROUND, "--format", "md")
    assert md.startswith("# 2024年第一轮巡视 巡视工作统计 截至 ")
    assert "\n## 巡视工作统计\n" in md
    csv_text = world.out("report", "statistics", ROUND, "--out", "-")
    assert csv_text.splitlines()[1].startswith("巡视组,单位,巡视类型,个别谈话（人次）")

    out = tmp_path / "统计.xlsx"
    assert world.out("report", "statistics", ROUND, "--out", str(out)) == (
        f"Wrote the statistics of 1 unit to {out}\n"
    )
    sheet = load_workbook(out)["巡视工作统计"]
    assert [c.value for c in sheet[3]][:4] == ["G1", "示例市财政局", "常规巡视", 12]
    assert world.fail("report", "statistics", ROUND, "--out", str(out)) == (
        f"{out} exists; use --force to overwrite it"
    )
    world.out("report", "statistics", ROUND, "--out", str(out), "--force")
    written = tmp_path / "统计.md"
    world.out("report", "statistics", ROUND, "--out", str(written))
    assert written.read_text(encoding="utf-8") == md


def test_refusals(world: Cli, tmp_path: Path) -> None:
    assert world.fail("report", "statistics", "2099-R9") == "round 2099-R9 does not exist"
    assert world.fail("report", "statistics", ROUND, "--format", "xlsx") == (
        "--format xlsx needs --out FILE"
    )
    assert world.fail(
        "report", "statistics", ROUND, "--format", "table", "--out", str(tmp_path / "a.csv")
    ) == ("--format table prints tables; write a file as xlsx, csv or md")
    assert world.fail("report", "statistics", ROUND, "--out", str(tmp_path / "a.txt")) == (
        f"cannot tell the format of {tmp_path / 'a.txt'} from its extension: name it .csv, "
        ".md or .xlsx, or give --format csv|md|xlsx"
    )
    assert not list(tmp_path.glob("a.*"))
