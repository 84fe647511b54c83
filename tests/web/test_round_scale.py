"""The round overview at scale: its statements do not grow with the round's cases, a large
round's timeline is drawn compactly (a bar per stage and a due mark per case still), and
the desk's worker threads stay fewer than the database connections they keep."""

from __future__ import annotations

import re
from datetime import timedelta

import anyio.to_thread
from desk_harness import ROUND, Desk
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from xunshi.web.app import WORKER_THREADS, create_app
from xunshi.web.timeline import COMPACT_FROM


def statements_of(client: TestClient, page: str) -> tuple[int, str]:
    """How many SQL statements answering `page` ran, and the page."""
    ran: list[str] = []

    def count(*args: object) -> None:
        ran.append(str(args[2]))

    event.listen(Engine, "before_cursor_execute", count)
    try:
        response = client.get(page)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(ran), response.text


def add_cases(desk: Desk, count: int) -> None:
    """`count` more cases in group G2 of the round, still in preparation."""
    cases = desk.app.services.cases
    for n in range(count):
        cases.add_unit(f"X{n:03d}", f"虚构单位{n}")
        cases.start_case(
            round_code=ROUND, unit_code=f"X{n:03d}", group_code="G2", definition="regular",
            actor="巡视办",
        )  # fmt: skip


def test_the_overviews_statements_do_not_grow_with_the_cases(desk: Desk) -> None:
    client = desk.signed_in("李明")
    small, html = statements_of(client, f"/rounds/{ROUND}")
    assert 'class="timeline"' in html and html.count('<text x="4"') == 3
    add_cases(desk, COMPACT_FROM)
    desk.clock.advance(timedelta(days=40))  # past preparation's due date: every case late
    large, html = statements_of(desk.signed_in("李明"), f"/rounds/{ROUND}")
    assert large == small
    cases = COMPACT_FROM + 3
    assert html.count('<td class="cell red"') == cases
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'class="timeline compact"' in svg
    rows = re.findall(r'<a href="/cases/2024-R1/([^"]+)"><title>([^<]*)</title>', svg)
    assert len(rows) == cases
    unit, title = rows[45]  # after U01–U03
    assert unit == "X042" and title.startswith("X042 虚构单位42 巡前准备 办理时限 ")
    assert title.endswith("（已超期）")
    assert svg.count('class="bar current overdue"') == cases
    assert svg.count('class="due overdue"') == cases


def test_a_group_leader_sees_only_their_groups_rows(desk: Desk) -> None:
    add_cases(desk, COMPACT_FROM)
    html = desk.signed_in("王组长").get(f"/rounds/{ROUND}").text  # G1: U01 and U02
    assert 'class="timeline"' in html and "X000" not in html
    assert re.findall(r'<a href="/cases/2024-R1/(\w+)"><text', html) == ["U01", "U02"]


def test_the_desk_has_fewer_worker_threads_than_the_pool_has_connections(desk: Desk) -> None:
    with TestClient(create_app(desk.settings, clock=desk.clock)) as client:
        assert client.portal is not None

        def tokens() -> float:
            return anyio.to_thread.current_default_thread_limiter().total_tokens

        assert client.portal.call(tokens) == WORKER_THREADS
        assert WORKER_THREADS < 5 + 10  # the pool: 5 connections and 10 more at most
        client.app.state.desk.services.close()  # type: ignore[attr-defined]
