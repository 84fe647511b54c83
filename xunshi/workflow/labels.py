"""How instances are named in messages: `case ROUND/UNIT`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Select, select

from xunshi.storage import queries as q


def _case_keys() -> Select[Any]:
    c, r, u = q.cases, q.rounds, q.units
    return (
        select(c.c.id, r.c.code, u.c.code)
        .join(r, r.c.id == c.c.round_id)
        .join(u, u.c.id == c.c.unit_id)
    )


def label_from_row(row: Mapping[Any, Any]) -> str:
    """The label of an instance from a row that joined its case keys (`round_code`, …)."""
    if row.get("round_code") is not None:
        return f"case {row['round_code']}/{row['unit_code']}"
    return f"instance #{row['id']}"


def instance_label(conn: Connection, instance_id: int) -> str:
    """The label of one instance."""
    row = conn.execute(_case_keys().where(q.cases.c.id == instance_id)).first()
    if row is not None:
        return f"case {row[1]}/{row[2]}"
    return f"instance #{instance_id}"


def instance_labels(conn: Connection) -> dict[int, str]:
    """Labels of every instance that has one."""
    return {row[0]: f"case {row[1]}/{row[2]}" for row in conn.execute(_case_keys())}
