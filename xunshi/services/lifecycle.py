"""The commands every kind of instance shares — fire, milestone, suspend, resume — once.

Cases, items and clues differ only in how a reference names them (`ROUND/UNIT`,
`ROUND/UNIT/ITEM`, `ROUND/UNIT:CLUE`, or a number); each command resolves the name and runs
through the engine in one transaction, retried whole while SQLite is busy. A kind with a
rule of its own about who may act (a clue: only its receiver among the receiving bodies)
says it in `check`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from xunshi.keys import Kind, Reference, reference
from xunshi.services.results import Change
from xunshi.storage.db import Database
from xunshi.workflow.decide import Command
from xunshi.workflow.engine import Engine, Outcome, ReadSet
from xunshi.workflow.resolve import InstanceRef, resolve


class Lifecycle:
    """Fire, milestone, suspend and resume on the instances of one kind."""

    def __init__(self, db: Database, engine: Engine, kind: Kind) -> None:
        self.db = db
        self.engine = engine
        self.kind = kind

    def fire(
        self,
        name: str | Reference,
        trigger: str,
        *,
        actor: str,
        role: str,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> Change:
        """Move the instance along `trigger`."""
        return self.run(name, Command("fire", actor, role, trigger, reason, at))

    def record_milestone(
        self,
        name: str | Reference,
        milestone: str,
        *,
        actor: str,
        role: str,
        reason: str | None = None,
        at: datetime | None = None,
        count: int | None = None,
    ) -> Change:
        """Record a milestone of the current stage (with its number if it is counted)."""
        data = {} if count is None else {"count": count}
        return self.run(name, Command("milestone", actor, role, milestone, reason, at, data))

    def suspend(
        self,
        name: str | Reference,
        *,
        actor: str,
        role: str,
        reason: str,
        at: datetime | None = None,
    ) -> Change:
        """Pause the stage's clock (e.g. the group is recalled)."""
        return self.run(name, Command("suspend", actor, role, None, reason, at))

    def resume(
        self,
        name: str | Reference,
        *,
        actor: str,
        role: str,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> Change:
        """Restart a suspended stage's clock; its due date moves by the pause."""
        return self.run(name, Command("resume", actor, role, None, reason, at))

    def run(self, name: str | Reference, command: Command) -> Change:
        """Resolve `name` and run `command` on it, in one (retried) transaction."""
        target = reference(name, self.kind)
        reads = ReadSet()

        def attempt(conn: Connection) -> Change:
            ref = resolve(conn, target)
            self.check(conn, ref, command)
            return change(ref, self.engine.execute(conn, ref, command, reads))

        return self.db.run(attempt)

    def check(self, conn: Connection, ref: InstanceRef, command: Command) -> None:
        """Refuse `command` on `ref` for a reason of this kind's own (none by default)."""


def change(ref: InstanceRef, outcome: Outcome) -> Change:
    """The public result of an engine outcome on a named instance."""
    assert ref.key is not None
    return Change(ref.key, outcome.event, outcome.instance, outcome.definition)
