"""The web desk in a real browser (headless Chromium): the office, a group leader and a unit
liaison at work on the demo's round, each seeing and doing only what is theirs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_harness import NEXT_ROUND, NEXT_UNIT, Served, Visit, person

from xunshi.bootstrap import services
from xunshi.demo.scenario import ROUND, UNITS

pytestmark = pytest.mark.slow


@pytest.fixture
def visit(browser: Any, served: Served, artifacts: Path) -> Any:
    """Open a browser for the demo's user of a role (closed after the test)."""
    opened: list[Visit] = []

    def open_for(role: str) -> Visit:
        opened.append(Visit(browser, served, person(role), artifacts))
        opened[-1].sign_in()
        return opened[-1]

    yield open_for
    for one in opened:
        one.close()


def history_of(served: Served, key: str) -> list[tuple[str, str | None, str]]:
    """(actor, role, kind) of each event of case `key`."""
    found = services(served.settings, served.clock)
    try:
        return [(e.actor, e.role, e.kind) for e in found.read.history.of(key).events]
    finally:
        found.close()


def test_the_office_sees_the_round_and_moves_a_case(visit: Any, served: Served) -> None:
    office = visit("office")
    page = office.page

    # The round at a glance: every unit in the matrix and on the timeline picture.
    office.go(f"/rounds/{ROUND}")
    rows = page.locator("table.matrix tbody tr")
    assert rows.count() == len(UNITS)
    shown = {rows.nth(n).locator("td").first.inner_text().split()[0] for n in range(rows.count())}
    assert shown == {unit.code for unit in UNITS}
    timeline = page.locator("svg.timeline")
    assert timeline.count() == 1
    assert timeline.locator("text.label").count() == len(UNITS)
    assert timeline.locator("rect").count() > len(UNITS)
    office.shoot("overview", doc="overview")

    # The next round's case, waiting for the office's review (巡视办审核).
    office.go("/rounds")
    page.click(f"a[href='/rounds/{NEXT_ROUND}']")
    page.click(f"a[href='/cases/{NEXT_ROUND}/{NEXT_UNIT}']")
    page.wait_for_load_state()
    assert "当前阶段：巡视办审核" in page.inner_text("h2")
    office.shoot("case")

    form = page.locator("form.action", has_text="记录节点：组办共商")
    form.locator("input[name=reason]").fill("组办共商会议纪要已存档")
    form.locator("button").click()
    page.wait_for_load_state()
    office.shoot("milestone-recorded")
    form = page.locator("form.action", has_text="办理：报领导小组")
    form.locator("input[name=reason]").fill("报告经审核通过")
    form.locator("button").click()
    page.wait_for_load_state()
    office.shoot("trigger-fired", doc="case")

    assert "当前阶段：领导小组听取汇报" in page.inner_text("h2")
    history = page.locator("table.history tbody tr")
    last_two = [history.nth(history.count() - n).inner_text() for n in (2, 1)]
    for text in ("组办共商", "林静", "组办共商会议纪要已存档"):
        assert text in last_two[0]
    assert "报领导小组" in last_two[1] and "林静" in last_two[1]
    # What the page shows is what the history holds: the signed-in name and role.
    assert history_of(served, f"{NEXT_ROUND}/{NEXT_UNIT}")[-2:] == [
        ("林静", "office", "milestone"),
        ("林静", "office", "transition"),
    ]


def test_a_group_leader_sees_only_their_group(visit: Any, served: Served) -> None:
    leader = visit("group_leader")
    page = leader.page
    group = (person("group_leader").group or "").split("/")[1]
    theirs = {unit.code for unit in UNITS if unit.group == group}

    leader.go("/rounds")
    assert page.locator(f"a[href='/rounds/{ROUND}']").count() == 1
    assert page.locator(f"a[href='/rounds/{NEXT_ROUND}']").count() == 0

    leader.go(f"/rounds/{ROUND}")
    rows = page.locator("table.matrix tbody tr")
    shown = {rows.nth(n).locator("td").first.inner_text().split()[0] for n in range(rows.count())}
    assert shown == theirs
    assert page.locator("svg.timeline text.label").count() == len(theirs)
    leader.shoot("overview", doc="group-leader")

    # Another group's case does not exist for them.
    other = next(unit.code for unit in UNITS if unit.group != group)
    response = leader.go(f"/cases/{ROUND}/{other}")
    assert response.status == 404
    assert "找不到这个页面" in page.inner_text("body")
    mine = sorted(theirs)[0]
    assert leader.go(f"/cases/{ROUND}/{mine}").status == 200
