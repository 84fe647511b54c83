"""`xunshi plan import FILE.csv|FILE.xlsx`: every row checked first, one transaction (DESIGN §8)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from cli_harness import BUILTIN, CASE_KEYS, ROUND, SAMPLE_PLAN, Cli
from openpyxl import Workbook

COLUMNS = ("round", "group", "group_leader", "unit_code", "unit_name", "unit_category")
COLUMNS += ("definition",)
# Against the world (G1 led by 张三; U01 示例市财政局 with a case, U02 示例市审计局 without).
GOOD_ROWS = (
    (ROUND, "G2", "李四", "U03", "示例市教育局", "市直机关", "regular"),
    (ROUND, "G3", "王五", "U04", "示例市民政局", "区县", "special"),
    (ROUND, "G1", "张三", "U02", "示例市审计局", "市直机关", "mobile"),
)
IMPORTED = "Imported 3 cases (2 new groups, 2 new units)\n"


def write_csv(
    path: Path,
    rows: Sequence[Sequence[object]],
    header: Sequence[str] = COLUMNS,
    *,
    encoding: str = "utf-8",
) -> Path:
    """A plan sheet as CSV (Excel's "CSV UTF-8" is encoding="utf-8-sig")."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(
    path: Path, rows: Sequence[Sequence[object]], header: Sequence[str] = COLUMNS
) -> Path:
    """A plan sheet as the first worksheet of a workbook."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "巡视计划"
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def snapshot(cli: Cli, round_code: str = ROUND) -> list[Any]:
    """Everything a plan import could write, as the CLI shows it."""
    return [
        cli.json("case", "list"),
        cli.json("unit", "list"),
        cli.json("group", "list", round_code),
        cli.json("round", "list"),
        cli.json("audit", "verify")["events"],
    ]


def check_imported(world: Cli) -> None:
    cases = {c["key"]: c for c in world.json("case", "list", "--round", ROUND)}
    assert sorted(cases) == [f"{ROUND}/U0{n}" for n in range(1, 5)]
    assert [
        (cases[f"{ROUND}/{u}"]["definition"], cases[f"{ROUND}/{u}"]["group"])
        for u in ("U02", "U03", "U04")
    ] == [("mobile", "G1"), ("regular", "G2"), ("special", "G3")]
    assert cases[f"{ROUND}/U03"]["entered_at"] == "2024-09-03T09:00:00+08:00"
    assert cases[f"{ROUND}/U03"]["state"] == "preparation"
    assert all(set(c) == CASE_KEYS for c in cases.values())
    assert world.json("group", "list", ROUND) == [
        {"id": 1, "round": ROUND, "code": "G1", "leader": "张三"},
        {"id": 2, "round": ROUND, "code": "G2", "leader": "李四"},
        {"id": 3, "round": ROUND, "code": "G3", "leader": "王五"},
    ]
    units = {u["code"]: (u["name"], u["category"]) for u in world.json("unit", "list")}
    assert units["U03"] == ("示例市教育局", "市直机关")
    assert units["U04"] == ("示例市民政局", "区县")


# -- good sheets --------------------------------------------------------------------------------


def test_import_csv(world: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", GOOD_ROWS)

    assert world.out("plan", "import", str(path), "--at", "2024-09-03T09:00") == IMPORTED
    check_imported(world)


def test_import_csv_with_a_bom(world: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", GOOD_ROWS, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    assert world.out("plan", "import", str(path), "--at", "2024-09-03T09:00") == IMPORTED
    check_imported(world)


def test_import_xlsx(world: Cli, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "plan.xlsx", GOOD_ROWS)

    assert world.out("plan", "import", str(path), "--at", "2024-09-03T09:00") == IMPORTED
    check_imported(world)


def test_import_xlsx_with_numbers_and_blank_rows(world: Cli, tmp_path: Path) -> None:
    rows: list[Sequence[object]] = [
        (ROUND, "G2", "李四", 101, "示例市一〇一所", None, "regular"),
        (None,) * 7,
        (ROUND, "G3", "王五", "U03", "示例市教育局", "市直机关", "regular"),
    ]
    path = write_xlsx(tmp_path / "plan.xlsx", rows)

    assert world.out("plan", "import", str(path)) == (
        "Imported 2 cases (2 new groups, 2 new units)\n"
    )
    assert {u["code"]: u["category"] for u in world.json("unit", "list")}["101"] == ""


def test_import_json(world: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", GOOD_ROWS)

    assert world.json("plan", "import", str(path)) == {
        "cases": [
            {"id": 2, "key": f"{ROUND}/U03"},
            {"id": 3, "key": f"{ROUND}/U04"},
            {"id": 4, "key": f"{ROUND}/U02"},
        ],
        "groups_created": 2,
        "units_created": 2,
        "batches_created": 0,
    }


def test_import_records_the_actor(world: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", GOOD_ROWS)
    world.run("plan", "import", str(path), "--actor", "巡视办甲", "--at", "2024-09-03")

    [started] = world.json("case", "history", f"{ROUND}/U03")
    assert (started["kind"], started["actor"], started["role"]) == ("started", "巡视办甲", "office")
    assert started["occurred_at"] == "2024-09-03T00:00:00+08:00"


def test_unit_category_column_is_optional(world: Cli, tmp_path: Path) -> None:
    header = [c for c in COLUMNS if c != "unit_category"]
    rows = [row[:5] + row[6:] for row in GOOD_ROWS]
    path = write_csv(tmp_path / "plan.csv", rows, header)

    assert world.out("plan", "import", str(path)) == IMPORTED
    assert {u["code"]: u["category"] for u in world.json("unit", "list")}["U03"] == ""


def test_the_summary_counts_in_good_english(world: Cli, tmp_path: Path) -> None:
    # "Imported 1 cases (1 new groups, 1 new units)"
    path = write_csv(tmp_path / "plan.csv", GOOD_ROWS[:1])

    assert world.out("plan", "import", str(path)) == "Imported 1 case (1 new group, 1 new unit)\n"


def test_columns_may_come_in_any_order(world: Cli, tmp_path: Path) -> None:
    header = list(reversed(COLUMNS))
    rows = [tuple(reversed(row)) for row in GOOD_ROWS]
    path = write_csv(tmp_path / "plan.csv", rows, header)

    assert world.out("plan", "import", str(path), "--at", "2024-09-03T09:00") == IMPORTED
    check_imported(world)


def test_import_the_sample_plan(ready: Cli) -> None:
    ready.run("round", "create", "2024-R2", "--title", "2024年第二轮巡视", "--start", "2024-09-02")

    assert ready.out("plan", "import", str(SAMPLE_PLAN), "--at", "2024-09-02T09:00") == (
        "Imported 36 cases (8 new groups, 36 new units)\n"
    )
    cases = ready.json("case", "list", "--round", "2024-R2")
    assert len(cases) == 36
    assert {c["definition"] for c in cases} == {
        "regular",
        "special",
        "mobile",
        "overseas",
        "lookback",
    }
    assert [g["code"] for g in ready.json("group", "list", "2024-R2")] == [
        f"G{n}" for n in range(1, 9)
    ]
    assert ready.out("audit", "verify") == "OK: 36 chains, 36 events verified\n"


def test_import_the_sample_plan_twice(ready: Cli) -> None:
    ready.run("round", "create", "2024-R2", "--title", "2024年第二轮巡视", "--start", "2024-09-02")
    ready.run("plan", "import", str(SAMPLE_PLAN), "--at", "2024-09-02T09:00")
    before = snapshot(ready, "2024-R2")

    assert ready.fail("plan", "import", str(SAMPLE_PLAN)) == (
        "sample_plan.csv row 2, column unit_code: case 2024-R2/U01 already exists "
        "(and 35 more problems in rows 3, 4, 5, 6, 7, 8, 9, 10, …)"
    )
    assert snapshot(ready, "2024-R2") == before


# -- bad rows: the message names row and column, and nothing is written ----------------------------

BAD_ROWS = [
    pytest.param(
        (ROUND, "G2", "李四", "U05", "示例市商务局", "", "nope"),
        "row 3, column definition: no case definition called nope "
        "(registered: lookback, mobile, overseas, regular, special)",
        id="unknown-definition",
    ),
    pytest.param(
        (ROUND, "G2", "李四", "U05", "", "", "regular"),
        "row 3, column unit_name: empty",
        id="empty-cell",
    ),
    pytest.param(
        (ROUND, "G2", "李四", "U 5", "示例市商务局", "", "regular"),
        "row 3, column unit_code: unit code 'U 5' is not valid: use letters, digits, '.', '_' "
        "or '-' (at most 64, starting with a letter or digit)",
        id="unit-code-with-space",
    ),
    pytest.param(
        (ROUND, "G2", "李四", "U/5", "示例市商务局", "", "regular"),
        "row 3, column unit_code: unit code 'U/5' is not valid: use letters, digits, '.', '_' "
        "or '-' (at most 64, starting with a letter or digit)",
        id="unit-code-with-slash",
    ),
    pytest.param(
        (ROUND, "G1", "李四", "U05", "示例市商务局", "", "regular"),
        "row 3, column group_leader: group G1 of round 2024-R1 is led by 张三, not 李四",
        id="leader-differs-from-stored-group",
    ),
    pytest.param(
        (ROUND, "G2", "赵六", "U05", "示例市商务局", "", "regular"),
        "row 3, column group_leader: group G2 is led by 李四 in row 2, not 赵六",
        id="leader-differs-from-earlier-row",
    ),
    pytest.param(
        (ROUND, "G2", "李四", "U03", "示例市教育局", "市直机关", "regular"),
        "row 3, column unit_code: unit U03 appears twice in round 2024-R1 (also row 2)",
        id="unit-twice-in-round",
    ),
    pytest.param(
        (ROUND, "G2", "李四", "U01", "示例市财政局", "市直机关", "regular"),
        "row 3, column unit_code: case 2024-R1/U01 already exists",
        id="case-exists",
    ),
    pytest.param(
        (ROUND, "G2", "李四", "U01", "示例市财政厅", "市直机关", "regular"),
        "row 3, column unit_name: unit U01 is registered as 示例市财政局, not 示例市财政厅 "
        "(and 1 more problem in row 3)",
        id="unit-name-differs-from-stored-unit",
    ),
    pytest.param(
        ("2024-R9", "G2", "李四", "U05", "示例市商务局", "", "regular"),
        "row 3, column round: round 2024-R9 does not exist (create it with `xunshi round create`)",
        id="unknown-round",
    ),
    # Names from a sheet are checked as `unit add` and `group add` check them (issue #8).
    pytest.param(
        (ROUND, "G2", "李四", "U05", "示例市\n商务局", "", "regular"),
        "row 3, column unit_name: unit name must be one line of text (no line breaks or control "
        "characters)",
        id="unit-name-on-two-lines",
    ),
    pytest.param(
        (ROUND, "G2", "李" * 201, "U05", "示例市商务局", "", "regular"),
        "row 3, column group_leader: group leader is 201 characters long; at most 200",
        id="leader-too-long",
    ),
    pytest.param(
        (ROUND, "G2", "李四", "U05", "示例市商务局", "市直\x07机关", "regular"),
        "row 3, column unit_category: unit category must be one line of text (no line breaks or "
        "control characters)",
        id="category-with-a-control-character",
    ),
]


@pytest.mark.parametrize(("bad", "message"), BAD_ROWS)
def test_a_bad_row_in_the_middle_writes_nothing(
    world: Cli, tmp_path: Path, bad: tuple[str, ...], message: str
) -> None:
    path = write_csv(tmp_path / "plan.csv", [GOOD_ROWS[0], bad, GOOD_ROWS[2]])
    before = snapshot(world)

    assert world.fail("plan", "import", str(path)) == f"plan.csv {message}"
    assert snapshot(world) == before


@pytest.mark.parametrize(("bad", "message"), BAD_ROWS[:3])
def test_a_bad_row_in_an_xlsx_writes_nothing(
    world: Cli, tmp_path: Path, bad: tuple[str, ...], message: str
) -> None:
    path = write_xlsx(tmp_path / "plan.xlsx", [GOOD_ROWS[0], bad, GOOD_ROWS[2]])
    before = snapshot(world)

    assert world.fail("plan", "import", str(path)) == f"plan.xlsx {message}"
    assert snapshot(world) == before


def test_every_bad_row_is_counted(world: Cli, tmp_path: Path) -> None:
    rows = [
        GOOD_ROWS[0],
        (ROUND, "G2", "李四", "U05", "", "", "regular"),
        (ROUND, "G2", "李四", "U06", "示例市商务局", "", "nope"),
        (ROUND, "G2", "李四", "U 7", "示例市文旅局", "", "regular"),
    ]
    path = write_csv(tmp_path / "plan.csv", rows)

    assert world.fail("plan", "import", str(path)) == (
        "plan.csv row 3, column unit_name: empty (and 2 more problems in rows 4, 5)"
    )


def test_rows_are_numbered_as_the_spreadsheet_numbers_them(world: Cli, tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    good = ",".join(GOOD_ROWS[0])
    path.write_text(
        f"{','.join(COLUMNS)}\n{good}\n\n,,,,,,\n{ROUND},G2,李四,U05,,,regular\n", "utf-8"
    )

    assert world.fail("plan", "import", str(path)) == "plan.csv row 5, column unit_name: empty"


# -- bad files ------------------------------------------------------------------------------------


def test_missing_column(world: Cli, tmp_path: Path) -> None:
    header = [c for c in COLUMNS if c != "group_leader"]
    path = write_csv(
        tmp_path / "plan.csv", [(ROUND, "G2", "U03", "示例市教育局", "", "regular")], header
    )
    before = snapshot(world)

    message = world.fail("plan", "import", str(path))

    assert message.startswith("plan.csv row 1: missing column")
    assert message.endswith(" group_leader")
    assert snapshot(world) == before


def test_unknown_column(world: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", [(*GOOD_ROWS[0], "x")], [*COLUMNS, "leader"])
    before = snapshot(world)

    message = world.fail("plan", "import", str(path))

    assert message.startswith("plan.csv row 1: unknown column")
    assert message.endswith(
        " leader (expected round, group, group_leader, unit_code, unit_name, unit_category, "
        "definition, batch, move_in, leave)"
    )
    assert snapshot(world) == before


def test_a_column_named_twice(world: Cli, tmp_path: Path) -> None:
    # Today the last unit_name silently wins; which one did the office mean?
    path = write_csv(
        tmp_path / "plan.csv", [(*GOOD_ROWS[0], "另一个名称")], [*COLUMNS, "unit_name"]
    )
    before = snapshot(world)

    message = world.fail("plan", "import", str(path))

    assert message.startswith("plan.csv row 1")
    assert "unit_name" in message
    assert snapshot(world) == before


def test_header_only(world: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", [])

    assert world.fail("plan", "import", str(path)) == "plan.csv: no rows below the header"


def test_empty_file(world: Cli, tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_bytes(b"")

    assert world.fail("plan", "import", str(path)) == (
        "plan.csv: the file is empty (it needs a header row)"
    )


def test_not_a_csv_or_xlsx(world: Cli, tmp_path: Path) -> None:
    path = tmp_path / "plan.txt"
    path.write_text("round\n", encoding="utf-8")

    assert world.fail("plan", "import", str(path)) == "plan.txt: expected a .csv or .xlsx file"


def test_damaged_xlsx(world: Cli, tmp_path: Path) -> None:
    path = tmp_path / "plan.xlsx"
    path.write_bytes(b"this is not a zip file")

    assert world.fail("plan", "import", str(path)).startswith(
        "plan.xlsx: not a readable XLSX workbook ("
    )


def test_missing_file(world: Cli, tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"

    assert world.fail("plan", "import", str(path)) == f"{path}: no such file"


def test_a_folder_is_not_a_plan(world: Cli, tmp_path: Path) -> None:
    # It said "no such file", and the folder was right there.
    folder = tmp_path / "plan.csv"
    folder.mkdir()

    assert world.fail("plan", "import", str(folder)) == f"{folder}: is a directory"
    assert world.fail("plan", "import", "plan.csv") == "plan.csv: is a directory"


def test_bad_at(world: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", GOOD_ROWS)

    assert world.fail("plan", "import", str(path), "--at", "soon") == (
        "--at 'soon' is not an ISO 8601 time (e.g. 2024-09-27 or 2024-09-27T09:30)"
    )
    assert world.fail("plan", "import", str(path), "--at", "2999-01-01").startswith(
        "time 2999-01-01 00:00 is later than now ("
    )
    assert len(world.json("case", "list")) == 1


# -- the office's own language: Chinese headers, definition titles ----------------------------

CHINESE = ("轮次", "巡视组", "组长", "单位代码", "单位名称", "单位类别", "巡视类型")
TITLES = {"regular": "常规巡视", "special": "专项巡视", "mobile": "机动巡视"}
# GOOD_ROWS as an office writes them: the inspection's kind by its title.
CHINESE_ROWS = tuple((*row[:6], TITLES[row[6]]) for row in GOOD_ROWS)


def test_import_chinese_headers_and_titles_from_excels_csv_utf8(world: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "巡视计划.csv", CHINESE_ROWS, CHINESE, encoding="utf-8-sig")

    assert world.out("plan", "import", str(path), "--at", "2024-09-03T09:00") == IMPORTED
    check_imported(world)


def test_import_a_chinese_csv_in_gb18030_detected(world: Cli, tmp_path: Path) -> None:
    # What Excel on a Chinese Windows saves as "CSV" by default.
    path = write_csv(tmp_path / "plan.csv", CHINESE_ROWS, CHINESE, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")

    assert world.out("plan", "import", str(path), "--at", "2024-09-03T09:00") == IMPORTED
    check_imported(world)


def test_import_an_english_csv_in_gbk_detected(world: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", GOOD_ROWS, encoding="gbk")

    assert world.out("plan", "import", str(path), "--at", "2024-09-03T09:00") == IMPORTED
    check_imported(world)


def test_import_a_chinese_xlsx(world: Cli, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "plan.xlsx", CHINESE_ROWS, CHINESE)

    assert world.out("plan", "import", str(path), "--at", "2024-09-03T09:00") == IMPORTED
    check_imported(world)


def test_a_sheet_may_mix_english_and_chinese_headers_names_and_titles(
    world: Cli, tmp_path: Path
) -> None:
    header = ("round", "巡视组", "group_leader", "单位代码", "unit_name", "单位类别", "巡视类型")
    rows = [GOOD_ROWS[0], CHINESE_ROWS[1], GOOD_ROWS[2]]
    path = write_csv(tmp_path / "plan.csv", rows, header)

    assert world.out("plan", "import", str(path), "--at", "2024-09-03T09:00") == IMPORTED
    check_imported(world)


def test_problems_name_the_column_as_the_sheet_does(world: Cli, tmp_path: Path) -> None:
    rows = [
        CHINESE_ROWS[0],
        (ROUND, "G2", "李四", "U05", "示例市商务局", "", "常规巡察"),
        (ROUND, "G2", "李四", "U06", "", "", "常规巡视"),
    ]
    path = write_csv(tmp_path / "plan.csv", rows, CHINESE)
    before = snapshot(world)

    assert world.fail("plan", "import", str(path)) == (
        "plan.csv row 3, column 巡视类型: no case definition called 常规巡察 "
        "(registered: lookback, mobile, overseas, regular, special) "
        "(and 1 more problem in row 4)"
    )
    assert snapshot(world) == before


def load_definition(cli: Cli, tmp_path: Path, name: str, title: str) -> None:
    """Register a copy of the built-in `regular` under `name` with `title`."""
    text = (BUILTIN / "regular.yaml").read_text(encoding="utf-8")
    assert "\nname: regular\n" in text and "\ntitle: 常规巡视\n" in text
    text = text.replace("\nname: regular\n", f"\nname: {name}\n")
    text = text.replace("\ntitle: 常规巡视\n", f"\ntitle: {title}\n")
    path = tmp_path / f"{name}-{len(list(tmp_path.glob('*.yaml')))}.yaml"
    path.write_text(text, encoding="utf-8")
    replace = ["--replace-builtin"] if name == "regular" else []
    cli.run("definitions", "load", str(path), *replace)


def test_a_definition_is_named_by_the_title_of_its_latest_version(
    world: Cli, tmp_path: Path
) -> None:
    load_definition(world, tmp_path, "regular", "常规巡视（2025年版）")
    old = write_csv(tmp_path / "old.csv", [CHINESE_ROWS[0]], CHINESE)
    assert world.fail("plan", "import", str(old)).startswith(
        "old.csv row 2, column 巡视类型: no case definition called 常规巡视 (registered: "
    )

    new = (*CHINESE_ROWS[0][:6], "常规巡视（2025年版）")
    path = write_csv(tmp_path / "new.csv", [new], CHINESE)
    assert world.out("plan", "import", str(path)) == ("Imported 1 case (1 new group, 1 new unit)\n")
    case = world.json("case", "show", f"{ROUND}/U03")
    assert (case["definition"], case["definition_version"]) == ("regular", 2)


def test_a_title_two_definitions_share_is_ambiguous(world: Cli, tmp_path: Path) -> None:
    load_definition(world, tmp_path, "regular_2025", "常规巡视")
    path = write_csv(tmp_path / "plan.csv", CHINESE_ROWS, CHINESE)
    before = snapshot(world)

    assert world.fail("plan", "import", str(path)) == (
        "plan.csv row 2, column 巡视类型: 常规巡视 is ambiguous: the title of definitions "
        "regular and regular_2025 (write the name of one)"
    )
    assert snapshot(world) == before

    by_name = [(*CHINESE_ROWS[0][:6], "regular_2025"), *CHINESE_ROWS[1:]]
    path = write_csv(tmp_path / "plan.csv", by_name, CHINESE)
    assert world.out("plan", "import", str(path)) == IMPORTED
    assert world.json("case", "show", f"{ROUND}/U03")["definition"] == "regular_2025"


def test_the_title_of_an_item_definition_is_not_a_kind_of_inspection(
    world: Cli, tmp_path: Path
) -> None:
    row = (*CHINESE_ROWS[0][:6], "巡视整改问题")
    path = write_csv(tmp_path / "plan.csv", [row], CHINESE)

    assert world.fail("plan", "import", str(path)) == (
        "plan.csv row 2, column 巡视类型: definition rectification is for items, not cases"
    )


def test_a_missing_column_is_named_in_the_sheets_language(world: Cli, tmp_path: Path) -> None:
    header = [h for h in CHINESE if h != "单位名称"]
    path = write_csv(tmp_path / "plan.csv", [], header)

    assert world.fail("plan", "import", str(path)) == (
        "plan.csv row 1: missing column 单位名称 (unit_name)"
    )
    header = [h for h in CHINESE if h not in ("组长", "单位名称")]
    path = write_csv(tmp_path / "plan.csv", [], header)
    assert world.fail("plan", "import", str(path)) == (
        "plan.csv row 1: missing columns 组长 (group_leader), 单位名称 (unit_name)"
    )


def test_an_unknown_column_lists_the_chinese_headers(world: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", [(*CHINESE_ROWS[0], "x")], [*CHINESE, "负责人"])

    assert world.fail("plan", "import", str(path)) == (
        "plan.csv row 1: unknown column 负责人 "
        "(expected 轮次, 巡视组, 组长, 单位代码, 单位名称, 单位类别, 巡视类型, 批次, "
        "进驻日期/进驻时间, 撤离日期/撤离时间)"
    )


def test_a_column_given_under_both_names_is_refused(world: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", [(*GOOD_ROWS[0], "另一个名称")], [*COLUMNS, "单位名称"])
    before = snapshot(world)

    assert world.fail("plan", "import", str(path)) == (
        "plan.csv row 1: columns unit_name and 单位名称 are the same column: keep one"
    )
    assert snapshot(world) == before


# -- encodings ------------------------------------------------------------------------------------


def test_a_forced_encoding(world: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", CHINESE_ROWS, CHINESE, encoding="gb18030")

    assert world.out("plan", "import", str(path), "--encoding", "gb18030") == IMPORTED


def test_bytes_that_are_not_the_forced_encoding_name_their_line(world: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", GOOD_ROWS, encoding="gb18030")
    before = snapshot(world)

    assert world.fail("plan", "import", str(path), "--encoding", "utf-8") == (
        "plan.csv line 2: not utf-8 text"
    )
    assert world.fail("plan", "import", str(path), "--encoding", "ascii") == (
        "plan.csv line 2: not ascii text"
    )
    assert snapshot(world) == before


def test_an_unknown_encoding(world: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", GOOD_ROWS)

    assert world.fail("plan", "import", str(path), "--encoding", "xyz") == (
        "unknown encoding 'xyz'"
    )
    assert world.fail("plan", "import", str(path), "--encoding", "rot13") == (
        "unknown encoding 'rot13'"
    )


def test_the_encoding_of_an_xlsx_is_its_own(world: Cli, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "plan.xlsx", CHINESE_ROWS, CHINESE)

    assert world.out("plan", "import", str(path), "--encoding", "gb18030") == IMPORTED


def test_a_csv_neither_utf8_nor_gb18030(world: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plan.csv", GOOD_ROWS)
    lines = path.read_bytes().split(b"\r\n")
    lines[2] = lines[2].replace("示例市".encode(), b"\xff\xfe")
    path.write_bytes(b"\r\n".join(lines))

    assert world.fail("plan", "import", str(path)) == (
        "plan.csv line 3: neither UTF-8 nor GB18030 text "
        "(save the CSV as UTF-8, or name its encoding)"
    )


# -- CSV syntax: the problem and its line, never an "empty" column ---------------------------------

PLAN_TEXT = ",".join(COLUMNS) + "\n" + ",".join(GOOD_ROWS[0]) + "\n"


def test_an_unclosed_quote_at_the_end_of_the_file(world: Cli, tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text(PLAN_TEXT + f'{ROUND},G2,李四,U05,"示例市商务局,,regular\n', "utf-8")

    assert world.fail("plan", "import", str(path)) == (
        'plan.csv line 3: a quote (") opens a cell that is never closed (the file ends inside it)'
    )


def test_a_stray_quote_that_swallows_the_rows_below(world: Cli, tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    rows = [f'{ROUND},G2,李四,U05,"示例市商务局,,regular', ",".join(GOOD_ROWS[2])]
    path.write_text(PLAN_TEXT + "\n".join(rows) + "\n", "utf-8")
    before = snapshot(world)

    assert world.fail("plan", "import", str(path)) == (
        'plan.csv line 3: a quote (") opens a cell that is never closed (the file ends inside it)'
    )
    assert snapshot(world) == before


def test_text_after_a_closing_quote(world: Cli, tmp_path: Path) -> None:
    # It imported as 示例市商务局, quietly dropping the quotes.
    path = tmp_path / "plan.csv"
    path.write_text(PLAN_TEXT + f'{ROUND},G2,李四,U05,"示例市"商务局,,regular\n', "utf-8")
    before = snapshot(world)

    assert world.fail("plan", "import", str(path)) == (
        'plan.csv line 3: text follows the closing quote (") of a cell '
        '(a quote inside a quoted cell is written "")'
    )
    assert snapshot(world) == before


def test_quotes_inside_a_cell(world: Cli, tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    rows = [
        f'{ROUND},G2,李四,U05,示例市"商务"局,,regular',
        f'{ROUND},G2,李四,U06,"“文旅”""局""",,regular',
    ]
    path.write_text(PLAN_TEXT + "\n".join(rows) + "\n", "utf-8")

    world.run("plan", "import", str(path))
    names = {u["code"]: u["name"] for u in world.json("unit", "list")}
    assert (names["U05"], names["U06"]) == ('示例市"商务"局', '“文旅”"局"')


# -- XLSX formulas: a formula saved without its value is not an empty cell -------------------------


def with_saved_values(path: Path, values: dict[str, str]) -> Path:
    """The workbook as Excel would save it: each formula cell of `values` with its result."""
    with zipfile.ZipFile(path) as original:
        parts = [(info, original.read(info.filename)) for info in original.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as saved:
        for info, data in parts:
            worksheet = info.filename == "xl/worksheets/sheet1.xml"
            saved.writestr(info, _saved_results(data, values) if worksheet else data)
    return path


def _saved_results(xml: bytes, values: dict[str, str]) -> bytes:
    for coordinate, value in values.items():
        xml, count = re.subn(
            rf'<c r="{coordinate}"([^>]*)><f>(.*?)</f><v\s*/>'.encode(),
            rf'<c r="{coordinate}"\1 t="str"><f>\2</f><v>{escape(value)}</v>'.encode(),
            xml,
        )
        assert count == 1, coordinate
    return xml


FORMULA_ROWS = (
    GOOD_ROWS[0],
    (ROUND, "G2", "李四", "U05", '="示例市"&"商务局"', "", "regular"),
    (ROUND, "G3", "王五", "U06", "示例市文旅局", "", '=IF(TRUE,"special","regular")'),
)


def test_a_formula_without_a_value(world: Cli, tmp_path: Path) -> None:
    # It said "row 3, column unit_name: empty", and the cell was not.
    path = write_xlsx(tmp_path / "plan.xlsx", FORMULA_ROWS)
    before = snapshot(world)

    assert world.fail("plan", "import", str(path)) == (
        "plan.xlsx row 3, column unit_name: formula without a value: save the file in Excel "
        "first (and 1 more problem in row 4)"
    )
    path = write_xlsx(tmp_path / "计划.xlsx", FORMULA_ROWS, CHINESE)
    assert world.fail("plan", "import", str(path)).startswith(
        "计划.xlsx row 3, column 单位名称: formula without a value: save the file in Excel first"
    )
    assert snapshot(world) == before


def test_a_formula_saved_with_its_value(world: Cli, tmp_path: Path) -> None:
    path = with_saved_values(
        write_xlsx(tmp_path / "plan.xlsx", FORMULA_ROWS), {"E3": "示例市商务局", "G4": "special"}
    )

    assert world.out("plan", "import", str(path)) == (
        "Imported 3 cases (2 new groups, 3 new units)\n"
    )
    assert {u["code"]: u["name"] for u in world.json("unit", "list")}["U05"] == "示例市商务局"
    assert world.json("case", "show", f"{ROUND}/U06")["definition"] == "special"


def test_a_formula_whose_value_is_empty_text_is_an_empty_cell(world: Cli, tmp_path: Path) -> None:
    path = with_saved_values(
        write_xlsx(tmp_path / "plan.xlsx", FORMULA_ROWS), {"E3": "", "G4": "special"}
    )

    assert world.fail("plan", "import", str(path)) == "plan.xlsx row 3, column unit_name: empty"
