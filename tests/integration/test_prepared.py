"""Prepared statements give the same rows and errors as executing the Core statement.

The engine reaches them through one small interface (`xunshi.storage.instances`); these
tests fail if a SQLAlchemy upgrade changes the internals `Prepared` relies on.
"""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import IntegrityError

from xunshi.bootstrap import App
from xunshi.errors import StorageError
from xunshi.storage import instances
from xunshi.storage import queries as q
from xunshi.storage.prepared import Prepared, _to_positional


def _case(app: App) -> int:
    app.services.cases.create_round("R1", "第一轮", app.clock.now().date())
    app.services.cases.add_group("R1", "G1", "组长甲")
    app.services.cases.add_unit("U01", "示例市财政局")
    ref = app.services.cases.start_case(
        round_code="R1", unit_code="U01", group_code="G1", definition="regular", actor="巡视办"
    )
    return ref.id


def test_a_prepared_select_returns_what_core_returns(app: App) -> None:
    case_id = _case(app)
    with app.db.transaction() as conn:
        core = dict(conn.execute(q.CASE_BY_ID, {"case_id": case_id}).mappings().one())
        prepared = instances.read_case(conn, case_id)
        missing = instances.read_case(conn, case_id + 1000)
    assert prepared == core
    assert missing is None
    # Types come back processed: aware datetimes, dates, booleans.
    assert prepared is not None
    assert prepared["entered_at"].tzinfo is not None
    assert prepared["suspended"] is False


def _note(case_id: int, seq: int, at: object) -> dict[str, object]:
    return {
        "instance_id": case_id,
        "seq": seq,
        "kind": "note",
        "trigger": None,
        "from_state": None,
        "to_state": None,
        "actor": "x",
        "role": None,
        "reason": None,
        "data": "{}",
        "occurred_at": at,
        "recorded_at": at,
        "prev_hash": "",
        "hash": "h",
        "request_id": "r1",
    }


def test_a_prepared_write_counts_rows_and_wraps_driver_errors(app: App) -> None:
    case_id = _case(app)
    with app.db.transaction() as conn:
        row = instances.read_instance(conn, case_id)
        assert row is not None
        moved = instances.update_instance(
            conn,
            case_id,
            row["version"] + 1,  # not the current version: no row
            {
                "version": 9,
                "milestones": "{}",
                "last_occurred_at": row["last_occurred_at"],
                "head_hash": row["head_hash"],
            },
            progress=True,
        )
        assert moved is False
    event = _note(case_id, 1, row["last_occurred_at"])  # seq 1: taken by the started event
    with app.db.transaction() as conn:
        assert instances.append_event(conn, event) is False  # another writer's seq: a conflict
    with pytest.raises(StorageError) as caught, app.db.transaction() as conn:
        Prepared(q.INSERT_EVENT).rowcount(conn, event)  # the driver's error, wrapped
    assert isinstance(caught.value.__cause__, IntegrityError)
    assert app.services.audit.verify().ok


def test_advance_moves_the_row_and_appends_or_does_neither(app: App) -> None:
    """On PostgreSQL one statement (update as a data-modifying WITH of the insert), on SQLite
    two: the same outcomes either way."""
    case_id = _case(app)
    with app.db.transaction() as conn:
        row = instances.read_instance(conn, case_id)
    assert row is not None
    head = {
        "version": row["version"] + 1,
        "milestones": "{}",
        "last_occurred_at": row["last_occurred_at"],
        "head_hash": "h",
    }
    at, seq = row["last_occurred_at"], row["version"] + 1
    stale = row["version"] + 5
    with app.db.transaction() as conn:  # another writer moved the row: neither happens
        assert not instances.advance(
            conn, case_id, stale, head, _note(case_id, seq, at), progress=True
        )
        assert instances.read_instance(conn, case_id)["version"] == row["version"]
        events = conn.execute(
            select(func.count()).where(q.events.c.instance_id == case_id, q.events.c.seq == seq)
        ).scalar_one()
        assert events == 0
    taken = _note(case_id, 1, at)  # the row moves, but the seq is another writer's
    with pytest.raises(_Rollback), app.db.transaction() as conn:
        assert not instances.advance(conn, case_id, row["version"], head, taken, progress=True)
        raise _Rollback
    with app.db.transaction() as conn:
        moved = instances.advance(
            conn, case_id, row["version"], head, _note(case_id, seq, at), progress=True
        )
        assert moved
    with app.db.transaction() as conn:
        after = instances.read_instance(conn, case_id)
        stored = conn.execute(
            select(q.events.c.kind, q.events.c.request_id).where(
                q.events.c.instance_id == case_id, q.events.c.seq == seq
            )
        ).one()
    assert after is not None and after["version"] == seq and after["head_hash"] == "h"
    assert tuple(stored) == ("note", "r1")


class _Rollback(Exception):
    pass


def test_values_a_statement_holds_rows_and_returned_rows(app: App) -> None:
    """Literal values in a statement (`status="superseded"`, `task_id == 0`) are sent
    without the caller naming them; `all` and `returns_row` read what they return."""
    case_id = _case(app)
    live = Prepared(select(q.timers.c.status).where(q.timers.c.instance_id == bindparam("id")))
    with app.db.transaction() as conn:
        assert live.all(conn, {"id": case_id}) == [("pending",)]
        assert Prepared(q.SUPERSEDE_TIMERS).rowcount(conn, {"b_instance_id": case_id}) == 1
        assert live.all(conn, {"id": case_id}) == [("superseded",)]
        assert live.all(conn, {"id": case_id + 1000}) == []
        claim = Prepared(
            text(
                "INSERT INTO command_request (request_id, step, command) "
                "VALUES (:r, 1, 'c') ON CONFLICT DO NOTHING RETURNING step"
            )
        )
        assert claim.returns_row(conn, {"r": "once"}) is True
        assert claim.returns_row(conn, {"r": "once"}) is False


def test_the_kept_cursor_survives_a_failed_statement(app: App) -> None:
    case_id = _case(app)
    with pytest.raises(StorageError), app.db.transaction() as conn:
        instances.append_event(conn, {**_note(case_id, 1, None), "occurred_at": None})
    with app.db.transaction() as conn:
        assert instances.read_instance(conn, case_id) is not None


def test_placeholders_become_positional_and_a_literal_percent_stays() -> None:
    sql, order = _to_positional(
        "SELECT a FROM t WHERE b = %(x)s AND c LIKE 'p%%' AND d = %(y)s AND e = %(x)s"
    )
    assert sql == "SELECT a FROM t WHERE b = %s AND c LIKE 'p%%' AND d = %s AND e = %s"
    assert order == ("x", "y", "x")
