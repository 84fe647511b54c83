"""Retries and request ids (issue #12): a command whose connection is lost, or whose
transaction PostgreSQL aborts, runs again whole and is recorded once; a command run again
under the same request id reports what it did instead of doing it twice.

The faults are real: the server terminates the backend (`pg_terminate_backend`, from a
second connection, as an operator or a failover would), raises a genuine serialization
failure or deadlock (SQLSTATE 40001 / 40P01), or two writers really collide under
SERIALIZABLE isolation.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from sqlalchemy import Connection, text
from worlds import ROUND, World

from xunshi import idempotency
from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings
from xunshi.errors import BadInput, Conflict, StorageError
from xunshi.idempotency import AlreadyDone, Request
from xunshi.storage import db as storage_db
from xunshi.storage import instances
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.engine import Engine

KEY = f"{ROUND}/U01"
PG_ADMIN_URL = os.environ.get("XUNSHI_TEST_PG_URL", "").replace("+psycopg", "", 1)
LEADER = {"actor": "张组长", "role": "group_leader"}


@pytest.fixture
def world(app: App, clock: ManualClock) -> World:
    """A round with one case in preparation (`briefings_received`, `training_done` open)."""
    found = World(app, clock)
    found.case("U01")
    return found


@pytest.fixture
def pg_app(pg_schema_url: str, clock: ManualClock) -> Iterator[App]:
    """An initialised application on PostgreSQL only (the faults are the server's)."""
    application = bootstrap(Settings(db_url=pg_schema_url, actor="tester"), clock=clock)
    application.services.definitions.init("tester")
    yield application
    application.db.dispose()


def events_of(app: App, key: str = KEY) -> list[tuple[int, str, str | None]]:
    """(seq, kind, request id) of every event of the case."""
    with app.db.transaction() as conn:
        rows = conn.execute(
            text(
                "SELECT e.seq, e.kind, e.request_id FROM event e "
                "JOIN inspection_case c ON c.id = e.instance_id "
                "JOIN unit u ON u.id = c.unit_id WHERE u.code = :unit ORDER BY e.seq"
            ),
            {"unit": key.split("/")[1]},
        )
        return [(r[0], r[1], r[2]) for r in rows]


def milestone(app: App, name: str = "briefings_received") -> Any:
    """Record a preparation milestone of the case as its group leader."""
    return app.services.cases.record_milestone(KEY, name, **LEADER)


# -- request ids, on both backends ----------------------------------------------------


def test_events_carry_the_request_id_of_the_command_that_wrote_them(world: World) -> None:
    with idempotency.using(Request("req-1", "record briefings")):
        milestone(world.app)
    assert events_of(world.app)[-1] == (2, "milestone", "req-1")


def test_the_same_request_again_reports_what_it_did_and_writes_nothing(world: World) -> None:
    with idempotency.using(Request("req-2", "record briefings")):
        first = milestone(world.app)
    again = Request("req-2", "record briefings")
    with idempotency.using(again), pytest.raises(AlreadyDone) as caught:
        milestone(world.app)
    assert caught.value.request_id == "req-2"
    assert [seq for seq, _, _ in events_of(world.app)] == [1, 2]
    record = world.app.services.read.history.requested("req-2")
    assert record.command == "record briefings"
    assert [(e.label, e.event.seq, e.event.hash) for e in record.events] == [
        (f"case {KEY}", 2, first.event.hash)
    ]


def test_a_request_id_used_by_another_command_is_refused(world: World) -> None:
    with idempotency.using(Request("req-3", "record briefings")):
        milestone(world.app)
    other = Request("req-3", "record training")
    with idempotency.using(other), pytest.raises(BadInput, match="req-3 was already used by"):
        milestone(world.app, "training_done")
    assert len(events_of(world.app)) == 2


def test_each_write_transaction_of_a_command_is_a_step_of_its_request(world: World) -> None:
    request = Request("req-4", "two milestones")
    with idempotency.using(request):
        milestone(world.app)
        milestone(world.app, "training_done")
    assert request.steps == 2
    assert [r for _, _, r in events_of(world.app)][-2:] == ["req-4", "req-4"]
    # Run again: the first step is found and reported; nothing is written.
    with idempotency.using(Request("req-4", "two milestones")), pytest.raises(AlreadyDone):
        milestone(world.app)
    assert len(events_of(world.app)) == 3


def test_an_unknown_request_is_not_found(world: World) -> None:
    with pytest.raises(Exception, match="no command ran under request id nothing-here"):
        world.app.services.read.history.requested("nothing-here")


@pytest.mark.parametrize("value", ["", "a b", "x" * 65, "中文", "semi;colon"])
def test_a_request_id_is_short_plain_text(value: str) -> None:
    with pytest.raises(BadInput, match="is not valid"):
        idempotency.checked_request_id(value)


# -- faults on PostgreSQL ---------------------------------------------------------------


def kill_backend(pid: int) -> None:
    """Have the server end backend `pid` (from a connection of its own, as an operator
    would) and wait until it has gone."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _ in range(500):
            found = admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,))
            if found.fetchone() is None:
                return
            time.sleep(0.01)
    raise AssertionError(f"backend {pid} was not terminated")


def terminate(conn: Connection) -> None:
    """End the backend of `conn`, in the middle of its transaction."""
    kill_backend(int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one()))


def on_append(
    monkeypatch: pytest.MonkeyPatch, fault: Callable[[Connection, int], None]
) -> list[int]:
    """Call `fault(conn, attempt)` each time an instance is about to be moved and its event
    appended (on PostgreSQL one statement); the attempts."""
    original = instances.advance
    attempts: list[int] = []

    def faulty(conn: Connection, *args: Any, **kwargs: Any) -> bool:
        attempts.append(len(attempts) + 1)
        fault(conn, len(attempts))
        return original(conn, *args, **kwargs)

    monkeypatch.setattr(instances, "advance", faulty)
    return attempts


@pytest.mark.postgres
def test_a_connection_terminated_mid_transaction_is_retried_and_recorded_once(
    pg_app: App, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    World(pg_app, clock).case("U01")

    def first_time(conn: Connection, attempt: int) -> None:
        if attempt == 1:
            terminate(conn)

    attempts = on_append(monkeypatch, first_time)
    with idempotency.using(Request("mid-1", "record briefings")):
        change = milestone(pg_app)
    assert attempts == [1, 2]  # the first attempt lost its connection; the second committed
    assert change.event.seq == 2
    assert events_of(pg_app) == [(1, "started", None), (2, "milestone", "mid-1")]
    assert pg_app.services.audit.verify().ok


@pytest.mark.postgres
def test_a_connection_lost_on_every_attempt_fails_in_one_line_writing_nothing(
    pg_app: App, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    World(pg_app, clock).case("U01")
    monkeypatch.setattr(storage_db, "RETRY_ATTEMPTS", 3)
    attempts = on_append(monkeypatch, lambda conn, _attempt: terminate(conn))
    with pytest.raises(StorageError) as caught:
        milestone(pg_app)
    assert len(attempts) == 3
    assert caught.value.message.startswith("database error: ")
    assert "\n" not in caught.value.message
    assert events_of(pg_app) == [(1, "started", None)]
    assert pg_app.services.audit.verify().ok


def lose_the_answer_to_commit(
    monkeypatch: pytest.MonkeyPatch, app: App, *, committed: bool = True
) -> list[int]:
    """The next commits reach the server (or, `committed` False, do not), then the connection
    drops before the answer comes back: the client cannot know whether it committed."""
    dialect = app.db.engine.dialect
    original = dialect.do_commit
    dropped: list[int] = []

    def commit_then_drop(dbapi_connection: Any) -> None:
        if dropped:  # once
            original(dbapi_connection)
            return
        dropped.append(1)
        if committed:
            original(dbapi_connection)
        driver = dbapi_connection.driver_connection  # the pool's wrapper → psycopg's own
        kill_backend(driver.info.backend_pid)
        driver.execute("SELECT 1")  # raises: the server ended the connection

    monkeypatch.setattr(dialect, "do_commit", commit_then_drop)
    return dropped


@pytest.mark.postgres
def test_a_connection_dropped_right_after_commit_reports_the_earlier_result(
    pg_app: App, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    World(pg_app, clock).case("U01")
    dropped = lose_the_answer_to_commit(monkeypatch, pg_app)
    with idempotency.using(Request("after-1", "record briefings")):
        change = milestone(pg_app)
    assert dropped == [1]
    assert (change.event.seq, change.event.data["milestone"]) == (2, "briefings_received")
    assert events_of(pg_app) == [(1, "started", None), (2, "milestone", "after-1")]
    # And the command run again (a script retrying) is told it was done.
    with idempotency.using(Request("after-1", "record briefings")), pytest.raises(AlreadyDone):
        milestone(pg_app)
    assert len(events_of(pg_app)) == 2


@pytest.mark.postgres
def test_a_connection_dropped_before_the_commit_arrived_runs_the_command_again(
    pg_app: App, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    World(pg_app, clock).case("U01")
    dropped = lose_the_answer_to_commit(monkeypatch, pg_app, committed=False)
    with idempotency.using(Request("after-2", "record briefings")):
        change = milestone(pg_app)
    assert dropped == [1]
    assert change.event.seq == 2
    assert events_of(pg_app) == [(1, "started", None), (2, "milestone", "after-2")]


@pytest.mark.postgres
def test_without_a_request_a_lost_commit_is_reported_not_guessed(
    pg_app: App, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    World(pg_app, clock).case("U01")
    lose_the_answer_to_commit(monkeypatch, pg_app)
    with idempotency.using(None), pytest.raises(StorageError, match="lost while committing"):
        milestone(pg_app)
    assert len(events_of(pg_app)) == 2  # it had committed: nothing was written twice


@pytest.mark.postgres
@pytest.mark.parametrize(("sqlstate", "name"), [("40001", "serialization"), ("40P01", "deadlock")])
def test_a_serialization_failure_or_deadlock_is_retried(
    pg_app: App,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    sqlstate: str,
    name: str,
) -> None:
    World(pg_app, clock).case("U01")

    def abort_twice(conn: Connection, attempt: int) -> None:
        if attempt <= 2:  # the server aborts the transaction, as PostgreSQL does
            conn.execute(
                text(f"DO $$ BEGIN RAISE EXCEPTION '{name}' USING ERRCODE = '{sqlstate}'; END $$")
            )

    attempts = on_append(monkeypatch, abort_twice)
    change = milestone(pg_app)
    assert attempts == [1, 2, 3]
    assert change.event.seq == 2
    assert [seq for seq, _, _ in events_of(pg_app)] == [1, 2]


@pytest.mark.postgres
def test_a_transaction_aborted_every_time_ends_as_a_conflict(
    pg_app: App, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    World(pg_app, clock).case("U01")
    monkeypatch.setattr(storage_db, "RETRY_ATTEMPTS", 3)

    def always(conn: Connection, _attempt: int) -> None:
        conn.execute(text("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '40001'; END $$"))

    attempts = on_append(monkeypatch, always)
    with pytest.raises(Exception, match="another writer changed the same records"):
        milestone(pg_app)
    assert len(attempts) == 3
    assert len(events_of(pg_app)) == 1


def serializable(pg_schema_url: str) -> str:
    """The URL with every transaction SERIALIZABLE."""
    return pg_schema_url + quote(" -c default_transaction_isolation=serializable")


def together(app: App, commands: dict[str, Callable[[], Any]]) -> tuple[dict[str, Any], int]:
    """Run each command in a thread of its own, all having read their instance before any
    writes (a barrier after `Engine.load`); what each returned or raised, and how many times
    `Engine.load` ran in all (more than once per command: attempts were retried)."""
    both_read = threading.Barrier(len(commands), timeout=20)
    original = Engine.load
    waited: set[int] = set()
    loads: list[int] = []

    def load_then_wait(self: Engine, conn: Connection, ref: Any, reads: Any = None) -> Any:
        row = original(self, conn, ref, reads)
        loads.append(1)
        me = threading.get_ident()
        if me not in waited:  # only the first attempt of each command waits
            waited.add(me)
            both_read.wait()
        return row

    outcomes: dict[str, Any] = {}

    def run(name: str, command: Callable[[], Any]) -> None:
        try:
            with idempotency.using(Request(f"together-{name}", name)):
                outcomes[name] = command()
        except Exception as exc:  # the test looks at it
            outcomes[name] = exc

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Engine, "load", load_then_wait)
        threads = [threading.Thread(target=run, args=item) for item in commands.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    return outcomes, len(loads)


@pytest.mark.postgres
def test_concurrent_writers_of_different_cases_are_retried_past_serialization_failures(
    pg_schema_url: str, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    # Every transaction SERIALIZABLE: two cases move into 进驻 at once, each having read
    # (its timers among the rest) before either writes; they read and write the same index
    # pages and PostgreSQL aborts one ("could not serialize access"); it runs again and
    # succeeds. Both recorded once.
    app = bootstrap(Settings(db_url=serializable(pg_schema_url), actor="tester"), clock=clock)
    try:
        app.services.definitions.init("tester")
        world = World(app, clock)
        for unit in ("U01", "U02"):
            world.case(unit)
        with app.db.transaction() as conn:
            assert conn.execute(text("SHOW transaction_isolation")).scalar() == "serializable"
        for unit in ("U01", "U02"):
            for name in ("briefings_received", "training_done"):
                app.services.cases.record_milestone(f"{ROUND}/{unit}", name, **LEADER)
        caplog.set_level("INFO", logger="xunshi.storage.db")
        outcomes, loads = together(
            app,
            {
                unit: functools.partial(
                    app.services.cases.fire, f"{ROUND}/{unit}", "move_in", **LEADER
                )
                for unit in ("U01", "U02")
            },
        )
        assert all(not isinstance(o, Exception) for o in outcomes.values()), outcomes
        retried = [r for r in caplog.records if "retrying a transaction" in r.getMessage()]
        assert loads == 2 + len(retried)
        assert retried, "PostgreSQL aborted neither writer: nothing was retried"
        assert "could not serialize access" in retried[0].getMessage()
        for unit in ("U01", "U02"):
            recorded = events_of(app, f"{ROUND}/{unit}")
            assert [(seq, kind) for seq, kind, _ in recorded] == [
                (1, "started"),
                (2, "milestone"),
                (3, "milestone"),
                (4, "transition"),
            ]
            assert recorded[-1][2] == f"together-{unit}"
        assert app.services.audit.verify().ok
    finally:
        app.db.dispose()


@pytest.mark.postgres
def test_concurrent_writers_of_one_case_one_wins_the_other_is_retried_then_refused(
    pg_schema_url: str, clock: ManualClock
) -> None:
    # The same case: the loser finds the version it decided on gone — at once, or on the
    # retry after PostgreSQL aborted it — which is a conflict (one line, nothing written),
    # never a command applied on a state its user did not see.
    app = bootstrap(Settings(db_url=serializable(pg_schema_url), actor="tester"), clock=clock)
    try:
        app.services.definitions.init("tester")
        World(app, clock).case("U01")
        outcomes, loads = together(
            app,
            {
                name: functools.partial(app.services.cases.record_milestone, KEY, name, **LEADER)
                for name in ("briefings_received", "training_done")
            },
        )
        assert loads in (2, 3)  # PostgreSQL may abort the loser (then it reads again) or not
        won = [o for o in outcomes.values() if not isinstance(o, Exception)]
        lost = [o for o in outcomes.values() if isinstance(o, Exception)]
        assert len(won) == 1 and len(lost) == 1
        assert isinstance(lost[0], Conflict)
        assert "was changed by someone else at the same time" in lost[0].message
        assert [seq for seq, _, _ in events_of(app)] == [1, 2]
        assert app.services.audit.verify().ok
    finally:
        app.db.dispose()
