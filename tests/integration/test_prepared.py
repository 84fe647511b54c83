"""Prepared statements give the same rows and errors as executing the Core statement."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from xunshi.bootstrap import App
from xunshi.storage import queries as q


def _case(app: App) -> int:
    app.inspection.create_round("R1", "第一轮", app.clock.now().date())
    app.inspection.add_group("R1", "G1", "组长甲")
    app.inspection.add_unit("U01", "示例市财政局")
    ref = app.inspection.start_case(
        round_code="R1", unit_code="U01", group_code="G1", definition="regular", actor="巡视办"
    )
    return ref.id


def test_a_prepared_select_returns_what_core_returns(app: App) -> None:
    case_id = _case(app)
    with app.db.transaction() as conn:
        core = dict(conn.execute(q.CASE_BY_ID, {"case_id": case_id}).mappings().one())
        prepared = q.CASE_ROW_BY_ID.first(conn, {"case_id": case_id})
        missing = q.CASE_ROW_BY_ID.first(conn, {"case_id": case_id + 1000})
    assert prepared == core
    assert missing is None
    # Types come back processed: aware datetimes, dates, booleans.
    assert prepared is not None
    assert prepared["entered_at"].tzinfo is not None
    assert prepared["suspended"] is False


def test_a_prepared_write_counts_rows_and_wraps_driver_errors(app: App) -> None:
    case_id = _case(app)
    with app.db.transaction() as conn:
        row = q.INSTANCE_ROW.first(conn, {"id": case_id})
        assert row is not None
        unchanged = q.ADVANCE_INSTANCE.rowcount(
            conn,
            {
                "b_id": case_id,
                "b_version": row["version"] + 1,  # not the current version: no row
                "version": 9,
                "milestones": "{}",
                "last_occurred_at": row["last_occurred_at"],
                "head_hash": row["head_hash"],
            },
        )
        assert unchanged == 0
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
    }
    with pytest.raises(IntegrityError), app.db.transaction() as conn:
        q.APPEND_EVENT.rowcount(conn, event)
    assert app.auditor.verify().ok
