"""Prepared statements give the same rows and errors as executing the Core statement.

The engine reaches them through one small interface (`xunshi.storage.instances`); these
tests fail if a SQLAlchemy upgrade changes the internals `Prepared` relies on.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from xunshi.bootstrap import App
from xunshi.errors import StorageError
from xunshi.storage import instances
from xunshi.storage import queries as q
from xunshi.storage.prepared import Prepared


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
    event = {
        "instance_id": case_id,
        "seq": 1,  # taken by the started event
        "kind": "note",
        "trigger": None,
        "from_state": None,
        "to_state": None,
        "actor": "x",
        "role": None,
        "reason": None,
        "data": "{}",
        "occurred_at": row["last_occurred_at"],
        "recorded_at": row["last_occurred_at"],
        "prev_hash": "",
        "hash": "",
        "request_id": None,
    }
    with app.db.transaction() as conn:
        assert instances.append_event(conn, event) is False  # another writer's seq: a conflict
    with pytest.raises(StorageError) as caught, app.db.transaction() as conn:
        Prepared(q.INSERT_EVENT).rowcount(conn, event)  # the driver's error, wrapped
    assert isinstance(caught.value.__cause__, IntegrityError)
    assert app.services.audit.verify().ok
