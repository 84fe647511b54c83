"""The rectification ledger (整改台账): rows, warning lights, XLSX and CSV, on every backend.

The fixture builds two cases on a virtual clock and reads the ledger on Monday 2024-09-16
(a Mid-Autumn holiday: 09-15..17 are days off, 09-14 and 09-29 make-up working days).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from rectification_helpers import (
    CONTRACTORS,
    FINANCE,
    INTEGRITY,
    POLITICS,
    ROUND,
    STYLE,
    SURPLUS,
    Rectifying,
    shanghai,
)

from xunshi.bootstrap import App
from xunshi.errors import NotFound
from xunshi.read.ledger import COLUMNS, Ledger
from xunshi.reports.ledger import write_csv, write_xlsx
from xunshi.reports.output import choose_target, write_to
from xunshi.reports.workbook import FOOTER, MAX_WIDTH
from xunshi.services.commands import TaskChanges
from xunshi.workflow.clock import ManualClock

HEADER = (
    "序号", "轮次", "巡视组", "被巡视单位", "巡视类型", "问题", "具体表现", "一级类别", "二级类别",
    "业务领域", "重点问题", "共性问题", "立行立改", "问题根源", "整改措施", "责任领导", "牵头部门",
    "责任人", "完成时限", "原定完成时限", "延期情况", "整改状态", "整改进展", "佐证材料",
    "完成时间", "验收情况", "销号时间", "预警", "备注",
    "建章立制（项）", "制度名称", "问责人数", "挽回损失（万元）", "屡改屡犯",
)  # fmt: skip
TODAY = shanghai(2024, 9, 16, 10)
TITLE = "2024年第一轮巡视 整改台账 截至 2024-09-16"


def export(ledger: Ledger, path: Path, write: Callable[[Ledger, Any], None]) -> None:
    """Write `ledger` to `path` the way `ledger export --out PATH` does."""
    target = choose_target(str(path), None, ("xlsx", "csv"), force=False)
    write_to(target, lambda handle: write(ledger, handle), io.StringIO())


@pytest.fixture
def ledger_world(app: App, clock: ManualClock) -> Rectifying:
    """U01: P01 rectifying (one task done, one long-term), P02 accepted, P03 submitted with
    the office's acceptance only; U02: P01 with four open tasks around today, P02 still
    identified (its stage overdue)."""
    rect = Rectifying(app, clock)
    rect.case("U01", "示例市财政局")
    rect.case("U02", "示例市审计局")
    u01p1 = rect.item(
        "U01", "P01", POLITICS, key_problem=True, tags=[SURPLUS, CONTRACTORS], fix_now=True
    )
    u01p2 = rect.item("U01", "P02", STYLE)
    u01p3 = rect.item("U01", "P03", FINANCE)
    u02p1 = rect.item("U02", "P01", POLITICS, key_problem=True, tags=[CONTRACTORS])
    u02p2 = rect.item("U02", "P02", INTEGRITY)
    for item in (u01p1, u01p2, u01p3, u02p1):
        rect.begin(item)
    first = rect.task(u01p1, date(2024, 9, 20))
    rect.task(u01p1, None, cooperating="审计处")
    rect.task(u01p2, date(2024, 9, 30))
    rect.task(u01p3, date(2024, 10, 15))
    late = rect.task(u02p1, date(2024, 9, 13))
    for due in (date(2024, 9, 16), date(2024, 9, 24), date(2024, 9, 25)):
        rect.task(u02p1, due)
    rect.task(u02p2, date(2024, 12, 31))
    rect.svc.update_task(
        str(late.id), TaskChanges(progress="正在整改"), actor="李联络员", role="unit_liaison"
    )
    clock.set(shanghai(2024, 9, 10, 10))
    rect.done(str(first.id), evidence="学习计划")
    clock.set(shanghai(2024, 9, 12, 10))
    rect.submit_all(u01p2)
    clock.set(shanghai(2024, 9, 13, 10))
    rect.accept_submitted(u01p2)
    rect.submit_all(u01p3)
    rect.milestone(u01p3, "office_accepted", "office")
    clock.set(TODAY)
    return rect


def item_cells(
    unit: str, unit_name: str, code: str, category: str, flags: str, tags: str = ""
) -> dict[str, Any]:
    """The item columns of a ledger row (flags: 重点/共性/立行立改 as three 是/否)."""
    level1, level2 = category.split("/")
    return {
        "轮次": ROUND,
        "巡视组": "G1",
        "被巡视单位": unit_name,
        "巡视类型": "常规巡视",
        "问题": f"{code} 问题{code}",
        "具体表现": f"{code}的具体表现",
        "一级类别": level1,
        "二级类别": level2,
        "业务领域": tags,
        "重点问题": "是" if flags[0] == "1" else "否",
        "共性问题": "是" if flags[1] == "1" else "否",
        "立行立改": "是" if flags[2] == "1" else "否",
        "问题根源": f"{code}的问题根源",
    }


def task_cells(
    due: date | str,
    status: str,
    light: str,
    remarks: str,
    *,
    progress: str = "",
    evidence: str = "",
    completed: date | None = None,
    acceptance: str = "",
    accepted: date | None = None,
) -> dict[str, Any]:
    """The task columns of a ledger row."""
    return {
        "整改措施": "建立健全制度",
        "责任领导": "赵副局长",
        "牵头部门": "办公室",
        "责任人": "钱科长",
        "完成时限": due,
        "原定完成时限": None,
        "延期情况": "",
        "整改状态": status,
        "整改进展": progress,
        "佐证材料": evidence,
        "完成时间": completed,
        "验收情况": acceptance,
        "销号时间": accepted,
        "预警": light,
        "备注": remarks,
    }


# Two units only: below the three a common problem needs (see test_common_problems.py).
U01P1 = item_cells("U01", "示例市财政局", "P01", POLITICS, "101", "承包商管理、工程余料管理")
U01P2 = item_cells("U01", "示例市财政局", "P02", STYLE, "000")
U01P3 = item_cells("U01", "示例市财政局", "P03", FINANCE, "000")
U02P1 = item_cells("U02", "示例市审计局", "P01", POLITICS, "100", "承包商管理")
U02P2 = item_cells("U02", "示例市审计局", "P02", INTEGRITY, "000")
EXPECTED_ROWS: list[dict[str, Any]] = [
    {**U01P1, **task_cells(date(2024, 9, 20), "已完成", "绿", "问题状态：整改中",
                           evidence="学习计划", completed=date(2024, 9, 10))},
    {**U01P1, **task_cells("长期", "长期坚持", "绿", "问题状态：整改中；配合部门：审计处")},
    {**U01P2, **task_cells(date(2024, 9, 30), "已完成", "绿", "问题状态：已销号",
                           evidence="制度文件", completed=date(2024, 9, 12),
                           acceptance="三方验收通过", accepted=date(2024, 9, 13))},
    {**U01P3, **task_cells(date(2024, 10, 15), "已完成", "绿", "问题状态：申请销号",
                           evidence="制度文件", completed=date(2024, 9, 13),
                           acceptance="党组织书记签字… 巡视办审核✓ 纪检监察组审核…")},
    # Past due: red. Due today, or within five working days (09-18..09-24): yellow.
    {**U02P1, **task_cells(date(2024, 9, 13), "超期未完成", "红", "问题状态：整改中",
                           progress="正在整改")},
    {**U02P1, **task_cells(date(2024, 9, 16), "整改中", "黄", "问题状态：整改中")},
    {**U02P1, **task_cells(date(2024, 9, 24), "整改中", "黄", "问题状态：整改中")},
    {**U02P1, **task_cells(date(2024, 9, 25), "整改中", "绿", "问题状态：整改中")},
    {**U02P2, **task_cells(date(2024, 12, 31), "整改中", "绿",
                           "问题状态：问题确认；问题阶段超期")},
]  # fmt: skip
for _number, _row in enumerate(EXPECTED_ROWS, start=1):
    _row["序号"] = _number
    # No outcome recorded: zeros on a problem's first row, empty on its others; no 屡改屡犯.
    _first = _number == 1 or EXPECTED_ROWS[_number - 2]["问题"] != _row["问题"]
    _outcome = [0, "", 0, 0, ""] if _first else [None, "", None, None, ""]
    _row.update(dict(zip(HEADER[-5:], _outcome, strict=True)))


def test_the_columns_are_the_ones_offices_use_in_order() -> None:
    assert COLUMNS == HEADER


def test_the_ledger_has_one_row_per_task_with_lights_status_and_acceptance(
    ledger_world: Rectifying, app: App
) -> None:
    rows = list(app.services.read.ledger.of(ROUND).rows)
    assert [list(r) for r in rows] == [list(HEADER)] * len(EXPECTED_ROWS)
    assert rows == [{name: row[name] for name in HEADER} for row in EXPECTED_ROWS]


def test_the_ledger_of_one_case_is_numbered_from_one(ledger_world: Rectifying, app: App) -> None:
    rows = list(app.services.read.ledger.of(ROUND, f"{ROUND}/U02").rows)
    assert [(r["序号"], r["被巡视单位"], r["完成时限"]) for r in rows] == [
        (1, "示例市审计局", date(2024, 9, 13)),
        (2, "示例市审计局", date(2024, 9, 16)),
        (3, "示例市审计局", date(2024, 9, 24)),
        (4, "示例市审计局", date(2024, 9, 25)),
        (5, "示例市审计局", date(2024, 12, 31)),
    ]
    with pytest.raises(NotFound) as caught:
        list(app.services.read.ledger.of("2099-R9").rows)
    assert caught.value.message == "round 2099-R9 does not exist"
    with pytest.raises(NotFound) as caught:
        list(app.services.read.ledger.of(ROUND, f"{ROUND}/U09").rows)
    assert caught.value.message == "case 2024-R1/U09 does not exist"


def test_the_xlsx_has_a_title_the_header_frozen_filters_widths_and_real_dates(
    ledger_world: Rectifying, app: App, tmp_path: Path
) -> None:
    out = tmp_path / "ledger.xlsx"
    export(app.services.read.ledger.of(ROUND), out, write_xlsx)
    sheet = load_workbook(out).active
    assert sheet is not None
    assert sheet.title == "整改台账"
    # Row 1: the title across the table; row 2: the header; the rows from row 3.
    assert sheet["A1"].value == TITLE
    assert sheet["A1"].font.b
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A1:AH1"]
    assert [c.value for c in sheet[2]] == list(HEADER)
    assert all(c.font.b for c in sheet[2])
    assert sheet.freeze_panes == "A3"
    last = len(EXPECTED_ROWS) + 2
    assert sheet.max_row == last
    assert sheet.auto_filter.ref == f"A2:AH{last}"
    assert get_column_letter(len(HEADER)) == "AH"
    cells = {name: HEADER.index(name) + 1 for name in ("完成时限", "完成时间", "销号时间")}
    # Row 5 is U01/P02: due, completed and accepted dates all present.
    for name, column in cells.items():
        cell = sheet.cell(row=5, column=column)
        assert isinstance(cell, Cell)
        assert cell.is_date, name
        assert cell.number_format == "yyyy-mm-dd", name
        assert cell.value == datetime.combine(EXPECTED_ROWS[2][name], datetime.min.time())
    # A long-term task's due cell is text; an empty date is an empty cell.
    long_term = sheet.cell(row=4, column=cells["完成时限"])
    assert isinstance(long_term, Cell)
    assert (long_term.value, long_term.is_date) == ("长期", False)
    assert sheet.cell(row=4, column=cells["完成时间"]).value is None
    values = [[c.value for c in line] for line in sheet.iter_rows(min_row=3)]
    assert [line[HEADER.index("预警")] for line in values] == [r["预警"] for r in EXPECTED_ROWS]
    assert [line[0] for line in values] == list(range(1, len(EXPECTED_ROWS) + 1))


def test_the_xlsx_prints_landscape_one_page_wide_with_the_header_on_every_page(
    ledger_world: Rectifying, app: App, tmp_path: Path
) -> None:
    out = tmp_path / "ledger.xlsx"
    export(app.services.read.ledger.of(ROUND), out, write_xlsx)
    sheet = load_workbook(out).active
    assert sheet is not None
    assert sheet.page_setup.orientation == "landscape"
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.sheet_properties.pageSetUpPr is not None
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$2:$2"
    assert sheet.oddFooter is not None
    assert sheet.oddFooter.center.text == FOOTER == "第 &P 页 / 共 &N 页"


def test_the_xlsx_columns_are_as_wide_as_their_chinese_content_and_long_text_wraps(
    ledger_world: Rectifying, app: App, tmp_path: Path
) -> None:
    out = tmp_path / "ledger.xlsx"
    export(app.services.read.ledger.of(ROUND), out, write_xlsx)
    sheet = load_workbook(out).active
    assert sheet is not None

    def width(name: str) -> float | None:
        return sheet.column_dimensions[get_column_letter(HEADER.index(name) + 1)].width

    def wraps(name: str) -> list[bool]:
        column = HEADER.index(name) + 1
        return [bool(sheet.cell(row=r, column=column).alignment.wrap_text) for r in (3, 11)]

    # Two units per Chinese character, two to spare; the widest cell or the header decides.
    assert width("序号") == 6  # at least 6
    assert width("巡视组") == 3 * 2 + 2  # the header (the content is `G1`)
    assert width("被巡视单位") == 6 * 2 + 2  # 示例市财政局
    assert width("整改措施") == 6 * 2 + 2  # 建立健全制度
    assert width("完成时限") == 4 * 2 + 2 + 2  # a date is ten wide, wider than 完成时限
    assert width("整改状态") == 5 * 2 + 2  # 超期未完成
    assert wraps("整改措施") == [False, False]
    # 问题状态：问题确认；问题阶段超期 is 16 characters: wider than the cap, so it wraps.
    assert width("备注") == MAX_WIDTH == 24
    assert wraps("备注") == [True, True]


def test_the_csv_is_utf8_with_a_bom_and_the_same_columns(
    ledger_world: Rectifying, app: App, tmp_path: Path
) -> None:
    out = tmp_path / "ledger.csv"
    export(app.services.read.ledger.of(ROUND), out, write_csv)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw[3:].decode("utf-8").startswith("序号,轮次,巡视组,被巡视单位,")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == list(HEADER)
    assert lines[1:] == [
        ["" if v is None else v.isoformat() if isinstance(v, date) else str(v) for v in row]
        for row in ([r[name] for name in HEADER] for r in EXPECTED_ROWS)
    ]
    assert lines[3][HEADER.index("销号时间")] == "2024-09-13"


def test_an_empty_round_exports_a_header_only(app: App, clock: ManualClock, tmp_path: Path) -> None:
    Rectifying(app, clock)
    ledger = app.services.read.ledger.of(ROUND)
    assert ledger.rows == ()
    out = tmp_path / "empty.xlsx"
    export(ledger, out, write_xlsx)
    sheet = load_workbook(out).active
    assert sheet is not None
    assert sheet["A1"].value == "2024年第一轮巡视 整改台账 截至 2024-09-02"
    assert [c.value for c in sheet[2]] == list(HEADER)
    assert (sheet.max_row, sheet.auto_filter.ref, sheet.freeze_panes) == (2, "A2:AH2", "A3")


def test_a_reopened_item_has_no_closing_date_until_it_is_accepted_again(
    app: App, clock: ManualClock
) -> None:
    """销号时间 belongs to an item that is 销号 now: reopening takes it away."""
    rect = Rectifying(app, clock)
    rect.case("U01")
    item = rect.item("U01", "P01")
    rect.begin(item)
    rect.task(item, date(2024, 10, 31))
    clock.set(shanghai(2024, 9, 10, 10))
    rect.accept(item)
    clock.set(shanghai(2024, 9, 20, 10))
    rect.fire(item, "reopen", "office")
    (reopened,) = list(app.services.read.ledger.of(ROUND).rows)
    assert (reopened["验收情况"], reopened["备注"]) == ("", "问题状态：整改中")
    assert reopened["销号时间"] is None
    clock.set(shanghai(2024, 9, 27, 10))
    rect.accept(item)
    (again,) = list(app.services.read.ledger.of(ROUND).rows)
    assert (again["验收情况"], again["销号时间"]) == ("三方验收通过", date(2024, 9, 27))


def test_an_item_without_tasks_is_one_row_and_the_ledger_counts_what_the_themes_count(
    app: App, clock: ManualClock
) -> None:
    """Every problem is in the ledger: one without measures is one row, 未制定措施, no light."""
    rect = Rectifying(app, clock)
    rect.case("U01", "示例市财政局")
    rect.case("U02", "示例市审计局")
    planned = rect.item("U01", "P01", POLITICS)
    rect.begin(planned)
    rect.task(planned, date(2024, 9, 30))
    rect.task(planned, date(2024, 10, 31))
    rect.item("U01", "P02", POLITICS)  # still identified (due 09-14): no measure yet
    enduring = rect.item("U02", "P01", STYLE)
    rect.begin(enduring)
    rect.fire(enduring, "make_long_term", "office")
    late = rect.item("U02", "P02", FINANCE)
    rect.task(late, date(2024, 9, 13))
    clock.set(TODAY)

    ledger = app.services.read.ledger.of(ROUND)

    no_measure = dict.fromkeys(("整改措施", "责任领导", "牵头部门", "责任人"), "") | {
        "完成时限": None,
        "原定完成时限": None,
        "延期情况": "",
        "整改状态": "未制定措施",
        "整改进展": "",
        "佐证材料": "",
        "完成时间": None,
        "预警": "",
    }
    summary = [
        (r["序号"], r["被巡视单位"], r["问题"], r["整改措施"], r["整改状态"], r["预警"], r["备注"])
        for r in ledger.rows
    ]
    assert summary == [
        (1, "示例市财政局", "P01 问题P01", "建立健全制度", "整改中", "绿", "问题状态：整改中"),
        (2, "示例市财政局", "P01 问题P01", "建立健全制度", "整改中", "绿", "问题状态：整改中"),
        (3, "示例市财政局", "P02 问题P02", "", "未制定措施", "",
         "问题状态：问题确认；问题阶段超期"),
        (4, "示例市审计局", "P01 问题P01", "", "未制定措施", "", "问题状态：长期整改"),
        (5, "示例市审计局", "P02 问题P02", "建立健全制度", "超期未完成", "红",
         "问题状态：问题确认"),
    ]  # fmt: skip
    for row in (ledger.rows[2], ledger.rows[3]):
        assert {name: row[name] for name in no_measure} == no_measure
        assert row["具体表现"] == f"{row['问题'].split()[0]}的具体表现"  # the item's columns stay
    assert [r["序号"] for r in app.services.read.ledger.of(ROUND, f"{ROUND}/U02").rows] == [1, 2]

    # The ledger lists the problems the thematic view counts, category by category.
    listed: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for row in ledger.rows:
        category = (row["一级类别"], row["二级类别"])
        listed.setdefault(category, set()).add((row["被巡视单位"], row["问题"]))
    counted = {(t.level1, t.level2): t.items for t in app.services.read.themes.of(ROUND).themes}
    assert {category: len(items) for category, items in listed.items()} == counted
    assert counted == {
        tuple(POLITICS.split("/")): 2,
        tuple(STYLE.split("/")): 1,
        tuple(FINANCE.split("/")): 1,
    }
