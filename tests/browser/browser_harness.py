"""Helpers of the browser tests: the served desk, the demo's people, signing in and
screenshots (every page a test visits is saved as an artifact; with
XUNSHI_DESK_SCREENSHOTS=DIR the README's pictures are written there too)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forward import forward_path

from xunshi.bootstrap import Services
from xunshi.config import Settings
from xunshi.demo.scenario import DESK_USERS, DeskUser
from xunshi.texts import ROLE_TITLES
from xunshi.workflow.clock import ManualClock

CHROMIUM = "/usr/bin/chromium"
NEXT_ROUND = "2026-R2"  # the round the office prepares after the demo's
NEXT_UNIT = "U01"
VIEWPORT = {"width": 1280, "height": 800}
MAX_SHOT = 4000  # pixels of a page kept in its screenshot


@dataclass
class Served:
    """The desk's address, its settings and its clock."""

    url: str
    settings: Settings
    clock: ManualClock


def person(role: str) -> DeskUser:
    """The demo's desk user with `role`."""
    return next(p for p in DESK_USERS if p.role == role)


def forward_to(services: Services, key: str, stage: str) -> None:
    """Drive case `key` along the built-in forward path until it is in `stage`."""
    for step in forward_path("regular"):
        if step.stage == stage:
            return
        for need in step.needs:
            services.cases.record_milestone(
                key, need.name, actor=ROLE_TITLES[need.role], role=need.role,
                count=1 if need.counted else None,
            )  # fmt: skip
        services.cases.fire(key, step.trigger, actor=ROLE_TITLES[step.role], role=step.role)
    raise AssertionError(f"stage {stage} is not on the forward path")


class Visit:
    """One person's browser: sign in, go to pages, and keep a screenshot of each."""

    def __init__(self, browser: Any, served: Served, who: DeskUser, folder: Path) -> None:
        self.context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", accept_downloads=True)
        self.page = self.context.new_page()
        self.served = served
        self.who = who
        self.folder = folder
        self.shots = 0

    def sign_in(self) -> None:
        """Sign in with the demo's name and password."""
        self.go("/signin")
        self.page.fill("input[name=name]", self.who.name)
        self.page.fill("input[name=password]", self.who.password)
        self.follow(self.page.locator("button[type=submit]"))
        assert "/signin" not in self.page.url, self.page.content()

    def follow(self, target: Any, name: str | None = None) -> None:
        """Click a link or a form's button and wait for the page it leads to (a screenshot
        of it kept under `name`)."""
        with self.page.expect_navigation():
            target.click()
        self.page.wait_for_load_state()
        if name:
            self.shoot(name)

    def go(self, path: str) -> Any:
        """Open a page of the desk; the response."""
        response = self.page.goto(self.served.url + path)
        self.shoot(path.strip("/").replace("/", "_") or "home")
        return response

    def shoot(self, name: str, *, doc: str | None = None) -> Path:
        """Save a screenshot of the page (numbered, in the test's artifact folder); with
        `doc` and XUNSHI_DESK_SCREENSHOTS set, also the README's picture `desk-{doc}.png`."""
        self.shots += 1
        path = self.folder / f"{self.shots:02d}-{self.who.role}-{name[:60]}.png"
        # The whole page, but at most the first MAX_SHOT pixels: a round's ledger runs to
        # hundreds of rows, and a picture of all of it takes long and shows nothing more.
        height = self.page.evaluate("document.documentElement.scrollHeight")
        width = self.page.evaluate("document.documentElement.scrollWidth")
        clip = {"x": 0, "y": 0, "width": width, "height": min(height, MAX_SHOT)}
        self.page.screenshot(path=str(path), full_page=True, clip=clip)
        target = os.environ.get("XUNSHI_DESK_SCREENSHOTS")
        if doc and target:
            self.page.screenshot(path=str(Path(target) / f"desk-{doc}.png"))
        return path

    def picture(self, element: Any, doc: str) -> None:
        """With XUNSHI_DESK_SCREENSHOTS set, the README's picture of one element of the page."""
        target = os.environ.get("XUNSHI_DESK_SCREENSHOTS")
        if target:
            element.screenshot(path=str(Path(target) / f"desk-{doc}.png"))

    def close(self) -> None:
        """Close the browser context."""
        self.context.close()
