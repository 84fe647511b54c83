"""`audit verify` with several processes: helper processes share the windows of instances and
the report is the one a single process gives, problem for problem and in the same order
(both backends); results come back in window order, a helper's error is raised here, and
no helper outlives the call."""

from __future__ import annotations

import multiprocessing
import os
import time
from datetime import date
from pathlib import Path

import pytest
from rectification_helpers import Rectifying
from sqlalchemy import Connection, text

from xunshi.bootstrap import App
from xunshi.errors import BadInput
from xunshi.services import audit as audit_service
from xunshi.storage.processes import in_window_order
from xunshi.workflow.clock import ManualClock

UNITS = ("U01", "U02", "U03", "U04")
MARK = "XUNSHI_TEST_HELPER_MARK"  # a file a helper creates once it has done a window


@pytest.fixture
def rect(app: App, clock: ManualClock) -> Rectifying:
    """Four cases in rectification, each with two problems (one with a done task)."""
    world = Rectifying(app, clock)
    for unit in UNITS:
        world.case(unit)
        for code in ("P01", "P02"):
            item = world.item(unit, code)
            task = world.task(item, date(2024, 12, 31))
            world.begin(item)
            if code == "P01":
                world.done(str(task.id))
    return world


def _tamper(rect: Rectifying) -> None:
    """Break instances all over the id range, several ways."""
    rect.sql("UPDATE rectification_task SET measure = '改过' WHERE id = 1")
    rect.sql("UPDATE rectification_item SET title = '改过的标题' WHERE id = 5")
    rect.sql("UPDATE instance SET state = 'closed' WHERE id = 9")
    rect.sql("UPDATE event SET reason = '改过' WHERE instance_id = 12 AND seq = 2")
    rect.sql("UPDATE event SET data = '[1]' WHERE instance_id = 7 AND seq = 1")
    rect.sql("DELETE FROM event WHERE instance_id = 3 AND seq = 2")


def test_several_processes_give_the_very_report_of_one(
    app: App, rect: Rectifying, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tamper(rect)
    monkeypatch.setattr(audit_service, "_WINDOW", 2)  # seven windows for twelve instances
    one: list[int] = []
    alone = app.services.audit.verify(progress=one.append)
    assert len({p.instance for p in alone.problems}) == 6, alone.problems
    for workers in (2, 3):
        seen: list[int] = []
        assert app.services.audit.verify(progress=seen.append, workers=workers) == alone
        assert seen == one
    assert multiprocessing.active_children() == []


def test_a_seal_taken_with_several_processes_is_the_same(
    app: App, rect: Rectifying, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_service, "_WINDOW", 3)
    sealed = app.services.audit.seal("auditor", workers=2)
    assert (sealed.chains, sealed.events) == (12, app.services.audit.verify().events)
    assert app.services.audit.verify(sealed.digest, workers=2).ok


def _wait_for_a_helper(lo: int | None) -> None:
    """Hold this process's first window until a helper has done one (so one surely did)."""
    deadline = time.monotonic() + 120
    while lo == 0 and not Path(os.environ[MARK]).exists():
        assert time.monotonic() < deadline, "no helper process took a window"
        time.sleep(0.01)


def _in_helper(conn: Connection, lo: int | None, hi: int | None) -> tuple[int | None, int]:
    """A helper's result for a window: its bounds' start and the process that did it."""
    assert conn.execute(text("SELECT 1")).scalar_one() == 1
    Path(os.environ[MARK]).touch()
    return lo, os.getpid()


def _failing_in_helper(conn: Connection, lo: int | None, hi: int | None) -> tuple[int, int]:
    Path(os.environ[MARK]).touch()
    raise BadInput(f"window {lo} is bad")


def test_results_come_back_in_window_order_from_every_process(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MARK, str(tmp_path / "mark"))
    windows = [(lo, lo + 1) for lo in range(12)]

    def here(lo: int | None, hi: int | None) -> tuple[int | None, int]:
        _wait_for_a_helper(lo)
        return lo, os.getpid()

    found = list(in_window_order(app.db, windows, here, _in_helper, 3))
    assert [lo for lo, _ in found] == list(range(12))
    assert os.getpid() in {pid for _, pid in found}
    assert len({pid for _, pid in found}) > 1
    assert multiprocessing.active_children() == []


def test_an_error_in_a_helper_is_raised_here_and_every_helper_ends(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MARK, str(tmp_path / "mark"))
    windows = [(lo, lo + 1) for lo in range(6)]

    def here(lo: int | None, hi: int | None) -> tuple[int | None, int]:
        _wait_for_a_helper(lo)
        return lo, os.getpid()

    with pytest.raises(BadInput, match=r"^window [1-5] is bad$"):
        list(in_window_order(app.db, windows, here, _failing_in_helper, 2))
    assert multiprocessing.active_children() == []


def test_one_process_or_one_window_spawns_no_helper(app: App) -> None:
    def here(lo: int | None, hi: int | None) -> tuple[int | None, int]:
        return lo, os.getpid()

    assert list(in_window_order(app.db, [(None, None)], here, _in_helper, 4)) == [
        (None, os.getpid())
    ]
    assert list(in_window_order(app.db, [(0, 1), (1, None)], here, _in_helper, 1)) == [
        (0, os.getpid()),
        (1, os.getpid()),
    ]
