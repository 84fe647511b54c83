"""The desk's reports over HTTP: ledger, themes, clues, progress, definitions and the audit —
who may see each (200), who is refused (403) and to whom it does not exist (404); the
downloads; the diagram and the chart."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date, timedelta
from urllib.parse import unquote

import pytest
from desk_harness import PASSWORD, ROUND, SCRIPT, USERS, Desk, csrf_of
from fastapi.testclient import TestClient
from forward import forward_path
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from xunshi.definitions.loader import builtin_definitions, parse_definition
from xunshi.read.ledger import COLUMNS
from xunshi.read.progress import ProgressPoint
from xunshi.services.commands import ClueFire, Handover, ItemFacts, TaskFacts
from xunshi.services.themes import ThemeSpec
from xunshi.storage import queries as q
from xunshi.web.diagram import draw, layers

OTHER_ROUND = "2024-R2"  # only U04, group G1: outside every group leader's and unit's scope
SVG = "{http://www.w3.org/2000/svg}"
CATEGORIES_YAML = """\
categories:
  党的建设:
    - 政治建设
  业务工作:
    - 财务管理
"""
TAGS_YAML = "tags:\n  - 承包商管理\n  - 合同资产管理\n"
OFFICE = "巡视办王主任"


# -- the fixture: items, tasks, a theme and clues on the desk's round ------------------


def drive_to(desk: Desk, key: str, stage: str) -> None:
    """Move a regular case along its forward path until it enters `stage`."""
    cases = desk.app.services.cases
    for step in forward_path():
        if step.stage == stage:
            return
        for need in step.needs:
            cases.record_milestone(
                key, need.name, actor="张组长", role=need.role, count=1 if need.counted else None
            )
        cases.fire(key, step.trigger, actor="张组长", role=step.role)
    raise AssertionError(f"{stage} is not on the forward path")


def add_item(desk: Desk, unit: str, code: str, category: str, tags: tuple[str, ...]) -> str:
    desk.app.services.items.add_item(
        f"{ROUND}/{unit}",
        ItemFacts(code=code, title=f"问题{code}", category=category, tags=tags),
        actor=OFFICE,
    )
    return f"{ROUND}/{unit}/{code}"


def accept(desk: Desk, item: str) -> None:
    """plan → begin → a task done → submit → three-party acceptance → 已销号."""
    items = desk.app.services.items
    for trigger in ("plan", "begin"):
        items.fire(item, trigger, actor="联络员", role="unit_liaison")
    task = items.add_task(
        item,
        TaskFacts(
            measure="建立健全制度",
            responsible_leader="赵副局长",
            lead_department="办公室",
            responsible_person="钱科长",
            due_on=date(2024, 10, 31),
        ),
        actor="联络员",
        role="unit_liaison",
    )
    items.complete_task(str(task.key), evidence="制度文件", actor="联络员", role="unit_liaison")
    items.fire(item, "submit", actor="联络员", role="unit_liaison")
    for milestone, role in (
        ("secretary_signed", "party_secretary"),
        ("office_accepted", "office"),
        ("discipline_accepted", "discipline_group"),
    ):
        items.record_milestone(item, milestone, actor="某人", role=role)
    items.fire(item, "accept", actor=OFFICE, role="office")


@pytest.fixture
def reports(desk: Desk) -> Iterator[Desk]:
    """The populated desk on SQLite with rectification under way (see `rectifying`)."""
    rectifying(desk)
    yield desk


@pytest.fixture
def any_reports(any_desk: Desk) -> Iterator[Desk]:
    """The same on each backend."""
    rectifying(any_desk)
    yield any_desk


def rectifying(desk: Desk) -> None:
    """The desk's round in 整改 with four problems, a theme and three clues; a second round.

    Day by day (business dates; the clock starts on Monday 2024-09-02):
    09-02 U01/P01 and U02/P01 added; 09-03 U01/P02 and U03/P01 added; 09-04 U01/P01 accepted;
    09-05 U01/P01 reopened and U02/P01 accepted; today is 09-06.
    Clues: U01:C01 handed to the discipline group, U03:C02 to the organisation department,
    U02:C03 not handed over.
    """
    services = desk.app.services
    services.items.load_categories(CATEGORIES_YAML, "categories.yaml")
    services.items.load_tags(TAGS_YAML, "tags.yaml")
    for unit in ("U01", "U02", "U03"):
        drive_to(desk, f"{ROUND}/{unit}", "rectification")
    handovers = (
        ("U01", "C01", "discipline_group"),
        ("U03", "C02", "organization_dept"),
        ("U02", "C03", None),
    )
    for unit, code, receiver in handovers:
        services.clues.add_clue(
            f"{ROUND}/{unit}", code=code, summary="某处处长违规问题", actor=OFFICE, role="office"
        )
        if receiver is not None:
            services.clues.fire(
                f"{ROUND}/{unit}:{code}",
                "hand_over",
                actor=OFFICE,
                role="office",
                records=ClueFire(handover=Handover(receiver)),
            )
    politics, finance = "党的建设/政治建设", "业务工作/财务管理"
    add_item(desk, "U01", "P01", politics, ("承包商管理",))
    add_item(desk, "U02", "P01", finance, ())
    desk.clock.advance(timedelta(days=1))
    add_item(desk, "U01", "P02", finance, ())
    add_item(desk, "U03", "P01", politics, ("承包商管理",))
    desk.clock.advance(timedelta(days=1))
    accept(desk, f"{ROUND}/U01/P01")
    desk.clock.advance(timedelta(days=1))
    services.items.fire(f"{ROUND}/U01/P01", "reopen", actor=OFFICE, role="office")
    accept(desk, f"{ROUND}/U02/P01")
    desk.clock.advance(timedelta(days=1))
    services.themes.add(
        ROUND,
        ThemeSpec(
            "T1", "承包商管理", "物资部", tags=("承包商管理",), measures=("修订承包商管理办法",)
        ),
        actor=OFFICE,
        role="office",
    )
    services.cases.create_round(OTHER_ROUND, "2024年第二轮巡视", date(2024, 9, 2))
    services.cases.add_group(OTHER_ROUND, "G1", "陈组长")
    services.cases.add_unit("U04", "某某物流公司")
    services.cases.start_case(
        round_code=OTHER_ROUND,
        unit_code="U04",
        group_code="G1",
        definition="regular",
        actor="巡视办",
    )


# -- who may see what -------------------------------------------------------------------

WHOLE = ("office", "leading_group", "discipline_group", "organization_dept")
SCOPED = ("group_leader", "unit_liaison", "party_secretary")


def expected(page: str, role: str, in_scope: bool) -> int:
    """The status each role gets for each page, in and out of their scope."""
    sees_round = role in WHOLE or (role in SCOPED and in_scope)
    if page in ("ledger", "ledger.xlsx", "ledger.csv", "themes", "theme", "theme.xlsx", "progress"):
        return 200 if sees_round else 404
    if page == "themes.xlsx":
        if role in WHOLE:
            return 200
        return 403 if sees_round else 404
    if page == "clues":
        return 200 if role in ("office", "discipline_group", "organization_dept") else 404
    if page in ("definitions", "definition"):
        return 200
    if page == "audit":
        return 200 if role == "office" else 404
    raise AssertionError(page)


PAGES = {
    "ledger": "/rounds/{round}/ledger",
    "ledger.xlsx": "/rounds/{round}/ledger?format=xlsx",
    "ledger.csv": "/rounds/{round}/ledger?format=csv",
    "themes": "/rounds/{round}/themes",
    "themes.xlsx": "/rounds/{round}/themes?format=xlsx",
    "theme": "/rounds/{round}/themes/T1",
    "theme.xlsx": "/rounds/{round}/themes/T1?format=xlsx",
    "clues": "/rounds/{round}/clues",
    "progress": "/rounds/{round}/progress",
    "definitions": "/definitions",
    "definition": "/definitions/regular",
    "audit": "/audit",
}


def test_every_page_answers_each_role_as_its_scope_allows(reports: Desk) -> None:
    for name, (role, _group, _unit) in USERS.items():
        # One event loop for all its requests: each request of a client not entered runs in
        # a new worker thread, and each thread holds a database connection of its own.
        with reports.signed_in(name) as client:
            check_pages(client, name, role)


def check_pages(client: TestClient, name: str, role: str) -> None:
    """Every page in and out of scope, as `expected` says."""
    for page, address in PAGES.items():
        for in_scope, round_code in ((True, ROUND), (False, OTHER_ROUND)):
            if page in ("theme", "theme.xlsx") and not in_scope:
                continue  # the other round has no themes: 404 for everyone (tested below)
            response = client.get(address.format(round=round_code))
            want = expected(page, role, in_scope)
            assert response.status_code == want, (name, role, page, round_code)
            if want == 404:
                assert "找不到这个页面" in response.text and "线索" not in response.text
            if want == 403:
                assert "专题汇总涵盖全轮各单位" in response.text
    # The one action: sealing, with the page's own CSRF token.
    sealed = client.post("/audit/seal", data={"csrf": csrf_of(client.get("/definitions").text)})
    assert sealed.status_code == (303 if role == "office" else 404), (name, role, "seal")


def test_the_other_rounds_theme_does_not_exist(reports: Desk) -> None:
    client = reports.signed_in("李明")
    assert client.get(f"/rounds/{OTHER_ROUND}/themes/T1").status_code == 404
    assert client.get(f"/rounds/{ROUND}/themes/T9").status_code == 404


def test_a_page_of_a_round_that_does_not_exist_is_not_found(reports: Desk) -> None:
    client = reports.signed_in("李明")
    for page in ("ledger", "themes", "clues", "progress"):
        assert client.get(f"/rounds/2099-R9/{page}").status_code == 404
    assert client.get("/definitions/nothing").status_code == 404
    assert client.get("/definitions/regular?version=99").status_code == 404
    assert client.get("/definitions/regular?version=x").status_code == 404


def test_the_pages_need_a_signed_in_user(reports: Desk) -> None:
    client = reports.client()
    for address in PAGES.values():
        response = client.get(address.format(round=ROUND))
        assert (response.status_code, response.headers["location"]) == (303, "/signin")
    assert client.post("/audit/seal", data={"csrf": "x"}).status_code in (303, 403)


def test_an_unknown_format_is_a_bad_request(reports: Desk) -> None:
    client = reports.signed_in("李明")
    for address in (f"/rounds/{ROUND}/ledger?format=pdf", f"/rounds/{ROUND}/themes?format=md"):
        response = client.get(address)
        assert response.status_code == 400 and "xlsx 或 csv" in response.text
    assert client.get(f"/rounds/{ROUND}/progress?by=year").status_code == 400


def test_the_nav_links_show_what_the_user_may_open(reports: Desk) -> None:
    office = reports.signed_in("李明").get(f"/rounds/{ROUND}").text
    for link in ("ledger", "themes", "progress", "clues"):
        assert f'href="/rounds/{ROUND}/{link}"' in office
    assert 'href="/audit"' in office and 'href="/definitions"' in office
    leader = reports.signed_in("王组长").get(f"/rounds/{ROUND}").text
    assert f'href="/rounds/{ROUND}/ledger"' in leader
    assert "/clues" not in leader and 'href="/audit"' not in leader
    assert 'href="/definitions"' in leader
    discipline = reports.signed_in("吴纪检").get(f"/rounds/{ROUND}").text
    assert f'href="/rounds/{ROUND}/clues"' in discipline and 'href="/audit"' not in discipline


def test_a_group_without_units_sees_empty_reports_of_its_round(reports: Desk) -> None:
    reports.app.services.cases.add_group(ROUND, "G3", "孙组长")
    reports.app.services.users.add(
        "孙组长", "group_leader", PASSWORD, group=f"{ROUND}/G3", unit=None
    )
    client = reports.signed_in("孙组长")
    assert "台账中还没有您可以查看的问题" in client.get(f"/rounds/{ROUND}/ledger").text
    assert ledger_units(reports, "孙组长") == []
    assert "这一轮还没有您可以查看的问题" in client.get(f"/rounds/{ROUND}/progress").text
    theme = client.get(f"/rounds/{ROUND}/themes/T1").text
    assert "没有您可以查看的问题" in theme and "U01" not in theme
    assert client.get(f"/rounds/{OTHER_ROUND}/ledger").status_code == 404


# -- the ledger -------------------------------------------------------------------------


def ledger_units(reports: Desk, name: str) -> list[str]:
    """被巡视单位 of each row of the ledger's CSV as `name` downloads it."""
    response = reports.signed_in(name).get(f"/rounds/{ROUND}/ledger?format=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS
    assert [row[0] for row in rows[1:]] == [str(n) for n in range(1, len(rows))]
    return [row[COLUMNS.index("被巡视单位")] for row in rows[1:]]


def test_the_ledger_holds_the_rows_of_the_users_units(reports: Desk) -> None:
    assert ledger_units(reports, "李明") == ["某某电力公司"] * 2 + ["某某港务集团", SCRIPT]
    assert ledger_units(reports, "吴纪检") == ledger_units(reports, "李明")
    assert ledger_units(reports, "王组长") == ["某某电力公司"] * 2 + ["某某港务集团"]
    assert ledger_units(reports, "钱组长") == [SCRIPT]
    assert ledger_units(reports, "赵联络员") == ["某某港务集团"]
    assert ledger_units(reports, "孙书记") == ["某某电力公司"] * 2


def test_the_ledger_page_shows_the_rows_and_escapes_the_units_name(reports: Desk) -> None:
    html = reports.signed_in("李明").get(f"/rounds/{ROUND}/ledger").text
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "P01 问题P01" in html and "建立健全制度" in html and "未制定措施" in html
    assert 'href="?format=xlsx"' in html and 'href="?format=csv"' in html
    leader = reports.signed_in("王组长").get(f"/rounds/{ROUND}/ledger").text
    assert "某某港务集团" in leader and "alert(1)" not in leader


def test_the_ledger_downloads_as_a_workbook_with_the_rows(reports: Desk) -> None:
    response = reports.signed_in("李明").get(f"/rounds/{ROUND}/ledger?format=xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="ledger-2024-R1.xlsx"')
    assert "整改台账" in unquote(disposition.split("filename*=UTF-8''")[1])
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["整改台账"]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "2024年第一轮巡视 整改台账 截至 2024-09-06"
    assert tuple(values[1]) == COLUMNS
    body = values[2:]
    assert len(body) == 4
    unit = COLUMNS.index("被巡视单位")
    assert [row[unit] for row in body] == ["某某电力公司"] * 2 + ["某某港务集团", SCRIPT]
    accepted = COLUMNS.index("验收情况")
    assert [row[accepted] for row in body] == [None, None, "三方验收通过", None]


def test_the_ledger_csv_has_a_content_type_and_a_file_name(reports: Desk) -> None:
    response = reports.signed_in("孙书记").get(f"/rounds/{ROUND}/ledger?format=csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    disposition = response.headers["content-disposition"]
    assert 'filename="ledger-2024-R1.csv"' in disposition
    # One unit's ledger is titled after the unit, as `ledger export --case` titles it.
    assert "某某电力公司整改台账" in unquote(disposition)


# -- themes -----------------------------------------------------------------------------


def test_the_themes_page_shows_the_themes_and_the_summary(reports: Desk) -> None:
    html = reports.signed_in("周领导").get(f"/rounds/{ROUND}/themes").text
    assert f'href="/rounds/{ROUND}/themes/T1"' in html and "T1 承包商管理" in html
    assert "专题汇总（按问题类别）" in html and "政治建设" in html and "财务管理" in html
    leader = reports.signed_in("钱组长").get(f"/rounds/{ROUND}/themes").text
    assert "T1 承包商管理" in leader and "专题汇总（按问题类别）" not in leader


def test_the_thematic_summary_downloads_as_csv(reports: Desk) -> None:
    response = reports.signed_in("李明").get(f"/rounds/{ROUND}/themes?format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["一级类别", "二级类别", "涉及单位数", "问题数"]
    assert [row[:4] for row in rows[1:]] == [
        ["党的建设", "政治建设", "2", "2"],
        ["业务工作", "财务管理", "2", "2"],
    ]
    assert 'filename="themes-2024-R1.csv"' in response.headers["content-disposition"]


def test_a_theme_shows_only_the_items_in_scope(reports: Desk) -> None:
    office = reports.signed_in("李明").get(f"/rounds/{ROUND}/themes/T1").text
    assert "2024-R1/U01/P01" in office and "2024-R1/U03/P01" in office
    assert "&lt;script&gt;" in office and SCRIPT not in office
    assert "修订承包商管理办法" in office and "物资部" in office
    leader = reports.signed_in("王组长").get(f"/rounds/{ROUND}/themes/T1").text
    assert "2024-R1/U01/P01" in leader and "2024-R1/U03/P01" not in leader
    liaison = reports.signed_in("赵联络员").get(f"/rounds/{ROUND}/themes/T1").text
    assert "2024-R1/U01/P01" not in liaison and "没有您可以查看的问题" in liaison


def test_a_theme_downloads_as_a_workbook(reports: Desk) -> None:
    response = reports.signed_in("王组长").get(f"/rounds/{ROUND}/themes/T1?format=xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    items = [list(r) for r in book["问题分布"].iter_rows(values_only=True)][2:]
    assert [row[:3] for row in items] == [
        [1, "某某电力公司", "2024-R1/U01/P01"],
        ["合计", "1个单位", "1个问题"],
    ]
    measures = [list(r) for r in book["机制建设"].iter_rows(values_only=True)][2:]
    assert measures == [[1, "修订承包商管理办法", "未开始"]]
    assert 'filename="theme-2024-R1-T1.xlsx"' in response.headers["content-disposition"]


# -- clues ------------------------------------------------------------------------------


def clue_keys(reports: Desk, name: str) -> list[str]:
    html = reports.signed_in(name).get(f"/rounds/{ROUND}/clues").text
    return [key for key in ("U01:C01", "U03:C02", "U02:C03") if f"{ROUND}/{key}" in html]


def test_clues_are_seen_by_the_office_and_their_receivers_only(reports: Desk) -> None:
    assert clue_keys(reports, "李明") == ["U01:C01", "U03:C02", "U02:C03"]
    assert clue_keys(reports, "吴纪检") == ["U01:C01"]
    assert clue_keys(reports, "郑组织") == ["U03:C02"]
    for name in ("周领导", "王组长", "钱组长", "赵联络员", "孙书记", "冯职能"):
        response = reports.signed_in(name).get(f"/rounds/{ROUND}/clues")
        assert response.status_code == 404 and "C01" not in response.text


def test_the_clues_page_escapes_the_units_name(reports: Desk) -> None:
    html = reports.signed_in("郑组织").get(f"/rounds/{ROUND}/clues").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and SCRIPT not in html
    assert "某处处长违规问题" in html and "组织部" in html


# -- progress ---------------------------------------------------------------------------


def points_of(reports: Desk, name: str, by: str = "day") -> list[tuple[str, int, int]]:
    """(day, open, accepted) of each point of the chart as `name` sees it."""
    response = reports.signed_in(name).get(f"/rounds/{ROUND}/progress?by={by}")
    assert response.status_code == 200
    start = response.text.index("<svg")
    svg = ET.fromstring(response.text[start : response.text.index("</svg>", start) + 6])
    circles = svg.iter(f"{SVG}circle")
    return [
        (c.attrib["data-day"], int(c.attrib["data-open"]), int(c.attrib["data-accepted"]))
        for c in circles
        if c.attrib.get("class") == "point"
    ]


def test_the_progress_chart_counts_open_and_accepted_problems_by_day(reports: Desk) -> None:
    # Hand-counted from the fixture's story (see `reports`).
    assert points_of(reports, "李明") == [
        ("2024-09-02", 2, 0),
        ("2024-09-03", 4, 0),
        ("2024-09-04", 3, 1),
        ("2024-09-05", 3, 1),
        ("2024-09-06", 3, 1),
    ]
    assert points_of(reports, "王组长") == [
        ("2024-09-02", 2, 0),
        ("2024-09-03", 3, 0),
        ("2024-09-04", 2, 1),
        ("2024-09-05", 2, 1),
        ("2024-09-06", 2, 1),
    ]
    assert points_of(reports, "赵联络员") == [
        ("2024-09-02", 1, 0),
        ("2024-09-03", 1, 0),
        ("2024-09-04", 1, 0),
        ("2024-09-05", 0, 1),
        ("2024-09-06", 0, 1),
    ]
    # By week: the week's Sunday, the last week up to today.
    assert points_of(reports, "李明", "week") == [("2024-09-06", 3, 1)]


def test_the_reports_read_alike_on_each_backend(any_reports: Desk) -> None:
    assert points_of(any_reports, "李明")[1:3] == [("2024-09-03", 4, 0), ("2024-09-04", 3, 1)]
    assert ledger_units(any_reports, "王组长") == ["某某电力公司"] * 2 + ["某某港务集团"]
    assert clue_keys(any_reports, "吴纪检") == ["U01:C01"]
    client = any_reports.signed_in("李明")
    theme = client.get(f"/rounds/{ROUND}/themes/T1?format=csv")
    assert "2024-R1/U03/P01" in theme.content.decode("utf-8-sig")
    token = csrf_of(client.get("/audit").text)
    assert client.post("/audit/seal", data={"csrf": token}).status_code == 303
    assert seals(any_reports) == 1


def test_the_progress_series_by_week_ends_each_week_on_sunday(reports: Desk) -> None:
    reports.clock.advance(timedelta(days=10))  # today 09-16, a Monday
    progress = reports.app.services.read.progress.of(ROUND)
    assert progress.series("week") == (
        ProgressPoint(date(2024, 9, 8), 3, 1),
        ProgressPoint(date(2024, 9, 15), 3, 1),
        ProgressPoint(date(2024, 9, 16), 3, 1),
    )
    assert len(progress.series("day")) == 15


def test_a_withdrawn_problem_counts_until_the_day_it_was_withdrawn(reports: Desk) -> None:
    reports.app.services.items.void(
        f"{ROUND}/U01/P02", actor=OFFICE, role="office", reason="重复登记"
    )
    reports.clock.advance(timedelta(days=1))
    progress = reports.app.services.read.progress.of(ROUND)
    assert [(p.day.day, p.open, p.accepted) for p in progress.series("day")][3:] == [
        (5, 3, 1),
        (6, 2, 1),
        (7, 2, 1),
    ]
    assert [(p.day.day, p.open, p.accepted) for p in progress.only(["u01"]).series("day")] == [
        (2, 1, 0),
        (3, 2, 0),
        (4, 1, 1),
        (5, 2, 0),
        (6, 1, 0),
        (7, 1, 0),
    ]


def test_the_progress_page_has_a_legend_axes_and_a_table(reports: Desk) -> None:
    html = reports.signed_in("李明").get(f"/rounds/{ROUND}/progress").text
    assert "未销号" in html and "已销号" in html and 'class="legend"' in html
    assert '<td>2024-09-03</td><td class="num">4</td>' in html


# -- definitions ------------------------------------------------------------------------


def test_the_definitions_page_lists_the_loaded_definitions(reports: Desk) -> None:
    html = reports.signed_in("冯职能").get("/definitions").text
    for name in ("regular", "rectification", "clue"):
        assert f'href="/definitions/{name}"' in html
    assert "常规巡视" in html and "巡视整改问题" in html


@pytest.mark.parametrize("name", ["regular", "rectification", "clue"])
def test_a_definitions_diagram_is_svg_naming_every_state(reports: Desk, name: str) -> None:
    html = reports.signed_in("赵联络员").get(f"/definitions/{name}").text
    start = html.index("<svg")
    svg = ET.fromstring(html[start : html.index("</svg>", start) + 6])
    defn = reports.app.services.read.catalog.definition(name).definition
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    for state in defn.states:
        assert state.title in texts, state.name
    for transition in defn.transitions:
        assert (transition.title or transition.trigger) in texts
    groups = {g.attrib.get("class") for g in svg.iter(f"{SVG}g")}
    assert {"initial", "state", "state final", "transition"} <= groups
    finals = [g for g in svg.iter(f"{SVG}g") if g.attrib.get("class") == "state final"]
    assert len(finals) == sum(s.final for s in defn.states)


HOSTILE = """\
name: hostile
title: "<b>恶意</b> & \\"引号\\""
subject: case
calendar: cn
initial: a
roles:
  office: "<i>巡视办</i>"
states:
  a:
    title: "<script>alert(1)</script>"
  b:
    title: "B & 'C'"
  c:
    title: 完
    final: true
transitions:
  - {trigger: go, source: a, dest: b, roles: [office], title: "</text><x>"}
  - {trigger: back, source: b, dest: a, roles: [office], title: 回退}
  - {trigger: end, source: b, dest: c, roles: [office], title: 结束}
"""


def test_the_diagram_escapes_every_text() -> None:
    defn = parse_definition(HOSTILE)
    picture = draw(defn)
    svg = ET.fromstring(picture)  # what is not escaped would break the XML
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "<script>alert(1)</script>" in texts and "B & 'C'" in texts
    assert "</text><x>" in texts and "<i>巡视办</i>" in texts
    assert "<script>" not in picture and "<i>" not in picture and "<x>" not in picture


def test_the_diagram_is_laid_out_in_columns_the_same_every_time() -> None:
    regular = {d.name: d for d in builtin_definitions()}["regular"]
    assert draw(regular) == draw(regular)
    column, back = layers(regular)
    assert column[regular.initial] == 0
    assert ("office_review", "drafting") in back  # 退回修改 goes back
    assert ("evaluation", "rectification") in back  # 二次整改 too
    # Along the forward path every stage stands one column further right.
    path = [step.stage for step in forward_path()]
    assert [column[stage] for stage in path] == list(range(len(path)))
    hostile = layers(parse_definition(HOSTILE))
    assert hostile == ({"a": 0, "b": 1, "c": 2}, {("b", "a")})


# -- the audit --------------------------------------------------------------------------


def seals(reports: Desk) -> int:
    with reports.app.db.transaction() as conn:
        return int(conn.execute(select(func.count()).select_from(q.seals)).scalar_one())


def test_the_audit_page_verifies_the_chains(reports: Desk) -> None:
    html = reports.signed_in("李明").get("/audit").text
    report = reports.app.services.audit.verify()
    assert report.ok and report.events > 20
    assert f'<strong class="chains">{report.chains}</strong>' in html
    assert f'<strong class="events">{report.events}</strong>' in html
    assert "校验通过" in html


def test_sealing_shows_the_digest_to_keep_elsewhere(reports: Desk) -> None:
    client = reports.signed_in("李明")
    token = csrf_of(client.get("/audit").text)
    response = client.post("/audit/seal", data={"csrf": token})
    assert response.status_code == 303
    assert seals(reports) == 1
    page = client.get(response.headers["location"])
    digest = response.headers["location"].split("seal=")[1].split("&")[0]
    assert len(digest) == 64
    assert f'<code class="digest">{digest}</code>' in page.text and "与封存摘要一致" in page.text


@pytest.mark.parametrize("sent", [None, "", "wrong"])
def test_sealing_without_the_right_csrf_token_is_refused(reports: Desk, sent: str | None) -> None:
    client = reports.signed_in("李明")
    client.get("/audit")
    data = {} if sent is None else {"csrf": sent}
    response = client.post("/audit/seal", data=data)
    assert response.status_code == 403 and "安全校验未通过" in response.text
    assert seals(reports) == 0


@pytest.mark.parametrize("name", [n for n, (role, *_) in USERS.items() if role != "office"])
def test_only_the_office_may_seal(reports: Desk, name: str) -> None:
    client = reports.signed_in(name)
    token = csrf_of(client.get("/definitions").text)
    response = client.post("/audit/seal", data={"csrf": token})
    assert response.status_code == 404 and "找不到这个页面" in response.text
    assert seals(reports) == 0


def test_a_broken_chain_is_shown_and_not_sealed(reports: Desk) -> None:
    case = reports.app.services.read.cases.one(f"{ROUND}/U02")
    with reports.app.db.transaction() as conn:
        conn.execute(
            update(q.events)
            .where(q.events.c.instance_id == case.id, q.events.c.seq == 2)
            .values(actor="篡改者")
        )
    client = reports.signed_in("李明")
    page = client.get("/audit")
    assert page.status_code == 200
    assert "校验未通过" in page.text and "第一处：case 2024-R1/U02 第 2 个事件" in page.text
    response = client.post("/audit/seal", data={"csrf": csrf_of(page.text)})
    assert response.status_code == 409 and "not sealing it" in response.text
    assert seals(reports) == 0


def test_a_seal_that_is_not_one_is_a_message(reports: Desk) -> None:
    client = reports.signed_in("李明")
    response = client.get("/audit?seal=nothex")
    assert response.status_code == 400 and "is not a seal digest" in response.text
    response = client.get("/audit?seal=" + "0" * 64)
    assert response.status_code == 400 and "no seal" in response.text
