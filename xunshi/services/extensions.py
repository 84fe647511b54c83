"""Extension requests (延期申请): the unit asks for a later due date, the office decides.

A request, its approval and its rejection are `task` events in the item's history (the
task's history is its item's chain); the `task_extensions` rows are their projection, which
`audit verify` replays. A task's due date — and with it its escalation timers — moves only
when the office approves; a rejected request changes nothing but stays on record.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from xunshi.definitions.schema import Definition
from xunshi.errors import Refused
from xunshi.keys import Reference, reference
from xunshi.services.lifecycle import change
from xunshi.services.rectification import DUE_ROLES, ItemService
from xunshi.services.results import TaskChange
from xunshi.storage import queries as q
from xunshi.storage.db import Database
from xunshi.texts import check_text
from xunshi.timeparse import business_time
from xunshi.workflow.decide import Command
from xunshi.workflow.engine import Engine, ReadSet
from xunshi.workflow.resolve import TaskRef, resolve_task
from xunshi.workflow.schedule import Schedule

# Who may ask for more time: the unit (its liaison, its party secretary) and the office.
REQUEST_ROLES: tuple[str, ...] = ("unit_liaison", "party_secretary", "office")
# Who decides a request: who alone may move a due date directly (`task update --due`).
DECISION_ROLES: tuple[str, ...] = DUE_ROLES


def allowed_roles(definition: Definition, roles: tuple[str, ...]) -> str:
    """`office (巡视办), …` for a refusal."""
    return ", ".join(f"{r} ({definition.role_title(r)})" for r in roles)


class ExtensionService:
    """Extension requests of tasks and the office's decisions on them."""

    def __init__(self, db: Database, engine: Engine, schedule: Schedule) -> None:
        self.db = db
        self.engine = engine
        self.items = ItemService(db, engine, schedule)

    def request(
        self,
        task: str | Reference,
        to: date,
        *,
        reason: str,
        actor: str,
        role: str,
        at: datetime | None = None,
    ) -> TaskChange:
        """Ask for the task's due date to become `to` (a pending request; nothing moves)."""
        reason = check_text("reason", reason)
        reads = ReadSet()
        target = reference(task, "task")

        def work(conn: Connection) -> TaskChange:
            ref = resolve_task(conn, target)
            definition = self._definition(conn, ref)
            if role not in REQUEST_ROLES:
                raise Refused(
                    f"{ref.label}: role {role} ({definition.role_title(role)}) may not request "
                    f"an extension; allowed: {allowed_roles(definition, REQUEST_ROLES)}"
                )
            self.items.check_task_open(conn, ref, "extend")
            _check_unsettled(ref, definition)
            due_on: date | None = ref.row["due_on"]
            if due_on is None:
                raise Refused(f"{ref.label} is long-term (长期坚持): it has no due date to extend")
            if to <= due_on:
                raise Refused(
                    f"{ref.label}: --to {to.isoformat()} is not after its due date "
                    f"{due_on.isoformat()}"
                )
            occurred = at or self.engine.clock.now()
            on_day = occurred.astimezone(self.engine.tz).date()
            if to < on_day:
                raise Refused(
                    f"{ref.label}: --to {to.isoformat()} is before the request itself "
                    f"({business_time(occurred, self.engine.tz)})"
                )
            waiting = _pending(conn, ref.id)
            if waiting is not None:
                raise Refused(
                    f"{ref.label} already has a pending extension request (to "
                    f"{waiting['requested_due'].isoformat()}, by {waiting['requested_by']}); "
                    "the office decides it first (task extension --approve|--reject)"
                )
            e = q.extensions
            extension_id = int(
                conn.execute(
                    e.insert().returning(e.c.id),
                    {
                        "task_id": ref.id,
                        "requested_at": occurred,
                        "requested_by": actor,
                        "requested_role": role,
                        "original_due": due_on,
                        "requested_due": to,
                        "reason": reason,
                        "status": "pending",
                    },
                ).scalar_one()
            )
            data = {
                "task": ref.id,
                "number": ref.number,
                "extension": extension_id,
                "original_due": due_on.isoformat(),
                "requested_due": to.isoformat(),
            }
            command = Command("task", actor, role, "extension_requested", reason, at, data)
            outcome = self.engine.execute(conn, ref.item, command, reads)
            # The engine may have checked the actor, the time and the role: the row keeps
            # what the event recorded.
            conn.execute(
                e.update()
                .where(e.c.id == extension_id)
                .values(
                    requested_at=outcome.event.occurred_at,
                    requested_by=outcome.event.actor,
                )
            )
            return TaskChange(ref.key, ref.id, change(ref.item, outcome))

        return self.db.run(work)

    def decide(
        self,
        task: str | Reference,
        *,
        approve: bool,
        reason: str,
        actor: str,
        role: str,
        at: datetime | None = None,
    ) -> TaskChange:
        """Approve (the due date and its timers move) or reject (nothing moves) the task's
        pending extension request."""
        reason = check_text("reason", reason)
        reads = ReadSet()
        target = reference(task, "task")

        def work(conn: Connection) -> TaskChange:
            ref = resolve_task(conn, target)
            definition = self._definition(conn, ref)
            verb = "approve" if approve else "reject"
            if role not in DECISION_ROLES:
                raise Refused(
                    f"{ref.label}: role {role} ({definition.role_title(role)}) may not {verb} "
                    f"an extension request; allowed: {allowed_roles(definition, DECISION_ROLES)}"
                )
            waiting = _pending(conn, ref.id)
            if waiting is None:
                raise Refused(f"{ref.label} has no pending extension request")
            to: date = waiting["requested_due"]
            data: dict[str, Any] = {
                "task": ref.id,
                "number": ref.number,
                "extension": waiting["id"],
            }
            if approve:
                self.items.check_task_open(conn, ref, "extend")
                due_on: date | None = ref.row["due_on"]
                if due_on is None or to <= due_on:
                    now_due = "none (long-term)" if due_on is None else due_on.isoformat()
                    raise Refused(
                        f"{ref.label}: the request asks for {to.isoformat()}, but the due date "
                        f"has changed since (now {now_due}); reject it instead"
                    )
                data.update(previous_due=due_on.isoformat(), due_on=to.isoformat())
            else:
                data["requested_due"] = to.isoformat()
            trigger = "extension_approved" if approve else "extension_rejected"
            command = Command("task", actor, role, trigger, reason, at, data)
            outcome = self.engine.execute(conn, ref.item, command, reads)
            e = q.extensions
            conn.execute(
                e.update()
                .where(e.c.id == waiting["id"])
                .values(
                    status="approved" if approve else "rejected",
                    decided_at=outcome.event.occurred_at,
                    decided_by=outcome.event.actor,
                    decided_role=role,
                    decision_reason=reason,
                )
            )
            if approve:
                self.items.move_due(conn, ref, outcome.definition, to)
            return TaskChange(ref.key, ref.id, change(ref.item, outcome))

        return self.db.run(work)

    def _definition(self, conn: Connection, ref: TaskRef) -> Definition:
        row = ref.item.row
        assert row is not None
        return self.engine.registry.definition(
            conn, row["definition_name"], row["definition_version"]
        )


def _check_unsettled(ref: TaskRef, definition: Definition) -> None:
    """A settled item (accepted, or long-term) no longer holds its case open: its tasks'
    dates are not extended."""
    row = ref.item.row
    assert row is not None
    state = definition.state(row["state"])
    if state.has_tag("settled"):
        raise Refused(
            f"cannot extend {ref.label}: {ref.item.label} is {state.title} ({state.name}), "
            "settled; its tasks' due dates are not extended"
        )


def _pending(conn: Connection, task_id: int) -> Any:
    """The task's pending request (its row), or None."""
    e = q.extensions
    return (
        conn.execute(select(e).where(e.c.task_id == task_id, e.c.status == "pending"))
        .mappings()
        .first()
    )
