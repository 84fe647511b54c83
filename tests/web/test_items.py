"""The problem list on the desk: the items and tasks pages, the item page and its task forms,
the JSON API, who may see and do what (a table per page and action), CSRF, escaping, and the
extension flow (the unit asks, the office approves, the due date moves)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from desk_harness import ROUND, SCRIPT, USERS, Desk, csrf_of
from fastapi.testclient import TestClient
from items_world import (
    ACCEPTING,
    DUE,
    ITEM_U01,
    ITEM_U02,
    ITEM_U03,
    OTHER_ROUND,
    Place,
    with_items,
)

from xunshi.read.items import TaskView

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
MESSAGE = re.compile(r'<p class="message" role="alert">([^<]+)</p>')
READ_ONLY = "只能查看，不能办理"


@pytest.fixture
def world(desk: Desk) -> Desk:
    """The populated desk with its problem list."""
    return with_items(desk)


def bearer_of(desk: Desk, name: str) -> dict[str, str]:
    """The Authorization header of a new API token of `name`."""
    return {"Authorization": f"Bearer {desk.app.services.users.new_token(name).token}"}


def message_of(html: str) -> str:
    """The one message a page shows."""
    found = MESSAGE.search(html)
    assert found is not None, html
    return found.group(1)


def task_of(desk: Desk, item: str, number: int = 1) -> TaskView:
    """Task `number` of an item, as the read side has it now."""
    view = desk.app.services.read.items.one(item)
    return next(t for t in view.tasks if t.number == number)


def events_of(desk: Desk, item: str) -> list[tuple[str, str | None, str, str | None]]:
    """(actor, role, kind, trigger) of each event of an item."""
    history = desk.app.services.read.history.of(item, "item")
    return [(e.actor, e.role, e.kind, e.trigger) for e in history.events]


def post_task(
    client: TestClient, item: str, action: str, data: dict[str, str], number: int = 1
) -> Any:
    """Open the item page (or the rounds page when it is hidden), then post a task form
    with the page's CSRF token."""
    place = Place.of(item)
    page = client.get(place.page)
    token = csrf_of(page.text if page.status_code != 404 else client.get("/rounds").text)
    return client.post(place.action(number, action), data={**data, "csrf": token})


# -- who may see what ------------------------------------------------------------------------

# An item within each user's scope, and one outside it (None: every item is within it).
IN_SCOPE: dict[str, str] = {
    "李明": ITEM_U01,
    "周领导": ITEM_U03,
    "王组长": ITEM_U01,
    "钱组长": ITEM_U03,
    "赵联络员": ITEM_U02,
    "孙书记": ITEM_U01,
    "吴纪检": ITEM_U03,
    "郑组织": ITEM_U02,
    "冯职能": ITEM_U01,  # a functional department sees no case: hidden all the same
}
OUT_OF_SCOPE: dict[str, str | None] = {
    "李明": None,
    "周领导": None,
    "王组长": ITEM_U03,
    "钱组长": ITEM_U01,
    "赵联络员": ITEM_U01,
    "孙书记": ITEM_U02,
    "吴纪检": None,
    "郑组织": None,
    "冯职能": ITEM_U02,
}
SEES_NOTHING = {"冯职能"}
SEES_EVERY_ROUND = {"李明", "周领导", "吴纪检", "郑组织"}


def test_the_tables_cover_every_user() -> None:
    assert set(IN_SCOPE) == set(OUT_OF_SCOPE) == set(USERS)


@dataclass(frozen=True, slots=True)
class Sight:
    """A GET of a page or the API and the status it must answer."""

    name: str
    scope: str  # in | out
    path: str
    status: int
    api: bool = False


def sights() -> list[Sight]:
    """Every page and API read this module adds, for every user, in and out of scope."""
    found = []
    for name in USERS:
        inside = 404 if name in SEES_NOTHING else 200
        other_round = 200 if name in SEES_EVERY_ROUND else 404
        for api in (False, True):
            prefix = "/api/v1" if api else ""
            item_path = "/api/v1/items/" if api else "/items/"
            found += [
                Sight(name, "in", f"{prefix}/rounds/{ROUND}/items", inside, api),
                Sight(name, "in", f"{prefix}/rounds/{ROUND}/tasks", inside, api),
                Sight(name, "in", item_path + IN_SCOPE[name], inside, api),
                Sight(name, "out", f"{prefix}/rounds/{OTHER_ROUND}/items", other_round, api),
                Sight(name, "out", f"{prefix}/rounds/{OTHER_ROUND}/tasks", other_round, api),
            ]
            outside = OUT_OF_SCOPE[name]
            if outside is not None:
                found.append(Sight(name, "out", item_path + outside, 404, api))
        found.append(Sight(name, "in", "/inbox", 200))
    return found


@pytest.mark.parametrize("name", list(USERS))
def test_who_sees_which_page(world: Desk, name: str) -> None:
    browser = world.signed_in(name)
    api = world.client()
    headers = bearer_of(world, name)
    for sight in (s for s in sights() if s.name == name):
        response = (api if sight.api else browser).get(
            sight.path, headers=headers if sight.api else None
        )
        assert response.status_code == sight.status, (sight, response.text)
        if sight.status == 404 and sight.api:
            assert response.json() == {"detail": "not found"}
        elif sight.status == 404:
            assert "找不到这个页面" in response.text


def test_the_lists_show_only_the_units_in_scope(world: Desk) -> None:
    shown = {
        name: set(re.findall(r"2024-R1/(U0\d)/P0\d</a>", world.signed_in(name).get(
            f"/rounds/{ROUND}/items").text))
        for name in ("李明", "王组长", "钱组长", "赵联络员", "孙书记", "吴纪检")
    }  # fmt: skip
    assert shown == {
        "李明": {"U01", "U02", "U03"},
        "王组长": {"U01", "U02"},
        "钱组长": {"U03"},
        "赵联络员": {"U02"},
        "孙书记": {"U01"},
        "吴纪检": {"U01", "U02", "U03"},
    }
    tasks = world.signed_in("赵联络员").get(f"/rounds/{ROUND}/tasks").text
    assert f"{ITEM_U02}#1" in tasks and f"{ITEM_U02}#2" in tasks
    assert "U01/P01#1" not in tasks and "U03/P01#1" not in tasks


def test_pages_need_a_signed_in_user_and_the_api_a_token(world: Desk) -> None:
    client = world.client()
    for page in (f"/rounds/{ROUND}/items", f"/rounds/{ROUND}/tasks", Place.of(ITEM_U01).page):
        response = client.get(page)
        assert (response.status_code, response.headers["location"]) == (303, "/signin")
    assert client.get(f"/api/v1/rounds/{ROUND}/items").status_code == 401
    place = Place.of(ITEM_U01)
    posted = client.post(place.action(1, "progress"), data={"progress": "x", "csrf": "x"})
    assert (posted.status_code, posted.headers["location"]) == (303, "/signin")


@pytest.mark.parametrize(
    "path",
    [
        "/items/2024-R1/U01/P09",  # no such item
        "/items/2024-R1/U09/P01",
        "/items/2024-R1/U01/P%23",  # a code no item could have
        "/items/2024-R1/U01/P01/tasks/1",
    ],
)
def test_an_item_that_is_not_there_is_not_found(world: Desk, path: str) -> None:
    response = world.signed_in("李明").get(path)
    assert response.status_code == 404 and "找不到这个页面" in response.text
    api = world.client().get("/api/v1" + path, headers=bearer_of(world, "李明"))
    assert api.status_code == 404


# -- who may do what ---------------------------------------------------------------------------

ACTIONS: dict[str, dict[str, str]] = {
    "progress": {"progress": "已完成制度初稿"},
    "done": {"evidence": "制度文件及印发通知", "rules": "财务报销管理办法", "accountable": "2"},
    "extend": {"to": "2025-02-28", "reason": "制度需经职代会审议"},
    "extension": {"decision": "approve", "reason": "理由充分，同意延期"},
}
# Who may take each action on a task in their scope: the definitions' roles and the
# services' rules (extension requests: the unit and the office; decisions: the office).
ALLOWED: dict[str, set[str]] = {
    "progress": {"李明", "周领导", "王组长", "钱组长", "赵联络员", "孙书记"},
    "done": {"李明", "周领导", "王组长", "钱组长", "赵联络员", "孙书记"},
    "extend": {"李明", "赵联络员", "孙书记"},
    "extension": {"李明"},
}
SUPERVISORS = {"吴纪检", "郑组织"}
# What the refusal of a role the service turns away says.
REFUSALS = {
    "extend": "may not request an extension",
    "extension": "may not approve an extension request",
}


@dataclass(frozen=True, slots=True)
class Deed:
    """A task form posted by a user on an item in or out of their scope, and the answer."""

    name: str
    action: str
    scope: str
    item: str
    status: int
    message: str = ""


def deeds() -> list[Deed]:
    """Every action this module adds, for every user, in and out of scope."""
    found = []
    for action in ACTIONS:
        for name in USERS:
            if name in SEES_NOTHING:
                found.append(Deed(name, action, "in", IN_SCOPE[name], 404))
            elif name in SUPERVISORS:
                found.append(Deed(name, action, "in", IN_SCOPE[name], 403, READ_ONLY))
            elif name in ALLOWED[action]:
                found.append(Deed(name, action, "in", IN_SCOPE[name], 303))
            else:
                found.append(Deed(name, action, "in", IN_SCOPE[name], 403, REFUSALS[action]))
            outside = OUT_OF_SCOPE[name]
            if outside is not None:
                found.append(Deed(name, action, "out", outside, 404))
    return found


@pytest.mark.parametrize("deed", deeds(), ids=lambda d: f"{d.action}-{d.name}-{d.scope}")
def test_who_may_do_what(world: Desk, deed: Deed) -> None:
    if deed.action == "extension":  # a request for the office to decide
        world.app.services.extensions.request(
            f"{deed.item}#1", date(2025, 1, 31), reason="需要更多时间", actor="某联络员",
            role="unit_liaison",
        )  # fmt: skip
    before_events = events_of(world, deed.item)
    before_task = task_of(world, deed.item)
    client = world.signed_in(deed.name)

    response = post_task(client, deed.item, deed.action, ACTIONS[deed.action])

    assert response.status_code == deed.status, response.text
    if deed.status == 303:
        place = Place.of(deed.item)
        assert response.headers["location"] == f"{place.page}#task-1"
        actor, role, kind, _trigger = events_of(world, deed.item)[-1]
        assert (actor, role, kind) == (deed.name, USERS[deed.name][0], "task")
        assert client.get(response.headers["location"]).status_code == 200
        return
    assert events_of(world, deed.item) == before_events
    assert task_of(world, deed.item) == before_task
    if deed.status == 403:
        assert deed.message in message_of(response.text)
    else:
        assert "找不到这个页面" in response.text


def test_each_action_does_what_the_cli_does(world: Desk) -> None:
    client = world.signed_in("赵联络员")
    assert post_task(client, ITEM_U02, "progress", ACTIONS["progress"]).status_code == 303
    assert task_of(world, ITEM_U02).progress == "已完成制度初稿"
    assert post_task(client, ITEM_U02, "done", ACTIONS["done"]).status_code == 303
    done = task_of(world, ITEM_U02)
    assert (done.status, done.evidence) == ("done", "制度文件及印发通知")
    assert done.outcome is not None
    assert (done.outcome.rules, done.outcome.accountable) == (("财务报销管理办法",), 2)
    page = client.get(Place.of(ITEM_U02).page).text
    assert "已完成制度初稿" in page and "《财务报销管理办法》" in page and "问责 2 人" in page
    triggers = [trigger for *_, trigger in events_of(world, ITEM_U02)[-2:]]
    assert triggers == ["task_updated", "task_done"]


@pytest.mark.parametrize(
    ("action", "data", "status", "message"),
    [
        ("done", {"evidence": ""}, 400, "evidence"),
        ("progress", {"progress": "  "}, 400, "nothing to update"),
        ("extend", {"to": "明年", "reason": "x"}, 400, "is not a date"),
        ("extend", {"to": "2024-11-30", "reason": "x"}, 403, "is not after its due date"),
        ("extend", {"to": "2025-02-28", "reason": ""}, 400, "reason"),
        ("extension", {"decision": "approve", "reason": "同意"}, 403, "no pending extension"),
        ("done", {"evidence": "材料", "funds": "很多"}, 400, "funds"),
    ],
)
def test_a_service_error_is_one_message_on_the_page(
    world: Desk, action: str, data: dict[str, str], status: int, message: str
) -> None:
    before = events_of(world, ITEM_U01)
    response = post_task(world.signed_in("李明"), ITEM_U01, action, data)
    assert response.status_code == status
    assert message in message_of(response.text)
    assert "Traceback" not in response.text
    assert events_of(world, ITEM_U01) == before


def test_a_task_that_is_not_there_is_not_found(world: Desk) -> None:
    for number in (9, 0):
        response = post_task(
            world.signed_in("李明"), ITEM_U01, "progress", {"progress": "x"}, number
        )
        assert response.status_code == 404


# -- CSRF ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", list(ACTIONS))
def test_a_form_without_the_csrf_token_is_refused_and_writes_nothing(
    world: Desk, action: str
) -> None:
    if action == "extension":
        world.app.services.extensions.request(
            f"{ITEM_U01}#1", date(2025, 1, 31), reason="需要更多时间", actor="孙书记",
            role="party_secretary",
        )  # fmt: skip
    before_events = events_of(world, ITEM_U01)
    before_task = task_of(world, ITEM_U01)
    client = world.signed_in("李明")
    for token in (None, "", "wrong-token"):
        data = dict(ACTIONS[action])
        if token is not None:
            data["csrf"] = token
        response = client.post(Place.of(ITEM_U01).action(1, action), data=data)
        assert response.status_code == 403, token
        assert "表单已失效" in response.text
        assert events_of(world, ITEM_U01) == before_events
        assert task_of(world, ITEM_U01) == before_task


def test_another_sessions_token_is_refused(world: Desk) -> None:
    other = csrf_of(world.signed_in("孙书记").get(Place.of(ITEM_U01).page).text)
    before = events_of(world, ITEM_U01)
    client = world.signed_in("李明")
    response = client.post(
        Place.of(ITEM_U01).action(1, "progress"), data={"progress": "x", "csrf": other}
    )
    assert response.status_code == 403
    assert events_of(world, ITEM_U01) == before


# -- escaping -------------------------------------------------------------------------------------


def test_the_unit_named_script_is_escaped(world: Desk) -> None:
    client = world.signed_in("李明")
    for page in (
        f"/rounds/{ROUND}/items",
        f"/rounds/{ROUND}/tasks",
        Place.of(ITEM_U03).page,
        "/inbox",
    ):
        html = client.get(page).text
        assert SCRIPT not in html
    for page in (f"/rounds/{ROUND}/items", f"/rounds/{ROUND}/tasks", Place.of(ITEM_U03).page):
        assert ESCAPED in client.get(page).text


def test_typed_text_is_escaped_too(world: Desk) -> None:
    client = world.signed_in("李明")
    posted = post_task(client, ITEM_U01, "progress", {"progress": SCRIPT})
    assert posted.status_code == 303
    html = client.get(Place.of(ITEM_U01).page).text
    assert SCRIPT not in html and ESCAPED in html
    listed = client.get(f"/rounds/{ROUND}/items", params={"owner": SCRIPT})
    assert SCRIPT not in listed.text and ESCAPED in listed.text


# -- the lists' filters ---------------------------------------------------------------------------


def listed(client: TestClient, what: str, **params: str) -> list[str]:
    """The keys a list shows."""
    html = client.get(f"/rounds/{ROUND}/{what}", params=params).text
    return re.findall(r">(2024-R1/U0\d/P0\d(?:#\d)?)</a>", html)


def test_the_problem_list_filters_as_item_list(world: Desk) -> None:
    client = world.signed_in("李明")
    assert listed(client, "items") == [ITEM_U01, ACCEPTING, ITEM_U02, ITEM_U03]
    assert listed(client, "items", unit="U02") == [ITEM_U02]
    assert listed(client, "items", state="submitted") == [ACCEPTING]
    assert listed(client, "items", category="业务工作") == [ITEM_U02]
    assert listed(client, "items", category="党的建设/组织建设") == [ACCEPTING, ITEM_U03]
    assert listed(client, "items", overdue="true") == [ACCEPTING, ITEM_U02]
    assert listed(client, "items", owner="钱科长") == [ITEM_U01, ACCEPTING, ITEM_U02, ITEM_U03]
    assert listed(client, "items", owner="无此人") == []
    assert listed(client, "items", overdue="on") == [ACCEPTING, ITEM_U02]  # a ticked box
    assert len(listed(client, "items", overdue="perhaps")) == 4  # not ticked
    bad = client.get(f"/rounds/{ROUND}/items", params={"state": "nonsense"})
    assert bad.status_code == 400 and "nonsense" in message_of(bad.text)


def test_the_task_list_filters(world: Desk) -> None:
    client = world.signed_in("李明")
    every = [f"{k}#1" for k in (ITEM_U01, ACCEPTING, ITEM_U02)] + [
        f"{ITEM_U02}#2",
        f"{ITEM_U03}#1",
    ]
    assert listed(client, "tasks") == every
    assert listed(client, "tasks", status="done") == [f"{ACCEPTING}#1"]
    assert listed(client, "tasks", overdue="true") == [f"{ITEM_U02}#2"]
    assert listed(client, "tasks", unit="U03") == [f"{ITEM_U03}#1"]
    assert listed(client, "tasks", pending="true") == []
    world.app.services.extensions.request(
        f"{ITEM_U02}#1", date(2025, 1, 31), reason="需要更多时间", actor="赵联络员",
        role="unit_liaison",
    )  # fmt: skip
    assert listed(client, "tasks", pending="true") == [f"{ITEM_U02}#1"]
    bad = client.get(f"/rounds/{ROUND}/tasks", params={"status": "sleeping"})
    assert bad.status_code == 400 and "sleeping" in message_of(bad.text)


# -- the item page ------------------------------------------------------------------------------


def test_the_item_page_shows_tasks_acceptance_and_history(world: Desk) -> None:
    html = world.signed_in("孙书记").get(Place.of(ACCEPTING).page).text
    assert "基层党组织换届不及时" in html and "党的建设/组织建设" in html
    assert "当前阶段：申请销号" in html
    assert "党组织书记签字（被巡视党组织书记）：待办理" in html
    assert "换届选举材料" in html and "已完成" in html
    assert "整改措施完成" in html and "流转：申请销号" in html  # the history
    assert "孙书记" in html
    # A submitted item takes no task changes: no forms for its (done) task.
    assert f'action="{Place.of(ACCEPTING).action(1, "progress")}"' not in html


def test_the_case_and_the_item_link_to_the_lists(world: Desk) -> None:
    client = world.signed_in("赵联络员")
    case = client.get(f"/cases/{ROUND}/U02").text
    assert f'href="/rounds/{ROUND}/items?unit=U02">本单位问题清单</a>' in case
    assert listed(client, "items", unit="U02") == [ITEM_U02]
    item = client.get(Place.of(ITEM_U02).page).text
    assert f'href="/rounds/{ROUND}/items">问题清单</a>' in item
    assert f'href="/cases/{ROUND}/U02">某某港务集团</a>' in item


def test_forms_follow_the_role(world: Desk) -> None:
    def forms(name: str, item: str) -> set[str]:
        html = world.signed_in(name).get(Place.of(item).page).text
        return set(re.findall(r'action="/items/[^"]+/tasks/1/(\w+)"', html))

    assert forms("赵联络员", ITEM_U02) == {"progress", "done", "extend"}
    assert forms("王组长", ITEM_U02) == {"progress", "done"}
    assert forms("吴纪检", ITEM_U02) == set()
    assert (
        "纪检监察组不办理整改措施，只能查看"
        in world.signed_in("吴纪检").get(Place.of(ITEM_U02).page).text
    )
    world.app.services.extensions.request(
        f"{ITEM_U02}#1", date(2025, 1, 31), reason="需要更多时间", actor="赵联络员",
        role="unit_liaison",
    )  # fmt: skip
    assert forms("李明", ITEM_U02) == {"progress", "done", "extension"}
    assert forms("赵联络员", ITEM_U02) == {"progress", "done"}


# -- the JSON API ---------------------------------------------------------------------------------


def test_the_api_returns_the_cli_shapes_within_scope(world: Desk) -> None:
    read = world.app.services.read.items
    tz = world.settings.tz
    api = world.client()
    headers = bearer_of(world, "赵联络员")
    items = api.get(f"/api/v1/rounds/{ROUND}/items", headers=headers).json()
    assert items == [v.to_json(tz) for v in read.many(round_code=ROUND) if v.unit == "U02"]
    one = api.get(f"/api/v1/items/{ITEM_U02}", headers=headers).json()
    assert one == read.one(ITEM_U02).to_json(tz)
    tasks = api.get(f"/api/v1/rounds/{ROUND}/tasks", headers=headers).json()
    view = read.one(ITEM_U02)
    assert tasks == [
        {"task": f"{ITEM_U02}#{t.number}", "item": ITEM_U02, **t.to_json(tz)} for t in view.tasks
    ]
    office = bearer_of(world, "李明")
    overdue = api.get(
        f"/api/v1/rounds/{ROUND}/items", params={"overdue": "true"}, headers=office
    ).json()
    assert [v["key"] for v in overdue] == [ACCEPTING, ITEM_U02]
    done = api.get(f"/api/v1/rounds/{ROUND}/tasks", params={"status": "done"}, headers=office)
    assert [t["task"] for t in done.json()] == [f"{ACCEPTING}#1"]
    bad = api.get(f"/api/v1/rounds/{ROUND}/items", params={"state": "nonsense"}, headers=office)
    assert bad.status_code == 400 and "nonsense" in bad.json()["detail"]


# -- the extension flow, on each backend ----------------------------------------------------------


def test_the_unit_asks_for_more_time_and_the_office_approves(any_desk: Desk) -> None:
    desk = with_items(any_desk)
    task = f"{ITEM_U02}#1"
    place = Place.of(ITEM_U02)
    liaison = desk.signed_in("赵联络员")
    asked = post_task(liaison, ITEM_U02, "extend", {"to": "2025-01-31", "reason": "需经董事会审议"})
    assert (asked.status_code, asked.headers["location"]) == (303, f"{place.page}#task-1")
    pending = task_of(desk, ITEM_U02).pending_extension
    assert pending is not None and pending.requested_due == date(2025, 1, 31)
    assert task_of(desk, ITEM_U02).due_on == DUE  # nothing moves yet
    assert "待审批" in liaison.get(place.page).text
    assert task in liaison.get("/inbox").text  # the liaison's own pending request

    office = desk.signed_in("李明")
    inbox = office.get("/inbox").text
    assert task in inbox and "需经董事会审议" in inbox
    approved = post_task(office, ITEM_U02, "extension", {"decision": "approve", "reason": "同意"})
    assert approved.status_code == 303

    moved = task_of(desk, ITEM_U02)
    assert (moved.due_on, moved.original_due, moved.pending_extension) == (
        date(2025, 1, 31),
        DUE,
        None,
    )
    triggers = [(a, r, t) for a, r, _k, t in events_of(desk, ITEM_U02)[-2:]]
    assert triggers == [
        ("赵联络员", "unit_liaison", "extension_requested"),
        ("李明", "office", "extension_approved"),
    ]
    page = office.get(place.page).text
    assert "2025-01-31（原定 2024-12-31）" in page and "已批准" in page
    assert task not in office.get("/inbox").text and task not in liaison.get("/inbox").text
    api = desk.client().get(f"/api/v1/items/{ITEM_U02}", headers=bearer_of(desk, "赵联络员"))
    assert api.json()["tasks"][0]["due_on"] == "2025-01-31"

    # A second request, rejected: the due date stays.
    again = post_task(liaison, ITEM_U02, "extend", {"to": "2025-03-31", "reason": "再延"})
    assert again.status_code == 303
    rejected = post_task(office, ITEM_U02, "extension", {"decision": "reject", "reason": "不同意"})
    assert rejected.status_code == 303
    assert task_of(desk, ITEM_U02).due_on == date(2025, 1, 31)
    assert events_of(desk, ITEM_U02)[-1][3] == "extension_rejected"
    assert "已驳回" in office.get(place.page).text
