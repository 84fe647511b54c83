"""The inbox (待办): what waits for each user within their scope, each entry linking to a page
they may open; escalations, the office's decisions, acceptance and extension requests."""

from __future__ import annotations

import re
from datetime import date

import pytest
from desk_harness import ROUND, USERS, Desk
from fastapi.testclient import TestClient
from items_world import ACCEPTING, ITEM_U01, ITEM_U02, Place, with_items


@pytest.fixture
def world(desk: Desk) -> Desk:
    """The populated desk with its problem list and escalations."""
    return with_items(desk)


def inbox(client: TestClient) -> str:
    """The main part of the user's inbox page."""
    response = client.get("/inbox")
    assert response.status_code == 200
    return response.text[response.text.index("<main>") :]


def count_of(html: str) -> int:
    """How many entries the inbox says it has."""
    found = re.search(r"共 (\d+) 项", html)
    assert found is not None, html
    return int(found.group(1))


def links_of(html: str) -> set[str]:
    """The addresses the inbox's entries link to."""
    return set(re.findall(r'<a href="([^"]+)">', html))


TASK2 = f"{Place.of(ITEM_U02).page}#task-2"
ACCEPTING_PAGE = Place.of(ACCEPTING).page
# name → (how many entries, what must be there, what must not)
EXPECTED: dict[str, tuple[int, tuple[str, ...], tuple[str, ...]]] = {
    # The office: notified of the overdue task and stage, the 约谈 proposal to decide, the
    # clue to hand over, its part of the acceptance.
    "李明": (
        6,
        ("整改超期预警", "整改督办", "约谈主要负责人", f"{ROUND}/U01:C01", "巡视办审核"),
        ("整改到期提醒",),
    ),
    "周领导": (0, ("没有发给您的预警或督办",), ("约谈主要负责人",)),
    "王组长": (0, (), ("整改超期预警", "待巡视办决定")),
    "钱组长": (0, (), ("整改超期预警",)),
    # The liaison of U02: the reminder and the warning of its overdue task; not U01's stage.
    "赵联络员": (2, ("整改到期提醒", "整改超期预警", TASK2), (ACCEPTING_PAGE, "待移交")),
    # The secretary of U01: the signature; not U02's 督办 (addressed to secretaries).
    "孙书记": (1, ("党组织书记签字", ACCEPTING_PAGE), ("整改督办", "约谈主要负责人")),
    "吴纪检": (2, ("整改督办", "纪检监察组审核"), ("约谈主要负责人",)),
    "郑组织": (0, (), ("约谈主要负责人",)),
    "冯职能": (0, (), ("整改超期预警", "党组织书记签字")),
}


def test_the_table_covers_every_user() -> None:
    assert set(EXPECTED) == set(USERS)


@pytest.mark.parametrize("name", list(USERS))
def test_what_waits_for_each_user(world: Desk, name: str) -> None:
    count, present, absent = EXPECTED[name]
    client = world.signed_in(name)
    html = inbox(client)
    assert count_of(html) == count
    for text in present:
        assert text in html, text
    for text in absent:
        assert text not in html, text
    # Every entry links to a page the user may open.
    for link in links_of(html):
        assert client.get(link.partition("#")[0]).status_code == 200, link


def test_the_nav_and_the_round_page_lead_to_the_new_pages(world: Desk) -> None:
    client = world.signed_in("赵联络员")
    page = client.get(f"/rounds/{ROUND}").text
    assert '<a href="/inbox">待办</a>' in page
    assert f'href="/rounds/{ROUND}/items">问题清单</a>' in page
    assert f'href="/rounds/{ROUND}/tasks">任务清单</a>' in page


def test_extension_requests_wait_for_the_office_and_show_to_their_requester(world: Desk) -> None:
    extensions = world.app.services.extensions
    extensions.request(
        f"{ITEM_U01}#1", date(2025, 1, 31), reason="需经党委会研究", actor="孙书记",
        role="party_secretary",
    )  # fmt: skip
    office = inbox(world.signed_in("李明"))
    assert "待审批的延期申请" in office and f"{ITEM_U01}#1" in office
    assert "需经党委会研究" in office and count_of(office) == 7
    mine = inbox(world.signed_in("孙书记"))
    assert "我的延期申请（待审批）" in mine and f"{ITEM_U01}#1" in mine
    other = inbox(world.signed_in("赵联络员"))  # another unit's request: not theirs
    assert f"{ITEM_U01}#1" not in other and "我的延期申请" not in other
    assert "待审批的延期申请" not in inbox(world.signed_in("周领导"))  # not an approver

    extensions.decide(
        f"{ITEM_U01}#1", approve=False, reason="理由不充分", actor="李明", role="office"
    )
    assert f"{ITEM_U01}#1" not in inbox(world.signed_in("李明"))
    assert "我的延期申请" not in inbox(world.signed_in("孙书记"))


def test_a_confirmed_proposal_leaves_the_office_and_reaches_its_recipients(world: Desk) -> None:
    services = world.app.services
    (proposal,) = services.read.escalations.many(pending_decision=True)
    assert proposal.title == "约谈主要负责人"
    services.escalations.decide(
        proposal.id, confirm=True, reason="约谈单位主要负责人", actor="李明", role="office"
    )
    office = inbox(world.signed_in("李明"))
    assert "没有待决定的约谈、问责建议等事项" in office
    for name in ("郑组织", "吴纪检"):  # notified: the organisation dept, the discipline group
        assert "约谈主要负责人" in inbox(world.signed_in(name)), name
    assert "约谈主要负责人" not in inbox(world.signed_in("孙书记"))  # U02 is not theirs


def test_acceptance_waits_on_each_party_then_on_the_office(world: Desk) -> None:
    items = world.app.services.items
    items.record_milestone(ACCEPTING, "secretary_signed", actor="孙书记", role="party_secretary")
    assert "党组织书记签字" not in inbox(world.signed_in("孙书记"))
    items.record_milestone(
        ACCEPTING, "discipline_accepted", actor="吴纪检", role="discipline_group"
    )
    assert ACCEPTING_PAGE not in inbox(world.signed_in("吴纪检"))
    office = inbox(world.signed_in("李明"))
    assert "巡视办审核" in office and "验收销号" in office
    assert ">巡视办审核</td>" in office  # the acceptance waits for the milestone first
    items.record_milestone(ACCEPTING, "office_accepted", actor="李明", role="office")
    office = inbox(world.signed_in("李明"))
    assert ">验收销号</td>" in office  # now the acceptance itself
    items.fire(ACCEPTING, "accept", actor="李明", role="office")
    assert ACCEPTING_PAGE not in inbox(world.signed_in("李明"))
    page = world.signed_in("李明").get(ACCEPTING_PAGE).text
    assert "当前阶段：已销号" in page and "已销号。" in page
