"""`xunshi scheduler run` as a real process on the real clock (DESIGN §5, §7).

The database is built on the system clock with cases started weeks ago, so their rungs are
due now; the daemon must raise them, then stop on SIGTERM or SIGINT within two seconds with
exit code 0, leaving no timer `claimed`. Each case has one timer (its stage's next rung),
which the daemon moves along the ladder rung by rung until it is `done`. The cases run the
escalation tests' own `timed` definition (escalation_helpers.TIMED_YAML), whose stages have
a four-rung ladder, whatever the built-ins become.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from escalation_helpers import (
    TIMED,
    child_env,
    escalation_counts,
    escalations,
    load_timed,
    setup_round,
    start_case,
    timer_rungs,
    timers,
    write_plan,
)

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings
from xunshi.workflow.clock import SystemClock

pytestmark = pytest.mark.slow

INTERVAL = "0.5"
STOP_WITHIN = 2.0


class Daemon:
    """A `python -m xunshi --db URL scheduler run` child process; output in files."""

    def __init__(self, url: str, folder: Path) -> None:
        self.out = folder / "scheduler.out"
        self.err = folder / "scheduler.err"
        command = [sys.executable, "-m", "xunshi", "--db", url, "scheduler", "run"]
        with self.out.open("w") as out, self.err.open("w") as err:
            self.process = subprocess.Popen(
                [*command, "--interval", INTERVAL],
                stdout=out,
                stderr=err,
                env=child_env(),
                cwd=folder,
            )

    def log(self) -> str:
        """What the daemon wrote to stderr so far."""
        return self.err.read_text(encoding="utf-8")

    def stop(self, signum: int) -> tuple[int, float]:
        """Send `signum`; the exit code and the seconds it took to exit."""
        sent = time.monotonic()
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=STOP_WITHIN + 3)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"the scheduler ignored {signal.Signals(signum).name}:\n{self.log()}")
        return code, time.monotonic() - sent

    def kill(self) -> None:
        """Make sure the child is gone."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def url(request: pytest.FixtureRequest) -> str:
    """A fresh database URL on the backend the test is parametrized with."""
    backend = getattr(request, "param", "sqlite")
    found: str = request.getfixturevalue("pg_schema_url" if backend == "postgres" else "sqlite_url")
    return found


@pytest.fixture
def system_app(url: str) -> Iterator[App]:
    """An initialised app on `url` and the system clock."""
    app = bootstrap(Settings(db_url=url, actor="tester"), clock=SystemClock())
    app.services.definitions.init("tester")
    yield app
    app.db.dispose()


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[list[Daemon]]:
    """Started daemons, killed at the end if a test left one running."""
    started: list[Daemon] = []
    yield started
    for one in started:
        one.kill()


def weeks_ago(weeks: int) -> datetime:
    """An instant `weeks` weeks before now."""
    return datetime.now(UTC) - timedelta(weeks=weeks)


def wait_for(app: App, count: int, daemon: Daemon, within: float = 10.0) -> None:
    """Poll the database until `count` escalations exist (or fail with the daemon's log)."""
    deadline = time.monotonic() + within
    while len(escalations(app)) < count:
        assert daemon.process.poll() is None, f"the scheduler exited:\n{daemon.log()}"
        if time.monotonic() > deadline:
            pytest.fail(f"{len(escalations(app))} of {count} escalations:\n{daemon.log()}")
        time.sleep(0.1)


RUNS = [
    pytest.param("sqlite", signal.SIGTERM, id="sqlite-SIGTERM"),
    pytest.param("postgres", signal.SIGTERM, id="postgres-SIGTERM", marks=pytest.mark.postgres),
    pytest.param("sqlite", signal.SIGINT, id="sqlite-SIGINT"),
]


@pytest.mark.parametrize(("url", "signum"), RUNS, indirect=["url"])
def test_the_daemon_raises_due_escalations_and_stops_cleanly(
    system_app: App,
    url: str,
    tmp_path: Path,
    daemon: list[Daemon],
    signum: signal.Signals,
) -> None:
    load_timed(system_app)
    setup_round(system_app, "2026-R1", date.today() - timedelta(weeks=12))
    for unit in ("U01", "U02"):
        start_case(system_app, unit, round_code="2026-R1", at=weeks_ago(10), definition=TIMED)
    assert timer_rungs(system_app) == {("pending", 0): 2}  # one timer per case, 4 rungs due
    daemon.append(Daemon(url, tmp_path))

    wait_for(system_app, 8, daemon[0])
    code, took = daemon[0].stop(signum)

    assert code == 0, daemon[0].log()
    assert took < STOP_WITHIN, f"took {took:.2f}s"
    counts = escalation_counts(system_app)
    assert set(counts.values()) == {1}
    assert sorted(level for *_, level in counts) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert timer_rungs(system_app) == {("done", 3): 2}
    log = daemon[0].log()
    assert "Traceback" not in log
    assert f"received {signal.Signals(signum).name}, stopping" in log


def test_a_daemon_stopped_mid_sweep_gives_back_what_it_did_not_fire(
    system_app: App, url: str, tmp_path: Path, daemon: list[Daemon]
) -> None:
    # SQLite: one backend is enough for the stop-while-sweeping path.
    load_timed(system_app)
    system_app.services.cases.create_round("2026-R1", "2026年第一轮巡视", date(2026, 1, 5))
    plan = write_plan(tmp_path / "plan.csv", "2026-R1", 300, definition=TIMED)
    system_app.services.cases.import_plan(plan, actor="tester", at=weeks_ago(10))
    daemon.append(Daemon(url, tmp_path))

    wait_for(system_app, 1, daemon[0])
    code, took = daemon[0].stop(signal.SIGTERM)

    assert code == 0, daemon[0].log()
    assert took < STOP_WITHIN, f"took {took:.2f}s"
    raised = escalations(system_app)
    assert len(raised) < 1200, "the sweep finished before the signal; nothing was tested"
    assert set(escalation_counts(system_app).values()) == {1}
    # Nothing is left claimed, and each case's timer stands right after its last raised
    # rung: pending at level k after levels 0..k-1, done after all four.
    by_case: dict[int, list[int]] = {}
    for row in raised:
        by_case.setdefault(row["instance_id"], []).append(row["level"])
    stood = timers(system_app)
    assert len(stood) == 300
    for timer in stood:
        fired = sorted(by_case.get(timer["instance_id"], []))
        if timer["status"] == "done":
            assert (timer["level"], fired) == (3, [0, 1, 2, 3]), timer
        else:
            assert timer["status"] == "pending", timer
            assert fired == list(range(timer["level"])), timer


def _catches_sigterm(pid: int) -> bool:
    """Whether the process has a SIGTERM handler: xunshi's first act in `scheduler run`."""
    status = Path(f"/proc/{pid}/status").read_text()
    caught = int(
        next(line for line in status.splitlines() if line.startswith("SigCgt:")).split()[1], 16
    )
    return bool(caught & (1 << (signal.SIGTERM - 1)))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.parametrize(
    ("after", "from_handler"),
    [(0.0, True), (0.1, False), (0.2, False), (0.3, False)],
    ids=["as-xunshi-starts", "0.1s", "0.2s", "0.3s"],
)
def test_sigint_in_the_first_moments_is_a_clean_stop(
    system_app: App, url: str, tmp_path: Path, after: float, from_handler: bool
) -> None:
    # From the moment xunshi's own code runs (it installs its handlers before importing
    # click, SQLAlchemy or APScheduler), SIGINT is a clean stop: no KeyboardInterrupt
    # traceback, no click "Aborted!", exit 0, whether it lands while importing, opening the
    # database or sweeping. Before, 0.1-0.3 s after the start was a traceback or `Aborted!`.
    # (The interpreter's own first milliseconds are Python's.)
    one = Daemon(url, tmp_path)
    try:
        deadline = time.monotonic() + 10
        while from_handler and not _catches_sigterm(one.process.pid):
            assert one.process.poll() is None, one.log()
            assert time.monotonic() < deadline, "xunshi never started"
            time.sleep(0.001)
        time.sleep(after)
        code, _ = one.stop(signal.SIGINT)
    finally:
        one.kill()

    log = one.log()
    assert code == 0, log
    assert "Traceback" not in log
    assert "Aborted" not in log
    assert "KeyboardInterrupt" not in log
