"""The web desk over HTTP: signing in and out, sessions, CSRF, scoping, pages and actions."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from desk_harness import PASSWORD, ROUND, SCRIPT, USERS, Desk, csrf_of, sign_in
from fastapi.testclient import TestClient

from xunshi.config import Settings
from xunshi.errors import BadInput
from xunshi.services.users import LOCK_AFTER
from xunshi.web.app import create_app
from xunshi.web.sessions import COOKIE

CASE_U01 = f"/cases/{ROUND}/U01"


def events_of(desk: Desk, key: str) -> list[tuple[str, str | None, str | None]]:
    """(actor, role, kind) of each event of a case."""
    history = desk.app.services.read.history.of(key)
    return [(e.actor, e.role, e.kind) for e in history.events]


def post_form(client: TestClient, page: str, action: str, data: dict[str, str]) -> object:
    """Open `page`, then post `data` to `action` with the page's CSRF token."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={**data, "csrf": token})


# -- signing in and out ----------------------------------------------------------------


def test_a_page_needs_a_signed_in_user(desk: Desk) -> None:
    client = desk.client()
    for page in ("/", "/rounds", f"/rounds/{ROUND}", CASE_U01):
        response = client.get(page)
        assert (response.status_code, response.headers["location"]) == (303, "/signin")


def test_signing_in_and_out(desk: Desk) -> None:
    client = desk.client()
    response = sign_in(client, "李明", PASSWORD)
    assert (response.status_code, response.headers["location"]) == (303, "/rounds")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=28800" in cookie

    rounds = client.get("/rounds")
    assert rounds.status_code == 200
    assert "李明（巡视办）" in rounds.text and f'href="/rounds/{ROUND}"' in rounds.text

    out = post_form(client, "/rounds", "/signout", {})
    assert (out.status_code, out.headers["location"]) == (303, "/signin")
    assert client.get("/rounds").headers["location"] == "/signin"


def test_a_wrong_password_or_name_is_refused_alike(desk: Desk) -> None:
    client = desk.client()
    for name, password in (("李明", "wrong password"), ("无此人", PASSWORD)):
        response = sign_in(client, name, password)
        assert response.status_code == 401
        assert "用户名或密码错误。" in response.text
        assert client.get("/rounds").status_code == 303


def test_a_name_no_user_could_have_is_a_wrong_name(desk: Desk) -> None:
    for name in ("", "a\x00b", "x" * 300):
        response = sign_in(desk.client(), name, PASSWORD)
        assert response.status_code == 401 and "用户名或密码错误。" in response.text


@pytest.mark.parametrize(
    "page", ["/cases/a%20b/U01", "/cases/2024-R1/U%00", "/rounds/%20", "/cases/2024-R1/U01/x"]
)
def test_an_address_that_names_nothing_is_not_found(desk: Desk, page: str) -> None:
    response = desk.signed_in("李明").get(page)
    assert response.status_code == 404 and "找不到这个页面" in response.text
    api = desk.client().get("/api/v1" + page, headers=bearer_of(desk, "李明"))
    assert api.status_code == 404


def bearer_of(desk: Desk, name: str) -> dict[str, str]:
    """The Authorization header of a new API token of `name`."""
    return {"Authorization": f"Bearer {desk.app.services.users.new_token(name).token}"}


def test_five_failures_lock_the_name_for_fifteen_minutes(desk: Desk) -> None:
    client = desk.client()
    for _ in range(LOCK_AFTER):
        assert sign_in(client, "李明", "wrong password").status_code == 401

    locked = sign_in(client, "李明", PASSWORD)
    assert locked.status_code == 401
    assert "已暂时锁定 15 分钟" in locked.text
    assert sign_in(client, "周领导", PASSWORD).status_code == 303  # another name is not locked

    desk.clock.advance(timedelta(minutes=15, seconds=1))
    assert sign_in(desk.client(), "李明", PASSWORD).status_code == 303


def test_a_disabled_user_cannot_sign_in_and_their_session_ends(desk: Desk) -> None:
    client = desk.signed_in("赵联络员")
    desk.app.services.users.disable("赵联络员")

    assert client.get("/rounds").headers["location"] == "/signin"
    refused = sign_in(desk.client(), "赵联络员", PASSWORD)
    assert refused.status_code == 401 and "该账号已停用" in refused.text


def test_a_session_expires_after_eight_hours(desk: Desk) -> None:
    client = desk.signed_in("李明")
    desk.clock.advance(timedelta(hours=7, minutes=59))
    assert client.get("/rounds").status_code == 200

    desk.clock.advance(timedelta(hours=8, seconds=1))
    expired = client.get("/rounds")
    assert (expired.status_code, expired.headers["location"]) == (303, "/signin?expired=1")
    assert "登录已超过 8 小时" in client.get(expired.headers["location"]).text


def test_a_forged_cookie_is_nobody(desk: Desk) -> None:
    client = desk.signed_in("李明")
    value = client.cookies[COOKIE]
    forged = value[:-5] + ("x" if value[-5] != "x" else "y") + value[-4:]
    client.cookies.clear()
    client.cookies.set(COOKIE, forged)
    assert client.get("/rounds").headers["location"] == "/signin"


# -- CSRF ------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "not-the-token"])
def test_a_post_without_the_sessions_csrf_token_is_refused_and_writes_nothing(
    desk: Desk, token: str | None
) -> None:
    client = desk.signed_in("李明")
    before = events_of(desk, f"{ROUND}/U01")
    data = {"name": "briefings_received", "reason": "通报已听取"}
    if token is not None:
        data["csrf"] = token

    response = client.post(f"{CASE_U01}/milestone", data=data)

    assert response.status_code == 403
    assert "安全校验未通过" in response.text
    assert events_of(desk, f"{ROUND}/U01") == before
    signout = client.post("/signout", data={} if token is None else {"csrf": token})
    assert signout.status_code == 403
    assert client.get("/rounds").status_code == 200  # still signed in


def test_the_sign_in_form_needs_its_csrf_token(desk: Desk) -> None:
    client = desk.client()
    client.get("/signin")
    response = client.post("/signin", data={"name": "李明", "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/rounds").status_code == 303


# -- scoping: who sees what, who may do what ---------------------------------------------------

ALL = set(USERS)
# Who sees case U01 (group G1, unit U01): everyone but the other group's leader, the other
# unit's liaison, and the functional department.
SEES_U01 = ALL - {"钱组长", "赵联络员", "冯职能"}


@pytest.mark.parametrize("name", sorted(USERS))
@pytest.mark.parametrize(
    ("page", "seen_by"),
    [
        ("/rounds", ALL),
        (f"/rounds/{ROUND}", ALL - {"冯职能"}),
        (CASE_U01, SEES_U01),
        (f"/cases/{ROUND}/U02", ALL - {"钱组长", "孙书记", "冯职能"}),
        (f"/cases/{ROUND}/U03", ALL - {"王组长", "赵联络员", "孙书记", "冯职能"}),
        ("/rounds/2099-R9", set()),
        (f"/cases/{ROUND}/U99", set()),
    ],
)
def test_pages_answer_within_scope_and_404_outside(
    desk: Desk, name: str, page: str, seen_by: set[str]
) -> None:
    response = desk.signed_in(name).get(page)
    assert response.status_code == (200 if name in seen_by else 404), response.text
    if response.status_code == 404:
        assert "找不到这个页面" in response.text
        assert "U0" not in response.text  # nothing about what is hidden


@pytest.mark.parametrize(
    ("name", "units"),
    [
        ("李明", ["U01", "U02", "U03"]),
        ("周领导", ["U01", "U02", "U03"]),
        ("王组长", ["U01", "U02"]),
        ("钱组长", ["U03"]),
        ("赵联络员", ["U02"]),
        ("孙书记", ["U01"]),
        ("吴纪检", ["U01", "U02", "U03"]),
    ],
)
def test_the_round_overview_shows_only_the_cases_in_scope(
    desk: Desk, name: str, units: list[str]
) -> None:
    html = desk.signed_in(name).get(f"/rounds/{ROUND}").text
    shown = [u for u in ("U01", "U02", "U03") if f'href="/cases/{ROUND}/{u}"' in html]
    assert shown == units


def test_the_rounds_list_is_empty_for_a_role_with_no_cases(desk: Desk) -> None:
    html = desk.signed_in("冯职能").get("/rounds").text
    assert "没有您可以查看的巡视轮次。" in html and ROUND not in html


# Recording the preparation milestone (any role of the definition may): the office, the
# leading group, the group's leader and the unit's secretary may; supervisors only read (403).
MILESTONE_STATUS = {
    "李明": 303,
    "周领导": 303,
    "王组长": 303,
    "钱组长": 404,
    "赵联络员": 404,
    "孙书记": 303,
    "吴纪检": 403,
    "郑组织": 403,
    "冯职能": 404,
}
# Firing move_in (进驻): only the group leader, by the definition; the others in scope are
# refused with the services' message.
MOVE_IN_STATUS = MILESTONE_STATUS | {"李明": 403, "周领导": 403, "孙书记": 403}


@pytest.mark.parametrize(("name", "status"), sorted(MILESTONE_STATUS.items()))
def test_recording_a_milestone_by_role_and_scope(desk: Desk, name: str, status: int) -> None:
    client = desk.signed_in(name)
    before = events_of(desk, f"{ROUND}/U01")
    page = CASE_U01 if status != 404 else "/rounds"
    response = post_form(
        client, page, f"{CASE_U01}/milestone", {"name": "briefings_received", "reason": "已听取"}
    )
    assert response.status_code == status, response.text
    after = events_of(desk, f"{ROUND}/U01")
    if status == 303:
        assert response.headers["location"] == CASE_U01
        assert after == [*before, (name, USERS[name][0], "milestone")]
    else:
        assert after == before
    if status == 403:
        assert "只能查看，不能办理" in response.text


@pytest.mark.parametrize(("name", "status"), sorted(MOVE_IN_STATUS.items()))
def test_firing_a_trigger_by_role_and_scope(desk: Desk, name: str, status: int) -> None:
    for milestone in ("briefings_received", "training_done"):
        desk.app.services.cases.record_milestone(
            f"{ROUND}/U01", milestone, actor="巡视办", role="office"
        )
    client = desk.signed_in(name)
    before = events_of(desk, f"{ROUND}/U01")
    page = CASE_U01 if status != 404 else "/rounds"
    response = post_form(client, page, f"{CASE_U01}/fire", {"trigger": "move_in", "reason": ""})

    assert response.status_code == status, response.text
    after = events_of(desk, f"{ROUND}/U01")
    assert after == ([*before, (name, "group_leader", "transition")] if status == 303 else before)
    if status == 403 and name not in ("吴纪检", "郑组织"):
        assert "move_in" in response.text and "group_leader" in response.text


def test_the_actor_and_role_come_from_the_session_never_the_form(desk: Desk) -> None:
    client = desk.signed_in("孙书记")
    token = csrf_of(client.get(CASE_U01).text)
    response = client.post(
        f"{CASE_U01}/milestone",
        data={
            "name": "briefings_received",
            "reason": "已听取",
            "csrf": token,
            "actor": "李明",
            "role": "office",
        },
    )
    assert response.status_code == 303
    assert events_of(desk, f"{ROUND}/U01")[-1] == ("孙书记", "party_secretary", "milestone")
    page = client.get(CASE_U01).text
    assert "孙书记" in page and "被巡视党组织书记" in page


def test_the_case_page_shows_stages_due_date_milestones_history_and_actions(desk: Desk) -> None:
    client = desk.signed_in("王组长")
    post_form(client, CASE_U01, f"{CASE_U01}/milestone", {"name": "briefings_received"})
    html = client.get(CASE_U01).text

    view = desk.app.services.read.cases.one(f"{ROUND}/U01")
    history = desk.app.services.read.history.of(f"{ROUND}/U01")
    assert "当前阶段：巡前准备" in html
    assert f'办理时限 <strong class="cell green">{view.due_on}</strong>' in html
    assert "听取有关部门情况通报（必需）：2024-09-02 09:00 已记录" in html
    assert "巡前培训（必需）：未记录" in html
    assert "记录节点：巡前培训" in html and "办理：进驻（召开动员会）" in html
    for event in history.events:
        assert f'title="{event.hash}"' in html
    assert "<td>记录节点：听取有关部门情况通报</td>" in html
    assert "王组长" in html


def test_the_as_of_view_shows_the_case_as_it_was_without_actions(desk: Desk) -> None:
    desk.clock.advance(timedelta(days=1))
    client = desk.signed_in("李明")
    post_form(client, CASE_U01, f"{CASE_U01}/milestone", {"name": "briefings_received"})

    then = client.get(CASE_U01, params={"as_of": "2024-09-02"}).text
    now = client.get(CASE_U01).text
    assert "听取有关部门情况通报（必需）：未记录" in then and "记录节点" not in then
    assert "听取有关部门情况通报（必需）：2024-09-03 09:00 已记录" in now

    bad = client.get(CASE_U01, params={"as_of": "yesterday"})
    assert bad.status_code == 400 and "is not an ISO 8601 time" in bad.text


def test_a_unit_named_like_a_script_is_shown_as_text(desk: Desk) -> None:
    client = desk.signed_in("李明")
    for page in (f"/rounds/{ROUND}", f"/cases/{ROUND}/U03"):
        html = client.get(page).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert SCRIPT not in html


def test_the_round_overview_has_its_matrix_counts_and_timeline(desk: Desk) -> None:
    desk.clock.advance(timedelta(days=40))  # past preparation's 15 working days
    html = desk.signed_in("李明").get(f"/rounds/{ROUND}").text
    assert html.count('<td class="cell red"') == 3  # three cases, all overdue
    assert "<th>巡前准备</th>" in html and "<th>常规巡视</th>" in html
    assert '<td class="num">3</td>' in html
    assert html.count("<rect ") >= 3 and 'class="due overdue"' in html
    assert "超期单位" in html and "已超期" not in html.split("超期单位")[1].split("</ul>")[0]


def test_the_stylesheet_ships_in_the_package(desk: Desk) -> None:
    response = desk.client().get("/static/desk.css")
    assert response.status_code == 200 and "@media print" in response.text


# -- the cookie key ---------------------------------------------------------------------------


def test_processes_on_one_database_share_the_cookie_key(desk: Desk) -> None:
    client = desk.signed_in("李明")
    other = desk.client()  # a second application, as a second `serve` process would be
    other.cookies.set(COOKIE, client.cookies[COOKIE])
    assert other.get("/rounds").status_code == 200


def test_a_cookie_signed_with_another_key_is_nobody(desk: Desk) -> None:
    client = desk.signed_in("李明")
    keyed = TestClient(
        create_app(replace(desk.settings, secret_key="k" * 40), clock=desk.clock, failure_delay=0),
        follow_redirects=False,
    )
    keyed.cookies.set(COOKIE, client.cookies[COOKIE])
    assert keyed.get("/rounds").headers["location"] == "/signin"


@pytest.mark.parametrize(("key", "accepted"), [("short", False), ("k" * 32, True)])
def test_the_secret_key_setting_must_be_long_enough(key: str, accepted: bool) -> None:
    if accepted:
        assert Settings.from_env({"XUNSHI_SECRET_KEY": key}).secret_key == key
    else:
        with pytest.raises(BadInput, match="XUNSHI_SECRET_KEY must have at least 32 characters"):
            Settings.from_env({"XUNSHI_SECRET_KEY": key})
