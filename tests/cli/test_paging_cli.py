"""Paged and streamed lists: `--limit`, `--after` (the last key of the previous page),
`--jsonl`, and `--json` written element by element with the bytes it always had."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_harness import ACTOR, KEY, ROUND, Cli

from xunshi.bootstrap import bootstrap
from xunshi.config import Settings

CATEGORIES = """\
categories:
  党的建设: [政治建设, 组织建设]
  业务工作: [财务管理]
"""
ITEM_COLUMNS = (
    "round,unit_code,item_code,title,manifestations,category_l1,category_l2,key_problem,"
    "common_problem,fix_now,root_cause,source,measure,responsible_leader,lead_department,"
    "cooperating_departments,responsible_person,due_on,long_term"
)


@pytest.fixture
def cases(ready: Cli, tmp_path: Path) -> Cli:
    """Eleven cases in two rounds, 2025-R1 created first (the plan sheet lists it first)
    and its units out of order."""
    rows = ["round,group,group_leader,unit_code,unit_name,unit_category,definition"]
    rows += [
        f"2025-R1,G{n % 2},组长{n % 2},U{n:02d},单位{n},,regular" for n in (3, 1, 12, 2, 10, 11)
    ]
    rows += [f"2024-R2,G2,组长乙,U{n:02d},单位{n},,regular" for n in (5, 4, 1, 2, 3)]
    (tmp_path / "plan.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    for code in ("2025-R1", "2024-R2"):
        ready.run("round", "create", code, "--title", f"轮次 {code}", "--start", "2025-03-03")
    ready.run("plan", "import", "plan.csv", "--at", "2025-03-03T09:00")
    return ready


ALL_CASES = [
    *(f"2024-R2/U0{n}" for n in range(1, 6)),
    *(f"2025-R1/U{n:02d}" for n in (1, 2, 3, 10, 11, 12)),
]


def pages(cli: Cli, *args: str, limit: int, key: str = "key") -> list[list[Any]]:
    """Every page of a list, `limit` at a time, each asked for after the last key seen."""
    found: list[list[Any]] = []
    after: list[str] = []
    while True:
        page = cli.json(*args, "--limit", str(limit), *after)
        found.append(page)
        if len(page) < limit:
            return found
        after = ["--after", str(page[-1][key])]


def old_json(data: list[Any]) -> str:
    """What `emit` prints for a whole list: the output before lists streamed."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


@pytest.mark.parametrize("limit", [1, 3, 4, 11, 20])
def test_paging_visits_every_case_once_in_key_order(cases: Cli, limit: int) -> None:
    listed = pages(cases, "case", "list", limit=limit)
    assert [c["key"] for c in listed[0]] == ALL_CASES[:limit]
    assert [c["key"] for page in listed for c in page] == ALL_CASES
    assert all(len(page) == limit for page in listed[:-1])
    whole = cases.json("case", "list")
    assert [c for page in listed for c in page] == whole


def test_the_cursor_need_not_be_a_case_and_filters_keep_their_meaning(cases: Cli) -> None:
    def keys(*args: str) -> list[str]:
        return [c["key"] for c in cases.json("case", "list", *args)]

    # keyset: the cases after the key in ROUND/UNIT order, whether or not that case exists
    assert keys("--after", "2024-R2/U035", "--limit", "2") == ["2024-R2/U04", "2024-R2/U05"]
    assert keys("--after", "2024-R9/X") == ALL_CASES[5:]
    assert keys("--after", "2025-R1/U12") == []
    assert keys("--round", "2025-R1", "--after", "2025-R1/U02", "--limit", "2") == [
        "2025-R1/U03",
        "2025-R1/U10",
    ]
    # a round before every other key: the whole round
    assert keys("--round", "2025-R1", "--after", "2024-R2/U05") == ALL_CASES[5:]


def test_streamed_json_has_the_bytes_of_the_whole_list(cases: Cli) -> None:
    app = bootstrap(Settings(db_url=cases.url, actor=ACTOR))
    try:
        tz = app.settings.tz
        read = app.services.read
        old = old_json([v.to_json(tz) for v in read.cases.many()])
        items = old_json([v.to_json(tz) for v in read.items.many()])
        rounds = old_json([r.to_json() for r in read.catalog.rounds()])
    finally:
        app.db.dispose()
    assert cases.out("--json", "case", "list") == old
    assert cases.out("case", "list", "--json") == old
    assert cases.out("--json", "item", "list") == items == "[]\n"
    assert cases.out("--json", "round", "list") == rounds


def test_an_empty_list_is_an_empty_array_and_no_lines(ready: Cli) -> None:
    assert ready.out("--json", "case", "list") == "[]\n"
    assert ready.out("case", "list", "--jsonl") == ""
    assert ready.out("case", "list") == "No cases.\n"


def test_jsonl_is_one_object_per_line_shaped_as_the_arrays_elements(cases: Cli) -> None:
    whole = cases.json("case", "list")
    text = cases.out("case", "list", "--jsonl")
    lines = text.splitlines()
    assert text.endswith("\n") and len(lines) == len(whole) == 11
    assert [json.loads(line) for line in lines] == whole
    assert all(line.startswith('{"id": ') and "\n" not in line for line in lines)
    # --jsonl wins over the global --json, and pages the same way
    assert (
        cases.out("--json", "case", "list", "--jsonl", "--limit", "2")
        == "\n".join(lines[:2]) + "\n"
    )
    after = cases.out("case", "list", "--jsonl", "--after", whole[1]["key"], "--limit", "2")
    assert after.splitlines() == lines[2:4]


def test_the_table_shows_the_page(cases: Cli) -> None:
    whole = cases.out("case", "list").splitlines()
    assert len(whole) == 1 + 11  # the heading, a line per case
    page = cases.out("case", "list", "--limit", "3", "--after", "2024-R2/U02").splitlines()
    assert [line.split()[1] for line in page[1:]] == ["2024-R2/U03", "2024-R2/U04", "2024-R2/U05"]
    assert cases.out("case", "list", "--after", "2025-R1/U12") == "No cases.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit", "0"], "--limit 0 is out of range (1 to 2147483647)"),
        (["--limit", "-2"], "--limit '-2' is not a positive whole number"),
        (["--limit", "ten"], "--limit 'ten' is not a positive whole number"),
        (["--limit", "１２"], "--limit '１２' is not a positive whole number"),
        (["--limit", "99999999999"], "--limit 99999999999 is out of range (1 to 2147483647)"),
        (
            ["--after", "2025-R1"],
            "--after '2025-R1' is not a case key: ROUND/UNIT, e.g. 2024-R1/U01",
        ),
        (["--after", "12"], "--after '12' is not a case key: ROUND/UNIT, e.g. 2024-R1/U01"),
        (
            ["--after", "2025-R1/U01/P01"],
            "--after '2025-R1/U01/P01' is not a case key: ROUND/UNIT, e.g. 2024-R1/U01",
        ),
    ],
)
def test_a_bad_limit_or_cursor_is_one_error_line(cases: Cli, args: list[str], message: str) -> None:
    assert cases.fail("case", "list", *args) == message
    assert cases.fail("--json", "case", "list", *args) == message


def test_bad_cursors_of_the_other_lists(cases: Cli) -> None:
    assert cases.fail("item", "list", "--after", "2025-R1/U01") == (
        "--after '2025-R1/U01' is not an item key: ROUND/UNIT/CODE, e.g. 2024-R1/U01/P01"
    )
    assert cases.fail("round", "list", "--after", " ") == "--after must not be blank"
    assert cases.fail("round", "list", "--after", "2099-R9") == (
        "--after 2099-R9: no such round in the list"
    )
    assert cases.fail("escalations", "list", "--after", "x") == ("--after 'x' is not a number")
    assert cases.fail("clue", "list", "--role", "office", "--after", "2025-R1/U01") == (
        "--after '2025-R1/U01' is not a clue key: ROUND/UNIT:CODE, e.g. 2024-R1/U01:C01"
    )
    # a bad filter is still named before anything is printed
    assert cases.fail("--json", "case", "list", "--round", "2099-R9", "--limit", "1").startswith(
        "round 2099-R9"
    )


SMALL_LISTS: list[tuple[list[str], str, Callable[[dict[str, Any]], str]]] = [
    (["round", "list"], "round", lambda r: r["code"]),
    (["unit", "list"], "unit", lambda u: u["code"]),
    (["group", "list", "2025-R1"], "group", lambda g: g["code"]),
    (["definitions", "list"], "definition", lambda d: d["name"]),
    (["categories", "list"], "category", lambda c: f"{c['level1']}/{c['level2']}"),
]


@pytest.mark.parametrize(("args", "what", "key"), SMALL_LISTS, ids=[s[1] for s in SMALL_LISTS])
def test_the_small_lists_page_the_same_way(
    cases: Cli, tmp_path: Path, args: list[str], what: str, key: Callable[[dict[str, Any]], str]
) -> None:
    (tmp_path / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    cases.run("categories", "load", "categories.yaml")
    whole = cases.json(*args)
    assert len(whole) >= 2, whole
    for limit in (1, 2):
        seen: list[dict[str, Any]] = []
        after: list[str] = []
        while True:
            page = cases.json(*args, "--limit", str(limit), *after)
            seen += page
            if len(page) < limit:
                break
            after = ["--after", key(page[-1])]
        assert seen == whole
    lines = cases.out(*args, "--jsonl").splitlines()
    assert [json.loads(line) for line in lines] == whole
    assert cases.out("--json", *args, "--after", key(whole[-1])) == "[]\n"


def test_the_order_of_rounds_is_their_creation(cases: Cli) -> None:
    # 2025-R1 came first in the plan sheet: rounds list in the order they were created
    assert [r["code"] for r in cases.json("round", "list")] == ["2025-R1", "2024-R2"]
    assert [r["code"] for r in cases.json("round", "list", "--after", "2025-R1")] == ["2024-R2"]


@pytest.fixture
def items(rectifying: Cli, tmp_path: Path) -> Cli:
    """The world's case 2024-R1/U01 in 整改 with seven items, P01 … P07, each with a task."""
    (tmp_path / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    rectifying.run("categories", "load", "categories.yaml")
    lines = [
        f"{ROUND},U01,P0{n},问题{n},,党的建设,政治建设,否,否,否,,,措施{n},赵书记,办公室,,"
        f"钱主任,2024-10-{10 + n},"
        for n in (4, 2, 7, 1, 3, 6, 5)
    ]
    sheet = tmp_path / "items.csv"
    sheet.write_text("\n".join([ITEM_COLUMNS, *lines]) + "\n", encoding="utf-8")
    rectifying.run("items", "import", str(sheet), "--actor", "王主任")
    return rectifying


def test_item_list_pages_by_key_and_streams_the_old_bytes(items: Cli) -> None:
    every = [f"{KEY}/P0{n}" for n in range(1, 8)]
    for limit in (1, 2, 7):
        listed = pages(items, "item", "list", limit=limit)
        assert [i["key"] for page in listed for i in page] == every
    app = bootstrap(Settings(db_url=items.url, actor=ACTOR))
    try:
        tz = app.settings.tz
        old = old_json([v.to_json(tz) for v in app.services.read.items.many()])
    finally:
        app.db.dispose()
    assert items.out("--json", "item", "list") == old
    lines = items.out("item", "list", "--jsonl", "--after", f"{KEY}/P05").splitlines()
    assert [json.loads(line)["key"] for line in lines] == every[5:]
    # the overdue filter is applied after reading: pages stay whole and in order
    overdue = items.json("item", "list", "--overdue", "--limit", "3")
    assert [i["key"] for i in overdue] == every[:3]
    table = items.out("item", "list", "--limit", "2", "--after", f"{KEY}/P02").splitlines()
    assert [line.split()[1] for line in table[1:]] == [f"{KEY}/P03", f"{KEY}/P04"]
