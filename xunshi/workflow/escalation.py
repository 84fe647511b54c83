"""The escalation sweep: claim due timers in one statement, fire each in its own transaction.

Claiming marks timers `claimed` with a lease (`locked_by`, `locked_until`) and bumps
`attempts`, which is the fencing token: a sweeper only fires a timer that is still claimed
by it with the attempt it claimed. Firing re-checks that the stage (or task) is still live,
then inserts the escalation (unique per instance, stage entry, task, level, generation), the
history event and one outbox row per notification channel, and marks the timer done — all
in one transaction, so each escalation is recorded exactly once however many sweepers run
and whenever one dies. A timer whose lease expired is claimed again by the next sweep.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, case, func, or_, select

from xunshi.definitions.schema import canonical_json
from xunshi.errors import BadInput, Conflict, NotFound, Refused
from xunshi.storage import queries as q
from xunshi.storage.db import Database
from xunshi.workflow.clock import Clock
from xunshi.workflow.engine import Engine, InstanceRef
from xunshi.workflow.labels import label_from_row
from xunshi.workflow.schedule import Schedule, dedup_key

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(seconds=60)
DEFAULT_BATCH = 1000
CONFLICT_RETRIES = 3


def worker_name() -> str:
    """A name for this process in `locked_by`: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class ClaimedTimer:
    """A timer this sweeper holds."""

    id: int
    instance_id: int
    stage_seq: int
    stage: str
    task_id: int
    level: int
    title: str
    notify: tuple[str, ...]
    generation: int
    due_on: date
    fire_at: datetime
    provisional: bool
    attempts: int

    @classmethod
    def from_row(cls, row: Row[Any]) -> ClaimedTimer:
        """From a RETURNING row of the claim."""
        m = row._mapping
        return cls(
            id=m["id"],
            instance_id=m["instance_id"],
            stage_seq=m["stage_seq"],
            stage=m["stage"],
            task_id=m["task_id"],
            level=m["level"],
            title=m["title"],
            notify=tuple(json.loads(m["notify"])),
            generation=m["generation"],
            due_on=m["due_on"],
            fire_at=m["fire_at"],
            provisional=bool(m["provisional"]),
            attempts=m["attempts"],
        )


@dataclass(frozen=True, slots=True)
class Raised:
    """An escalation the sweep raised."""

    id: int
    instance_id: int
    label: str
    stage: str
    task_id: int
    level: int
    title: str
    notify: tuple[str, ...]
    due_on: date
    fire_at: datetime
    raised_at: datetime
    provisional: bool


@dataclass
class SweepResult:
    """What one sweep did."""

    claimed: int = 0
    raised: list[Raised] | None = None
    stale: int = 0
    lost: int = 0
    released: int = 0

    def __post_init__(self) -> None:
        if self.raised is None:
            self.raised = []


Labeler = Callable[[Connection, int], str]


def _still_live(timer: ClaimedTimer, row: Any) -> bool:
    """A stage rung applies while its stage entry is current and not suspended; a task's
    while the task is open (task deadlines are dates the office set: no pause moves them)."""
    if timer.task_id:
        return bool(row["task_status"] == "open")
    return bool(row["stage_seq"] == timer.stage_seq and not row["suspended"])


class _LostClaim(Exception):
    """The claim on a timer was lost before its transaction ended: roll it back."""


class Sweeper:
    """Claims and fires due timers."""

    def __init__(
        self,
        db: Database,
        engine: Engine,
        schedule: Schedule,
        clock: Clock,
        *,
        channels: Sequence[str],
        worker: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        self.db = db
        self.engine = engine
        self.schedule = schedule
        self.clock = clock
        self.channels = tuple(channels)
        self.worker = worker or worker_name()
        self.lease = lease
        self.batch = batch

    def sweep(
        self, now: datetime | None = None, *, stop: Callable[[], bool] = lambda: False
    ) -> SweepResult:
        """Claim every due timer (in batches) and fire it; stop early when `stop()` says so."""
        now = self._now(now)
        result = SweepResult()
        assert result.raised is not None
        while not stop():
            claimed = self.claim(now)
            if not claimed:
                break
            result.claimed += len(claimed)
            for index, timer in enumerate(claimed):
                if stop():
                    result.released += self.release([t.id for t in claimed[index:]])
                    break
                outcome = self.fire(timer, now)
                if isinstance(outcome, Raised):
                    result.raised.append(outcome)
                elif outcome == "stale":
                    result.stale += 1
                else:
                    result.lost += 1
        return result

    def _now(self, now: datetime | None) -> datetime:
        clock_now = self.clock.now()
        if now is None:
            return clock_now
        if now > clock_now:
            raise BadInput(
                f"--now {self.engine.business_time(now)} is later than the clock "
                f"({self.engine.business_time(clock_now)}); a sweep cannot run ahead of time"
            )
        return now

    def claim(self, now: datetime) -> list[ClaimedTimer]:
        """Claim up to `batch` due timers (pending, or claimed with an expired lease)."""
        t = q.timers
        due = (
            select(t.c.id)
            .where(
                q.LIVE_TIMER,
                t.c.fire_at <= now,
                or_(t.c.status == "pending", and_(t.c.status == "claimed", t.c.locked_until < now)),
            )
            .order_by(t.c.fire_at, t.c.level, t.c.id)
            .limit(self.batch)
        )
        if not self.db.is_sqlite:
            due = due.with_for_update(skip_locked=True)
        stmt = (
            t.update()
            .where(t.c.id.in_(due.scalar_subquery()))
            .values(
                status="claimed",
                locked_by=self.worker,
                locked_until=now + self.lease,
                attempts=t.c.attempts + 1,
            )
            .returning(
                t.c.id,
                t.c.instance_id,
                t.c.stage_seq,
                t.c.stage,
                t.c.task_id,
                t.c.level,
                t.c.title,
                t.c.notify,
                t.c.generation,
                t.c.due_on,
                t.c.fire_at,
                t.c.provisional,
                t.c.attempts,
            )
        )
        rows = self.db.run(lambda conn: conn.execute(stmt).all(), immediate=True)
        timers = [ClaimedTimer.from_row(row) for row in rows]
        timers.sort(key=lambda x: (x.fire_at, x.instance_id, x.level, x.id))
        return timers

    def fire(self, timer: ClaimedTimer, now: datetime) -> Raised | str:
        """Fire one claimed timer: the escalation, its history event, its outbox rows."""
        for attempt in range(CONFLICT_RETRIES):
            try:
                return self.db.run(lambda conn: self._fire(conn, timer, now), immediate=True)
            except _LostClaim:
                return "lost"  # rolled back: the timer's new holder fires it
            except Conflict:
                # Someone moved the instance between our read and write (PostgreSQL); the
                # next attempt re-checks whether the rung still applies.
                log.info("timer %s: instance changed meanwhile (attempt %d)", timer.id, attempt + 1)
        return "lost"

    def _fire(self, conn: Connection, timer: ClaimedTimer, now: datetime) -> Raised | str:
        # One read: the instance, its name and whether the claim is still ours. Nothing is
        # locked here; the writes below lock the instance first (the engine's update), then
        # the timer (the fenced update at the end), the same order as every other writer.
        row = conn.execute(q.TIMER_FOR_FIRE, {"timer_id": timer.id}).mappings().first()
        if row is None or (row["timer_status"], row["timer_locked_by"], row["timer_attempts"]) != (
            "claimed",
            self.worker,
            timer.attempts,
        ):
            return "lost"  # the lease expired and someone else has it now
        if not _still_live(timer, row):
            self._finish(conn, timer, "superseded")
            return "stale"
        label = label_from_row(row)
        escalation_id = conn.execute(
            q.insert_escalation(conn.dialect.name),
            {
                "instance_id": timer.instance_id,
                "stage_seq": timer.stage_seq,
                "stage": timer.stage,
                "task_id": timer.task_id,
                "level": timer.level,
                "generation": timer.generation,
                "title": timer.title,
                "notify": canonical_json(list(timer.notify)),
                "due_on": timer.due_on,
                "fire_at": timer.fire_at,
                "provisional": timer.provisional,
                "raised_at": now,
                "acked_at": None,
                "acked_by": None,
            },
        ).scalar_one_or_none()
        if escalation_id is None:  # raised already in this stage entry (another generation)
            self._advance(conn, timer, row)
            return "stale"
        ref = InstanceRef(timer.instance_id, label, row)
        data = {
            "escalation": escalation_id,
            "level": timer.level,
            "stage": timer.stage,
            "due_on": timer.due_on.isoformat(),
            "notify": list(timer.notify),
            "fire_at": timer.fire_at.isoformat(),
            "generation": timer.generation,
        }
        if timer.task_id:
            data["task"] = timer.task_id
        self.engine.record_escalation(
            conn, ref, level=timer.level, title=timer.title, data=data, now=now
        )
        raised = Raised(
            id=escalation_id,
            instance_id=timer.instance_id,
            label=label,
            stage=timer.stage,
            task_id=timer.task_id,
            level=timer.level,
            title=timer.title,
            notify=timer.notify,
            due_on=timer.due_on,
            fire_at=timer.fire_at,
            raised_at=now,
            provisional=timer.provisional,
        )
        self._outbox(conn, raised, now)
        self._advance(conn, timer, row)
        return raised

    def _advance(self, conn: Connection, timer: ClaimedTimer, row: Any) -> None:
        """Move the timer on to the stage's next rung, or finish it after the last one."""
        definition = self.engine.registry.definition(
            conn, row["definition_name"], row["definition_version"]
        )
        rung = self.schedule.next_rung(
            conn,
            definition,
            None if timer.task_id else timer.stage,
            timer.due_on,
            bool(row["provisional"]),
            after_level=timer.level,
        )
        if rung is None:
            self._finish(conn, timer, "done")
            return
        moved = conn.execute(
            q.TIMER_ADVANCE,
            {
                "b_id": timer.id,
                "b_worker": self.worker,
                "b_attempts": timer.attempts,
                **rung,
                "dedup_key": dedup_key(
                    timer.instance_id,
                    timer.stage_seq,
                    timer.task_id,
                    rung["level"],
                    timer.generation,
                ),
            },
        )
        if moved.rowcount != 1:
            raise _LostClaim(timer.id)

    def _finish(self, conn: Connection, timer: ClaimedTimer, status: str) -> None:
        """Mark the timer, fenced; if the claim was lost meanwhile, undo everything."""
        finished = conn.execute(
            q.TIMER_DONE,
            {
                "b_id": timer.id,
                "b_worker": self.worker,
                "b_attempts": timer.attempts,
                "status": status,
            },
        )
        if finished.rowcount != 1:
            raise _LostClaim(timer.id)

    def _outbox(self, conn: Connection, raised: Raised, now: datetime) -> None:
        if not self.channels:
            return
        key = f"xunshi-escalation-{raised.instance_id}-{raised.id}"
        payload = canonical_json(notification_payload(raised, self.engine))
        conn.execute(
            q.INSERT_OUTBOX,
            [
                {
                    "escalation_id": raised.id,
                    "channel": channel,
                    "idempotency_key": key,
                    "payload": payload,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "last_error": None,
                    "created_at": now,
                    "delivered_at": None,
                    "locked_by": None,
                    "locked_until": None,
                }
                for channel in self.channels
            ],
        )

    def release(self, ids: Sequence[int]) -> int:
        """Give back timers this sweeper claimed but will not fire (stopping)."""
        if not ids:
            return 0
        t = q.timers
        stmt = (
            t.update()
            .where(t.c.id.in_(list(ids)), t.c.status == "claimed", t.c.locked_by == self.worker)
            .values(status="pending", locked_by=None, locked_until=None)
        )
        return int(self.db.run(lambda conn: conn.execute(stmt).rowcount, immediate=True))


def notification_payload(raised: Raised, engine: Engine) -> dict[str, Any]:
    """What a channel delivers for one escalation."""
    return {
        "escalation": raised.id,
        "case": raised.label.split(" ", 1)[-1],
        "subject": raised.label,
        "stage": raised.stage,
        "task": raised.task_id or None,
        "level": raised.level,
        "title": raised.title,
        "notify": list(raised.notify),
        "due_on": raised.due_on.isoformat(),
        "raised_at": raised.raised_at.astimezone(engine.tz).isoformat(),
        "provisional": raised.provisional,
    }


def acknowledge(
    db: Database, engine: Engine, labeler: Labeler, escalation_id: int, actor: str
) -> tuple[str, int]:
    """Mark an escalation as seen by `actor`; the acknowledgement enters the history."""

    def work(conn: Connection) -> tuple[str, int]:
        x = q.escalations
        row = conn.execute(select(x).where(x.c.id == escalation_id)).mappings().first()
        if row is None:
            raise NotFound(f"escalation {escalation_id} does not exist")
        label = labeler(conn, row["instance_id"])
        if row["acked_at"] is not None:
            when = engine.business_time(row["acked_at"])
            raise Refused(
                f"escalation {escalation_id} was already acknowledged by {row['acked_by']} "
                f"at {when}"
            )
        now = engine.clock.now()
        conn.execute(
            x.update().where(x.c.id == escalation_id), {"acked_at": now, "acked_by": actor}
        )
        engine.note(
            conn,
            InstanceRef(row["instance_id"], label),
            actor=actor,
            role=None,
            text=f"acknowledged escalation {escalation_id}: {row['title']}",
            data={"acknowledged": escalation_id, "level": row["level"]},
        )
        return label, int(row["level"])

    return db.run(work, immediate=True)


@dataclass(frozen=True, slots=True)
class EscalationView:
    """An escalation as `escalations list` shows it."""

    id: int
    case: str
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

    def to_json(self, tz: Any) -> dict[str, Any]:
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
        }


def list_escalations(
    conn: Connection,
    engine: Engine,
    *,
    open_only: bool = False,
    round_code: str | None = None,
    level: int | None = None,
    ids: Sequence[int] | None = None,
) -> list[EscalationView]:
    """Escalations, oldest first, with what they are about (case or item) and the stage.

    A stage's escalation is open while its stage entry is current; a task's while the
    task is open.
    """
    x, c, r, u, i, it, t = (
        q.escalations,
        q.cases,
        q.rounds,
        q.units,
        q.instances,
        q.items,
        q.tasks,
    )
    is_open = case((x.c.task_id != 0, t.c.status == "open"), else_=x.c.stage_seq == i.c.stage_seq)
    stmt = (
        select(
            x,
            r.c.code.label("round_code"),
            u.c.code.label("unit_code"),
            it.c.code.label("item_code"),
            t.c.number.label("task_number"),
            i.c.definition_name,
            i.c.definition_version,
            is_open.label("is_open"),
        )
        .join(i, i.c.id == x.c.instance_id)
        .outerjoin(it, it.c.id == x.c.instance_id)
        .join(c, c.c.id == func.coalesce(it.c.case_id, x.c.instance_id))
        .join(r, r.c.id == c.c.round_id)
        .join(u, u.c.id == c.c.unit_id)
        .outerjoin(t, t.c.id == x.c.task_id)
        .order_by(x.c.raised_at, x.c.id)
    )
    if open_only:
        stmt = stmt.where(is_open)
    if round_code is not None:
        stmt = stmt.where(r.c.code == round_code)
    if level is not None:
        stmt = stmt.where(x.c.level == level)
    if ids is not None:
        stmt = stmt.where(x.c.id.in_(list(ids)))
    views = []
    for row in conn.execute(stmt).mappings():
        defn = engine.registry.definition(conn, row["definition_name"], row["definition_version"])
        if row["task_id"]:
            stage_title = f"任务 #{row['task_number']}"
        elif defn.has_state(row["stage"]):
            stage_title = defn.state(row["stage"]).title
        else:
            stage_title = row["stage"]
        key = f"{row['round_code']}/{row['unit_code']}"
        if row["item_code"] is not None:
            key += f"/{row['item_code']}"
        views.append(
            EscalationView(
                id=row["id"],
                case=key,
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
            )
        )
    return views
