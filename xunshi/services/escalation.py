"""Escalation: the sweep that raises what is due, delivering its notifications, acknowledging."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, select

from xunshi.errors import BadInput, NotFound, Refused
from xunshi.services.results import Acknowledged, Decided
from xunshi.storage import queries as q
from xunshi.storage.db import Database
from xunshi.texts import check_actor
from xunshi.timeparse import business_time
from xunshi.workflow.decide import Command
from xunshi.workflow.engine import Engine
from xunshi.workflow.escalation import (
    Raised,
    Sweeper,
    SweepResult,
    enqueue,
    notification_payload,
)
from xunshi.workflow.notify import Deliverer, DeliveryResult
from xunshi.workflow.resolve import InstanceRef, instance_key


class EscalationService:
    """Sweeps, deliveries and acknowledgements."""

    def __init__(
        self,
        db: Database,
        engine: Engine,
        sweeper: Callable[[], Sweeper],
        deliverer: Callable[[], Deliverer],
    ) -> None:
        self.db = db
        self.engine = engine
        self._sweeper = sweeper
        self._deliverer = deliverer

    @property
    def worker(self) -> str:
        """This process's name in the claims it takes (host:pid)."""
        return self._sweeper().worker

    def sweep(
        self, now: datetime | None = None, *, stop: Callable[[], bool] = lambda: False
    ) -> SweepResult:
        """Raise every due escalation (as of `now`, never later than the clock)."""
        return self._sweeper().sweep(now, stop=stop)

    def deliver(self, *, stop: Callable[[], bool] = lambda: False) -> DeliveryResult:
        """Deliver the notifications that are due on their channels."""
        return self._deliverer().deliver(stop=stop)

    def acknowledge(self, escalation_id: int, actor: str) -> Acknowledged:
        """Mark an escalation as seen by `actor`; the acknowledgement enters the history."""
        actor = check_actor(actor)

        def work(conn: Connection) -> Acknowledged:
            x = q.escalations
            row = conn.execute(select(x).where(x.c.id == escalation_id)).mappings().first()
            if row is None:
                raise NotFound(f"escalation {escalation_id} does not exist")
            key = instance_key(conn, row["instance_id"])
            if row["acked_at"] is not None:
                when = business_time(row["acked_at"], self.engine.tz)
                raise Refused(
                    f"escalation {escalation_id} was already acknowledged by {row['acked_by']} "
                    f"at {when}"
                )
            now = self.engine.clock.now()
            conn.execute(
                x.update().where(x.c.id == escalation_id), {"acked_at": now, "acked_by": actor}
            )
            self.engine.execute(
                conn,
                InstanceRef(row["instance_id"], key),
                Command(
                    "note",
                    actor,
                    None,
                    reason=f"acknowledged escalation {escalation_id}: {row['title']}",
                    data={"acknowledged": escalation_id, "level": row["level"]},
                ),
            )
            return Acknowledged(escalation_id, key, int(row["level"]), actor)

        return self.db.run(work, immediate=True)

    def decide(
        self,
        escalation_id: int,
        *,
        confirm: bool,
        reason: str,
        actor: str,
        role: str,
        at: datetime | None = None,
    ) -> Decided:
        """Confirm (then notify) or dismiss a proposal raised by a `decision` rung.

        The decision is an event in the history of what escalated; only a pending proposal
        can be decided, once.
        """
        actor = check_actor(actor)
        if not reason.strip():
            raise BadInput("a decision needs a reason (--reason)")
        verdict = "confirmed" if confirm else "dismissed"

        def work(conn: Connection) -> Decided:
            x = q.escalations
            row = conn.execute(select(x).where(x.c.id == escalation_id)).mappings().first()
            if row is None:
                raise NotFound(f"escalation {escalation_id} does not exist")
            key = instance_key(conn, row["instance_id"])
            if row["decision"] is None:
                raise Refused(
                    f"escalation {escalation_id} ({row['title']}) is not a proposal: "
                    "it notified when it was raised"
                )
            if row["decision"] != "pending":
                when = business_time(row["decided_at"], self.engine.tz)
                raise Refused(
                    f"escalation {escalation_id} was already {row['decision']} by "
                    f"{row['decided_by']} at {when}"
                )
            # The event first: it checks the role and the reason, and refuses a void or
            # otherwise unwritable instance before anything else is written.
            change = self.engine.execute(
                conn,
                InstanceRef(row["instance_id"], key),
                Command(
                    "decision",
                    actor,
                    role,
                    name="confirm" if confirm else "dismiss",
                    reason=reason,
                    at=at,
                    data={
                        "escalation": escalation_id,
                        "level": row["level"],
                        "instrument": row["instrument"],
                        "decision": verdict,
                    },
                ),
            )
            now = self.engine.clock.now()
            conn.execute(
                x.update().where(x.c.id == escalation_id),
                {
                    "decision": verdict,
                    "decided_at": change.event.occurred_at,
                    "decided_by": actor,
                    "decision_reason": change.event.reason,
                },
            )
            notify = tuple(json.loads(row["notify"]))
            if confirm:
                raised = Raised(
                    id=escalation_id,
                    instance_id=row["instance_id"],
                    key=key,
                    stage=row["stage"],
                    task_id=row["task_id"],
                    level=row["level"],
                    title=row["title"],
                    notify=notify,
                    due_on=row["due_on"],
                    fire_at=row["fire_at"],
                    # The notification goes out now: its days overdue count to today.
                    raised_at=now,
                    provisional=bool(row["provisional"]),
                    instrument=row["instrument"],
                    recipient=row["recipient"],
                    decision=verdict,
                )
                names = (
                    conn.execute(q.ESCALATION_FOR_NOTICE, {"escalation_id": escalation_id})
                    .mappings()
                    .one()
                )
                definition = self.engine.registry.definition(
                    conn, names["definition_name"], names["definition_version"]
                )
                payload = notification_payload(raised, names, definition, self.engine.tz)
                enqueue(conn, self._sweeper().router, raised, payload, now)
            return Decided(
                escalation_id,
                key,
                int(row["level"]),
                row["instrument"],
                verdict,
                actor,
                change.event.reason or reason.strip(),
                notify if confirm else (),
            )

        return self.db.run(work, immediate=True)
