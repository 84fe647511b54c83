"""An instance's history as people and scripts read it: `case history`, `item history`,
`clue history`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from xunshi.keys import InstanceKey, Reference, reference
from xunshi.read.context import ReadContext
from xunshi.storage import queries as q
from xunshi.workflow.audit import Event, event_from_row
from xunshi.workflow.resolve import InstanceRef, resolve


def event_json(event: Event, tz: ZoneInfo) -> dict[str, Any]:
    """The JSON of an event wherever one is shown (DESIGN §7): its record, times in `tz`."""
    record = event.record()
    del record["instance"]
    record["occurred_at"] = event.occurred_at.astimezone(tz).isoformat()
    record["recorded_at"] = event.recorded_at.astimezone(tz).isoformat()
    return {**record, "hash": event.hash}


@dataclass(frozen=True, slots=True)
class History:
    """Every event of one instance, oldest first, with the titles of its definition's states."""

    key: InstanceKey
    events: tuple[Event, ...]
    state_titles: dict[str, str]

    def to_json(self, tz: ZoneInfo) -> list[dict[str, Any]]:
        """The `--json` shape: the list of events."""
        return [event_json(e, tz) for e in self.events]


class HistoryQueries:
    """Histories of cases and items."""

    def __init__(self, ctx: ReadContext) -> None:
        self.ctx = ctx

    def of(self, name: str | Reference, kind: Literal["case", "item"] = "case") -> History:
        """The whole history of a case (`kind` case) or an item (`kind` item).

        A clue's is read with the role asking (`ClueQueries.history`): not everyone may.
        """
        with self.ctx.reading() as conn:
            return read_history(self.ctx, conn, resolve(conn, reference(name, kind)))


def read_history(ctx: ReadContext, conn: Connection, ref: InstanceRef) -> History:
    """The whole history of a resolved instance, in the caller's read transaction."""
    rows = conn.execute(q.HISTORY, {"instance_id": ref.id}).mappings()
    events = tuple(event_from_row(row) for row in rows)
    titles: dict[str, str] = {}
    if events:
        first = events[0].data
        defn = ctx.definition(conn, str(first["definition"]), int(first["definition_version"]))
        titles = {s.name: s.title for s in defn.states}
    assert ref.key is not None
    return History(ref.key, events, titles)
