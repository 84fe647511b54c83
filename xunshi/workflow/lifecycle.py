"""Commands every kind of instance shares — fire, milestone, suspend, resume, history —
for services that name their instances their own way (cases by ROUND/UNIT, items by
ROUND/UNIT/CODE)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection

from xunshi.storage import queries as q
from xunshi.storage.db import Database
from xunshi.workflow.audit import Event, event_from_row
from xunshi.workflow.engine import Engine, InstanceRef, Outcome, ReadSet

T = TypeVar("T")


class Lifecycles(ABC):
    """The shared commands; subclasses say how an argument names an instance."""

    def __init__(self, db: Database, engine: Engine) -> None:
        self.db = db
        self.engine = engine

    @abstractmethod
    def resolve(self, conn: Connection, name: str) -> InstanceRef:
        """The instance `name` refers to (with its row read in `conn`)."""

    def on(
        self, name: str, command: Callable[[Connection, InstanceRef, ReadSet], T]
    ) -> tuple[InstanceRef, T]:
        """Resolve `name` and run `command` on it, in one (retried) transaction."""
        reads = ReadSet()

        def work(conn: Connection) -> tuple[InstanceRef, T]:
            ref = self.resolve(conn, name)
            return ref, command(conn, ref, reads)

        return self.db.run(work)

    def fire(
        self,
        name: str,
        trigger: str,
        *,
        actor: str,
        role: str,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> tuple[InstanceRef, Outcome]:
        """Fire `trigger`."""
        return self.on(
            name,
            lambda conn, ref, reads: self.engine.fire(
                conn, ref, trigger, actor=actor, role=role, reason=reason, at=at, reads=reads
            ),
        )

    def record_milestone(
        self,
        name: str,
        milestone: str,
        *,
        actor: str,
        role: str,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> tuple[InstanceRef, Outcome]:
        """Record a milestone of the current stage."""
        return self.on(
            name,
            lambda conn, ref, reads: self.engine.record_milestone(
                conn, ref, milestone, actor=actor, role=role, reason=reason, at=at, reads=reads
            ),
        )

    def suspend(
        self, name: str, *, actor: str, role: str, reason: str, at: datetime | None = None
    ) -> tuple[InstanceRef, Outcome]:
        """Pause the stage's clock (e.g. the group is recalled)."""
        return self.on(
            name,
            lambda conn, ref, reads: self.engine.suspend(
                conn, ref, actor=actor, role=role, reason=reason, at=at, reads=reads
            ),
        )

    def resume(
        self,
        name: str,
        *,
        actor: str,
        role: str,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> tuple[InstanceRef, Outcome]:
        """Restart a suspended stage's clock; its due date moves by the pause."""
        return self.on(
            name,
            lambda conn, ref, reads: self.engine.resume(
                conn, ref, actor=actor, role=role, reason=reason, at=at, reads=reads
            ),
        )

    def history(self, name: str) -> tuple[InstanceRef, list[Event]]:
        """The whole history, oldest first."""
        with self.db.transaction() as conn:
            ref = self.resolve(conn, name)
            rows = conn.execute(q.HISTORY, {"instance_id": ref.id}).mappings()
            return ref, [event_from_row(row) for row in rows]
