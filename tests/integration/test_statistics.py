"""The leading group's statistics (`report statistics`) on both backends, against a fixture
whose every figure is counted here by hand.

The fixture: round 2024-R1, groups G1 (U01, U02) and G2 (U03), all `regular`.

- U01: 个别谈话 12 人次 (the forward path's count), 受理信访举报 5 件; F01 立行立改 on site
  (政治建设, 承包商管理, rectifying, task due 12-31: open); P01 (政治建设, key, 承包商管理)
  accepted, its task done with one rule, 2 people held accountable and 12.5 万元; P02
  (作风建设) long-term. Clues: C01 handed over to 纪检监察组 and disposed 谈话函询; C02 only
  registered.
- U02: 个别谈话 12; P01 (政治建设, 合同资产管理) rectifying with a task due 09-10 (overdue on
  10-08); P02 (财务管理) still 问题确认, its stage due ten working days after 09-02 (overdue).
- U03 (G2): 个别谈话 12, 调阅资料 30 份; P01 (作风建设, key, 承包商管理 and 合同资产管理)
  accepted, its task done with two rules and 0.25 万元; evaluated 较好 86分 and closed.
  Clues: C01 to 纪检监察组, disposed 初步核实; C02 to 组织部, not yet disposed.

As of 2024-10-08.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from rectification_helpers import (
    CONTRACTORS,
    CONTRACTS,
    FINANCE,
    OFFICE,
    POLITICS,
    ROUND,
    STYLE,
    Rectifying,
    shanghai,
)

from xunshi.bootstrap import App
from xunshi.read.statistics import RoundStatistics
from xunshi.reports.statistics import write_csv, write_markdown, write_xlsx
from xunshi.services.commands import ClueFire, Handover, OutcomeFacts
from xunshi.workflow.clock import ManualClock

U01, U02, U03 = (f"{ROUND}/{u}" for u in ("U01", "U02", "U03"))


def start(rect: Rectifying, unit: str, group: str) -> str:
    """Add the unit, start its regular case in `group`, move it on site."""
    rect.app.services.cases.add_unit(unit, f"单位{unit}")
    rect.app.services.cases.start_case(
        round_code=ROUND, unit_code=unit, group_code=group, definition="regular", actor=OFFICE
    )
    key = f"{ROUND}/{unit}"
    rect.world.drive_to(key, "onsite")
    return key


def clue(app: App, case: str, code: str, receiver: str | None, disposition: str | None) -> None:
    """Register clue `code`; hand it over to `receiver` and record `disposition` if given."""
    clues = app.services.clues
    clues.add_clue(case, code=code, summary=f"反映{code}的问题", actor=OFFICE, role="office")
    key = f"{case}:{code}"
    if receiver is None:
        return
    clues.fire(key, "hand_over", actor=OFFICE, role="office", records=ClueFire(Handover(receiver)))
    if disposition is not None:
        clues.fire(
            key, "dispose", actor="某人", role=receiver, records=ClueFire(disposition=disposition)
        )


def done(app: App, task: str, outcome: OutcomeFacts) -> None:
    """Complete `task` as the unit liaison, with what it achieved."""
    app.services.items.complete_task(
        task, evidence="制度文件", actor="李联络员", role="unit_liaison", outcome=outcome
    )


@pytest.fixture
def stats(app: App, clock: ManualClock) -> RoundStatistics:
    rect = Rectifying(app, clock)
    cases = app.services.cases
    cases.add_group(ROUND, "G2", "李组长")
    for unit, group in (("U01", "G1"), ("U02", "G1"), ("U03", "G2")):
        start(rect, unit, group)
    cases.record_milestone(U01, "petitions_received", actor="张组长", role="group_leader", count=5)
    cases.record_milestone(U03, "document_review", actor="张组长", role="group_leader", count=30)
    f01 = rect.item("U01", "F01", POLITICS, fix_now=True, tags=(CONTRACTORS,))
    for key in (U01, U02, U03):
        rect.world.drive_from(key, "onsite", "rectification")

    rect.begin(f01)
    rect.task(f01, date(2024, 12, 31))
    p01 = rect.item("U01", "P01", POLITICS, key_problem=True, tags=(CONTRACTORS,))
    rect.begin(p01)
    rect.task(p01, date(2024, 12, 31))
    done(app, f"{p01}#1", OutcomeFacts(rules=("议事规则",), accountable=2, funds="12.5"))
    rect.accept(p01)
    p02 = rect.item("U01", "P02", STYLE)
    rect.begin(p02)
    rect.fire(p02, "make_long_term", "office")
    clue(app, U01, "C01", "discipline_group", "谈话函询")
    clue(app, U01, "C02", None, None)

    late = rect.item("U02", "P01", POLITICS, tags=(CONTRACTS,))
    rect.begin(late)
    rect.task(late, date(2024, 9, 10))
    rect.item("U02", "P02", FINANCE)

    p01 = rect.item("U03", "P01", STYLE, key_problem=True, tags=(CONTRACTORS, CONTRACTS))
    rect.begin(p01)
    rect.task(p01, date(2024, 12, 31))
    done(app, f"{p01}#1", OutcomeFacts(rules=("制度甲", "制度乙"), funds="0.25"))
    rect.accept(p01)
    clue(app, U03, "C01", "discipline_group", "初步核实")
    clue(app, U03, "C02", "organization_dept", None)
    rect.close_case_ready(U03)
    cases.fire(U03, "to_evaluation", actor=OFFICE, role="office")
    cases.evaluate(
        U03,
        score=86,
        grade="较好",
        dimensions={"组织领导": 18, "整改落实": 34, "建章立制": 16, "成果运用": 18},
        actor=OFFICE,
        role="office",
    )
    cases.fire(U03, "close", actor=OFFICE, role="office")

    clock.set(shanghai(2024, 10, 8, 9))
    return app.services.read.statistics.of(ROUND)


COLUMNS = (
    "巡视组",
    "单位",
    "巡视类型",
    "个别谈话（人次）",
    "受理信访举报（件）",
    "调阅资料（份）",
    "发现问题",
    "重点问题",
    "立行立改",
    "已销号",
    "整改中",
    "长期整改",
    "超期",
    "整改完成率",
    "移交线索",
    "已处置线索",
    "建章立制（项）",
    "问责人数",
    "挽回损失（万元）",
    "屡改屡犯",
    "整改评估",
)
MAIN = [
    ["G1", "单位U01", "常规巡视", 12, 5, 0, 3, 1, 1, 1, 1, 1, 0, "33.3%", 1, 1, 1, 2, "12.5", 0,
     ""],
    ["G1", "单位U02", "常规巡视", 12, 0, 0, 2, 0, 0, 0, 2, 0, 2, "0.0%", 0, 0, 0, 0, "0", 0, ""],
    ["G1", "G1 小计", "", 24, 5, 0, 5, 1, 1, 1, 3, 1, 2, "20.0%", 1, 1, 1, 2, "12.5", 0, ""],
    ["G2", "单位U03", "常规巡视", 12, 0, 30, 1, 1, 0, 1, 0, 0, 0, "100.0%", 2, 1, 2, 0, "0.25", 0,
     "较好 86分"],
    ["G2", "G2 小计", "", 12, 0, 30, 1, 1, 0, 1, 0, 0, 0, "100.0%", 2, 1, 2, 0, "0.25", 0,
     "较好 1"],
    ["", "合计", "", 36, 5, 30, 6, 2, 1, 2, 3, 1, 2, "33.3%", 3, 2, 3, 2, "12.75", 0, "较好 1"],
]  # fmt: skip


def test_every_figure_matches_the_records_to_the_unit(stats: RoundStatistics) -> None:
    assert stats.as_of == date(2024, 10, 8)
    assert stats.columns() == COLUMNS
    assert stats.main_rows() == MAIN
    assert stats.by_category.table() == (
        ("一级类别", "二级类别", "G1", "G2", "合计"),
        [
            ["党的建设", "政治建设", 3, 0, 3],
            ["全面从严治党", "作风建设", 1, 1, 2],
            ["业务工作", "财务管理", 1, 0, 1],
            ["合计", "", 5, 1, 6],
        ],
    )
    assert stats.by_tag.table() == (
        ("业务领域", "G1", "G2", "合计"),
        [["承包商管理", 2, 1, 3], ["合同资产管理", 1, 1, 2], ["合计", 3, 2, 5]],
    )
    assert stats.by_disposition.table() == (
        ("处置方式", "G1", "G2", "合计"),
        [["谈话函询", 1, 0, 1], ["初步核实", 0, 1, 1], ["合计", 1, 1, 2]],
    )
    assert stats.by_grade.table() == (
        ("等次", "G1", "G2", "合计"),
        [["较好", 0, 1, 1], ["合计", 0, 1, 1]],
    )
    assert stats.grades == ("好", "较好", "一般", "差")


def test_the_json_has_the_same_figures(stats: RoundStatistics) -> None:
    shape = stats.to_json()
    total = shape["rows"][-1]
    assert total == {
        "level": "total",
        "group": None,
        "unit": None,
        "unit_name": None,
        "kind": None,
        "units": 3,
        "workload": {"个别谈话（人次）": 36, "受理信访举报（件）": 5, "调阅资料（份）": 30},
        "problems": 6,
        "key_problems": 2,
        "fix_now": 1,
        "accepted": 2,
        "open": 3,
        "long_term": 1,
        "overdue": 2,
        "completion_rate": 0.3333,
        "clues_handed_over": 3,
        "clues_disposed": 2,
        "rules": 3,
        "accountable": 2,
        "funds": "12.75",
        "recurring": 0,
        "grades": {"好": 0, "较好": 1, "一般": 0, "差": 0},
        "evaluation": None,
    }
    assert [(r["level"], r["unit"]) for r in shape["rows"]] == [
        ("unit", "U01"),
        ("unit", "U02"),
        ("group", None),
        ("unit", "U03"),
        ("group", None),
        ("total", None),
    ]
    assert shape["by_disposition"] == [
        {"处置方式": "谈话函询", "by_group": {"G1": 1, "G2": 0}, "total": 1},
        {"处置方式": "初步核实", "by_group": {"G1": 0, "G2": 1}, "total": 1},
    ]


def test_the_files_hold_the_same_tables(stats: RoundStatistics) -> None:
    book = io.BytesIO()
    write_xlsx(stats, book)
    book.seek(0)
    workbook = load_workbook(book)
    assert workbook.sheetnames == [
        "巡视工作统计",
        "问题分类统计",
        "问题业务领域统计",
        "问题线索处置统计",
        "整改评估等次统计",
    ]
    sheet = workbook["巡视工作统计"]
    assert sheet.cell(1, 1).value.startswith("2024年第一轮巡视 巡视工作统计 截至 ")
    assert tuple(c.value for c in sheet[2]) == COLUMNS
    assert [
        [c.value if c.value is not None else "" for c in row] for row in sheet.iter_rows(3)
    ] == MAIN

    text = io.StringIO()
    write_csv(stats, text)
    rows = list(csv.reader(io.StringIO(text.getvalue())))
    assert rows[1] == list(COLUMNS)
    assert rows[2:8] == [[str(v) for v in row] for row in MAIN]
    assert rows[8] == []
    assert rows[9][0].startswith("2024年第一轮巡视 问题分类统计")

    md = io.StringIO()
    write_markdown(stats, md)
    lines = md.getvalue().splitlines()
    assert lines[0].startswith("# 2024年第一轮巡视 巡视工作统计 截至 ")
    assert "## 问题线索处置统计" in lines
    cells = [
        "",
        "合计",
        "",
        36,
        5,
        30,
        6,
        2,
        1,
        2,
        3,
        1,
        2,
        "33.3%",
        3,
        2,
        3,
        2,
        "12.75",
        0,
        "较好 1",
    ]
    assert "| " + " | ".join(str(c) for c in cells) + " |" in lines


def test_a_void_problem_leaves_the_figures(stats: RoundStatistics, app: App) -> None:
    app.services.items.void(f"{U02}/P02", actor=OFFICE, role="office", reason="重复登记")
    after = app.services.read.statistics.of(ROUND)
    assert after.main_rows()[1][6:13] == [1, 0, 0, 0, 1, 0, 1]
    assert after.main_rows()[-1][6] == 5
