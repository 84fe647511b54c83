"""A populated desk for the route tests: one round, two groups, three units (one named
`<script>…`), a user for every role, and an HTTP test client per user (the fixtures are in
`conftest.py`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

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
    clients: list[TestClient] = field(default_factory=list)

    def client(self, settings: Settings | None = None) -> TestClient:
        """A fresh browser on a new application (as a new `serve` process would be): no
        cookies; redirects are not followed."""
        application = create_app(settings or self.settings, clock=self.clock, failure_delay=0)
        client = TestClient(application, follow_redirects=False)
        self.clients.append(client)
        return client

    def close(self) -> None:
        """Close the database connections of every application made."""
        for client in self.clients:
            client.app.state.desk.services.close()  # type: ignore[attr-defined]

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


def populated_desk(db_url: str, clock: ManualClock) -> Iterator[Desk]:
    settings = Settings(db_url=db_url, actor="tester")
    app = bootstrap(settings, clock=clock)
    app.services.definitions.init("tester")
    populate(app)
    desk = Desk(app, clock, settings)
    yield desk
    desk.close()
    app.db.dispose()
