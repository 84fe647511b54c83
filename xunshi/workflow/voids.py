"""Void instances (撤销): who withdrew one, when and why, as its `voided` event records it.

An instance's row says only that it is void (`voided`, replayed by `audit verify`); the
reason, the actor and the time are in its history. Refusals and views read them here.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection

from xunshi.storage import queries as q


class VoidRecord(NamedTuple):
    """The `voided` event of an instance: when, by whom, in which role, why."""

    at: datetime
    actor: str
    role: str | None
    reason: str


def void_record(conn: Connection, instance_id: int) -> VoidRecord | None:
    """The void record of an instance, None if it was never voided."""
    return void_records(conn, (instance_id,)).get(instance_id)


def void_reason(conn: Connection, instance_id: int) -> str | None:
    """Why an instance was voided (None if its history does not say)."""
    record = void_record(conn, instance_id)
    return None if record is None else record.reason


def void_records(conn: Connection, instance_ids: Collection[int]) -> dict[int, VoidRecord]:
    """The void records of those of `instance_ids` that were voided."""
    found: dict[int, VoidRecord] = {}
    ids = sorted(instance_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = conn.execute(q.VOID_EVENTS.where(q.events.c.instance_id.in_(chunk)))
        for row in rows:
            found[row.instance_id] = VoidRecord(
                row.occurred_at, row.actor, row.role, row.reason or ""
            )
    return found
