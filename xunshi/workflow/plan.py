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

from sqlalchemy import Connection, bindparam, select, text

from xunshi.definitions.durations import MilestoneDue, PlanDue
from xunshi.definitions.schema import Definition
from xunshi.storage import queries as q
from xunshi.storage.prepared import Prepared
from xunshi.workflow.deadlines import NO_PLAN, PlanDates

_CASE_PLAN = Prepared(q.CASE_PLAN)
# The events dues count from, up to an event (a seq past any real one: the whole history).
# The kinds are literal: a prepared statement takes scalar parameters only.
_DATED_EVENTS = Prepared(
    select(q.events.c.kind, q.events.c.to_state, q.events.c.data, q.events.c.occurred_at)
    .where(
        q.events.c.instance_id == bindparam("instance_id"),
        text("event.kind IN ('milestone', 'started', 'transition')"),
        q.events.c.seq < bindparam("before_seq"),
    )
    .order_by(q.events.c.seq)
)
_WHOLE_HISTORY = 2**31 - 1


def plan_dates(conn: Connection, case_id: int) -> PlanDates:
    """The batch of case `case_id` and its dates (NO_PLAN: the case is in no batch)."""
    row = _CASE_PLAN.first(conn, {"case_id": case_id})
    if row is None:
        return NO_PLAN
    return PlanDates(row["code"], row["move_in_on"], row["leave_on"])


def due_dates(
    conn: Connection,
    instance_id: int,
    definition: Definition,
    tz: ZoneInfo,
    before_seq: int | None = None,
    *,
    stage: str | None = None,
) -> PlanDates:
    """What `definition`'s stage dues count from for this instance (NO_PLAN: nothing), for
    an entry made after its whole history, or (`before_seq`) by the event of that seq.

    `stage`: only what that stage's due counts from (most stages' count from their entry
    alone, and nothing is read); every stage's when None.
    """
    if stage is None:
        uses_plan, anchors = definition.uses_plan, definition.due_milestones
    else:
        due = definition.state(stage).due
        uses_plan = isinstance(due, PlanDue)
        anchors = frozenset((due.milestone,)) if isinstance(due, MilestoneDue) else frozenset()
    plan = plan_dates(conn, instance_id) if uses_plan else NO_PLAN
    if not anchors:
        return plan
    rows = _DATED_EVENTS.all(
        conn,
        {
            "instance_id": instance_id,
            "before_seq": _WHOLE_HISTORY if before_seq is None else before_seq,
        },
    )
    recorded = ((json.loads(data), at) for kind, _, data, at in rows if kind == "milestone")
    return plan._replace(
        milestones=recorded_dates(recorded, anchors, tz),
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
