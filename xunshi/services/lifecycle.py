"""The commands every kind of instance shares — fire, milestone, suspend, resume, void — once.

Cases, items and clues differ only in how a reference names them (`ROUND/UNIT`,
`ROUND/UNIT/ITEM`, `ROUND/UNIT:CLUE`, or a number); each command resolves the name and runs
through the engine in one transaction, retried whole while SQLite is busy. A kind with a
rule of its own about who may act (a clue: only its receiver among the receiving bodies)
says it in `check`.

Voiding (撤销) withdraws a mistaken record: a `voided` event, after which the instance takes
no command and escalates nothing, and the lists leave it out. What depends on an instance
(a case's problems) is found by its subject (`DEPENDENTS`): voiding the instance is refused
while any of them is not void, unless they go void with it, each with its own event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, select

from xunshi.display import plural
from xunshi.errors import Refused
from xunshi.keys import ByNumber, Kind, Reference, reference
from xunshi.services.results import Change, Voided
from xunshi.storage import queries as q
from xunshi.storage.db import Database
from xunshi.workflow.decide import Command
from xunshi.workflow.engine import Engine, Outcome, ReadSet
from xunshi.workflow.resolve import InstanceRef, resolve, resolve_item


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

    def void(
        self,
        name: str | Reference,
        *,
        actor: str,
        role: str,
        reason: str,
        at: datetime | None = None,
        with_dependents: bool = False,
    ) -> Voided:
        """Withdraw a mistaken record (撤销): kept in the history, left out of the lists.

        An instance with dependents that are not void (a case's problems) is refused unless
        `with_dependents`: then each goes void too, with its own event, in one transaction.
        """
        target = reference(name, self.kind)
        reads = ReadSet()

        def attempt(conn: Connection) -> Voided:
            ref = resolve(conn, target)
            found = DEPENDENTS.get(self.kind, _none)(conn, ref)
            data = {"dependents": [str(dep.key) for dep in found]} if found else {}
            # The instance first: a refusal (role, reason, void already) names it, not one of
            # its dependents. Nothing is kept if a later step refuses.
            command = Command("void", actor, role, "void", reason, at, data)
            outcome = self.engine.execute(conn, ref, command, reads)
            if found and not with_dependents:
                codes = ", ".join(str(dep.key.item if dep.key else dep.id) for dep in found)
                raise Refused(
                    f"{ref.label} has {plural(len(found), 'problem')} not void ({codes}): void "
                    "them first, or the case with its problems (--with-items)"
                )
            along = Command("void", actor, role, "void", reason, at, {"along_with": str(ref.key)})
            voided = tuple(change(dep, self.engine.execute(conn, dep, along)) for dep in found)
            return Voided(change(ref, outcome), voided)

        return self.db.run(attempt, immediate=True)

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


def _case_problems(conn: Connection, case: InstanceRef) -> list[InstanceRef]:
    """The problems (items) of a case that are not void, by code."""
    it, i = q.items, q.instances
    ids = conn.execute(
        select(it.c.id)
        .join(i, i.c.id == it.c.id)
        .where(it.c.case_id == case.id, i.c.voided.is_(False))
        .order_by(it.c.code)
    ).scalars()
    return [resolve_item(conn, ByNumber("item", item_id)) for item_id in ids]


def _none(_conn: Connection, _ref: InstanceRef) -> list[InstanceRef]:
    return []


# What goes void with an instance of each kind (the ones not void yet), by subject.
DEPENDENTS: dict[str, Callable[[Connection, InstanceRef], list[InstanceRef]]] = {
    "case": _case_problems,
}
