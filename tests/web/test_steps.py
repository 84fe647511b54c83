"""Lifecycle steps on the desk: the buttons a case or a problem offers are the steps the
definition gives the user's role, and the supervising bodies (the discipline group, the
organisation department) take the steps the definitions name them for — reviewing a
rectification plan, accepting a problem (销号) — and no other."""

from __future__ import annotations

import pytest
from desk_harness import ROUND, USERS, Desk, csrf_of
from fastapi.testclient import TestClient
from forward import forward_path
from httpx2 import Response
from items_world import ACCEPTING, Place, with_items

CASE = f"/cases/{ROUND}/U01"
READ_ONLY = "只能查看，不能办理"


def events_of(desk: Desk, key: str, kind: str = "case") -> list[tuple[str, str | None, str]]:
    """(actor, role, kind) of each event of a case or an item."""
    return [(e.actor, e.role, e.kind) for e in desk.app.services.read.history.of(key, kind).events]


def post(client: TestClient, page: str, action: str, data: dict[str, str]) -> Response:
    """Open `page`, then post `data` to `action` with the page's CSRF token."""
    return client.post(action, data={**data, "csrf": csrf_of(client.get(page).text)})


def to_plan_review(desk: Desk) -> None:
    """Move U01 into 整改方案 (rectification_plan), its plan submitted by the unit."""
    cases = desk.app.services.cases
    for step in forward_path():
        if step.stage == "rectification_plan":
            break
        for need in step.needs:
            count = 12 if need.counted else None
            cases.record_milestone(
                f"{ROUND}/U01", need.name, actor="张组长", role=need.role, count=count
            )
        cases.fire(f"{ROUND}/U01", step.trigger, actor="张组长", role=step.role)
    cases.record_milestone(f"{ROUND}/U01", "plan_submitted", actor="孙书记", role="party_secretary")


def buttons(html: str) -> list[str]:
    """The titles of the step buttons on a page."""
    return [
        part.split("</button>")[0]
        for part in html.split('<button type="submit">')[1:]
        if part.startswith(("记录节点：", "办理："))
    ]


# -- what a case offers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "offered"),
    [
        ("李明", ["记录节点：听取有关部门情况通报", "记录节点：巡前培训"]),
        (
            "王组长",
            ["记录节点：听取有关部门情况通报", "记录节点：巡前培训", "办理：进驻（召开动员会）"],
        ),
        ("孙书记", ["记录节点：听取有关部门情况通报", "记录节点：巡前培训"]),
        ("吴纪检", []),
        ("郑组织", []),
    ],
)
def test_a_case_offers_the_steps_of_the_users_role(
    desk: Desk, name: str, offered: list[str]
) -> None:
    html = desk.signed_in(name).get(CASE).text
    assert buttons(html) == offered
    if not offered:
        assert "在本阶段没有可办理的事项，只能查看" in html


def test_the_supervisors_review_the_rectification_plan(desk: Desk) -> None:
    to_plan_review(desk)
    discipline = desk.signed_in("吴纪检")
    assert buttons(discipline.get(CASE).text) == ["记录节点：纪检监察组审核整改方案"]
    assert buttons(desk.signed_in("郑组织").get(CASE).text) == ["记录节点：组织部审核整改方案"]
    assert buttons(desk.signed_in("李明").get(CASE).text) == [
        "记录节点：巡视办审核整改方案",
        "办理：退回修改整改方案",
        "办理：审核通过整改方案",
    ]

    before = events_of(desk, f"{ROUND}/U01")
    # Another body's review, or a step any role may take, is not theirs.
    for action, data in (
        ("milestone", {"name": "plan_reviewed_organization"}),
        ("fire", {"trigger": "approve_plan"}),
    ):
        refused = post(discipline, CASE, f"{CASE}/{action}", data)
        assert refused.status_code == 403 and READ_ONLY in refused.text
    assert events_of(desk, f"{ROUND}/U01") == before

    done = post(discipline, CASE, f"{CASE}/milestone", {"name": "plan_reviewed_discipline"})
    assert done.status_code == 303
    assert events_of(desk, f"{ROUND}/U01") == [*before, ("吴纪检", "discipline_group", "milestone")]


# -- accepting a problem (销号) ------------------------------------------------------------------


def test_a_problem_is_accepted_on_the_desk_by_the_three_who_sign(desk: Desk) -> None:
    world = with_items(desk)
    page = Place.of(ACCEPTING).page
    expected = {
        "孙书记": ["记录节点：党组织书记签字"],
        "吴纪检": ["记录节点：纪检监察组审核", "办理：重新整改"],
        "李明": ["记录节点：巡视办审核", "办理：验收销号", "办理：重新整改"],
        "郑组织": [],
        "王组长": [],
    }
    for name, offered in expected.items():
        assert buttons(world.signed_in(name).get(page).text) == offered, name

    before = events_of(world, ACCEPTING, "item")
    # The organisation department does not sign for the discipline group; another unit's
    # liaison finds no such problem; a form without its token writes nothing.
    refused = post(
        world.signed_in("郑组织"), page, f"{page}/milestone", {"name": "discipline_accepted"}
    )
    assert refused.status_code == 403
    hidden = post(
        world.signed_in("赵联络员"), "/inbox", f"{page}/milestone", {"name": "secretary_signed"}
    )
    assert hidden.status_code == 404
    forged = world.signed_in("孙书记").post(f"{page}/milestone", data={"name": "secretary_signed"})
    assert forged.status_code == 403
    assert events_of(world, ACCEPTING, "item") == before

    for name, milestone in (
        ("孙书记", "secretary_signed"),
        ("吴纪检", "discipline_accepted"),
        ("李明", "office_accepted"),
    ):
        done = post(world.signed_in(name), page, f"{page}/milestone", {"name": milestone})
        assert (done.status_code, done.headers["location"]) == (303, page)
    accepted = post(
        world.signed_in("李明"),
        page,
        f"{page}/fire",
        {"trigger": "accept", "reason": "三方验收通过"},
    )
    assert accepted.status_code == 303

    after = events_of(world, ACCEPTING, "item")[len(before) :]
    assert after == [
        ("孙书记", USERS["孙书记"][0], "milestone"),
        ("吴纪检", "discipline_group", "milestone"),
        ("李明", "office", "milestone"),
        ("李明", "office", "transition"),
    ]
    assert world.app.services.read.items.one(ACCEPTING).state == "accepted"
