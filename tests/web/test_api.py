"""The JSON API under /api/v1: bearer tokens, the CLI's --json shapes, the same scoping,
and its OpenAPI document; a few of the desk's flows on both backends."""

from __future__ import annotations

import pytest
from desk_harness import PASSWORD, ROUND, USERS, Desk, csrf_of, sign_in
from fastapi.testclient import TestClient


def bearer(desk: Desk, name: str) -> dict[str, str]:
    """The Authorization header of a new token of `name`."""
    return {"Authorization": f"Bearer {desk.app.services.users.new_token(name).token}"}


def test_the_api_needs_a_valid_bearer_token(desk: Desk) -> None:
    client = desk.client()
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        response = client.get("/api/v1/rounds", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"detail": "a valid API token is needed"}
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_session_cookie_is_no_api_token(desk: Desk) -> None:
    client = desk.signed_in("李明")
    assert client.get("/api/v1/rounds").status_code == 401


def test_the_api_answers_in_the_clis_json_shapes(desk: Desk) -> None:
    client = desk.client()
    headers = bearer(desk, "李明")
    read = desk.app.services.read
    tz = desk.settings.tz

    assert client.get("/api/v1/rounds", headers=headers).json() == [
        r.to_json() for r in read.catalog.rounds()
    ]
    assert client.get(f"/api/v1/rounds/{ROUND}/cases", headers=headers).json() == [
        v.to_json(tz) for v in read.cases.many(round_code=ROUND)
    ]
    assert client.get(f"/api/v1/cases/{ROUND}/U03", headers=headers).json() == (
        read.cases.one(f"{ROUND}/U03").to_json(tz)
    )


@pytest.mark.parametrize(
    ("name", "units"),
    [
        ("李明", ["U01", "U02", "U03"]),
        ("王组长", ["U01", "U02"]),
        ("钱组长", ["U03"]),
        ("赵联络员", ["U02"]),
        ("孙书记", ["U01"]),
        ("郑组织", ["U01", "U02", "U03"]),
        ("冯职能", []),
    ],
)
def test_the_api_keeps_to_the_users_scope(desk: Desk, name: str, units: list[str]) -> None:
    client = desk.client()
    headers = bearer(desk, name)
    rounds = client.get("/api/v1/rounds", headers=headers).json()
    assert [r["code"] for r in rounds] == ([ROUND] if units else [])

    listed = client.get(f"/api/v1/rounds/{ROUND}/cases", headers=headers)
    if units:
        assert [c["unit"] for c in listed.json()] == units
    else:
        assert listed.status_code == 404
    for unit in ("U01", "U02", "U03"):
        one = client.get(f"/api/v1/cases/{ROUND}/{unit}", headers=headers)
        assert one.status_code == (200 if unit in units else 404)
        if one.status_code == 404:
            assert one.json() == {"detail": "not found"}
    assert client.get("/api/v1/rounds/2099-R9/cases", headers=headers).status_code == 404


def test_a_disabled_users_token_stops_working(desk: Desk) -> None:
    headers = bearer(desk, "王组长")
    client = desk.client()
    assert client.get("/api/v1/rounds", headers=headers).status_code == 200
    desk.app.services.users.disable("王组长")
    assert client.get("/api/v1/rounds", headers=headers).status_code == 401


def test_the_openapi_document_describes_the_api_and_no_page(desk: Desk) -> None:
    document = desk.client().get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert sorted(document["paths"]) == [
        "/api/v1/cases/{round_code}/{unit_code}",
        "/api/v1/items/{round_code}/{unit_code}/{item_code}",
        "/api/v1/rounds",
        "/api/v1/rounds/{round_code}/cases",
        "/api/v1/rounds/{round_code}/items",
        "/api/v1/rounds/{round_code}/tasks",
    ]
    assert desk.client().get("/docs").status_code == 404  # no CDN-backed docs page
    # Each answer's shape is described, refusals included.
    case = document["paths"]["/api/v1/cases/{round_code}/{unit_code}"]["get"]["responses"]
    assert case["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CaseShape"
    }
    assert {"401", "404"} <= set(case)
    shape = document["components"]["schemas"]["CaseShape"]
    assert shape["additionalProperties"] is False
    assert {"key", "state", "due_on", "overdue", "milestones", "voided"} <= set(shape["required"])


# -- on both backends ----------------------------------------------------------------------


def test_signing_in_acting_and_the_api_on_each_backend(any_desk: Desk) -> None:
    desk = any_desk
    client = desk.client()
    assert sign_in(client, "王组长", "wrong password").status_code == 401
    assert sign_in(client, "王组长", PASSWORD).status_code == 303
    page = f"/cases/{ROUND}/U01"
    token = csrf_of(client.get(page).text)
    done = client.post(f"{page}/milestone", data={"name": "training_done", "csrf": token})
    assert done.status_code == 303
    last = desk.app.services.read.history.of(f"{ROUND}/U01").events[-1]
    assert (last.actor, last.role, last.kind) == ("王组长", "group_leader", "milestone")
    assert client.get(f"/cases/{ROUND}/U03").status_code == 404

    api = TestClient(client.app)
    headers = bearer(desk, "王组长")
    cases = api.get(f"/api/v1/rounds/{ROUND}/cases", headers=headers).json()
    assert [c["unit"] for c in cases] == ["U01", "U02"]
    assert set(USERS) == {u.name for u in desk.app.services.read.users.many()}
