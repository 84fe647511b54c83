"""`xunshi tags | theme | report theme | report common` and tags on items (issue #10, part 5).

The README's section on 专题报告 runs these commands; the outputs here are its outputs.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from cli_harness import KEY, REPO, ROUND, Cli
from openpyxl import load_workbook
from test_items_cli import CATEGORIES, start_in_rectification

EXAMPLES = REPO / "examples"
OFFICE = ["--actor", "巡视办", "--role", "office"]


def add(cli: Cli, unit: str, code: str, category: str, *tags: str) -> None:
    """`item add` to the unit's case, with its tags."""
    args = ["item", "add", f"{ROUND}/{unit}", "--code", code, "--title", f"问题{code}"]
    args += ["--category", category, "--actor", "巡视办"]
    for tag in tags:
        args += ["--tag", tag]
    cli.run(*args)


@pytest.fixture
def tagged(rectifying: Cli, tmp_path: Path) -> Cli:
    """U01, U02 (and a new U03) in 整改; the categories and the example tags loaded;
    承包商管理 × 政治建设 in U01 and U02, 合同资产管理 × 财务管理 in U03."""
    cli = rectifying
    (tmp_path / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    cli.run("categories", "load", "categories.yaml")
    cli.run("tags", "load", str(EXAMPLES / "tags.yaml"))
    cli.run("unit", "add", "U03", "--name", "示例市统计局", "--category", "市直机关")
    start_in_rectification(cli, "U02")
    start_in_rectification(cli, "U03")
    add(cli, "U01", "P01", "党的建设/政治建设", "承包商管理")
    add(cli, "U02", "P01", "党的建设/政治建设", "承包商管理", "合同资产管理")
    add(cli, "U03", "P01", "业务工作/财务管理", "合同资产管理")
    return cli


def test_tags_load_and_list(ready: Cli) -> None:
    assert ready.out("tags", "list") == "No tags (load them with `xunshi tags load FILE`).\n"
    assert ready.out("tags", "load", str(EXAMPLES / "tags.yaml")) == (
        "Tags: 9 added, 0 kept, 0 removed\n"
    )
    listed = ready.json("tags", "list")
    assert [t["name"] for t in listed][:4] == [
        "承包商管理",
        "合同资产管理",
        "工程余料管理",
        "产销研一体化管理",
    ]
    assert ready.fail("tags", "load", "nowhere.yaml") == "nowhere.yaml: no such file"


def test_items_carry_tags_and_common_problems_are_computed(tagged: Cli) -> None:
    cli = tagged
    assert cli.json("item", "show", f"{KEY}/P01")["tags"] == ["承包商管理"]
    assert "领域    承包商管理\n" in cli.out("item", "show", f"{KEY}/P01")
    listed = cli.json("item", "list", "--tag", "合同资产管理")
    assert [i["key"] for i in listed] == [f"{ROUND}/U02/P01", f"{ROUND}/U03/P01"]
    assert cli.out("report", "common", ROUND) == (
        "No common problems in round 2024-R1 (a category and tag in at least 3 units).\n"
    )
    # U03's problem recategorised: 政治建设 × 合同资产管理 is in two units, still not three;
    # tagged 承包商管理 too, it makes 政治建设 × 承包商管理 a common problem.
    assert cli.out(
        "item", "update", f"{ROUND}/U03/P01", "--category", "党的建设/政治建设",
        "--tag", "承包商管理", "--tag", "合同资产管理", "--reason", "归入承包商管理", *OFFICE,
    ) == f"item {ROUND}/U03/P01 updated: category, tags\n"  # fmt: skip
    assert cli.out("report", "common", ROUND) == (
        "类别               业务领域    单位数  涉及单位                                  问题\n"
        "党的建设/政治建设  承包商管理  3       示例市财政局、示例市审计局、示例市统计局  "
        "2024-R1/U01/P01 2024-R1/U02/P01 2024-R1/U03/P01\n"
    )
    assert [i["common_problem"] for i in cli.json("item", "list")] == [True, True, True]
    assert cli.json("item", "list", "--tag", "承包商管理", "--round", ROUND)[0]["common_problem"]
    # Three units are the default; XUNSHI_COMMON_PROBLEM_UNITS sets another number.
    four = {"XUNSHI_COMMON_PROBLEM_UNITS": "4"}
    assert [i["common_problem"] for i in cli.json("item", "list", env=four)] == [False] * 3
    assert cli.out("item", "update", f"{ROUND}/U01/P01", "--no-tags", "--reason", "误标", *OFFICE)
    assert [i["common_problem"] for i in cli.json("item", "list")] == [False, False, False]
    assert cli.run("audit", "verify").exit_code == 0


def test_typed_common_problems_and_unknown_tags_are_refused_writing_nothing(tagged: Cli) -> None:
    cli = tagged
    before = cli.json("item", "list")
    computed = (
        "共性问题 is computed now, not set: an item is a common problem when its category and "
        "one of its tags occur in at least XUNSHI_COMMON_PROBLEM_UNITS units of its round "
        "(default 3); give the item its tags with --tag"
    )
    base = ["item", "add", KEY, "--code", "P09", "--title", "x", "--category", "党的建设/政治建设"]
    assert cli.fail(*base, "--common") == computed
    assert cli.fail("item", "update", f"{KEY}/P01", "--no-common", "--reason", "x", *OFFICE) == (
        computed
    )
    assert cli.fail(*base, "--tag", "承包商") == (
        "tag 承包商 is not in the tag list; did you mean 承包商管理?"
    )
    assert cli.fail(
        "item", "update", f"{KEY}/P01", "--tag", "承包商管理", "--no-tags", "--reason", "x",
        *OFFICE,
    ) == ("give --tag or --no-tags, not both")  # fmt: skip
    assert cli.fail(
        "item", "update", f"{KEY}/P01", "--tag", "承包商管理", "--reason", "x", *OFFICE
    ) == (f"nothing changes for item {KEY}/P01")
    assert cli.json("item", "list") == before


def test_a_theme_and_its_report(tagged: Cli, tmp_path: Path) -> None:
    cli = tagged
    assert cli.out(
        "theme", "add", ROUND, "T01", "--title", "承包商管理", "--department", "物资装备部",
        "--tag", "承包商管理", "--item", f"{ROUND}/U03/P01",
        "--measure", "修订承包商管理办法", "--measure", "建立承包商黑名单制度", *OFFICE,
    ) == "专题 T01 承包商管理 设立（牵头部门 物资装备部） (round event 1)\n"  # fmt: skip
    assert cli.out("theme", "measure", ROUND, "T01", "1", "--status", "推进中", *OFFICE) == (
        "专题 T01 措施 1 未开始 → 推进中 (round event 2)\n"
    )
    assert cli.out("theme", "list", ROUND) == (
        "专题  标题        牵头部门    涉及单位  问题  已销号  未销号  长期  机制措施\n"
        "T01   承包商管理  物资装备部  3         3     0       3       0     0/2\n"
    )
    shown = cli.out("theme", "show", ROUND, "T01")
    assert shown.startswith("专题    T01 承包商管理  (2024-R1, 截至 "), shown
    assert "牵头    物资装备部\n标签    承包商管理\n类别    无\n指定    2024-R1/U03/P01\n" in shown
    assert cli.out("report", "theme", ROUND, "T01") == shown

    text = cli.out("report", "theme", ROUND, "T01", "--out", "-")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["专题", "T01 承包商管理"]
    assert [row[2] for row in rows[7:10]] == [
        f"{ROUND}/U01/P01",
        f"{ROUND}/U02/P01",
        f"{ROUND}/U03/P01",
    ]
    assert [row[-1] for row in rows[7:10]] == ["标签", "标签", "指定"]
    md = cli.out("report", "theme", ROUND, "T01", "--out", "-", "--format", "md")
    assert md.startswith("# 2024年第一轮巡视 专题报告：承包商管理 截至 ")
    assert "| 1 | 修订承包商管理办法 | 推进中 |\n" in md

    assert cli.out("report", "theme", ROUND, "T01", "--out", "专题.xlsx") == (
        "Wrote theme T01 (3 items) to 专题.xlsx\n"
    )
    workbook = load_workbook(tmp_path / "专题.xlsx")
    assert workbook.sheetnames == ["问题分布", "机制建设"]
    assert cli.fail("report", "theme", ROUND, "T01", "--out", "专题.xlsx") == (
        "专题.xlsx exists; use --force to overwrite it"
    )
    assert cli.fail("report", "theme", ROUND, "T01", "--out", "t.md", "--format", "csv") == (
        "--format csv but t.md ends in .md"
    )
    assert cli.fail("report", "theme", ROUND, "T01", "--out", "-", "--format", "xlsx") == (
        "--format xlsx needs --out FILE"
    )
    assert cli.fail("report", "theme", ROUND, "T01", "--format", "md") == (
        "--format and --force go with --out FILE (or --out - for stdout)"
    )
    assert cli.fail("report", "theme", ROUND, "T09") == "theme T09 does not exist in round 2024-R1"
    liaison = ["--actor", "李", "--role", "unit_liaison"]
    assert cli.fail("theme", "link", ROUND, "T01", "--item", f"{ROUND}/U01/P01", *liaison) == (
        "only the office (role office) may link items to themes, not role unit_liaison"
    )
    events = cli.json("round", "events", ROUND)
    assert [(e["kind"], e["name"], e["data"]["action"]) for e in events] == [
        ("theme", "T01", "added"),
        ("theme", "T01", "measure"),
    ]
