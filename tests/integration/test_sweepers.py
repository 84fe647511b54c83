"""Sweepers in real processes: killed half way, and several at once (DESIGN §5, §8).

A child process (a script written to the test's folder, run with this interpreter) sweeps
the database and is SIGKILLed after K timers; a fresh sweeper finishes once the lease has
expired. Then two or four sweeper processes race over 5,000 due timers. In every case each
escalation must exist exactly once and no timer may be left `claimed`. The cases run the
escalation tests' own `timed` definition (escalation_helpers.TIMED_YAML): a 15wd preparation
and a four-rung ladder (-3wd, 0, +5wd, +10wd), whatever the built-ins become.

A stage entry has one timer, its next rung: firing a rung moves the timer on to the next
one in the same transaction. "N due timers" are therefore N stage entries (cases) with one
due rung each; the ladder's catch-up under a crash has a test of its own.
"""

from __future__ import annotations

import json
import signal
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from escalation_helpers import (
    ROUND,
    TIMED,
    escalation_counts,
    escalations,
    load_timed,
    outbox,
    run_script,
    setup_round,
    sh,
    start_case,
    start_script,
    timer_rungs,
    timers,
    write_plan,
)

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings
from xunshi.workflow.clock import ManualClock, SystemClock

pytestmark = pytest.mark.slow
PG = pytest.mark.postgres

# Twelve cases started 2024-09-02 (preparation, due 09-24): the reminder (level 0, 09-19)
# of each is due on 2024-09-20, when the crashing sweeper runs, and level 1 (09-25) is not.
DUE_TIMERS = 12
SWEEP_AT = sh(2024, 9, 20)
# Three cases with all four rungs due on 2024-10-20: twelve fires on three timers.
LADDER_CASES = 3
LADDER_SWEEP_AT = sh(2024, 10, 20)

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
    original_record = Engine.execute


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


    def execute(self, *args, **kwargs):
        # "inside": die in the middle of timer K+1's transaction, after its escalation row
        # and history event were written but before the commit.
        outcome = original_record(self, *args, **kwargs)
        if where == "inside" and fired == kill_after:
            die()
        return outcome


    escalation.Sweeper.fire = fire
    Engine.execute = execute
    result = app.sweeper.sweep()
    print(f"survived: claimed {result.claimed}, raised {len(result.raised)}")
    sys.exit(3)
"""

RACING_SWEEPER = """\
    import json
    import sys
    import time
    from datetime import datetime
    from pathlib import Path

    from xunshi.bootstrap import bootstrap
    from xunshi.config import Settings

    url, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    now, batch = datetime.fromisoformat(sys.argv[4]), int(sys.argv[5])
    app = bootstrap(Settings(db_url=url))
    app.sweeper.lease.batch = batch
    app.db.schema_version()  # connect before the start line
    ready.touch()
    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            sys.exit("no go signal")
        time.sleep(0.01)
    result = app.sweeper.sweep(now)
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
    app.services.definitions.init("tester")
    return app


def _cases(db_url: str, count: int) -> str:
    """`count` `timed` cases started 2024-09-02 09:00 (in preparation); the URL."""
    app = make_app(db_url, ManualClock(sh(2024, 9, 2, 9)))
    try:
        load_timed(app)
        setup_round(app)
        for unit in range(1, count + 1):
            start_case(app, f"U{unit:02d}", definition=TIMED)
    finally:
        app.db.dispose()
    return db_url


@pytest.fixture
def crash_world(db_url: str) -> str:
    """Twelve cases with one due timer each (its first rung); the URL."""
    return _cases(db_url, DUE_TIMERS)


@pytest.fixture
def ladder_world(db_url: str) -> str:
    """Three cases whose four rungs are all due at LADDER_SWEEP_AT; the URL."""
    return _cases(db_url, LADDER_CASES)


def _crash(url: str, folder: Path, at: datetime, kill_after: int, where: str) -> None:
    """Run the crashing sweeper at `at`; it must die by SIGKILL."""
    child = run_script(
        folder / "crashing_sweeper.py",
        CRASHING_SWEEPER,
        [url, at.isoformat(), str(kill_after), where],
    )
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr


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
    _crash(crash_world, tmp_path, SWEEP_AT, kill_after, where)

    clock = ManualClock(SWEEP_AT + timedelta(milliseconds=500))
    app = make_app(crash_world, clock, lease=1)
    try:
        # The dead sweeper's work is exactly its first K timers, committed whole: each
        # fired timer moved on to level 1 (not due yet), the others are still its claims.
        assert len(escalations(app)) == kill_after
        assert len(outbox(app)) == kill_after
        expected = {("pending", 1): kill_after, ("claimed", 0): DUE_TIMERS - kill_after}
        assert timer_rungs(app) == {rung: n for rung, n in expected.items() if n}
        assert app.services.audit.verify().ok

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
        assert timer_rungs(app) == {("pending", 1): DUE_TIMERS}  # none left claimed
        assert len(outbox(app)) == DUE_TIMERS
        assert app.services.audit.verify().ok
    finally:
        app.db.dispose()


def test_a_sweeper_killed_during_a_catch_up_holds_back_only_the_timers_it_held(
    ladder_world: str, tmp_path: Path
) -> None:
    # Killed inside its sixth fire: it fired every case's level 0, then two cases' level 1,
    # which moved their timers on to level 2 (free). The third case's level-1 fire rolled
    # back whole; that timer stays claimed until the dead sweeper's lease runs out.
    kill_after = LADDER_CASES + 2
    _crash(ladder_world, tmp_path, LADDER_SWEEP_AT, kill_after, "inside")
    freed = kill_after - LADDER_CASES
    held = LADDER_CASES - freed
    clock = ManualClock(LADDER_SWEEP_AT + timedelta(milliseconds=500))
    app = make_app(ladder_world, clock, lease=1)
    try:
        assert len(escalations(app)) == kill_after
        assert timer_rungs(app) == {("pending", 2): freed, ("claimed", 1): held}

        # During the lease the free timers run to the end of the ladder; the held ones wait.
        early = app.sweeper.sweep()
        assert early.raised is not None
        assert sorted(r.level for r in early.raised) == sorted([2, 3] * freed)
        assert timer_rungs(app) == {("done", 3): freed, ("claimed", 1): held}

        clock.set(LADDER_SWEEP_AT + timedelta(seconds=2))
        late = app.sweeper.sweep()

        assert late.raised is not None
        assert sorted(r.level for r in late.raised) == sorted([1, 2, 3] * held)
        assert timer_rungs(app) == {("done", 3): LADDER_CASES}
        counts = escalation_counts(app)
        assert len(counts) == LADDER_CASES * 4
        assert set(counts.values()) == {1}
        for unit in range(1, LADDER_CASES + 1):
            history = list(app.services.read.history.of(f"{ROUND}/U{unit:02d}").events)
            assert [e.data["level"] for e in history if e.kind == "escalation"] == [0, 1, 2, 3]
        assert len(outbox(app)) == LADDER_CASES * 4
        assert app.services.audit.verify().ok
    finally:
        app.db.dispose()


# -- racing sweepers -----------------------------------------------------------------------

# 5,000 cases started 2024-01-02 09:00, in preparation (due 01-23): each has one timer. A
# race runs when one rung of every case is due and the next is not: first the reminders
# (level 0, 01-18), then, on PostgreSQL, with four sweepers over the same timers moved on
# to level 1 (01-24). Each race is over 5,000 due timers; the cases are imported once.
RACE_TIMERS = 5000
RUNGS_AT = [sh(2024, 1, 18), sh(2024, 1, 24), sh(2024, 1, 31)]  # levels 0, 1, 2
RACES = [
    pytest.param("postgres", (2, 4), id="postgres-2-then-4", marks=PG),
    pytest.param("sqlite", (2,), id="sqlite-2"),
]


@pytest.mark.parametrize(("backend", "waves"), RACES)
def test_racing_sweepers_raise_each_escalation_exactly_once(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, waves: tuple[int, ...]
) -> None:
    due = RACE_TIMERS
    url: str = request.getfixturevalue("pg_schema_url" if backend == "postgres" else "sqlite_url")
    app = make_app(url, SystemClock())
    try:
        load_timed(app)
        app.services.cases.create_round("2024-R1", "2024年第一轮巡视", date(2024, 1, 2))
        plan = write_plan(tmp_path / "plan.csv", "2024-R1", due, definition=TIMED)
        app.services.cases.import_plan(plan, actor="tester", at=sh(2024, 1, 2, 9))
        assert timer_rungs(app) == {("pending", 0): due}
        assert {t["fire_at"] for t in timers(app)} == {RUNGS_AT[0]}

        for level, processes in enumerate(waves):
            folder = tmp_path / f"race-{level}"
            folder.mkdir()

            results = _race(url, folder, processes, RUNGS_AT[level])

            assert sum(r["raised"] for r in results) == due, results
            if backend == "postgres":
                # SKIP LOCKED lets every sweeper work at once. (SQLite serialises writers,
                # and one process may legitimately starve the other of the write lock.)
                assert all(r["raised"] > 0 for r in results), results
            assert len({r["worker"] for r in results}) == processes
            counts = escalation_counts(app)
            assert len(counts) == due * (level + 1)
            assert set(counts.values()) == {1}
            assert {lv for *_, lv in counts} == set(range(level + 1))
            # Each timer fired once and moved on to the next rung; none left claimed.
            assert timer_rungs(app) == {("pending", level + 1): due}
            assert {t["fire_at"] for t in timers(app)} == {RUNGS_AT[level + 1]}
            assert len(outbox(app)) == due * (level + 1)
            assert app.services.audit.verify().ok  # every history contiguous, replay == projection
    finally:
        app.db.dispose()


# Ladders under racing sweepers: 200 cases whose four rungs are all due, swept in small
# batches so that a timer one sweeper moved on may be fired next by the other.
LADDER_RACE_CASES = 200
LADDER_RACES = [
    pytest.param("postgres", id="postgres-2", marks=PG),
    pytest.param("sqlite", id="sqlite-2"),
]


@pytest.mark.parametrize("backend", LADDER_RACES)
def test_racing_sweepers_walk_each_ladder_once_and_in_order(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    cases = LADDER_RACE_CASES
    url: str = request.getfixturevalue("pg_schema_url" if backend == "postgres" else "sqlite_url")
    app = make_app(url, SystemClock())
    try:
        load_timed(app)
        app.services.cases.create_round("2024-R1", "2024年第一轮巡视", date(2024, 1, 2))
        plan = write_plan(tmp_path / "plan.csv", "2024-R1", cases, definition=TIMED)
        app.services.cases.import_plan(plan, actor="tester", at=sh(2024, 1, 2, 9))
        assert timer_rungs(app) == {("pending", 0): cases}

        results = _race(url, tmp_path, 2, sh(2024, 3, 1), batch=50)

        assert sum(r["raised"] for r in results) == cases * 4, results
        if backend == "postgres":
            assert all(r["raised"] > 0 for r in results), results
        counts = escalation_counts(app)
        assert len(counts) == cases * 4
        assert set(counts.values()) == {1}
        assert timer_rungs(app) == {("done", 3): cases}
        assert len(outbox(app)) == cases * 4
        by_case: dict[int, list[int]] = {}
        for row in escalations(app):  # by id: the order they were raised in
            by_case.setdefault(row["instance_id"], []).append(row["level"])
        assert {tuple(levels) for levels in by_case.values()} == {(0, 1, 2, 3)}
        assert app.services.audit.verify().ok
    finally:
        app.db.dispose()


def _race(
    url: str, folder: Path, processes: int, now: datetime, batch: int = 1000
) -> list[dict[str, Any]]:
    """Start `processes` sweepers, release them together to sweep at `now`; what each did."""
    go = folder / "go"
    readies = [folder / f"ready-{n}" for n in range(processes)]
    children = [
        start_script(
            folder / f"sweeper_{n}.py",
            RACING_SWEEPER,
            [url, str(ready), str(go), now.isoformat(), str(batch)],
        )
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
