"""An instance's history as people and scripts read it: `case history`, `item history`,
`clue history`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, case, select

from xunshi.keys import InstanceKey, Reference, reference
from xunshi.read.context import ReadContext
from xunshi.storage import queries as q
from xunshi.workflow.audit import Event, event_from_row
from xunshi.workflow.resolve import InstanceRef, resolve, resolve_round


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


@dataclass(frozen=True, slots=True)
class StageEntries:
    """The stages a case entered, from its history (as `History` reads them): when and which
    state, oldest first, with the titles of the states of the definition it started on."""

    entered: tuple[tuple[datetime, str], ...]
    state_titles: Mapping[str, str]


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

    def stage_entries(self, round_code: str) -> dict[int, StageEntries]:
        """Case id → the stage entries of every case of the round (void ones too)."""
        with self.ctx.reading() as conn:
            return read_stage_entries(self.ctx, conn, resolve_round(conn, round_code))


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


def read_stage_entries(
    ctx: ReadContext, conn: Connection, round_id: int
) -> dict[int, StageEntries]:
    """Case id → its stage entries, for every case of a round, in one statement: the events
    that entered a state, and the first event's data (the definition it started on)."""
    e, c = q.events, q.cases
    first = case((e.c.seq == 1, e.c.data), else_=None)
    rows = conn.execute(
        select(e.c.instance_id, e.c.occurred_at, e.c.to_state, first.label("first"))
        .join(c, c.c.id == e.c.instance_id)
        .where(c.c.round_id == round_id)
        .where((e.c.to_state.is_not(None)) | (e.c.seq == 1))
        .order_by(e.c.instance_id, e.c.seq)
    )
    entered: dict[int, list[tuple[datetime, str]]] = {}
    titles: dict[int, Mapping[str, str]] = {}
    by_definition: dict[tuple[str, int], Mapping[str, str]] = {}
    for instance_id, occurred_at, to_state, data in rows:
        if data is not None:
            fields = json.loads(data)
            version = (str(fields["definition"]), int(fields["definition_version"]))
            if version not in by_definition:
                defn = ctx.definition(conn, *version)
                by_definition[version] = {s.name: s.title for s in defn.states}
            titles[instance_id] = by_definition[version]
        if to_state is not None:
            entered.setdefault(instance_id, []).append((occurred_at, to_state))
    return {
        case_id: StageEntries(tuple(entered.get(case_id, ())), titles.get(case_id, {}))
        for case_id in entered.keys() | titles.keys()
    }
