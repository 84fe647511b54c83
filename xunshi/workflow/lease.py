"""Claim work rows with a lease, and finish them only while the claim is still held.

Two tables are worked this way: escalation timers (the sweep) and outbox rows (delivery).
A claim marks up to `batch` due rows with this worker's name and a lease (`locked_by`,
`locked_until`) in one statement — `FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock
taken at BEGIN on SQLite — so concurrent workers never take the same row. A row whose
lease expired (its worker died) is due again. Finishing is fenced: the update applies only
while the row is still held by this worker (and, where the table keeps one, with the same
fencing token it was claimed with), so a worker whose lease ran out cannot overwrite the
work of the one that claimed the row after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Table,
    TextClause,
    Update,
    bindparam,
    select,
)

from xunshi.storage.db import Database


class Lease:
    """Claiming and fenced finishing on one work table for one worker."""

    def __init__(
        self,
        db: Database,
        table: Table,
        *,
        worker: str,
        duration: timedelta,
        batch: int,
        token: str | None = None,
    ) -> None:
        """`token` names a column bumped by each claim and checked by each finish."""
        self.db = db
        self.table = table
        self.worker = worker
        self.duration = duration
        self.batch = batch
        self.token = token
        self._finishers: dict[frozenset[str], Update] = {}

    def claim(
        self,
        now: datetime,
        due: Sequence[ColumnElement[bool] | TextClause],
        order_by: Sequence[ColumnElement[Any] | Column[Any]],
        returning: Sequence[Column[Any]],
        values: Mapping[str, Any] | None = None,
    ) -> list[Mapping[str, Any]]:
        """Claim up to `batch` rows matching `due` (oldest first); their `returning` columns."""
        t = self.table
        picked = select(t.c.id).where(*due).order_by(*order_by).limit(self.batch)
        if not self.db.is_sqlite:
            picked = picked.with_for_update(skip_locked=True)
        claimed: dict[str, Any] = {
            "locked_by": self.worker,
            "locked_until": now + self.duration,
            **(values or {}),
        }
        if self.token is not None:
            claimed[self.token] = t.c[self.token] + 1
        statement = (
            t.update()
            .where(t.c.id.in_(picked.scalar_subquery()))
            .values(**claimed)
            .returning(*returning)
        )
        return self.db.run(
            lambda conn: [dict(row._mapping) for row in conn.execute(statement)], immediate=True
        )

    def held_by_me(self, row: Mapping[str, Any], token: int | None = None) -> bool:
        """Whether a freshly read row is still this worker's claim (with this token)."""
        if row["locked_by"] != self.worker:
            return False
        return self.token is None or row[self.token] == token

    def finish(
        self,
        conn: Connection,
        row_id: int,
        values: Mapping[str, Any],
        *,
        token: int | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> bool:
        """Update a claimed row (fenced); False if the claim was lost meanwhile."""
        conditions = dict(where or {})
        if self.token is not None:
            conditions[self.token] = token
        statement = self._finisher(frozenset(values), frozenset(conditions))
        params = {
            "b_id": row_id,
            "b_worker": self.worker,
            **{f"b_{name}": value for name, value in conditions.items()},
            **values,
        }
        return int(conn.execute(statement, params).rowcount) == 1

    def release(self, ids: Sequence[int], values: Mapping[str, Any] | None = None) -> int:
        """Give back rows this worker claimed but will not finish (stopping)."""
        if not ids:
            return 0
        t = self.table
        statement = (
            t.update()
            .where(t.c.id.in_(list(ids)), t.c.locked_by == self.worker)
            .values(locked_by=None, locked_until=None, **(values or {}))
        )
        return int(self.db.run(lambda conn: conn.execute(statement).rowcount, immediate=True))

    def _finisher(self, columns: frozenset[str], conditions: frozenset[str]) -> Update:
        """The fenced update for these columns and conditions, built once."""
        key = columns | {f"?{name}" for name in conditions}
        found = self._finishers.get(key)
        if found is None:
            t = self.table
            found = (
                t.update()
                .where(
                    t.c.id == bindparam("b_id"),
                    t.c.locked_by == bindparam("b_worker"),
                    *[t.c[name] == bindparam(f"b_{name}") for name in sorted(conditions)],
                )
                .values({name: bindparam(name) for name in sorted(columns)})
            )
            self._finishers[key] = found
        return found
