"""The audit of the stored history: verify, seal, export."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Text,
    func,
    select,
    true,
    type_coerce,
)

from xunshi.display import plural
from xunshi.errors import AuditFailed, BadInput, NotFound
from xunshi.storage import queries as q
from xunshi.storage.db import Database
from xunshi.storage.processes import available_cpus, in_window_order
from xunshi.texts import check_actor
from xunshi.workflow.audit import (
    CASE_FACTS,
    CLUE_FACTS,
    ITEM_FACTS,
    Event,
    Problem,
    Report,
    check_chain,
    check_seal,
    event_from_tuple,
    outcome_values,
    seal_digest,
)
from xunshi.workflow.clock import Clock
from xunshi.workflow.outcomes import from_row
from xunshi.workflow.resolve import instance_keys, label_of

EXPORT_COLUMNS = (
    "instance",
    "label",
    "seq",
    "kind",
    "trigger",
    "from",
    "to",
    "actor",
    "role",
    "reason",
    "data",
    "occurred_at",
    "recorded_at",
    "prev_hash",
    "hash",
)
_BATCH = 2000  # rows fetched at a time from the event stream
_WINDOW = 500  # instances whose rows are checked together (their side rows loaded at once)

# Called with how many events are done so far (the CLI shows it with a rate on a terminal).
Progress = Callable[[int], None]
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class Seal:
    """A stored seal."""

    digest: str
    chains: int
    events: int
    created_at: datetime

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape (the time in the business zone, with its offset)."""
        return {
            "digest": self.digest,
            "chains": self.chains,
            "events": self.events,
            "created_at": self.created_at.astimezone(tz).isoformat(),
        }


class AuditService:
    """Verifies chains and projections, takes seals, exports the history."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def verify(
        self, seal: str | None = None, progress: Progress | None = None, workers: int | None = 1
    ) -> Report:
        """Check every chain, replay == projection, and (optionally) a seal's heads.

        `progress` is called with the number of events verified so far as the work goes on
        (after each window of instances). `workers` processes share the windows (this one
        and helpers it spawns, `storage.processes`; None: one per CPU); the report is the
        same whatever their number."""
        with self.db.transaction() as conn:
            report = self._verify(conn, progress, workers)
            if seal is None:
                return report
            problems = list(report.problems) + self._check_seal(conn, seal.strip().lower())
            return Report(report.chains, report.events, tuple(problems))

    def seal(self, actor: str, workers: int | None = 1) -> Seal:
        """Store and return a digest over every chain head; refuse if the history is broken
        (verified by `workers` processes, as `verify`).

        The long part — verifying every chain and reading the heads — runs in a read
        transaction, so that writers are not held up meanwhile; only storing the seal is a
        write. Helper processes read snapshots taken after this one: every head sealed (read
        here) is in a chain they verified, which may only have grown since."""
        actor = check_actor(actor)
        with self.db.transaction() as conn:
            report = self._verify(conn, workers=workers)
            if not report.ok:
                raise AuditFailed(
                    f"history has {plural(len(report.problems), 'problem')}; not sealing it "
                    "(see `xunshi audit verify`)"
                )
            heads = self._heads(conn)
        digest = seal_digest(heads)
        now = self.clock.now()

        def work(conn: Connection) -> Seal:
            existing = conn.execute(select(q.seals.c.id).where(q.seals.c.digest == digest)).first()
            if existing is None:
                conn.execute(
                    q.seals.insert(),
                    {
                        "digest": digest,
                        "created_at": now,
                        "created_by": actor,
                        "chains": report.chains,
                        "events": report.events,
                        "heads": json.dumps(heads, separators=(",", ":")),
                    },
                )
            return Seal(digest, report.chains, report.events, now)

        return self.db.run(work)

    def export(self, out: TextIO, fmt: str, tz: ZoneInfo, progress: Progress | None = None) -> int:
        """Write every event as JSON lines or CSV (times in `tz`, with offset); return how many.

        The events stream a window of instances at a time (flat memory); `progress` is called
        with the number written so far after each window."""
        writer = None
        if fmt != "jsonl":
            writer = csv.writer(out)
            writer.writerow(EXPORT_COLUMNS)
        count = 0
        with self.db.transaction() as conn:
            for lo, hi in _windows(conn):
                labels = _labels(conn, _in_window(q.instances.c.id, lo, hi))
                for event in self._events(conn, lo, hi):
                    record = _export_record(event, labels, tz)
                    if writer is None:
                        out.write(json.dumps(record, ensure_ascii=False) + "\n")
                    else:
                        record["data"] = json.dumps(
                            record["data"], ensure_ascii=False, sort_keys=True
                        )
                        writer.writerow([record[c] for c in EXPORT_COLUMNS])
                    count += 1
                if progress is not None:
                    progress(count)
        return count

    # -- internals ------------------------------------------------------------------

    def _verify(
        self, conn: Connection, progress: Progress | None = None, workers: int | None = 1
    ) -> Report:
        """Every chain against its rows, a window of instances at a time: the events stream
        in id order, and each window loads only its own instances' rows (flat memory)."""
        problems: list[Problem] = []
        events = 0
        chains = 0

        def here(lo: int | None, hi: int | None) -> WindowReport:
            return _check_window(conn, lo, hi, self._events)

        windows = list(_windows(conn))
        processes = available_cpus() if workers is None else workers
        for found in in_window_order(self.db, windows, here, _check_window, processes):
            chains += found.chains
            events += found.events
            problems.extend(found.problems)
            if progress is not None:
                progress(events)
        return Report(chains, events, tuple(problems))

    def _events(
        self, conn: Connection, lo: int | None = None, hi: int | None = None
    ) -> Iterator[Event]:
        """The events of the instances in [lo, hi) (every one: None), streamed in
        (instance, seq) order (`_stream_events`)."""
        return _stream_events(conn, lo, hi)

    def _heads(self, conn: Connection) -> list[list[Any]]:
        e = q.events
        last = (
            select(e.c.instance_id, func.max(e.c.seq).label("seq"))
            .group_by(e.c.instance_id)
            .subquery()
        )
        rows = conn.execute(
            select(e.c.instance_id, e.c.seq, e.c.hash)
            .join(last, (last.c.instance_id == e.c.instance_id) & (last.c.seq == e.c.seq))
            .order_by(e.c.instance_id)
        )
        return [[row.instance_id, row.seq, row.hash] for row in rows]

    def _check_seal(self, conn: Connection, digest: str) -> list[Problem]:
        if not _HEX64.fullmatch(digest):
            raise BadInput(f"{digest!r} is not a seal digest (64 hexadecimal characters)")
        row = conn.execute(select(q.seals).where(q.seals.c.digest == digest)).mappings().first()
        if row is None:
            raise NotFound(f"no seal {digest} in this database (was it deleted?)")
        heads = json.loads(row["heads"])
        if seal_digest(heads) != digest:
            return [Problem(0, "seal", 0, f"seal {digest} was altered: its heads do not match")]
        e = q.events
        current: dict[tuple[int, int], str] = {}
        for instance_id, seq, _ in heads:
            found = conn.execute(
                select(e.c.hash).where(e.c.instance_id == instance_id, e.c.seq == seq)
            ).scalar_one_or_none()
            if found is not None:
                current[(instance_id, seq)] = found
        return check_seal(heads, current, _labels(conn))


class WindowReport(NamedTuple):
    """What verifying one window of instances found."""

    chains: int
    events: int
    problems: list[Problem]


EventSource = Callable[[Connection, int | None, int | None], Iterable[Event]]


def _check_window(
    conn: Connection, lo: int | None, hi: int | None, source: EventSource | None = None
) -> WindowReport:
    """Verify the instances in [lo, hi) against their rows (their chains, projections, facts,
    tasks, extension requests and outcomes); `source` streams their events (by default
    `_stream_events`: a helper process calls this with the connection it opened)."""
    problems: list[Problem] = []
    events = 0
    chains = 0
    ids = _in_window(q.instances.c.id, lo, hi)
    labels = _labels(conn, ids)
    instances = {row["id"]: row for row in conn.execute(q.instances.select().where(ids)).mappings()}
    task_rows: dict[int, dict[int, Any]] = {}
    for task in conn.execute(
        q.tasks.select().where(_in_window(q.tasks.c.item_id, lo, hi))
    ).mappings():
        task_rows.setdefault(task["item_id"], {})[task["id"]] = task
    extension_rows: dict[int, dict[int, Any]] = {}
    for extension in conn.execute(
        select(q.extensions, q.tasks.c.item_id)
        .join(q.tasks, q.tasks.c.id == q.extensions.c.task_id)
        .where(_in_window(q.tasks.c.item_id, lo, hi))
    ).mappings():
        extension_rows.setdefault(extension["item_id"], {})[extension["id"]] = extension
    facts = _item_facts(conn, lo, hi)
    names = _case_facts(conn, lo, hi)
    clue_facts = _clue_facts(conn, lo, hi)
    outcomes = _outcomes(conn, lo, hi)
    stream = (source or _stream_events)(conn, lo, hi)
    for instance_id, chain in itertools.groupby(stream, key=lambda e: e.instance_id):
        chains += 1
        label = labels.get(instance_id, f"instance #{instance_id}")
        row = instances.pop(instance_id, None)
        is_clue = row is not None and row["subject"] == "clue"
        count, found = check_chain(
            instance_id,
            label,
            chain,
            row,
            task_rows.pop(instance_id, None),
            clue_facts.get(instance_id) if is_clue else facts.get(instance_id),
            names.get(instance_id),
            "clue" if is_clue else "item",
            extension_rows=extension_rows.pop(instance_id, None),
            outcome_rows=outcomes.pop(instance_id, None),
        )
        events += count
        problems.extend(found)
    for instance_id, row in instances.items():
        label = labels.get(instance_id, f"instance #{instance_id}")
        _, found = check_chain(
            instance_id,
            label,
            (),
            row,
            task_rows.pop(instance_id, None),
            extension_rows=extension_rows.pop(instance_id, None),
            outcome_rows=outcomes.pop(instance_id, None),
        )
        problems.extend(found)
    return WindowReport(chains, events, problems)


def _stream_events(
    conn: Connection, lo: int | None = None, hi: int | None = None
) -> Iterator[Event]:
    """The events of the instances in [lo, hi) (every one: None), streamed in
    (instance, seq) order from plain row tuples (no per-value type processing)."""
    e = q.events
    raw_times = conn.dialect.name == "sqlite"
    times = (
        (type_coerce(e.c.occurred_at, Text), type_coerce(e.c.recorded_at, Text))
        if raw_times
        else (e.c.occurred_at, e.c.recorded_at)
    )
    statement = (
        select(
            e.c.instance_id,
            e.c.seq,
            e.c.kind,
            e.c.trigger,
            e.c.from_state,
            e.c.to_state,
            e.c.actor,
            e.c.role,
            e.c.reason,
            e.c.data,
            *times,
            e.c.prev_hash,
            e.c.hash,
        )
        .where(_in_window(e.c.instance_id, lo, hi))
        .order_by(e.c.instance_id, e.c.seq)
    )
    for batch in _batches(conn, statement):
        for row in batch:
            yield event_from_tuple(row, raw_times)


def _batches(conn: Connection, statement: Select[Any]) -> Iterator[Sequence[Sequence[Any]]]:
    """The rows of `statement` as plain tuples, `_BATCH` at a time (a server-side cursor on
    PostgreSQL; on SQLite the driver's own cursor, which steps through the result as it is
    fetched, in this connection's transaction)."""
    if conn.dialect.name == "sqlite":
        compiled = statement.compile(dialect=conn.dialect)
        parameters = [compiled.params[name] for name in compiled.positiontup or ()]
        cursor = conn.connection.cursor()
        try:
            cursor.execute(str(compiled), parameters)
            while batch := cursor.fetchmany(_BATCH):
                yield batch
        finally:
            cursor.close()
        return
    # Per statement: Connection.execution_options would stream every later statement too.
    result = conn.execute(statement.execution_options(yield_per=_BATCH))
    try:
        yield from result.partitions()
    finally:
        result.close()  # a PostgreSQL server-side cursor must not outlive a failure


def _windows(conn: Connection) -> Iterator[tuple[int | None, int | None]]:
    """Consecutive id ranges [lo, hi) of `_WINDOW` instances each (None: unbounded), which
    together cover every id, so events of an instance without a row fall in one too."""
    i = q.instances.c.id
    lo: int | None = None
    while True:
        ids = select(i).order_by(i).limit(_WINDOW)
        if lo is not None:
            ids = ids.where(i >= lo)
        found = conn.execute(ids).scalars().all()
        if len(found) < _WINDOW:
            yield lo, None
            return
        hi = found[-1] + 1
        yield lo, hi
        lo = hi


def _in_window(column: Any, lo: int | None, hi: int | None) -> ColumnElement[bool]:
    """`lo <= column < hi` (either end open when None)."""
    clause: ColumnElement[bool] = true()
    if lo is not None:
        clause = clause & (column >= lo)
    if hi is not None:
        clause = clause & (column < hi)
    return clause


def _item_facts(
    conn: Connection, lo: int | None = None, hi: int | None = None
) -> dict[int, dict[str, Any]]:
    """The stored facts of the items in [lo, hi) as their history records them (the category
    as `一级/二级`)."""
    it, c = q.items, q.categories
    tags: dict[int, list[str]] = {}
    for item_id, name in conn.execute(
        select(q.item_tags.c.item_id, q.tags.c.name)
        .join(q.tags, q.tags.c.id == q.item_tags.c.tag_id)
        .where(_in_window(q.item_tags.c.item_id, lo, hi))
    ):
        tags.setdefault(item_id, []).append(name)
    rows = conn.execute(
        select(it, c.c.level1, c.c.level2)
        .join(c, c.c.id == it.c.category_id)
        .where(_in_window(it.c.id, lo, hi))
    ).mappings()
    recurs = conn.execute(
        select(q.item_recurs_from).where(_in_window(q.item_recurs_from.c.item_id, lo, hi))
    ).all()
    earlier_ids = {earlier_id for _, earlier_id in recurs}
    keys = instance_keys(conn, q.instances.c.id.in_(earlier_ids)) if recurs else {}
    earlier = {item_id: str(keys[earlier_id]) for item_id, earlier_id in recurs}
    found = {}
    for row in rows:
        values = {
            name: f"{row['level1']}/{row['level2']}" if name == "category" else row.get(name)
            for name in ITEM_FACTS
        }
        values["tags"] = sorted(tags.get(row["id"], []))
        for flag in ("key_problem", "fix_now"):
            values[flag] = bool(values[flag])
        # 屡改屡犯: the earlier item's key, as the first event records it (None: recurs from
        # nothing, and the facts of an item added before 0010 have no such key)
        values["recurs_from"] = earlier.get(row["id"])
        found[row["id"]] = values
    return found


def _outcomes(
    conn: Connection, lo: int | None = None, hi: int | None = None
) -> dict[int, dict[int, dict[str, Any]]]:
    """The stored outcomes (整改成果) of the items in [lo, hi): item id → task id (0: its
    own) → values."""
    found: dict[int, dict[int, dict[str, Any]]] = {}
    statement = q.outcomes.select().where(_in_window(q.outcomes.c.item_id, lo, hi))
    for row in conn.execute(statement).mappings():
        found.setdefault(row["item_id"], {})[row["task_id"]] = outcome_values(from_row(row))
    return found


def _case_facts(
    conn: Connection, lo: int | None = None, hi: int | None = None
) -> dict[int, dict[str, Any]]:
    """The unit name and group leader of the cases in [lo, hi) as stored (`CASE_FACTS`)."""
    c, u, g = q.cases, q.units, q.groups
    rows = conn.execute(
        select(c.c.id, u.c.name.label("unit_name"), g.c.leader.label("group_leader"))
        .join(u, u.c.id == c.c.unit_id)
        .join(g, g.c.id == c.c.group_id)
        .where(_in_window(c.c.id, lo, hi))
    ).mappings()
    return {row["id"]: {name: row[name] for name in CASE_FACTS} for row in rows}


def _clue_facts(
    conn: Connection, lo: int | None = None, hi: int | None = None
) -> dict[int, dict[str, Any]]:
    """The stored facts of the clues in [lo, hi) as their history records them (their
    problems as sorted ids)."""
    links: dict[int, list[int]] = {}
    for clue_id, item_id in conn.execute(
        select(q.clue_items.c.clue_id, q.clue_items.c.item_id)
        .where(_in_window(q.clue_items.c.clue_id, lo, hi))
        .order_by(q.clue_items.c.clue_id, q.clue_items.c.item_id)
    ):
        links.setdefault(clue_id, []).append(item_id)
    return {
        row["id"]: {
            name: links.get(row["id"], []) if name == "items" else row[name] for name in CLUE_FACTS
        }
        for row in conn.execute(q.clues.select().where(_in_window(q.clues.c.id, lo, hi))).mappings()
    }


def _labels(conn: Connection, where: ColumnElement[bool] | None = None) -> dict[int, str]:
    """How messages name each instance that has a key (those `where` selects)."""
    keys = instance_keys(conn, where)
    return {instance_id: label_of(keys, instance_id) for instance_id in keys}


def _export_record(event: Event, labels: dict[int, str], tz: ZoneInfo) -> dict[str, Any]:
    """An event as the export writes it: its record, times in `tz` with their offset.

    The hash covers the UTC instants (`Event.record`); the offset only presents the same
    instant, to the microsecond, so an outside checker converts back and gets the same hash.
    """
    record = event.record()
    instance = record.pop("instance")
    label = labels.get(instance, f"instance #{instance}")
    record["occurred_at"] = event.occurred_at.astimezone(tz).isoformat()
    record["recorded_at"] = event.recorded_at.astimezone(tz).isoformat()
    return {
        "instance": instance,
        "label": label,
        **record,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def export_text(auditor: AuditService, fmt: str, tz: ZoneInfo) -> str:
    """The export as one string (tests, small databases)."""
    buffer = io.StringIO()
    auditor.export(buffer, fmt, tz)
    return buffer.getvalue()
