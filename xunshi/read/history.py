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

from xunshi.errors import NotFound
from xunshi.keys import InstanceKey, Reference, reference
from xunshi.read.context import ReadContext
from xunshi.storage import queries as q
from xunshi.workflow.audit import Event, event_from_row
from xunshi.workflow.resolve import (
    InstanceRef,
    instance_keys,
    label_of,
    resolve,
    resolve_round,
)


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


@dataclass(frozen=True, slots=True)
class RequestEntry:
    """One event a request wrote, with the key of its instance."""

    key: InstanceKey | None
    label: str
    event: Event
    state_titles: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What one request (`xunshi.idempotency`) did: its command and the events it wrote."""

    request_id: str
    command: str
    events: tuple[RequestEntry, ...]

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape of a request run again: `already_done`, its events."""
        return {
            "already_done": True,
            "request_id": self.request_id,
            "command": self.command,
            "events": [
                {"key": None if e.key is None else str(e.key), **event_json(e.event, tz)}
                for e in self.events
            ],
        }


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

    def requested(self, request_id: str) -> RequestRecord:
        """The command a request named and the events it wrote, in the order written."""
        with self.ctx.reading() as conn:
            return read_request(self.ctx, conn, request_id)

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


def read_request(ctx: ReadContext, conn: Connection, request_id: str) -> RequestRecord:
    """A request's record (NotFound if no command ran under that id)."""
    r, e = q.requests, q.events
    command = conn.execute(
        select(r.c.command).where(r.c.request_id == request_id).order_by(r.c.step).limit(1)
    ).scalar()
    if command is None:
        raise NotFound(f"no command ran under request id {request_id}")
    rows = conn.execute(
        select(e)
        .where(e.c.request_id == request_id)
        .order_by(e.c.recorded_at, e.c.instance_id, e.c.seq)
    ).mappings()
    events = [event_from_row(row) for row in rows]
    keys = instance_keys(conn, q.instances.c.id.in_({ev.instance_id for ev in events}))
    titles: dict[int, Mapping[str, str]] = {}
    for ev in events:
        if ev.instance_id not in titles:
            titles[ev.instance_id] = _state_titles(ctx, conn, ev.instance_id)
    entries = tuple(
        RequestEntry(
            keys.get(ev.instance_id),
            label_of(keys, ev.instance_id),
            ev,
            titles[ev.instance_id],
        )
        for ev in events
    )
    return RequestRecord(request_id, str(command), entries)


def _state_titles(ctx: ReadContext, conn: Connection, instance_id: int) -> Mapping[str, str]:
    """The state titles of the definition an instance runs on."""
    i = q.instances
    found = conn.execute(
        select(i.c.definition_name, i.c.definition_version).where(i.c.id == instance_id)
    ).first()
    if found is None:
        return {}
    defn = ctx.definition(conn, str(found[0]), int(found[1]))
    return {s.name: s.title for s in defn.states}


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
