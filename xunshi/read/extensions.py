"""Extension requests (延期申请) as people and scripts see them: `task extensions` (the
office's inbox), and the requests of the tasks `item show` and `task show` print.

Requests of void items are left out of the list unless asked for, like the items.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, select

from xunshi.keys import InstanceKey
from xunshi.read.context import ReadContext
from xunshi.storage import queries as q
from xunshi.workflow.resolve import resolve_round

# What each status is called where people read it.
STATUS_TITLES = {"pending": "待审批", "approved": "已批准", "rejected": "已驳回"}


@dataclass(frozen=True, slots=True)
class ExtensionView:
    """One extension request of a task and, once decided, the office's decision."""

    id: int
    task: InstanceKey  # ROUND/UNIT/ITEM#N
    task_id: int
    unit_name: str
    measure: str
    original_due: date
    requested_due: date
    reason: str
    status: str  # pending | approved | rejected
    requested_by: str
    requested_role: str
    requested_at: datetime
    decided_by: str | None
    decided_role: str | None
    decided_at: datetime | None
    decision_reason: str | None

    @property
    def status_title(self) -> str:
        """待审批, 已批准 or 已驳回."""
        return STATUS_TITLES[self.status]

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape of a request."""
        return {
            "id": self.id,
            "task": str(self.task),
            "task_id": self.task_id,
            "round": self.task.round,
            "unit": self.task.unit,
            "unit_name": self.unit_name,
            "measure": self.measure,
            "original_due": self.original_due.isoformat(),
            "requested_due": self.requested_due.isoformat(),
            "reason": self.reason,
            "status": self.status,
            "requested_by": self.requested_by,
            "requested_role": self.requested_role,
            "requested_at": self.requested_at.astimezone(tz).isoformat(),
            "decided_by": self.decided_by,
            "decided_role": self.decided_role,
            "decided_at": None
            if self.decided_at is None
            else self.decided_at.astimezone(tz).isoformat(),
            "decision_reason": self.decision_reason,
        }


def extension_summary(extensions: Iterable[ExtensionView]) -> str:
    """延期情况 of a task, from its latest request: `已批准延期至 2025-08-29`,
    `延期申请待审批`, `延期申请已驳回`; empty when it never asked."""
    latest = max(extensions, key=lambda e: e.id, default=None)
    if latest is None:
        return ""
    if latest.status == "approved":
        return f"已批准延期至 {latest.requested_due.isoformat()}"
    return f"延期申请{latest.status_title}"


def original_due(extensions: Iterable[ExtensionView]) -> date | None:
    """The due date before any approved extension (None: never extended)."""
    approved = [e for e in extensions if e.status == "approved"]
    return min(approved, key=lambda e: e.id).original_due if approved else None


def _select() -> Select[Any]:
    e, t, it, c, r, u = q.extensions, q.tasks, q.items, q.cases, q.rounds, q.units
    return (
        select(
            e,
            t.c.number.label("task_number"),
            t.c.measure,
            t.c.item_id,
            it.c.code.label("item_code"),
            r.c.code.label("round_code"),
            u.c.code.label("unit_code"),
            u.c.name.label("unit_name"),
        )
        .select_from(e)
        .join(t, t.c.id == e.c.task_id)
        .join(it, it.c.id == t.c.item_id)
        .join(c, c.c.id == it.c.case_id)
        .join(r, r.c.id == c.c.round_id)
        .join(u, u.c.id == c.c.unit_id)
    )


def _view(row: Any) -> ExtensionView:
    key = InstanceKey(row["round_code"], row["unit_code"], row["item_code"])
    return ExtensionView(
        id=row["id"],
        task=key.task_key(row["task_number"]),
        task_id=row["task_id"],
        unit_name=row["unit_name"],
        measure=row["measure"],
        original_due=row["original_due"],
        requested_due=row["requested_due"],
        reason=row["reason"],
        status=row["status"],
        requested_by=row["requested_by"],
        requested_role=row["requested_role"],
        requested_at=row["requested_at"],
        decided_by=row["decided_by"],
        decided_role=row["decided_role"],
        decided_at=row["decided_at"],
        decision_reason=row["decision_reason"],
    )


def extensions_of(conn: Connection, task_ids: list[int]) -> dict[int, tuple[ExtensionView, ...]]:
    """Task id → its requests, oldest first (in the caller's read transaction)."""
    e = q.extensions
    found: dict[int, list[ExtensionView]] = {}
    for start in range(0, len(task_ids), 500):
        chunk = task_ids[start : start + 500]
        for row in conn.execute(
            _select().where(e.c.task_id.in_(chunk)).order_by(e.c.id)
        ).mappings():
            found.setdefault(row["task_id"], []).append(_view(row))
    return {task_id: tuple(views) for task_id, views in found.items()}


class ExtensionQueries:
    """Extension requests."""

    def __init__(self, ctx: ReadContext) -> None:
        self.ctx = ctx

    def many(
        self,
        *,
        round_code: str | None = None,
        pending: bool = False,
        include_void: bool = False,
    ) -> list[ExtensionView]:
        """Requests, oldest first: of one round, only the pending ones (the office's inbox),
        void items' requests only if asked for."""
        e, r, i = q.extensions, q.rounds, q.instances
        stmt = _select().order_by(e.c.requested_at, e.c.id)
        with self.ctx.reading() as conn:
            if round_code is not None:
                stmt = stmt.where(r.c.id == resolve_round(conn, round_code))
            if pending:
                stmt = stmt.where(e.c.status == "pending")
            if not include_void:
                stmt = stmt.join(i, i.c.id == q.tasks.c.item_id).where(i.c.voided.is_(False))
            return [_view(row) for row in conn.execute(stmt).mappings()]
