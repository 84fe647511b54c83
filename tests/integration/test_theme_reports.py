"""Tags, 专题报告 and computed common problems (issue #10, part 5), against a hand-computed round.

The round (N = 3 units make a common problem):

| item    | category | tags                 | state      | tasks (open/done) | common |
|---------|----------|----------------------|------------|-------------------|--------|
| U01/P01 | 政治建设 | 承包商管理           | accepted   | 0/1               | 是     |
| U02/P01 | 政治建设 | 承包商管理、合同资产 | rectifying | 1/0               | 是     |
| U03/P01 | 政治建设 | 承包商管理           | long_term  | 1/0               | 是     |
| U04/P01 | 作风建设 | 承包商管理           | identified | 0/0               |        |
| U04/P02 | 财务管理 |                      | identified | 0/0               |        |
| U02/P02 | 廉洁纪律 | 工程余料管理         | identified | 0/0               |        |

Theme T01 承包商管理 (物资装备部) takes in the tag 承包商管理 and U04/P02 by hand.
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
from sqlalchemy import select

from xunshi.bootstrap import App
from xunshi.errors import AlreadyExists, BadInput, NotFound, Refused
from xunshi.read.theme_reports import ITEM_COLUMNS, ThemeReport
from xunshi.reports.theme_report import write_csv, write_md, write_xlsx
from xunshi.services.commands import ItemChanges
from xunshi.services.themes import ThemeSpec
from xunshi.storage import queries as q
from xunshi.workflow.clock import ManualClock

OFFICE = "王主任"
NAMES = {"U01": "示例能源甲公司", "U02": "示例能源乙公司", "U03": "示例能源丙公司"}
NAMES["U04"] = "示例能源丁公司"
T01 = ThemeSpec(
    code="T01",
    title="承包商管理",
    department="物资装备部",
    tags=(CONTRACTORS,),
    items=(f"{ROUND}/U04/P02",),
    measures=("修订承包商管理办法", "建立承包商黑名单制度"),
)


@pytest.fixture
def round_(app: App, clock: ManualClock) -> Rectifying:
    """The round of the table above, the clock on 2024-09-13 10:00."""
    rect = Rectifying(app, clock)
    for unit, name in NAMES.items():
        rect.case(unit, name)
    accepted = rect.item("U01", "P01", POLITICS, tags=[CONTRACTORS])
    rectifying = rect.item("U02", "P01", POLITICS, tags=[CONTRACTS, CONTRACTORS])
    long_term = rect.item("U03", "P01", POLITICS, tags=[CONTRACTORS])
    rect.item("U04", "P01", STYLE, tags=[CONTRACTORS])
    rect.item("U04", "P02", FINANCE)
    rect.item("U02", "P02", INTEGRITY, tags=[SURPLUS])
    for key in (accepted, rectifying, long_term):
        rect.begin(key)
        rect.task(key, date(2024, 9, 30))
    rect.accept(accepted)
    rect.fire(long_term, "make_long_term", "office")
    clock.set(shanghai(2024, 9, 13, 10))
    app.services.themes.add(ROUND, T01, actor=OFFICE, role="office")
    return rect


def common_keys(app: App) -> list[str]:
    """The keys of the round's items that are common problems."""
    return [str(v.key) for v in app.services.read.items.many(round_code=ROUND) if v.common_problem]


def test_common_problems_are_computed_and_change_when_an_items_category_or_tag_changes(
    round_: Rectifying, app: App
) -> None:
    assert common_keys(app) == [f"{ROUND}/U01/P01", f"{ROUND}/U02/P01", f"{ROUND}/U03/P01"]
    common = app.services.read.common.of(ROUND)
    assert common.to_json() == {
        "round": ROUND,
        "threshold": 3,
        "problems": [
            {
                "category": POLITICS,
                "tag": CONTRACTORS,
                "unit_count": 3,
                "units": [
                    {"code": "U01", "name": "示例能源甲公司"},
                    {"code": "U02", "name": "示例能源乙公司"},
                    {"code": "U03", "name": "示例能源丙公司"},
                ],
                "items": [f"{ROUND}/U01/P01", f"{ROUND}/U02/P01", f"{ROUND}/U03/P01"],
            }
        ],
    }
    items = app.services.items
    # U03's problem moves to 作风建设: 政治建设 × 承包商管理 is down to two units.
    items.update_item(
        f"{ROUND}/U03/P01",
        ItemChanges(category=STYLE),
        reason="类别调整",
        actor=OFFICE,
        role="office",
    )
    assert common_keys(app) == []
    assert app.services.read.common.of(ROUND).problems == ()
    # U02/P02 becomes 作风建设 × 承包商管理: with U03 and U04 that is three units.
    items.update_item(
        f"{ROUND}/U02/P02",
        ItemChanges(category=STYLE, tags=(CONTRACTORS,)),
        reason="业务领域调整",
        actor=OFFICE,
        role="office",
    )
    assert common_keys(app) == [f"{ROUND}/U02/P02", f"{ROUND}/U03/P01", f"{ROUND}/U04/P01"]
    # Taking the tag away again undoes it; the ledger shows the computed value too.
    items.update_item(
        f"{ROUND}/U04/P01", ItemChanges(tags=()), reason="误标", actor=OFFICE, role="office"
    )
    assert common_keys(app) == []
    ledger = app.services.read.ledger.of(ROUND)
    assert {row["共性问题"] for row in ledger.rows} == {"否"}
    history = round_.history(f"{ROUND}/U04/P01")
    assert (history[-1].kind, history[-1].reason, dict(history[-1].data)) == (
        "facts",
        "误标",
        {"changes": {"tags": []}},
    )
    assert app.services.audit.verify().ok


def test_unknown_tags_are_refused_naming_the_closest_or_the_known_ones(
    round_: Rectifying, app: App
) -> None:
    with pytest.raises(NotFound) as caught:
        round_.item("U01", "P09", POLITICS, tags=["承包商"])
    assert caught.value.message == "tag 承包商 is not in the tag list; did you mean 承包商管理?"
    with pytest.raises(NotFound) as caught:
        app.services.items.update_item(
            f"{ROUND}/U01/P01",
            ItemChanges(tags=("财务",)),
            reason="x",
            actor=OFFICE,
            role="office",
        )
    assert caught.value.message == (
        "tag 财务 is not in the tag list; known tags: 承包商管理、合同资产管理、工程余料管理"
    )


def test_tags_load_adds_keeps_and_removes_but_not_a_tag_in_use(
    round_: Rectifying, app: App
) -> None:
    items = app.services.items
    loaded = items.load_tags(
        "tags: [承包商管理, 合同资产管理, 工程余料管理, 产销研一体化管理]\n", "t.yaml"
    )
    assert (loaded.added, loaded.kept, loaded.removed) == (1, 3, 0)
    with pytest.raises(Refused) as caught:
        items.load_tags("tags: [产销研一体化管理]\n", "t.yaml")
    assert caught.value.message == (
        "t.yaml: tags still carried by items or named by themes cannot be removed: "
        "承包商管理, 合同资产管理, 工程余料管理"
    )
    for text, message in (
        ("tags: 承包商管理\n", "t.yaml: tags must be a list of 业务领域 names"),
        ("labels: [a]\n", "t.yaml: expected one key, tags: [业务领域, …]"),
        ("tags: [甲, 甲]\n", "t.yaml: tag 甲 is listed twice"),
        ("tags: [甲、乙]\n", "t.yaml: tag '甲、乙' must be text without 、 , ， ; or ；"),
        ("tags: [\n", "t.yaml: not valid YAML (line 2)"),
    ):
        with pytest.raises(BadInput) as bad:
            items.load_tags(text, "t.yaml")
        assert bad.value.message == message
    assert [t.name for t in app.services.read.catalog.tags()] == [
        CONTRACTORS,
        CONTRACTS,
        SURPLUS,
        "产销研一体化管理",
    ]


def test_the_theme_report_matches_the_hand_computed_round(round_: Rectifying, app: App) -> None:
    report = app.services.read.theme_reports.of(ROUND, "t01")
    assert (report.code, report.title, report.department) == ("T01", "承包商管理", "物资装备部")
    assert (report.tags, report.categories, report.linked) == (
        (CONTRACTORS,),
        (),
        (f"{ROUND}/U04/P02",),
    )
    assert [item.cells(n) for n, item in enumerate(report.items, start=1)] == [
        [1, "示例能源甲公司", f"{ROUND}/U01/P01", "问题P01", POLITICS, CONTRACTORS, "是",
         "已销号", "是", 0, 1, "标签"],
        [2, "示例能源乙公司", f"{ROUND}/U02/P01", "问题P01", POLITICS,
         "承包商管理、合同资产管理", "是", "整改中", "否", 1, 0, "标签"],
        [3, "示例能源丙公司", f"{ROUND}/U03/P01", "问题P01", POLITICS, CONTRACTORS, "是",
         "长期整改", "否", 1, 0, "标签"],
        [4, "示例能源丁公司", f"{ROUND}/U04/P01", "问题P01", STYLE, CONTRACTORS, "否",
         "问题确认", "否", 0, 0, "标签"],
        [5, "示例能源丁公司", f"{ROUND}/U04/P02", "问题P02", FINANCE, "", "否", "问题确认",
         "否", 0, 0, "指定"],
    ]  # fmt: skip
    assert report.totals.to_json() == {
        "units": 4,
        "items": 5,
        "accepted": 1,
        "open": 3,
        "long_term": 1,
    }
    assert [(m.number, m.text, m.status) for m in report.measures] == [
        (1, "修订承包商管理办法", "未开始"),
        (2, "建立承包商黑名单制度", "未开始"),
    ]


def test_link_unlink_and_measures_are_round_events_by_the_office_only(
    round_: Rectifying, app: App
) -> None:
    themes = app.services.themes
    u02p2 = f"{ROUND}/U02/P02"
    linked = themes.link(ROUND, "T01", u02p2, actor=OFFICE, role="office")
    assert linked.summary == f"专题 T01 纳入问题 {u02p2}"
    report = app.services.read.theme_reports.of(ROUND, "T01")
    assert [(str(i.view.key), i.ways) for i in report.items if i.view.unit == "U02"] == [
        (f"{ROUND}/U02/P01", ("标签",)),
        (u02p2, ("指定",)),
    ]
    assert report.totals.items == 6
    with pytest.raises(Refused) as caught:
        themes.link(ROUND, "T01", u02p2, actor=OFFICE, role="office")
    assert caught.value.message == f"item {u02p2} is already linked to theme T01"
    with pytest.raises(Refused) as caught:
        themes.unlink(ROUND, "T01", f"{ROUND}/U01/P01", actor=OFFICE, role="office")
    assert caught.value.message.startswith(f"item {ROUND}/U01/P01 is not linked to theme T01 by")
    themes.unlink(ROUND, "T01", u02p2, actor=OFFICE, role="office")
    assert app.services.read.theme_reports.of(ROUND, "T01").totals.items == 5
    moved = themes.measure(ROUND, "T01", 2, "推进中", actor=OFFICE, role="office")
    assert moved.summary == "专题 T01 措施 2 未开始 → 推进中"
    for call, message in (
        (
            lambda: themes.measure(ROUND, "T01", 3, "已完成", actor=OFFICE, role="office"),
            "theme T01 has no measure 3 (it has 1..2)",
        ),
        (
            lambda: themes.measure(ROUND, "T01", 2, "推进中", actor=OFFICE, role="office"),
            "measure 2 of theme T01 is already 推进中",
        ),
        (
            lambda: themes.measure(ROUND, "T01", 1, "完成", actor=OFFICE, role="office"),
            "status '完成' is not one of 未开始|推进中|已完成",
        ),
        (
            lambda: themes.link(ROUND, "T01", u02p2, actor="李", role="unit_liaison"),
            "only the office (role office) may link items to themes, not role unit_liaison",
        ),
        (
            lambda: themes.add(ROUND, T01, actor=OFFICE, role="office"),
            f"theme T01 already exists in round {ROUND}",
        ),
        (
            lambda: themes.link(ROUND, "T09", u02p2, actor=OFFICE, role="office"),
            f"theme T09 does not exist in round {ROUND}",
        ),
        (
            lambda: themes.add(
                ROUND, ThemeSpec("T02", "空", "办公室"), actor=OFFICE, role="office"
            ),
            "a theme takes in items: give --tag, --category or --item",
        ),
    ):
        with pytest.raises((Refused, NotFound, BadInput, AlreadyExists)) as refused:
            call()
        assert refused.value.message == message
    events = app.services.read.rounds.events(ROUND)
    assert [(e.kind, e.name, e.data["action"], e.actor, e.role) for e in events] == [
        ("theme", "T01", "added", OFFICE, "office"),
        ("theme", "T01", "linked", OFFICE, "office"),
        ("theme", "T01", "unlinked", OFFICE, "office"),
        ("theme", "T01", "measure", OFFICE, "office"),
    ]
    with app.db.transaction() as conn:
        assert conn.execute(select(q.theme_items.c.item_id)).scalars().all() == [
            round_.ref(f"{ROUND}/U04/P02").id
        ]


def exported(report: ThemeReport, write: object, path: Path) -> None:
    """Write `report` to `path` as `report theme --out PATH` does (text or binary)."""
    if path.suffix == ".xlsx":
        with path.open("wb") as handle:
            write(report, handle)  # type: ignore[operator]
    else:
        encoding = "utf-8-sig" if path.suffix == ".csv" else "utf-8"
        with path.open("w", encoding=encoding, newline="") as handle:
            write(report, handle)  # type: ignore[operator]


def test_the_exports_hold_the_items_totals_and_measures(
    round_: Rectifying, app: App, tmp_path: Path
) -> None:
    app.services.themes.measure(ROUND, "T01", 1, "已完成", actor=OFFICE, role="office")
    report = app.services.read.theme_reports.of(ROUND, "T01")
    exported(report, write_xlsx, tmp_path / "t.xlsx")
    workbook = load_workbook(tmp_path / "t.xlsx")
    assert workbook.sheetnames == ["问题分布", "机制建设"]
    items = workbook["问题分布"]
    assert (
        items["A1"].value
        == "2024年第一轮巡视 专题报告：承包商管理 截至 2024-09-13（牵头部门：物资装备部）"
    )
    assert [c.value for c in items[2]] == list(ITEM_COLUMNS)
    assert [c.value for c in items[3]][:4] == [1, "示例能源甲公司", f"{ROUND}/U01/P01", "问题P01"]
    assert [c.value for c in items[8]] == [
        "合计", "4个单位", "5个问题", None, None, None, None, None, "已销号1", "未销号3", "长期1",
        None,
    ]  # fmt: skip
    assert items.page_setup.orientation == "landscape"
    measures = workbook["机制建设"]
    assert [[c.value for c in row] for row in measures.iter_rows(min_row=3)] == [
        [1, "修订承包商管理办法", "已完成"],
        [2, "建立承包商黑名单制度", "未开始"],
    ]

    exported(report, write_csv, tmp_path / "t.csv")
    raw = (tmp_path / "t.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[:6] == [
        ["专题", "T01 承包商管理"],
        ["牵头部门", "物资装备部"],
        ["纳入标签", "承包商管理"],
        ["纳入类别", "无"],
        ["指定问题", f"{ROUND}/U04/P02"],
        [],
    ]
    assert rows[6] == list(ITEM_COLUMNS)
    assert rows[12:17] == [
        [],
        ["涉及单位", "问题数", "已销号", "未销号", "长期整改"],
        ["4", "5", "1", "3", "1"],
        [],
        ["序号", "机制措施", "状态"],
    ]
    assert rows[17:] == [
        ["1", "修订承包商管理办法", "已完成"],
        ["2", "建立承包商黑名单制度", "未开始"],
    ]

    exported(report, write_md, tmp_path / "t.md")
    text = (tmp_path / "t.md").read_text(encoding="utf-8")
    assert text.startswith(
        "# 2024年第一轮巡视 专题报告：承包商管理 截至 2024-09-13\n\n- 专题：T01 承包商管理\n"
        "- 牵头部门：物资装备部\n"
    )
    assert (
        "| 涉及单位 | 问题数 | 已销号 | 未销号 | 长期整改 |\n"
        "|---|---|---|---|---|\n"
        "| 4 | 5 | 1 | 3 | 1 |\n" in text
    )
    assert text.endswith(
        "| 1 | 修订承包商管理办法 | 已完成 |\n| 2 | 建立承包商黑名单制度 | 未开始 |\n"
    )
