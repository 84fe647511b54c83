"""Escalation: the sweep that raises what is due, delivering its notifications, acknowledging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, select

from xunshi.errors import NotFound, Refused
from xunshi.services.results import Acknowledged
from xunshi.storage import queries as q
from xunshi.storage.db import Database
from xunshi.texts import check_actor
from xunshi.timeparse import business_time
from xunshi.workflow.decide import Command
from xunshi.workflow.engine import Engine
from xunshi.workflow.escalation import Sweeper, SweepResult
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
