"""The thematic view (`report themes`): figures per category against a hand-computed round.

The round, read on Friday 2024-09-13 (items still identified are due 09-14: not overdue):

| item    | category  | key | tag          | common | state              | overdue          |
|---------|-----------|-----|--------------|--------|--------------------|------------------|
| U01/P01 | 政治建设  | 是  | 承包商管理   | 是     | accepted           |                  |
| U01/P02 | 政治建设  |     | 合同资产管理 |        | rectifying         | task due 09-12   |
| U02/P01 | 政治建设  | 是  | 承包商管理   | 是     | long_term          | task due 09-10   |
| U03/P01 | 政治建设  |     | 承包商管理   | 是     | identified         |                  |
| U02/P02 | 作风建设  |     | 工程余料管理 |        | submitted          |                  |
| U03/P02 | 作风建设  | 是  | 工程余料管理 |        | rectifying         | (task due 09-30) |
| U02/P03 | 廉洁纪律  | 是  |              |        | accepted, reopened |                  |
| U01/P03 | 财务管理  |     |              |        | archived           |                  |

共性问题 is computed: 政治建设 × 承包商管理 is in three units; 作风建设 × 工程余料管理 in two
(round 2024-R2's item in 作风建设 × 工程余料管理 would make a third, but another round's
items never count). 组织建设 has no item.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from rectification_helpers import (
    CONTRACTORS,
    CONTRACTS,
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
from xunshi.read.themes import COLUMNS, ThematicView, Theme
from xunshi.reports.output import choose_target, write_to
from xunshi.reports.themes import write_csv, write_xlsx
from xunshi.reports.workbook import FOOTER
from xunshi.services.commands import ItemFacts
from xunshi.workflow.clock import ManualClock

NAMES = {"U01": "示例市财政局", "U02": "示例市审计局", "U03": "示例市统计局"}
EXPECTED = [
    Theme(
        level1="党的建设",
        level2="政治建设",
        units=("示例市财政局", "示例市审计局", "示例市统计局"),
        items=4,
        key_problems=2,
        common_problems=3,
        accepted=1,
        long_term=1,
        open=2,
        overdue=2,
    ),
    Theme(
        level1="全面从严治党",
        level2="作风建设",
        units=("示例市审计局", "示例市统计局"),
        items=2,
        key_problems=1,
        common_problems=0,
        accepted=0,
        long_term=0,
        open=2,
        overdue=0,
    ),
    Theme(
        level1="全面从严治党",
        level2="廉洁纪律",
        units=("示例市审计局",),
        items=1,
        key_problems=1,
        common_problems=0,
        accepted=0,
        long_term=0,
        open=1,
        overdue=0,
    ),
    Theme(
        level1="业务工作",
        level2="财务管理",
        units=("示例市财政局",),
        items=1,
        key_problems=0,
        common_problems=0,
        accepted=1,
        long_term=0,
        open=0,
        overdue=0,
    ),
]
EXPECTED_CELLS = [
    ["党的建设", "政治建设", 3, 4, 2, 3, 1, 1, 2, 2, 0, "示例市财政局、示例市审计局、示例市统计局"],
    ["全面从严治党", "作风建设", 2, 2, 1, 0, 0, 0, 2, 0, 0, "示例市审计局、示例市统计局"],
    ["全面从严治党", "廉洁纪律", 1, 1, 1, 0, 0, 0, 1, 0, 0, "示例市审计局"],
    ["业务工作", "财务管理", 1, 1, 0, 0, 1, 0, 0, 0, 0, "示例市财政局"],
]


def export(view: ThematicView, path: Path) -> None:
    """Write `view` to `path` the way `report themes --out PATH` does."""
    target = choose_target(str(path), None, ("csv", "xlsx"), force=False)
    write = write_xlsx if target.format == "xlsx" else write_csv
    write_to(target, lambda handle: write(view, handle), io.StringIO())


@pytest.fixture
def themed(app: App, clock: ManualClock) -> Rectifying:
    """The round of the table above, the clock on 2024-09-13 10:00."""
    rect = Rectifying(app, clock)
    # Units are added in an order other than their codes: the view lists them by code.
    for unit in ("U03", "U01", "U02"):
        rect.case(unit, NAMES[unit])
    item = rect.item
    accepted = item("U01", "P01", POLITICS, key_problem=True, tags=[CONTRACTORS])
    overdue = item("U01", "P02", POLITICS, tags=[CONTRACTS])
    long_term = item("U02", "P01", POLITICS, key_problem=True, tags=[CONTRACTORS])
    item("U03", "P01", POLITICS, tags=[CONTRACTORS])
    submitted = item("U02", "P02", STYLE, tags=[SURPLUS])
    on_time = item("U03", "P02", STYLE, key_problem=True, tags=[SURPLUS])
    reopened = item("U02", "P03", INTEGRITY, key_problem=True)
    archived = item("U01", "P03", FINANCE)
    for key in (accepted, overdue, long_term, submitted, on_time, reopened, archived):
        rect.begin(key)
    for key in (accepted, submitted, reopened, archived):
        rect.task(key, date(2024, 9, 30))
    rect.task(overdue, date(2024, 9, 12))
    rect.task(long_term, date(2024, 9, 10))
    rect.task(on_time, date(2024, 9, 30))
    rect.accept(accepted)
    rect.accept(archived)
    rect.fire(archived, "archive", "office")
    rect.fire(long_term, "make_long_term", "office")
    rect.submit_all(submitted)
    rect.accept(reopened)
    rect.fire(reopened, "reopen", "office")
    # Another round's item in the same category does not count.
    app.services.cases.create_round("2024-R2", "2024年第二轮巡视", date(2024, 9, 2))
    app.services.cases.add_group("2024-R2", "G1", "李组长")
    app.services.cases.start_case(
        round_code="2024-R2", unit_code="U01", group_code="G1", definition="regular", actor="王"
    )
    rect.world.drive_to("2024-R2/U01", "rectification")
    rect.svc.add_item(
        "2024-R2/U01",
        ItemFacts(
            code="P01", title="另一轮的问题", category=STYLE, key_problem=True, tags=(SURPLUS,)
        ),
        actor="王主任",
    )
    clock.set(shanghai(2024, 9, 13, 10))
    return rect


def test_the_figures_per_category_match_the_hand_computed_round(
    themed: Rectifying, app: App
) -> None:
    view = app.services.read.themes.of(ROUND)
    assert view.themes == tuple(EXPECTED)
    assert (view.round.code, view.round.title, view.as_of) == (
        ROUND,
        "2024年第一轮巡视",
        date(2024, 9, 13),
    )
    assert view.to_json() == [theme.to_json() for theme in EXPECTED]


def test_the_json_shape_of_a_theme(themed: Rectifying, app: App) -> None:
    assert app.services.read.themes.of(ROUND).themes[0].to_json() == {
        "category": "党的建设/政治建设",
        "level1": "党的建设",
        "level2": "政治建设",
        "unit_count": 3,
        "units": ["示例市财政局", "示例市审计局", "示例市统计局"],
        "items": 4,
        "key_problems": 2,
        "common_problems": 3,
        "accepted": 1,
        "long_term": 1,
        "open": 2,
        "overdue": 2,
        "recurrences": 0,
    }


def test_the_other_round_and_an_unknown_round(themed: Rectifying, app: App) -> None:
    assert app.services.read.themes.of("2024-R2").themes == (
        Theme("全面从严治党", "作风建设", ("示例市财政局",), 1, 1, 0, 0, 0, 1, 0),
    )
    with pytest.raises(NotFound) as caught:
        app.services.read.themes.of("2099-R9")
    assert caught.value.message == "round 2099-R9 does not exist"


def test_the_csv_export_has_a_bom_the_columns_and_the_figures(
    themed: Rectifying, app: App, tmp_path: Path
) -> None:
    out = tmp_path / "themes.csv"
    export(app.services.read.themes.of(ROUND), out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == list(COLUMNS)
    assert lines[1:] == [[str(v) for v in row] for row in EXPECTED_CELLS]


def test_the_xlsx_export_has_a_title_numbers_a_frozen_header_and_a_filter(
    themed: Rectifying, app: App, tmp_path: Path
) -> None:
    out = tmp_path / "themes.xlsx"
    export(app.services.read.themes.of(ROUND), out)
    sheet = load_workbook(out).active
    assert sheet is not None
    assert sheet.title == "专题汇总"
    assert sheet["A1"].value == "2024年第一轮巡视 专题汇总 截至 2024-09-13"
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A1:L1"]
    assert COLUMNS == (
        "一级类别", "二级类别", "涉及单位数", "问题数", "重点问题", "共性问题", "已销号",
        "长期整改", "未销号", "超期", "屡改屡犯", "涉及单位",
    )  # fmt: skip
    rows = [[c.value for c in line] for line in sheet.iter_rows(min_row=2)]
    assert rows == [list(COLUMNS), *EXPECTED_CELLS]
    assert (sheet.freeze_panes, sheet.auto_filter.ref) == ("A3", "A2:L6")
    # Printed: landscape, one page wide, the header on every page, page numbers.
    assert sheet.page_setup.orientation == "landscape"
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.sheet_properties.pageSetUpPr is not None
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$2:$2"
    assert sheet.oddFooter is not None
    assert sheet.oddFooter.center.text == FOOTER
    # 一级类别 fits 全面从严治党 (six characters); the three unit names wrap at the cap.
    assert sheet.column_dimensions["A"].width == 6 * 2 + 2
    assert sheet.column_dimensions["L"].width == 24
    assert sheet["L3"].alignment.wrap_text
    assert not sheet["A3"].alignment.wrap_text
