"""Items import (`items import FILE.csv|FILE.xlsx`), on every backend.

One row per task; the item columns repeat on each of an item's rows. Every row is checked
first: a bad row names its row (the header is row 1) and column, and nothing is written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from rectification_helpers import ROUND, Rectifying, event_summary, task_rows
from sqlalchemy import select
from worlds import snapshot

from xunshi.bootstrap import App
from xunshi.errors import BadInput
from xunshi.reports.ledger import write_csv
from xunshi.services.items_import import ITEM_COLUMNS
from xunshi.services.results import ItemsImported
from xunshi.services.sheets import SheetProblems
from xunshi.storage import queries as q
from xunshi.workflow.clock import ManualClock

Row = dict[str, str]


def row(**values: str) -> Row:
    """A good row for item 2024-R1/U01/P01, with `values` changed."""
    base: Row = {
        "round": ROUND,
        "unit_code": "U01",
        "item_code": "P01",
        "title": "理论学习不深入",
        "manifestations": "中心组学习流于形式",
        "category_l1": "党的建设",
        "category_l2": "政治建设",
        "key_problem": "是",
        "common_problem": "否",
        "tags": "",
        "fix_now": "",
        "root_cause": "重视不够",
        "source": "",
        "measure": "制定学习计划",
        "responsible_leader": "赵书记",
        "lead_department": "办公室",
        "cooperating_departments": "",
        "responsible_person": "钱主任",
        "due_on": "2024-10-31",
        "long_term": "",
    }
    unknown = set(values) - set(base)
    assert not unknown, unknown
    return {**base, **values}


# Three items, five tasks, two units; P01's rows are not adjacent.
GOOD: tuple[Row, ...] = (
    row(),
    row(unit_code="U02", item_code="P01", title="违规发放津贴", manifestations="超标准发放",
        category_l1="全面从严治党", category_l2="廉洁纪律", key_problem="否", tags="合同资产管理",
        fix_now="√", root_cause="制度缺失", source="audit", measure="清退违规津贴",
        responsible_leader="孙局长", lead_department="财务处", cooperating_departments="审计处",
        responsible_person="李会计", due_on="2024-09-30"),
    row(measure="建立督学制度", responsible_person="周秘书", due_on="", long_term="是"),
    row(item_code="P02", title="财务审批不严", manifestations="", category_l1="业务工作",
        category_l2="财务管理", key_problem="0", tags="工程余料管理；承包商管理", fix_now="Y",
        root_cause="", source="lead", measure="修订审批办法", responsible_leader="钱副局长",
        lead_department="财务处", responsible_person="吴科长", due_on="2024-12-31"),
    row(item_code="P02", title="财务审批不严", manifestations="", category_l1="业务工作",
        category_l2="财务管理", key_problem="0", tags="承包商管理,工程余料管理", fix_now="Y",
        root_cause="", source="lead", measure="开展专项检查", responsible_leader="钱副局长",
        lead_department="财务处", responsible_person="郑科员", due_on="2024-11-15"),
)  # fmt: skip


def write_csv_rows(path: Path, rows: Sequence[Mapping[str, str]], bom: bool = False) -> Path:
    """A CSV with the item columns as header."""
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ITEM_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_xlsx_rows(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """An XLSX with the item columns as header; dates and numbers as real cells."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(ITEM_COLUMNS))
    for values in rows:
        sheet.append([values.get(c, "") for c in ITEM_COLUMNS])
    workbook.save(path)
    return path


@pytest.fixture
def rect(app: App, clock: ManualClock) -> Rectifying:
    """Cases 2024-R1/U01 and U02, the category list; U02 already has item P09."""
    world = Rectifying(app, clock)
    world.case("U01", "示例市财政局")
    world.case("U02", "示例市审计局")
    world.item("U02", "P09")
    return world


def import_file(app: App, path: Path) -> ItemsImported:
    """Import as the office."""
    return app.services.items.import_items(path, actor="王主任")


def imported(app: App) -> list[tuple[str, str, str, bool, tuple[str, ...], bool, str, str]]:
    """(key, title, category, key, tags, fix-now, source, state) of the imported items."""
    views = app.services.read.items.many(round_code=ROUND)
    return [
        (
            str(v.key),
            v.title,
            f"{v.category_l1}/{v.category_l2}",
            v.key_problem,
            v.domain_tags,
            v.fix_now,
            v.source,
            v.state,
        )
        for v in views
        if v.code != "P09"
    ]


EXPECTED_ITEMS = [
    (
        "2024-R1/U01/P01",
        "理论学习不深入",
        "党的建设/政治建设",
        True,
        (),
        False,
        "inspection",
        "identified",
    ),
    (
        "2024-R1/U01/P02",
        "财务审批不严",
        "业务工作/财务管理",
        False,
        ("承包商管理", "工程余料管理"),
        True,
        "lead",
        "identified",
    ),
    (
        "2024-R1/U02/P01",
        "违规发放津贴",
        "全面从严治党/廉洁纪律",
        False,
        ("合同资产管理",),
        True,
        "audit",
        "identified",
    ),
]


def check_good_import(rect: Rectifying, app: App) -> None:
    """What importing GOOD must have created."""
    assert imported(app) == EXPECTED_ITEMS
    p01 = rect.ref(f"{ROUND}/U01/P01").id
    tasks = [
        (t["number"], t["measure"], t["responsible_person"], t["due_on"], t["long_term"])
        for t in task_rows(app, p01)
    ]
    assert tasks == [
        (1, "制定学习计划", "钱主任", date(2024, 10, 31), False),
        (2, "建立督学制度", "周秘书", None, True),
    ]
    u02 = task_rows(app, rect.ref(f"{ROUND}/U02/P01").id)
    assert [(t["lead_department"], t["cooperating_departments"], t["status"]) for t in u02] == [
        ("财务处", "审计处", "open")
    ]
    p02 = rect.ref(f"{ROUND}/U01/P02").id
    assert [(t["number"], t["due_on"]) for t in task_rows(app, p02)] == [
        (1, date(2024, 12, 31)),
        (2, date(2024, 11, 15)),
    ]
    history = rect.history(f"{ROUND}/U01/P01")
    assert event_summary(history) == [
        (1, "started", None, "identified"),
        (2, "task", "task_added", None),
        (3, "task", "task_added", None),
    ]
    assert {(e.actor, e.role) for e in history} == {("王主任", "office")}
    # Each dated task has its timer; the long-term one has none.
    t = q.timers
    with app.db.transaction() as conn:
        armed = conn.execute(
            select(t.c.task_id, t.c.due_on).where(t.c.task_id != 0).order_by(t.c.task_id)
        ).all()
    assert sorted(due for _, due in armed) == [
        date(2024, 9, 30),
        date(2024, 10, 31),
        date(2024, 11, 15),
        date(2024, 12, 31),
    ]
    assert app.services.audit.verify().ok


def test_a_good_csv_imports_items_and_their_tasks(
    rect: Rectifying, app: App, tmp_path: Path
) -> None:
    path = write_csv_rows(tmp_path / "items.csv", GOOD, bom=True)
    assert import_file(app, path) == ItemsImported(items=3, tasks=5)
    check_good_import(rect, app)


def test_a_good_xlsx_with_date_cells_imports_the_same(
    rect: Rectifying, app: App, tmp_path: Path
) -> None:
    cells: list[dict[str, Any]] = []
    for values in GOOD:
        typed: dict[str, Any] = dict(values)
        if values["due_on"]:
            typed["due_on"] = date.fromisoformat(values["due_on"])
        typed["key_problem"] = values["key_problem"] in ("是", "1")  # a boolean cell
        cells.append(typed)
    path = write_xlsx_rows(tmp_path / "items.xlsx", cells)
    assert import_file(app, path) == ItemsImported(items=3, tasks=5)
    check_good_import(rect, app)


# (what is wrong, the bad row, the message) — the bad row is row 3, between two good ones.
BAD_ROWS: tuple[tuple[str, Row, str], ...] = (
    (
        "unknown case",
        row(unit_code="U09"),
        "items.csv row 3, column unit_code: case 2024-R1/U09 does not exist",
    ),
    (
        "unknown category",
        row(category_l2="宣传建设"),
        "items.csv row 3, column category_l2: category 党的建设/宣传建设 is not in the "
        "category list",
    ),
    (
        "bad date",
        row(due_on="2024-10-32"),
        "items.csv row 3, column due_on: '2024-10-32' is not a date "
        "(2025-09-30, 2025/9/30 or 2025年9月30日)",
    ),
    (
        "both due date and long-term",
        row(long_term="是"),
        "items.csv row 3, column due_on: a task is either long-term or has a due date, not both",
    ),
    (
        "described differently",
        row(title="理论学习不够深入"),
        "items.csv row 3, column title: item P01 is described differently in row 2",
    ),
    (
        "item already exists",
        row(unit_code="U02", item_code="P09"),
        "items.csv row 3, column item_code: item 2024-R1/U02/P09 already exists",
    ),
    (
        "empty required cell",
        row(item_code="P03", responsible_person=""),
        "items.csv row 3, column responsible_person: empty",
    ),
    (
        "bad yes/no flag",
        row(item_code="P03", common_problem="maybe"),
        "items.csv row 3, column common_problem: 'maybe' is not 是/否 (yes/no)",
    ),
    (
        "bad item code",
        row(item_code="P 3"),
        "items.csv row 3, column item_code: item code 'P 3' is not valid: use letters, "
        "digits, '.', '_' or '-' (at most 64, starting with a letter or digit)",
    ),
    (
        "bad source",
        row(item_code="P03", source="letters"),
        "items.csv row 3, column source: 'letters' is not one of 巡视发现/inspection, "
        "巡审联动/audit, 线索移交/lead",
    ),
)


def test_a_bad_row_in_the_middle_names_row_and_column_and_writes_nothing(
    rect: Rectifying, app: App, tmp_path: Path
) -> None:
    before = snapshot(app)
    messages = []
    for _, bad, _ in BAD_ROWS:
        path = write_csv_rows(tmp_path / "items.csv", [GOOD[0], bad, GOOD[3]])
        with pytest.raises(SheetProblems) as caught:
            import_file(app, path)
        messages.append(caught.value.message)
        assert snapshot(app) == before, f"the import of a bad file wrote something: {bad}"
    assert messages == [message for _, _, message in BAD_ROWS]


def test_a_bad_flag_is_one_problem_not_two(rect: Rectifying, app: App, tmp_path: Path) -> None:
    """A bad flag on the second row of an item must not also make the item `described
    differently` (the flag was never read)."""
    path = write_csv_rows(tmp_path / "items.csv", [GOOD[0], row(key_problem="maybe")])
    with pytest.raises(SheetProblems) as caught:
        import_file(app, path)
    assert caught.value.problems == [(3, "key_problem", "'maybe' is not 是/否 (yes/no)")]


def test_a_row_with_neither_due_date_nor_long_term_says_so(
    rect: Rectifying, app: App, tmp_path: Path
) -> None:
    """Neither is not both: the message must not say `not both` when both are missing."""
    path = write_csv_rows(tmp_path / "items.csv", [GOOD[0], row(due_on="")])
    with pytest.raises(SheetProblems) as caught:
        import_file(app, path)
    ((number, column, message),) = caught.value.problems
    assert (number, column) == (3, "due_on")
    assert "not both" not in message, message


def test_every_bad_row_is_counted_and_the_first_is_named(
    rect: Rectifying, app: App, tmp_path: Path
) -> None:
    rows = [*GOOD, row(unit_code="U09"), row(item_code="P05", due_on="明年"), GOOD[0]]
    before = snapshot(app)
    with pytest.raises(SheetProblems) as caught:
        import_file(app, write_csv_rows(tmp_path / "items.csv", rows))
    assert caught.value.message == (
        "items.csv row 7, column unit_code: case 2024-R1/U09 does not exist "
        "(and 1 more problem in row 8)"
    )
    assert caught.value.problems == [
        (7, "unit_code", "case 2024-R1/U09 does not exist"),
        (8, "due_on", "'明年' is not a date (2025-09-30, 2025/9/30 or 2025年9月30日)"),
    ]
    assert snapshot(app) == before


def test_a_bad_xlsx_row_is_named_like_a_csv_row(rect: Rectifying, app: App, tmp_path: Path) -> None:
    path = write_xlsx_rows(tmp_path / "items.xlsx", [GOOD[0], GOOD[1], row(category_l1="其他")])
    before = snapshot(app)
    with pytest.raises(SheetProblems) as caught:
        import_file(app, path)
    assert caught.value.message == (
        "items.xlsx row 4, column category_l2: category 其他/政治建设 is not in the category list"
    )
    assert snapshot(app) == before


def test_files_that_are_not_item_sheets_are_refused(
    rect: Rectifying, app: App, tmp_path: Path
) -> None:
    before = snapshot(app)
    header_only = tmp_path / "empty.csv"
    header_only.write_text(",".join(ITEM_COLUMNS) + "\n", encoding="utf-8")
    missing = tmp_path / "missing.csv"
    missing.write_text("round,unit_code,item_code\n2024-R1,U01,P01\n", encoding="utf-8")
    extra = tmp_path / "extra.csv"
    extra.write_text(",".join([*ITEM_COLUMNS, "owner"]) + "\n", encoding="utf-8")
    text = tmp_path / "items.txt"
    text.write_text("x", encoding="utf-8")
    cases = [
        (header_only, "empty.csv: no rows below the header"),
        (
            missing,
            "missing.csv row 1: missing columns title, category_l1, category_l2, measure, "
            "responsible_leader, lead_department, responsible_person",
        ),
        (
            extra,
            f"extra.csv row 1: unknown column owner (expected {', '.join(ITEM_COLUMNS)})",
        ),
        (text, "items.txt: expected a .csv or .xlsx file"),
        (tmp_path / "nowhere.csv", f"{tmp_path / 'nowhere.csv'}: no such file"),
    ]
    for path, message in cases:
        with pytest.raises(BadInput) as caught:
            import_file(app, path)
        assert caught.value.message == message
    assert snapshot(app) == before


LEDGER_TO_IMPORT = {
    "title": "问题",
    "manifestations": "具体表现",
    "category_l1": "一级类别",
    "category_l2": "二级类别",
    "key_problem": "重点问题",
    "common_problem": "共性问题",
    "tags": "业务领域",
    "fix_now": "立行立改",
    "root_cause": "问题根源",
    "measure": "整改措施",
    "responsible_leader": "责任领导",
    "lead_department": "牵头部门",
    "responsible_person": "责任人",
}


def test_an_exported_ledger_imports_back_into_another_case_unchanged(
    rect: Rectifying, app: App, tmp_path: Path
) -> None:
    import_file(app, write_csv_rows(tmp_path / "items.csv", GOOD[:1] + GOOD[2:]))
    rect.case("U03", "示例市统计局")
    ledger = tmp_path / "ledger.csv"
    with ledger.open("w", encoding="utf-8-sig", newline="") as handle:
        write_csv(app.services.read.ledger.of(ROUND, f"{ROUND}/U01"), handle)
    with ledger.open(encoding="utf-8-sig", newline="") as handle:
        exported = list(csv.DictReader(handle))
    back = []
    for line in exported:
        values = {column: line[title] for column, title in LEDGER_TO_IMPORT.items()}
        code, _, title = values["title"].partition(" ")
        remarks = dict(part.split("：", 1) for part in line["备注"].split("；"))
        back.append(
            {
                **values,
                "round": line["轮次"],
                "unit_code": "U03",
                "item_code": code,
                "title": title,
                "source": "",
                "cooperating_departments": remarks.get("配合部门", ""),
                "due_on": "" if line["完成时限"] == "长期" else line["完成时限"],
                "long_term": "是" if line["完成时限"] == "长期" else "否",
            }
        )
    assert import_file(app, write_csv_rows(tmp_path / "back.csv", back)) == ItemsImported(2, 4)
    original = list(app.services.read.ledger.of(ROUND, f"{ROUND}/U01").rows)
    copied = list(app.services.read.ledger.of(ROUND, f"{ROUND}/U03").rows)
    assert [r["被巡视单位"] for r in copied] == ["示例市统计局"] * 4
    unit_free = [{k: v for k, v in r.items() if k != "被巡视单位"} for r in original]
    assert [{k: v for k, v in r.items() if k != "被巡视单位"} for r in copied] == unit_free


# -- the office's own language: Chinese headers, 巡视发现, 2024/9/30 and 2024年9月30日 ----------

CHINESE = {
    "round": "轮次",
    "unit_code": "单位代码",
    "item_code": "问题编号",
    "title": "问题",
    "manifestations": "具体表现",
    "category_l1": "一级类别",
    "category_l2": "二级类别",
    "key_problem": "重点问题",
    "common_problem": "共性问题",
    "tags": "业务标签",
    "fix_now": "立行立改",
    "root_cause": "原因分析",
    "source": "问题来源",
    "measure": "整改措施",
    "responsible_leader": "责任领导",
    "lead_department": "牵头部门",
    "cooperating_departments": "配合部门",
    "responsible_person": "责任人",
    "due_on": "完成时限",
    "long_term": "长期整改",
    "recurs_from": "屡改屡犯来源",
}
SOURCE_TITLES = {"": "巡视发现", "audit": "巡审联动", "lead": "线索移交"}


def as_an_office_writes(values: Row, number: int) -> Row:
    """A GOOD row with its source as the ledger writes it and its date in a Chinese form."""
    due = values["due_on"]
    if due:
        day = date.fromisoformat(due)
        forms = (f"{day.year}/{day.month}/{day.day}", f"{day.year}年{day.month}月{day.day}日")
        due = forms[number % 2]
    return {**values, "source": SOURCE_TITLES[values["source"]], "due_on": due}


OFFICE_GOOD = tuple(as_an_office_writes(values, n) for n, values in enumerate(GOOD))


def write_sheet(
    path: Path,
    rows: Sequence[Mapping[str, str]],
    header: Mapping[str, str] = CHINESE,
    *,
    encoding: str = "utf-8-sig",
) -> Path:
    """A CSV with `header`'s columns (name → header as written), in `encoding`."""
    columns = [c for c in ITEM_COLUMNS if c in header]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header[c] for c in columns])
    writer.writerows([[values.get(c, "") for c in columns] for values in rows])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def problems_of(app: App, path: Path) -> list[tuple[int, str, str]]:
    """The problems the import of `path` reports; it must write nothing."""
    before = snapshot(app)
    with pytest.raises(SheetProblems) as caught:
        import_file(app, path)
    assert snapshot(app) == before
    return caught.value.problems


def test_a_chinese_csv_saved_by_excel_imports_the_same(
    rect: Rectifying, app: App, tmp_path: Path
) -> None:
    path = write_sheet(tmp_path / "问题清单.csv", OFFICE_GOOD)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert import_file(app, path) == ItemsImported(items=3, tasks=5)
    check_good_import(rect, app)


def test_a_chinese_csv_in_gb18030_is_detected(rect: Rectifying, app: App, tmp_path: Path) -> None:
    path = write_sheet(tmp_path / "items.csv", OFFICE_GOOD, encoding="gb18030")
    assert import_file(app, path) == ItemsImported(items=3, tasks=5)
    check_good_import(rect, app)


def test_a_forced_encoding(rect: Rectifying, app: App, tmp_path: Path) -> None:
    path = write_sheet(tmp_path / "items.csv", OFFICE_GOOD, encoding="gb18030")
    with pytest.raises(BadInput) as caught:
        app.services.items.import_items(path, actor="王主任", encoding="utf-8")
    assert caught.value.message == "items.csv line 1: not utf-8 text"
    result = app.services.items.import_items(path, actor="王主任", encoding="GB18030")
    assert result == ItemsImported(items=3, tasks=5)


def test_an_xlsx_with_chinese_headers_and_real_date_cells(
    rect: Rectifying, app: App, tmp_path: Path
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([CHINESE[c] for c in ITEM_COLUMNS])
    for number, values in enumerate(OFFICE_GOOD):
        cells: dict[str, Any] = dict(values)
        if GOOD[number]["due_on"]:
            day = date.fromisoformat(GOOD[number]["due_on"])
            # openpyxl writes both as date cells; Excel reads a datetime cell back.
            cells["due_on"] = day if number % 2 else datetime.combine(day, time())
        sheet.append([cells.get(c, "") for c in ITEM_COLUMNS])
    workbook.save(tmp_path / "items.xlsx")
    assert sheet["S2"].is_date

    assert import_file(app, tmp_path / "items.xlsx") == ItemsImported(items=3, tasks=5)
    check_good_import(rect, app)


def test_an_xlsx_date_cell_with_a_time_of_day_is_refused(
    rect: Rectifying, app: App, tmp_path: Path
) -> None:
    cells: dict[str, Any] = {**GOOD[0], "due_on": datetime(2024, 10, 31, 9, 30)}
    path = write_xlsx_rows(tmp_path / "items.xlsx", [cells])
    assert problems_of(app, path) == [
        (2, "due_on", "'2024-10-31 09:30:00' has a time of day: a due date is a day")
    ]


def test_an_xlsx_formula_without_a_value(rect: Rectifying, app: App, tmp_path: Path) -> None:
    # It said "empty: give a due date or long_term = 是".
    cells: dict[str, Any] = {**GOOD[0], "due_on": "=DATE(2024,10,31)"}
    path = write_xlsx_rows(tmp_path / "items.xlsx", [cells])
    assert problems_of(app, path) == [
        (2, "due_on", "formula without a value: save the file in Excel first")
    ]


@pytest.mark.parametrize(
    ("written", "due_on"),
    [
        ("2024-10-31", date(2024, 10, 31)),
        ("2024-1-5", date(2024, 1, 5)),
        ("2024/10/31", date(2024, 10, 31)),
        ("2024/9/3", date(2024, 9, 3)),
        ("2024年10月31日", date(2024, 10, 31)),
        ("2024年9月3日", date(2024, 9, 3)),
        (" 2024/9/30 0:00 ", date(2024, 9, 30)),  # Excel's CSV of a date-and-time cell
        ("2024-09-30T00:00:00", date(2024, 9, 30)),
    ],
)
def test_each_date_form(
    rect: Rectifying, app: App, tmp_path: Path, written: str, due_on: date
) -> None:
    path = write_sheet(tmp_path / "items.csv", [row(due_on=written)])
    import_file(app, path)
    [task] = task_rows(app, rect.ref(f"{ROUND}/U01/P01").id)
    assert task["due_on"] == due_on


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("30/9/2025", "'30/9/2025' is not a date (2025-09-30, 2025/9/30 or 2025年9月30日)"),
        ("2025.9.30", "'2025.9.30' is not a date (2025-09-30, 2025/9/30 or 2025年9月30日)"),
        ("20250930", "'20250930' is not a date (2025-09-30, 2025/9/30 or 2025年9月30日)"),
        ("2025-W40-2", "'2025-W40-2' is not a date (2025-09-30, 2025/9/30 or 2025年9月30日)"),
        ("2025年9月30", "'2025年9月30' is not a date (2025-09-30, 2025/9/30 or 2025年9月30日)"),
        ("2025/9-30", "'2025/9-30' is not a date (2025-09-30, 2025/9/30 or 2025年9月30日)"),
        ("2025/2/30", "'2025/2/30' is not a date (2025-09-30, 2025/9/30 or 2025年9月30日)"),
        ("2025/9/30 9:30", "'2025/9/30 9:30' has a time of day: a due date is a day"),
    ],
)
def test_a_bad_date_names_the_column_as_the_sheet_does(
    rect: Rectifying, app: App, tmp_path: Path, written: str, message: str
) -> None:
    path = write_sheet(tmp_path / "items.csv", [GOOD[0], row(item_code="P03", due_on=written)])
    assert problems_of(app, path) == [(3, "完成时限", message)]
    with pytest.raises(SheetProblems) as caught:
        import_file(app, path)
    assert caught.value.message == f"items.csv row 3, column 完成时限: {message}"


@pytest.mark.parametrize(
    ("written", "source"),
    [
        ("", "inspection"),
        ("巡视发现", "inspection"),
        ("巡审联动", "audit"),
        ("线索移交", "lead"),
        ("inspection", "inspection"),
        ("audit", "audit"),
        ("lead", "lead"),
    ],
)
def test_each_source_form(
    rect: Rectifying, app: App, tmp_path: Path, written: str, source: str
) -> None:
    import_file(app, write_sheet(tmp_path / "items.csv", [row(source=written)]))
    [(*_, stored, _)] = imported(app)
    assert stored == source


def test_rows_of_one_item_may_say_the_same_in_other_words(
    rect: Rectifying, app: App, tmp_path: Path
) -> None:
    # Once "described differently": 是 and yes, 巡视发现 and inspection mean the same.
    rows = [
        row(key_problem="是", source="巡视发现"),
        row(key_problem="yes", source="inspection", measure="建立督学制度", due_on="2024/12/31"),
    ]
    assert import_file(app, write_sheet(tmp_path / "items.csv", rows)) == ItemsImported(1, 2)
    rows = [row(item_code="P02"), row(item_code="P02", source="线索移交")]
    assert problems_of(app, write_sheet(tmp_path / "items.csv", rows)) == [
        (3, "问题来源", "item P02 is described differently in row 2")
    ]


def test_neither_due_date_nor_long_term_in_a_chinese_sheet(
    rect: Rectifying, app: App, tmp_path: Path
) -> None:
    path = write_sheet(tmp_path / "items.csv", [row(due_on="")])
    assert problems_of(app, path) == [(2, "完成时限", "empty: give a due date or 长期整改 = 是")]
    # Neither column in the sheet: still named in the sheet's language.
    header = {k: v for k, v in CHINESE.items() if k not in ("due_on", "long_term")}
    path = write_sheet(tmp_path / "items.csv", [row(due_on="")], header)
    assert problems_of(app, path) == [(2, "完成时限", "empty: give a due date or 长期整改 = 是")]


def test_the_ledgers_title_for_the_root_cause(rect: Rectifying, app: App, tmp_path: Path) -> None:
    header = {**CHINESE, "root_cause": "问题根源"}
    import_file(app, write_sheet(tmp_path / "items.csv", [row()], header))
    [view] = [v for v in app.services.read.items.many(round_code=ROUND) if v.code == "P01"]
    assert view.root_cause == "重视不够"


def test_a_column_under_two_of_its_names_is_refused(
    rect: Rectifying, app: App, tmp_path: Path
) -> None:
    path = tmp_path / "items.csv"
    write_sheet(path, [row()])
    text = path.read_text(encoding="utf-8-sig").splitlines()
    text[0] += ",问题根源"
    text[1] += ",另一个原因"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        import_file(app, path)
    assert caught.value.message == (
        "items.csv row 1: columns 原因分析 and 问题根源 are the same column: keep one"
    )


def test_a_chinese_sheet_missing_columns_names_them_in_chinese(
    rect: Rectifying, app: App, tmp_path: Path
) -> None:
    header = {k: v for k, v in CHINESE.items() if k not in ("measure", "responsible_person")}
    with pytest.raises(BadInput) as caught:
        import_file(app, write_sheet(tmp_path / "items.csv", [row()], header))
    assert caught.value.message == (
        "items.csv row 1: missing columns 整改措施 (measure), 责任人 (responsible_person)"
    )


def test_a_typed_common_problem_is_refused_and_an_unknown_tag_named(
    rect: Rectifying, app: App, tmp_path: Path
) -> None:
    rows = [row(common_problem="是"), row(item_code="P02", tags="承包商、合同资产管理")]
    with pytest.raises(SheetProblems) as caught:
        import_file(app, write_csv_rows(tmp_path / "items.csv", rows))
    assert caught.value.problems == [
        (
            2,
            "common_problem",
            "共性问题 is computed now (the same category and tag in several units of the "
            "round), not typed: leave it empty",
        ),
        (3, "tags", "tag 承包商 is not in the tag list; did you mean 承包商管理?"),
    ]
    assert imported(app) == []
