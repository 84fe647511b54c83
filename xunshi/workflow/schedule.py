"""Stage deadlines: the due date of each stage on its definition's working-day calendar."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from xunshi.definitions.schema import Definition
from xunshi.workflow.calendar import Calendar, calendar_for
from xunshi.workflow.deadlines import due_date, is_provisional
from xunshi.workflow.engine import NO_DEADLINE, Deadline, InstanceState


class Schedule:
    """Computes due dates when an instance enters a stage (the engine's StageHooks)."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._calendars: dict[str, Calendar] = {}

    def calendar(self, conn: Connection, name: str) -> Calendar:
        """The working-day calendar called `name`."""
        found = self._calendars.get(name)
        if found is None:
            found = calendar_for(name)
            self._calendars[name] = found
        return found

    def deadline(
        self, conn: Connection, definition: Definition, state: str, entered_at: datetime
    ) -> Deadline:
        """The due date of `state` when entered at `entered_at` (none without a `due`)."""
        due = definition.state(state).due
        if due is None:
            return NO_DEADLINE
        cal = self.calendar(conn, definition.calendar)
        entered_on = entered_at.astimezone(self.tz).date()
        due_on = due_date(entered_on, due, cal)
        return Deadline(due_on, is_provisional(entered_on, due_on, cal))

    def stage_entered(
        self, conn: Connection, instance: InstanceState, definition: Definition, stage_seq: int
    ) -> None:
        """Nothing more to do until escalation timers exist."""
