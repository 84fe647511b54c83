"""The round plan as deadlines see it: a case's batch and the batch's planned dates.

Read in the command's transaction, only for definitions with a stage due on a plan date
(`due: plan.leave`), so that the hot path of every other definition reads nothing more.
"""

from __future__ import annotations

from sqlalchemy import Connection

from xunshi.storage import queries as q
from xunshi.workflow.deadlines import NO_PLAN, PlanDates


def plan_dates(conn: Connection, case_id: int) -> PlanDates:
    """The batch of case `case_id` and its dates (NO_PLAN: the case is in no batch)."""
    row = conn.execute(q.CASE_PLAN, {"case_id": case_id}).first()
    if row is None:
        return NO_PLAN
    return PlanDates(row.code, row.move_in_on, row.leave_on)
