"""Sweepers in real processes: killed half way, and several at once (DESIGN §5, §8).

A child process (a script written to the test's folder, run with this interpreter) sweeps
the database and is SIGKILLed after K timers; a fresh sweeper finishes once the lease has
expired. Then two or four sweeper processes race over 5,000 due timers. In every case each
escalation must exist exactly once and no timer may be left `claimed`.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from escalation_helpers import (
    escalation_counts,
    escalations,
    outbox,
    run_script,
    setup_round,
    sh,
    start_case,
    start_script,
    timer_status_counts,
    write_plan,
)

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings
from xunshi.workflow.clock import ManualClock, SystemClock

pytestmark = pytest.mark.slow
PG = pytest.mark.postgres

# Three cases started 2024-09-02 (preparation, due 09-24): all four rungs of each are due
# by 2024-10-20, when the crashing sweeper runs.
CASES = 3
DUE_TIMERS = CASES * 4
SWEEP_AT = sh(2024, 10, 20)

CRASHING_SWEEPER = """\
    import os
    import signal
    import sys
    from datetime import datetime

    from xunshi.bootstrap import bootstrap
    from xunshi.config import Settings
    from xunshi.workflow import escalation
    from xunshi.workflow.clock import ManualClock
    from xunshi.workflow.engine import Engine

    url, now, kill_after, where = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    app = bootstrap(
        Settings(db_url=url, lease_seconds=1), clock=ManualClock(datetime.fromisoformat(now))
    )
    fired = 0
    original_fire = escalation.Sweeper.fire
    original_record = Engine.record_escalation


    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)


    def fire(self, timer, at):
        # "before": die before firing timer K+1, outside any transaction.
        global fired
        if where == "before" and fired == kill_after:
            die()
        outcome = original_fire(self, timer, at)
        fired += 1
        return outcome


    def record_escalation(self, *args, **kwargs):
        # "inside": die in the middle of timer K+1's transaction, after its escalation row
        # and history event were written but before the commit.
        outcome = original_record(self, *args, **kwargs)
        if where == "inside" and fired == kill_after:
            die()
        return outcome


    escalation.Sweeper.fire = fire
    Engine.record_escalation = record_escalation
    result = app.sweeper.sweep()
    print(f"survived: claimed {result.claimed}, raised {len(result.raised)}")
    sys.exit(3)
"""

RACING_SWEEPER = """\
    import json
    import sys
    import time
    from pathlib import Path

    from xunshi.bootstrap import bootstrap
    from xunshi.config import Settings

    url, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    app = bootstrap(Settings(db_url=url))
    app.db.schema_version()  # connect before the start line
    ready.touch()
    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            sys.exit("no go signal")
        time.sleep(0.01)
    result = app.sweeper.sweep()
    print(json.dumps({
        "worker": app.sweeper.worker,
        "claimed": result.claimed,
        "raised": len(result.raised),
        "stale": result.stale,
        "lost": result.lost,
    }))
"""


def make_app(url: str, clock: ManualClock | SystemClock, lease: float = 60.0) -> App:
    """An application on `url` (initialised)."""
    app = bootstrap(Settings(db_url=url, actor="tester", lease_seconds=lease), clock=clock)
    app.init("tester")
    return app


@pytest.fixture
def crash_world(db_url: str) -> Iterator[str]:
    """Three cases with four due rungs each; the URL."""
    app = make_app(db_url, ManualClock(sh(2024, 9, 2, 9)))
    setup_round(app)
    for unit in range(1, CASES + 1):
        start_case(app, f"U{unit:02d}")
    app.db.dispose()
    yield db_url


# K: timers fired before the kill; where: outside a transaction or inside the K+1-th one.
KILL_POINTS = [
    pytest.param(0, "before", id="right-after-claiming"),
    pytest.param(1, "inside", id="after-1-inside-the-2nd"),
    pytest.param(DUE_TIMERS // 2, "before", id="middle"),
    pytest.param(DUE_TIMERS - 1, "inside", id="inside-the-last"),
]


@pytest.mark.parametrize(("kill_after", "where"), KILL_POINTS)
def test_a_killed_sweeper_leaves_nothing_half_done(
    crash_world: str, tmp_path: Path, kill_after: int, where: str
) -> None:
    child = run_script(
        tmp_path / "crashing_sweeper.py",
        CRASHING_SWEEPER,
        [crash_world, SWEEP_AT.isoformat(), str(kill_after), where],
    )
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr

    clock = ManualClock(SWEEP_AT + timedelta(milliseconds=500))
    app = make_app(crash_world, clock, lease=1)
    try:
        # The dead sweeper's work is exactly its first K timers, committed whole.
        assert len(escalations(app)) == kill_after
        assert len(outbox(app)) == kill_after
        assert timer_status_counts(app).get("claimed") == DUE_TIMERS - kill_after
        assert app.auditor.verify().ok

        # While its lease (1 s) runs, nobody else may take its timers.
        early = app.sweeper.sweep()
        assert (early.claimed, early.raised) == (0, [])

        clock.set(SWEEP_AT + timedelta(seconds=2))
        late = app.sweeper.sweep()

        assert late.raised is not None
        assert len(late.raised) == DUE_TIMERS - kill_after
        counts = escalation_counts(app)
        assert len(counts) == DUE_TIMERS
        assert set(counts.values()) == {1}
        assert timer_status_counts(app).get("claimed", 0) == 0
        assert len(outbox(app)) == DUE_TIMERS
        assert app.auditor.verify().ok
    finally:
        app.db.dispose()


# -- racing sweepers -----------------------------------------------------------------------

RACE_TIMERS = 5000  # 1,250 cases with four due rungs each
RACES = [
    pytest.param("postgres", 2, id="postgres-2", marks=PG),
    pytest.param("postgres", 4, id="postgres-4", marks=PG),
    pytest.param("sqlite", 2, id="sqlite-2"),
]


@pytest.mark.parametrize(("backend", "processes"), RACES)
def test_racing_sweepers_raise_each_escalation_exactly_once(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, processes: int
) -> None:
    due = RACE_TIMERS
    url: str = request.getfixturevalue("pg_schema_url" if backend == "postgres" else "sqlite_url")
    app = make_app(url, SystemClock())
    try:
        # Cases started long ago, in preparation: each has its four rungs due now.
        app.inspection.create_round("2024-R1", "2024年第一轮巡视", date(2024, 1, 2))
        plan = write_plan(tmp_path / "plan.csv", "2024-R1", due // 4)
        app.inspection.import_plan(plan, actor="tester", at=sh(2024, 1, 2, 9))
        assert timer_status_counts(app) == {"pending": due}

        results = _race(url, tmp_path, processes)

        assert sum(r["raised"] for r in results) == due, results
        if backend == "postgres":
            # SKIP LOCKED lets every sweeper work at once. (SQLite serialises writers, and
            # one process may legitimately starve the other of the write lock.)
            assert all(r["raised"] > 0 for r in results), results
        assert len({r["worker"] for r in results}) == processes
        counts = escalation_counts(app)
        assert len(counts) == due
        assert set(counts.values()) == {1}
        assert timer_status_counts(app) == {"done": due}
        assert len(outbox(app)) == due
        assert app.auditor.verify().ok  # every history contiguous, replay == projection
    finally:
        app.db.dispose()


def _race(url: str, folder: Path, processes: int) -> list[dict[str, Any]]:
    """Start `processes` sweepers, release them together, and collect what each did."""
    go = folder / "go"
    readies = [folder / f"ready-{n}" for n in range(processes)]
    children = [
        start_script(folder / f"sweeper_{n}.py", RACING_SWEEPER, [url, str(ready), str(go)])
        for n, ready in enumerate(readies)
    ]
    try:
        deadline = time.monotonic() + 60
        while not all(r.exists() for r in readies):
            assert all(c.poll() is None for c in children), [c.communicate() for c in children]
            assert time.monotonic() < deadline, "the sweepers did not start"
            time.sleep(0.02)
        go.touch()
        outputs = [c.communicate(timeout=180) for c in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.communicate()
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    return [json.loads(out) for out, _ in outputs]
