"""Each form the desk renders carries a request id of its own: the same form sent twice (a
double click, a page resubmitted after a lost answer) is carried out once, and the second
answer is the first one's (back to the page), not an error."""

from __future__ import annotations

import re

from desk_harness import ROUND, Desk, csrf_of
from fastapi.testclient import TestClient

CASE = f"/cases/{ROUND}/U01"
REQUEST_ID = re.compile(r'name="request_id" value="([0-9a-f]{32})"')


def milestone_form(client: TestClient) -> dict[str, str]:
    """The fields of the case page's first milestone form, as a browser would send them."""
    html = client.get(CASE).text
    request_id = REQUEST_ID.search(html)
    assert request_id is not None, html
    return {
        "csrf": csrf_of(html),
        "request_id": request_id.group(1),
        "name": "briefings_received",
        "reason": "",
    }


def kinds(desk: Desk) -> list[str]:
    """The kinds of the case's events."""
    return [e.kind for e in desk.app.services.read.history.of(f"{ROUND}/U01").events]


def test_every_form_has_a_request_id_of_its_own(desk: Desk) -> None:
    html = desk.signed_in("王组长").get(CASE).text
    found = REQUEST_ID.findall(html)
    assert len(found) == 3  # two milestones and a trigger
    assert len(set(found)) == 3


def test_the_same_form_sent_twice_is_carried_out_once(desk: Desk) -> None:
    client = desk.signed_in("王组长")
    form = milestone_form(client)
    first = client.post(f"{CASE}/milestone", data=form, follow_redirects=False)
    again = client.post(f"{CASE}/milestone", data=form, follow_redirects=False)
    assert (first.status_code, again.status_code) == (303, 303)
    assert first.headers["location"] == again.headers["location"]
    assert kinds(desk) == ["started", "milestone"]
    [event] = [e for e in desk.app.services.read.history.of(f"{ROUND}/U01").events[1:]]
    record = desk.app.services.read.history.requested(form["request_id"])
    assert [e.event.hash for e in record.events] == [event.hash]
    assert record.command == f"desk 王组长: POST {CASE}/milestone"


def test_a_request_id_taken_by_another_user_is_refused(desk: Desk) -> None:
    leader = desk.signed_in("王组长")
    form = milestone_form(leader)
    leader.post(f"{CASE}/milestone", data=form, follow_redirects=False)
    office = desk.signed_in("李明")
    stolen = {**form, "csrf": csrf_of(office.get(CASE).text), "name": "training_done"}
    refused = office.post(f"{CASE}/milestone", data=stolen, follow_redirects=False)
    assert refused.status_code == 400
    assert "was already used by another command" in refused.text
    assert kinds(desk) == ["started", "milestone"]


def test_a_form_without_a_request_id_still_works(desk: Desk) -> None:
    client = desk.signed_in("王组长")
    form = milestone_form(client)
    del form["request_id"]
    assert client.post(f"{CASE}/milestone", data=form, follow_redirects=False).status_code == 303
    assert kinds(desk) == ["started", "milestone"]


def test_a_malformed_request_id_is_refused_in_one_line(desk: Desk) -> None:
    client = desk.signed_in("王组长")
    form = {**milestone_form(client), "request_id": "not valid!"}
    refused = client.post(f"{CASE}/milestone", data=form, follow_redirects=False)
    assert refused.status_code == 400
    assert "is not valid" in refused.text
    assert kinds(desk) == ["started"]
