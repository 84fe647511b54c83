"""The dates deadlines count from beyond a stage's entry: a case's batch and the batch's
planned dates, and the recorded dates of the milestones a stage's due counts from.

Read in the command's transaction, only for definitions with a stage due on a plan date
(`due: plan.leave`) or after a milestone (`{milestone: feedback_meeting, after: 2mo}`), so
that the hot path of every other definition reads nothing more.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from xunshi.definitions.schema import Definition
from xunshi.storage import queries as q
from xunshi.workflow.deadlines import NO_PLAN, PlanDates


def plan_dates(conn: Connection, case_id: int) -> PlanDates:
    """The batch of case `case_id` and its dates (NO_PLAN: the case is in no batch)."""
    row = conn.execute(q.CASE_PLAN, {"case_id": case_id}).first()
    if row is None:
        return NO_PLAN
    return PlanDates(row.code, row.move_in_on, row.leave_on)


def due_dates(
    conn: Connection,
    instance_id: int,
    definition: Definition,
    tz: ZoneInfo,
    before_seq: int | None = None,
) -> PlanDates:
    """What `definition`'s stage dues count from for this instance (NO_PLAN: nothing), for
    an entry made after its whole history, or (`before_seq`) by the event of that seq."""
    plan = plan_dates(conn, instance_id) if definition.uses_plan else NO_PLAN
    if not definition.due_milestones:
        return plan
    e = q.events
    query = select(e.c.kind, e.c.to_state, e.c.data, e.c.occurred_at).where(
        e.c.instance_id == instance_id, e.c.kind.in_(("milestone", "started", "transition"))
    )
    if before_seq is not None:
        query = query.where(e.c.seq < before_seq)
    rows = conn.execute(query.order_by(e.c.seq)).all()
    recorded = ((json.loads(data), at) for kind, _, data, at in rows if kind == "milestone")
    return plan._replace(
        milestones=recorded_dates(recorded, definition.due_milestones, tz),
        visited=frozenset(to for kind, to, _, _ in rows if kind != "milestone" and to),
    )


def recorded_dates(
    milestones: Iterable[tuple[Mapping[str, Any], datetime]], names: frozenset[str], tz: ZoneInfo
) -> dict[str, date]:
    """The business date each of `names` was last recorded as having happened, from the
    (data, occurred_at) of milestone events in history order."""
    found: dict[str, date] = {}
    for data, occurred_at in milestones:
        name = str(data.get("milestone"))
        if name in names:
            found[name] = occurred_at.astimezone(tz).date()
    return found
