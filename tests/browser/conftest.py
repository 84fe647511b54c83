"""The browser tests' world: the demo's database, the desk served on loopback by uvicorn in a
thread, and Debian's Chromium driven headless by Playwright (never a downloaded browser).

Without /usr/bin/chromium the tests are skipped, saying why — unless XUNSHI_TEST_BROWSER is
`required` (as `.ci/run` sets it), when they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time as clock_time
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from browser_harness import CHROMIUM, NEXT_ROUND, NEXT_UNIT, Served, forward_to

from xunshi.bootstrap import services
from xunshi.config import Settings
from xunshi.demo import run_demo
from xunshi.demo.scenario import DEMO_END, OFFICE_ACTOR
from xunshi.web.app import create_app
from xunshi.workflow.clock import ManualClock

ROOT = Path(__file__).resolve().parents[2]


def _chromium() -> str:
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if found is None:
        message = f"no Chromium at {CHROMIUM} (Debian's package `chromium`; .ci/run installs it)"
        if os.environ.get("XUNSHI_TEST_BROWSER") == "required":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo's database, with a case of the next round waiting for the office's review."""
    url = f"sqlite:///{tmp_path_factory.mktemp('desk') / 'demo.db'}"
    app = run_demo(Settings(), url, echo=lambda _line: None)
    app.close()
    settings = Settings(db_url=url)
    after = ManualClock(datetime.combine(DEMO_END, time(18, 30), tzinfo=settings.tz))
    found = services(settings, after)
    try:
        found.cases.create_round(NEXT_ROUND, "集团党组2026年第二轮巡视", date(2026, 3, 30))
        found.cases.add_group(NEXT_ROUND, "G1", "第一巡视组组长 冯某")
        started = found.cases.start_case(
            round_code=NEXT_ROUND,
            unit_code=NEXT_UNIT,
            group_code="G1",
            definition="regular",
            actor=OFFICE_ACTOR,
        )
        forward_to(found, str(started.key), "office_review")
    finally:
        found.close()
    return url


@pytest.fixture(scope="session")
def served(demo_db: str) -> Iterator[Served]:
    """The desk over the demo's database on a free loopback port, the morning after the demo."""
    settings = Settings(db_url=demo_db)
    clock = ManualClock(datetime.combine(date(2026, 4, 1), time(9, 0), tzinfo=settings.tz))
    application = create_app(settings, clock=clock, failure_delay=0)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = clock_time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and clock_time.monotonic() < deadline, "the desk did not start"
        clock_time.sleep(0.05)
    yield Served(f"http://127.0.0.1:{port}", settings, clock)
    server.should_exit = True
    thread.join(timeout=20)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium from Debian's package."""
    executable = _chromium()
    from playwright.sync_api import sync_playwright  # only the browser tests need it

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """Where this test's screenshots go (not committed): $XUNSHI_ARTIFACTS or .artifacts/."""
    base = Path(os.environ.get("XUNSHI_ARTIFACTS", ROOT / ".artifacts")) / "browser"
    folder = base / request.node.name
    shutil.rmtree(folder, ignore_errors=True)  # this run's pictures only
    folder.mkdir(parents=True)
    return folder
