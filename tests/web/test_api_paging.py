"""Paged API lists: `limit` and `after` as the CLI's `--limit` and `--after`, a `Link`
header to the next page while more records follow, 400 for a bad one, and a page never wider
than the token user's scope."""

from __future__ import annotations

import re
from typing import Any

import pytest
from desk_harness import ROUND, Desk
from fastapi.testclient import TestClient
from items_world import ITEM_U01, ITEM_U02, ITEM_U03, OTHER_ROUND, with_items

LINK = re.compile(r'^<([^>]+)>; rel="next"$')


def bearer(desk: Desk, name: str) -> dict[str, str]:
    """The Authorization header of a new token of `name`."""
    return {"Authorization": f"Bearer {desk.app.services.users.new_token(name).token}"}


def walk(client: TestClient, path: str, headers: dict[str, str]) -> list[list[Any]]:
    """Every page of a list, following each answer's `Link` header until there is none."""
    found = []
    url: str | None = path
    while url is not None:
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, answer.text
        found.append(answer.json())
        link = answer.headers.get("link")
        following = None if link is None else LINK.fullmatch(link)
        assert link is None or following is not None, link
        url = None if following is None else following.group(1)
    return found


def test_the_case_list_pages_by_key_with_a_link_to_the_next(desk: Desk) -> None:
    client = desk.client()
    headers = bearer(desk, "李明")
    path = f"/api/v1/rounds/{ROUND}/cases"
    whole = client.get(path, headers=headers)
    assert "link" not in whole.headers
    keys = [c["key"] for c in whole.json()]
    assert keys == [f"{ROUND}/U01", f"{ROUND}/U02", f"{ROUND}/U03"]

    first = client.get(f"{path}?limit=2", headers=headers)
    assert [c["key"] for c in first.json()] == keys[:2]
    assert first.headers["link"] == (
        f'<http://testserver{path}?after=2024-R1%2FU02&limit=2>; rel="next"'
    )
    for limit in (1, 2, 3, 5):
        pages = walk(client, f"{path}?limit={limit}", headers)
        assert [c for page in pages for c in page] == whole.json()
        # a full last page links on only if more follow
        assert len(pages) == -(-len(keys) // limit)
    assert client.get(f"{path}?after={ROUND}/U01", headers=headers).json() == whole.json()[1:]
    assert client.get(f"{path}?after={ROUND}/U03", headers=headers).json() == []


@pytest.mark.parametrize(
    ("name", "units"),
    [("王组长", ["U01", "U02"]), ("钱组长", ["U03"]), ("赵联络员", ["U02"])],
)
def test_paging_never_widens_the_scope(desk: Desk, name: str, units: list[str]) -> None:
    client = desk.client()
    headers = bearer(desk, name)
    path = f"/api/v1/rounds/{ROUND}/cases"
    for limit in (1, 2):
        pages = walk(client, f"{path}?limit={limit}", headers)
        assert [c["unit"] for page in pages for c in page] == units
    # a cursor before, between or after their cases: still only theirs
    for after in ("2024-R1/U00", "2024-R1/U01", "2024-R1/U02", "2024-R1/U025"):
        shown = client.get(f"{path}?after={after}", headers=headers).json()
        assert {c["unit"] for c in shown} <= set(units)
    assert client.get(f"{path}?after=2024-R1/U03&limit=1", headers=headers).json() == []


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("limit=0", "limit 0 is out of range (1 to 2147483647)"),
        ("limit=x", "limit 'x' is not a positive whole number"),
        ("limit=", "limit '' is not a positive whole number"),
        ("after=U01", "after 'U01' is not a case key: ROUND/UNIT, e.g. 2024-R1/U01"),
        ("after=", "after '' is not a case key: ROUND/UNIT, e.g. 2024-R1/U01"),
    ],
)
def test_a_bad_limit_or_after_is_400(desk: Desk, query: str, detail: str) -> None:
    answer = desk.client().get(
        f"/api/v1/rounds/{ROUND}/cases?{query}", headers=bearer(desk, "李明")
    )
    assert answer.status_code == 400
    assert answer.json() == {"detail": detail}


def test_rounds_items_and_tasks_page_too(desk: Desk) -> None:
    world = with_items(desk)
    client = world.client()
    headers = bearer(world, "李明")

    rounds = walk(client, "/api/v1/rounds?limit=1", headers)
    assert [[r["code"] for r in page] for page in rounds] == [[ROUND], [OTHER_ROUND]]
    assert client.get(f"/api/v1/rounds?after={OTHER_ROUND}", headers=headers).json() == []
    unknown = client.get("/api/v1/rounds?after=2099-R9", headers=headers)
    assert unknown.status_code == 404
    assert client.get("/api/v1/rounds?after=%20", headers=headers).status_code == 400

    items = f"/api/v1/rounds/{ROUND}/items"
    whole = client.get(items, headers=headers).json()
    assert [i["key"] for i in whole][:1] == [ITEM_U01]
    assert ITEM_U02 in [i["key"] for i in whole] and whole[-1]["key"] == ITEM_U03
    for limit in (1, 3):
        pages = walk(client, f"{items}?limit={limit}", headers)
        assert [i for page in pages for i in page] == whole
    bad = client.get(f"{items}?after={ROUND}/U01", headers=headers)
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith(f"after '{ROUND}/U01' is not an item key")

    tasks = f"/api/v1/rounds/{ROUND}/tasks"
    every = client.get(tasks, headers=headers).json()
    assert [t["task"] for t in every] == [
        f"{i['key']}#{t['number']}" for i in whole for t in i["tasks"]
    ]
    assert f"{ITEM_U02}#2" in [t["task"] for t in every]
    for limit in (1, 2):
        pages = walk(client, f"{tasks}?limit={limit}", headers)
        assert [t for page in pages for t in page] == every
    # after a task inside an item with two: its second task comes next
    after = client.get(f"{tasks}?after={ITEM_U02}%231&limit=1", headers=headers).json()
    assert [t["task"] for t in after] == [f"{ITEM_U02}#2"]
    assert client.get(f"{tasks}?after={ITEM_U02}", headers=headers).status_code == 400


def test_a_group_leaders_item_pages_stay_in_their_group(desk: Desk) -> None:
    world = with_items(desk)
    client = world.client()
    headers = bearer(world, "钱组长")
    pages = walk(client, f"/api/v1/rounds/{ROUND}/items?limit=1", headers)
    assert [i["key"] for page in pages for i in page] == [ITEM_U03]
    tasks = walk(client, f"/api/v1/rounds/{ROUND}/tasks?limit=1", headers)
    assert [t["item"] for page in tasks for t in page] == [ITEM_U03]
    # a round outside the scope stays 404, whatever the page asked for
    other = client.get(f"/api/v1/rounds/{OTHER_ROUND}/items?limit=1", headers=headers)
    assert other.status_code == 404
