"""A populated desk for the route tests: one round, two groups, three units (one named
`<script>…`), a user for every role, and an HTTP test client per user.

The database is SQLite by default (`desk`); `pg_desk` builds the same on PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings
from xunshi.web.app import create_app
from xunshi.workflow.clock import ManualClock

ROUND = "2024-R1"
PASSWORD = "correct horse battery"
SCRIPT = "<script>alert(1)</script>"
# name → (role, group, unit)
USERS: dict[str, tuple[str, str | None, str | None]] = {
    "李明": ("office", None, None),
    "周领导": ("leading_group", None, None),
    "王组长": ("group_leader", f"{ROUND}/G1", None),
    "钱组长": ("group_leader", f"{ROUND}/G2", None),
    "赵联络员": ("unit_liaison", None, "U02"),
    "孙书记": ("party_secretary", None, "U01"),
    "吴纪检": ("discipline_group", None, None),
    "郑组织": ("organization_dept", None, None),
    "冯职能": ("functional_dept", None, None),
}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Desk:
    """The application parts, the clock and a way to sign people in."""

    app: App
    clock: ManualClock
    settings: Settings

    def client(self) -> TestClient:
        """A fresh browser: no cookies; redirects are not followed."""
        return TestClient(
            create_app(self.settings, clock=self.clock, failure_delay=0),
            follow_redirects=False,
        )

    def signed_in(self, name: str) -> TestClient:
        """A browser where `name` has signed in."""
        client = self.client()
        response = sign_in(client, name, PASSWORD)
        assert response.status_code == 303, response.text
        return client


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF.search(html)
    assert found is not None, html
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str) -> object:
    """Open the sign-in page and post the form."""
    token = csrf_of(client.get("/signin").text)
    return client.post("/signin", data={"name": name, "password": password, "csrf": token})


def populate(app: App) -> None:
    """The round, groups, units, cases and users."""
    cases = app.services.cases
    cases.create_round(ROUND, "2024年第一轮巡视", date(2024, 9, 2))
    cases.add_group(ROUND, "G1", "张组长")
    cases.add_group(ROUND, "G2", "刘组长")
    for unit, name, group in (
        ("U01", "某某电力公司", "G1"),
        ("U02", "某某港务集团", "G1"),
        ("U03", SCRIPT, "G2"),
    ):
        cases.add_unit(unit, name)
        cases.start_case(
            round_code=ROUND, unit_code=unit, group_code=group, definition="regular", actor="巡视办"
        )
    for name, (role, group, unit) in USERS.items():
        app.services.users.add(name, role, PASSWORD, group=group, unit=unit)


def _desk(db_url: str, clock: ManualClock) -> Iterator[Desk]:
    settings = Settings(db_url=db_url, actor="tester")
    app = bootstrap(settings, clock=clock)
    app.services.definitions.init("tester")
    populate(app)
    yield Desk(app, clock, settings)
    app.db.dispose()


@pytest.fixture
def desk(sqlite_url: str, clock: ManualClock) -> Iterator[Desk]:
    """The populated desk on SQLite."""
    yield from _desk(sqlite_url, clock)


@pytest.fixture
def any_desk(db_url: str, clock: ManualClock) -> Iterator[Desk]:
    """The populated desk on each backend."""
    yield from _desk(db_url, clock)
