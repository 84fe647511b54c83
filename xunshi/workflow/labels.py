"""How instances are named in messages: `case ROUND/UNIT`, `item ROUND/UNIT/CODE`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Select, func, select

from xunshi.storage import queries as q


def _keys() -> Select[Any]:
    i, c, r, u, it = q.instances, q.cases, q.rounds, q.units, q.items
    return (
        select(
            i.c.id,
            r.c.code.label("round_code"),
            u.c.code.label("unit_code"),
            it.c.code.label("item_code"),
        )
        .select_from(i)
        .outerjoin(it, it.c.id == i.c.id)
        .join(c, c.c.id == func.coalesce(it.c.case_id, i.c.id))
        .join(r, r.c.id == c.c.round_id)
        .join(u, u.c.id == c.c.unit_id)
    )


def label_from_row(row: Mapping[Any, Any]) -> str:
    """The label of an instance from a row that joined its keys (`round_code`, …)."""
    if row.get("round_code") is None:
        return f"instance #{row['id']}"
    key = f"{row['round_code']}/{row['unit_code']}"
    if row.get("item_code") is not None:
        return f"item {key}/{row['item_code']}"
    return f"case {key}"


def instance_label(conn: Connection, instance_id: int) -> str:
    """The label of one instance."""
    row = conn.execute(_keys().where(q.instances.c.id == instance_id)).mappings().first()
    return label_from_row(row) if row is not None else f"instance #{instance_id}"


def instance_labels(conn: Connection) -> dict[int, str]:
    """Labels of every instance that has one."""
    return {row["id"]: label_from_row(row) for row in conn.execute(_keys()).mappings()}
