"""Write the tour's workbooks: plan.xlsx (plan.csv as a workbook) and problems.xlsx.

Run it from anywhere after changing plan.csv or the problems below:
`python examples/make_xlsx.py`. A test reads both workbooks back and fails when they no
longer hold what this script writes (openpyxl stamps a workbook with the time it was
saved, so the files are compared cell by cell, not byte by byte).
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent

PROBLEM_HEADER = (
    "轮次",
    "单位代码",
    "问题编号",
    "问题",
    "具体表现",
    "一级类别",
    "二级类别",
    "重点问题",
    "业务标签",
    "问题来源",
    "整改措施",
    "责任领导",
    "牵头部门",
    "责任人",
    "完成时限",
    "长期整改",
)

# One row per measure (task); a problem's own columns repeat on each of its rows. Every
# unit, department and person is fictional.
PROBLEMS: tuple[tuple[str | date, ...], ...] = (
    (
        "2025-R1",
        "U01",
        "P01",
        "理论学习中心组学习流于形式",
        "2024年中心组学习12次，其中8次为集中读文件，未开展研讨",
        "思想建设",
        "理论学习走过场",
        "否",
        "",
        "巡视发现",
        "制定年度学习计划，每季度至少开展一次专题研讨",
        "党组书记",
        "机关党委",
        "王某",
        date(2025, 6, 30),
        "否",
    ),
    (
        "2025-R1",
        "U01",
        "P01",
        "理论学习中心组学习流于形式",
        "2024年中心组学习12次，其中8次为集中读文件，未开展研讨",
        "思想建设",
        "理论学习走过场",
        "否",
        "",
        "巡视发现",
        "建立学习情况督查通报制度",
        "党组书记",
        "机关党委",
        "王某",
        date(2025, 9, 30),
        "否",
    ),
    (
        "2025-R1",
        "U01",
        "P02",
        "违规发放津贴补贴",
        "2023年至2024年以加班费名义发放补贴共计若干万元",
        "作风建设",
        "违反中央八项规定精神",
        "是",
        "资金管理",
        "巡审联动",
        "清退违规发放款项",
        "分管财务工作负责同志",
        "财务处",
        "赵某",
        date(2025, 7, 31),
        "否",
    ),
    (
        "2025-R1",
        "U01",
        "P02",
        "违规发放津贴补贴",
        "2023年至2024年以加班费名义发放补贴共计若干万元",
        "作风建设",
        "违反中央八项规定精神",
        "是",
        "资金管理",
        "巡审联动",
        "修订津贴补贴发放管理办法",
        "分管财务工作负责同志",
        "财务处",
        "赵某",
        date(2025, 8, 29),
        "否",
    ),
    (
        "2025-R1",
        "U01",
        "P03",
        "选人用人程序不规范",
        "部分干部选任未按规定进行民主推荐",
        "组织建设",
        "选人用人不规范",
        "否",
        "",
        "巡视发现",
        "开展干部选任工作专项检查",
        "党组书记",
        "人事处",
        "孙某",
        date(2025, 8, 29),
        "否",
    ),
    (
        "2025-R1",
        "U01",
        "P04",
        "上轮巡视反馈问题整改不彻底",
        "上轮巡视反馈的3个问题仍未完成整改",
        "巡视整改",
        "上轮巡视整改不到位",
        "否",
        "承包商管理、合同资产管理",
        "巡视发现",
        "建立巡视整改常态化长效化机制",
        "党组书记",
        "办公室",
        "周某",
        "",
        "是",
    ),
)


def plan_rows() -> list[list[str]]:
    """plan.csv's rows, its header first."""
    with (HERE / "plan.csv").open(encoding="utf-8", newline="") as file:
        return [list(row) for row in csv.reader(file)]


def problem_rows() -> list[list[str | date]]:
    """problems.xlsx's rows, its header first; due dates are date cells."""
    return [list(PROBLEM_HEADER), *(list(row) for row in PROBLEMS)]


def workbook(title: str, rows: list[list[str]] | list[list[str | date]]) -> Workbook:
    """A one-sheet workbook holding `rows` (empty text as empty cells, dates as date cells)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append([None if value == "" else value for value in row])
    return book


def build(folder: Path = HERE) -> list[Path]:
    """Write plan.xlsx and problems.xlsx into `folder`; the paths written."""
    written = []
    for name, title, rows in (
        ("plan.xlsx", "巡视计划", plan_rows()),
        ("problems.xlsx", "问题清单", problem_rows()),
    ):
        path = folder / name
        workbook(title, rows).save(path)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in build():
        print(f"wrote {path}")
