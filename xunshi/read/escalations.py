"""Escalations as people and scripts see them: `escalate`, `escalations list`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, case, func, select

from xunshi.keys import InstanceKey
from xunshi.read.context import ReadContext
from xunshi.storage import queries as q
from xunshi.workflow.resolve import resolve_round


@dataclass(frozen=True, slots=True)
class Delivery:
    """How an escalation's notification fared on one channel."""

    channel: str
    status: str  # pending (not yet, or to be retried), delivered, failed (given up)
    attempts: int
    last_error: str | None
    delivered_at: datetime | None

    @property
    def label(self) -> str:
        """`file 已送达`, `webhook 重试中(2)`, `webhook 未送达`, `log 待发送`."""
        if self.status == "delivered":
            return f"{self.channel} 已送达"
        if self.status == "failed":
            return f"{self.channel} 未送达"
        if self.attempts:
            return f"{self.channel} 重试中({self.attempts})"
        return f"{self.channel} 待发送"

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "channel": self.channel,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "delivered_at": None
            if self.delivered_at is None
            else self.delivered_at.astimezone(tz).isoformat(),
        }


@dataclass(frozen=True, slots=True)
class EscalationView:
    """An escalation, with what it is about (a case, an item's stage or task, a clue)."""

    id: int
    key: InstanceKey
    stage: str
    stage_title: str
    task_id: int
    level: int
    title: str
    notify: tuple[str, ...]
    due_on: date
    raised_at: datetime
    provisional: bool
    acked_at: datetime | None
    acked_by: str | None
    open: bool
    deliveries: tuple[Delivery, ...] = ()
    instrument: str = ""
    recipient: str = ""
    decision: str | None = None  # pending | confirmed | dismissed, for a decision rung
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_reason: str | None = None

    @property
    def status(self) -> str:
        """待决定 / 已驳回 for a proposal; else 已解除, 已确认 (acknowledged) or 待处理."""
        if self.decision == "pending":
            return "待决定"
        if self.decision == "dismissed":
            return "已驳回"
        if not self.open:
            return "已解除"
        return "已确认" if self.acked_at else "待处理"

    @property
    def case(self) -> str:
        """The key of what escalated, as text (`ROUND/UNIT`, `ROUND/UNIT/ITEM`, or a clue's
        `ROUND/UNIT:CLUE`)."""
        return str(self.key)

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape (DESIGN §7)."""
        return {
            "id": self.id,
            "case": self.case,
            "stage": self.stage,
            "level": self.level,
            "title": self.title,
            "notify": list(self.notify),
            "due_on": self.due_on.isoformat(),
            "raised_at": self.raised_at.astimezone(tz).isoformat(),
            "provisional": self.provisional,
            "task": self.task_id or None,
            "acked_at": None if self.acked_at is None else self.acked_at.astimezone(tz).isoformat(),
            "acked_by": self.acked_by,
            "open": self.open,
            "deliveries": [d.to_json(tz) for d in self.deliveries],
            "instrument": self.instrument or None,
            "recipient": self.recipient or None,
            "decision": self.decision,
            "decided_at": None
            if self.decided_at is None
            else self.decided_at.astimezone(tz).isoformat(),
            "decided_by": self.decided_by,
            "decision_reason": self.decision_reason,
        }


class EscalationQueries:
    """Escalations, oldest first."""

    def __init__(self, ctx: ReadContext) -> None:
        self.ctx = ctx

    def many(
        self,
        *,
        open_only: bool = False,
        round_code: str | None = None,
        level: int | None = None,
        ids: Sequence[int] | None = None,
        pending_decision: bool = False,
        include_void: bool = False,
    ) -> list[EscalationView]:
        """Escalations matching every filter given (`pending_decision`: proposals the
        office has not yet confirmed or dismissed); those of void instances only if asked
        for (or by id).

        A stage's escalation is open while its stage entry is current; a task's while the
        task is open; neither once its instance is void.
        """
        x, c, r, u, i, it, cl, t = (
            q.escalations,
            q.cases,
            q.rounds,
            q.units,
            q.instances,
            q.items,
            q.clues,
            q.tasks,
        )
        is_open = i.c.voided.is_(False) & case(
            (x.c.task_id != 0, t.c.status == "open"), else_=x.c.stage_seq == i.c.stage_seq
        )
        stmt = (
            select(
                x,
                r.c.code.label("round_code"),
                u.c.code.label("unit_code"),
                it.c.code.label("item_code"),
                cl.c.code.label("clue_code"),
                t.c.number.label("task_number"),
                i.c.definition_name,
                i.c.definition_version,
                is_open.label("is_open"),
            )
            .join(i, i.c.id == x.c.instance_id)
            .outerjoin(it, it.c.id == x.c.instance_id)
            .outerjoin(cl, cl.c.id == x.c.instance_id)
            .join(c, c.c.id == func.coalesce(it.c.case_id, cl.c.case_id, x.c.instance_id))
            .join(r, r.c.id == c.c.round_id)
            .join(u, u.c.id == c.c.unit_id)
            .outerjoin(t, t.c.id == x.c.task_id)
            .order_by(x.c.raised_at, x.c.id)
        )
        if open_only:
            stmt = stmt.where(is_open)
        if level is not None:
            stmt = stmt.where(x.c.level == level)
        if ids is not None:
            stmt = stmt.where(x.c.id.in_(list(ids)))
        elif not include_void:
            stmt = stmt.where(i.c.voided.is_(False))
        if pending_decision:
            stmt = stmt.where(x.c.decision == "pending")
        with self.ctx.reading() as conn:
            if round_code is not None:
                stmt = stmt.where(r.c.id == resolve_round(conn, round_code))
            rows = conn.execute(stmt).mappings().all()
            deliveries = self._deliveries(conn, [row["id"] for row in rows])
            views = []
            for row in rows:
                defn = self.ctx.definition(conn, row["definition_name"], row["definition_version"])
                if row["task_id"]:
                    stage_title = f"任务 #{row['task_number']}"
                elif defn.has_state(row["stage"]):
                    stage_title = defn.state(row["stage"]).title
                else:
                    stage_title = row["stage"]
                views.append(
                    EscalationView(
                        id=row["id"],
                        key=InstanceKey(
                            row["round_code"],
                            row["unit_code"],
                            row["item_code"],
                            clue=row["clue_code"],
                        ),
                        stage=row["stage"],
                        stage_title=stage_title,
                        task_id=row["task_id"],
                        level=row["level"],
                        title=row["title"],
                        notify=tuple(json.loads(row["notify"])),
                        due_on=row["due_on"],
                        raised_at=row["raised_at"],
                        provisional=bool(row["provisional"]),
                        acked_at=row["acked_at"],
                        acked_by=row["acked_by"],
                        open=bool(row["is_open"]),
                        deliveries=deliveries.get(row["id"], ()),
                        instrument=row["instrument"],
                        recipient=row["recipient"],
                        decision=row["decision"],
                        decided_at=row["decided_at"],
                        decided_by=row["decided_by"],
                        decision_reason=row["decision_reason"],
                    )
                )
            return views

    def _deliveries(self, conn: Connection, ids: Sequence[int]) -> dict[int, tuple[Delivery, ...]]:
        o = q.outbox
        found: dict[int, list[Delivery]] = {}
        # In chunks: a round's escalations can outnumber a statement's parameters.
        for start in range(0, len(ids), 500):
            stmt = (
                select(
                    o.c.escalation_id,
                    o.c.channel,
                    o.c.status,
                    o.c.attempts,
                    o.c.last_error,
                    o.c.delivered_at,
                )
                .where(o.c.escalation_id.in_(ids[start : start + 500]))
                .order_by(o.c.escalation_id, o.c.channel)
            )
            for row in conn.execute(stmt):
                found.setdefault(row.escalation_id, []).append(
                    Delivery(
                        row.channel, row.status, row.attempts, row.last_error, row.delivered_at
                    )
                )
        return {key: tuple(value) for key, value in found.items()}
