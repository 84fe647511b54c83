"""The escalation sweep: claim due timers in one statement, fire each in its own transaction.

Claiming marks timers `claimed` with a lease (`locked_by`, `locked_until`) and bumps
`attempts`, which is the fencing token: a sweeper only fires a timer that is still claimed
by it with the attempt it claimed. Firing re-checks that the stage (or task) is still live,
then inserts the escalation (unique per instance, stage entry, task, level, generation), the
history event and one outbox row per notification channel (the channels and email addresses
the router chooses for the notified roles, round and group), and marks the timer done — all
in one transaction, so each escalation is recorded exactly once however many sweepers run
and whenever one dies. A timer whose lease expired is claimed again by the next sweep.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, or_

from xunshi.definitions.schema import Definition, EscalationRule, canonical_json
from xunshi.errors import BadInput, Conflict
from xunshi.keys import InstanceKey
from xunshi.routes import Router
from xunshi.storage import queries as q
from xunshi.storage.db import Database
from xunshi.timeparse import business_time
from xunshi.workflow.clock import Clock
from xunshi.workflow.decide import Command
from xunshi.workflow.engine import Engine
from xunshi.workflow.lease import Lease
from xunshi.workflow.resolve import InstanceRef, key_from_row
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
    def from_row(cls, m: Mapping[str, Any]) -> ClaimedTimer:
        """From a RETURNING row of the claim."""
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
    key: InstanceKey | None
    stage: str
    task_id: int
    level: int
    title: str
    notify: tuple[str, ...]
    due_on: date
    fire_at: datetime
    raised_at: datetime
    provisional: bool
    instrument: str = ""
    recipient: str = ""
    decision: str | None = None  # "pending" for a rung that waits for the office

    @property
    def label(self) -> str:
        """How messages name what escalated: `case 2024-R1/U01`, `item …/P01`."""
        return self.key.label if self.key is not None else f"instance #{self.instance_id}"


@dataclass
class SweepResult:
    """What one sweep did."""

    claimed: int = 0
    raised: list[Raised] = field(default_factory=list)
    stale: int = 0
    lost: int = 0
    released: int = 0


def _still_live(timer: ClaimedTimer, row: Any) -> bool:
    """A stage rung applies while its stage entry is current and not suspended; a task's
    while the task is open (task deadlines are dates the office set: no pause moves them);
    neither once the instance is void."""
    if row["voided"]:
        return False
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
        router: Router,
        worker: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        self.db = db
        self.engine = engine
        self.schedule = schedule
        self.clock = clock
        self.router = router
        self.worker = worker or worker_name()
        self.lease = Lease(
            db, q.timers, worker=self.worker, duration=lease, batch=batch, token="attempts"
        )

    def sweep(
        self, now: datetime | None = None, *, stop: Callable[[], bool] = lambda: False
    ) -> SweepResult:
        """Claim every due timer (in batches) and fire it; stop early when `stop()` says so."""
        now = self._now(now)
        result = SweepResult()
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
            tz = self.engine.tz
            raise BadInput(
                f"--now {business_time(now, tz)} is later than the clock "
                f"({business_time(clock_now, tz)}); a sweep cannot run ahead of time"
            )
        return now

    def claim(self, now: datetime) -> list[ClaimedTimer]:
        """Claim up to a batch of due timers (pending, or claimed with an expired lease)."""
        t = q.timers
        rows = self.lease.claim(
            now,
            due=[
                q.LIVE_TIMER,
                t.c.fire_at <= now,
                or_(t.c.status == "pending", and_(t.c.status == "claimed", t.c.locked_until < now)),
            ],
            order_by=[t.c.fire_at, t.c.level, t.c.id],
            returning=[
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
            ],
            values={"status": "claimed"},
        )
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
        if row is None or row["timer_status"] != "claimed":
            return "lost"  # the lease expired and someone else has it now
        held = {"locked_by": row["timer_locked_by"], "attempts": row["timer_attempts"]}
        if not self.lease.held_by_me(held, timer.attempts):
            return "lost"
        if not _still_live(timer, row):
            self._finish(conn, timer, "superseded")
            return "stale"
        key = key_from_row(row)
        definition = self.engine.registry.definition(
            conn, row["definition_name"], row["definition_version"]
        )
        rule = rung_rule(definition, None if timer.task_id else timer.stage, timer.level)
        decision = "pending" if rule is not None and rule.decision else None
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
                "instrument": rule.instrument if rule else "",
                "recipient": rule.to if rule else "",
                "decision": decision,
                "decided_at": None,
                "decided_by": None,
                "decision_reason": None,
            },
        ).scalar_one_or_none()
        if escalation_id is None:  # raised already in this stage entry (another generation)
            self._advance(conn, timer, row)
            return "stale"
        ref = InstanceRef(timer.instance_id, key, row)
        data: dict[str, Any] = {
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
        if rule is not None and rule.instrument:
            data["instrument"] = rule.instrument
        if rule is not None and rule.to:
            data["to"] = rule.to
        if decision:
            data["decision"] = decision
        self.engine.execute(
            conn,
            ref,
            Command(
                kind="escalation",
                actor="xunshi",
                role=None,
                name=f"level{timer.level}",
                reason=timer.title,
                at=now,
                data=data,
            ),
        )
        raised = Raised(
            id=escalation_id,
            instance_id=timer.instance_id,
            key=key,
            stage=timer.stage,
            task_id=timer.task_id,
            level=timer.level,
            title=timer.title,
            notify=timer.notify,
            due_on=timer.due_on,
            fire_at=timer.fire_at,
            raised_at=now,
            provisional=timer.provisional,
            instrument=rule.instrument if rule else "",
            recipient=rule.to if rule else "",
            decision=decision,
        )
        if decision is None:  # a proposal notifies nobody until the office confirms it
            payload = notification_payload(raised, row, definition, self.engine.tz)
            enqueue(conn, self.router, raised, payload, now)
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
        moved = self.lease.finish(
            conn,
            timer.id,
            {
                **rung,
                "dedup_key": dedup_key(
                    timer.instance_id,
                    timer.stage_seq,
                    timer.task_id,
                    rung["level"],
                    timer.generation,
                ),
                "status": "pending",
                "locked_by": None,
                "locked_until": None,
            },
            token=timer.attempts,
            where={"status": "claimed"},
        )
        if not moved:
            raise _LostClaim(timer.id)

    def _finish(self, conn: Connection, timer: ClaimedTimer, status: str) -> None:
        """Mark the timer, fenced; if the claim was lost meanwhile, undo everything."""
        finished = self.lease.finish(
            conn,
            timer.id,
            {"status": status, "locked_by": None, "locked_until": None},
            token=timer.attempts,
            where={"status": "claimed"},
        )
        if not finished:
            raise _LostClaim(timer.id)

    def release(self, ids: Sequence[int]) -> int:
        """Give back timers this sweeper claimed but will not fire (stopping)."""
        return self.lease.release(ids, {"status": "pending"})


def rung_rule(definition: Definition, stage: str | None, level: int) -> EscalationRule | None:
    """The ladder rung at `level` of `stage` (None: a task's, the default ladder)."""
    if stage is not None and not definition.has_state(stage):
        return None
    ladder = definition.escalation if stage is None else definition.ladder(stage)
    return next((rule for rule in ladder if rule.level == level), None)


def enqueue(
    conn: Connection, router: Router, raised: Raised, payload: dict[str, Any], now: datetime
) -> None:
    """One outbox row per channel the router chooses for an escalation's notification (due
    `now`), keyed for idempotency; the email row carries its addresses."""
    key = f"xunshi-escalation-{raised.instance_id}-{raised.id}"
    where = router.destinations(raised.notify, payload["round"], payload["group"])
    common = canonical_json(payload)
    addressed = canonical_json({**payload, "to": list(where.email)})
    conn.execute(
        q.INSERT_OUTBOX,
        [
            {
                "escalation_id": raised.id,
                "channel": channel,
                "idempotency_key": key,
                "payload": addressed if channel == "email" else common,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": None,
                "created_at": now,
                "delivered_at": None,
                "locked_by": None,
                "locked_until": None,
            }
            for channel in where.channels
        ],
    )


def notification_payload(
    raised: Raised, row: Mapping[Any, Any], definition: Definition, tz: ZoneInfo
) -> dict[str, Any]:
    """What a channel delivers for one escalation: what escalated, where it stands, who is
    notified, and what a message for people needs (titles, the group, the measure)."""
    raised_on = raised.raised_at.astimezone(tz).date()
    if raised.task_id:
        stage_title = f"任务 #{row['task_number']}"
    elif definition.has_state(raised.stage):
        stage_title = definition.state(raised.stage).title
    else:
        stage_title = raised.stage
    task = bool(raised.task_id)
    payload: dict[str, Any] = {
        "escalation": raised.id,
        "case": str(raised.key) if raised.key is not None else raised.label,
        "subject": raised.label,
        "stage": raised.stage,
        "stage_title": stage_title,
        "task": raised.task_id or None,
        "task_number": row["task_number"] if task else None,
        "measure": row["task_measure"] if task else None,
        "responsible_person": row["task_person"] if task else None,
        "lead_department": row["task_department"] if task else None,
        "level": raised.level,
        "title": raised.title,
        "notify": list(raised.notify),
        "notify_titles": {role: definition.role_title(role) for role in raised.notify},
        "due_on": raised.due_on.isoformat(),
        "days_overdue": (raised_on - raised.due_on).days,
        "raised_at": raised.raised_at.astimezone(tz).isoformat(),
        "provisional": raised.provisional,
        "round": row["round_code"],
        "group": row["group_code"],
        "unit": row["unit_code"],
        "unit_name": row["unit_name"],
        "item": row["item_code"],
        "item_title": row["item_title"],
    }
    # Only for rungs that name them: a plain rung's notification keeps its shape.
    if raised.instrument:
        payload["instrument"] = raised.instrument
    if raised.recipient:
        payload["recipient"] = raised.recipient
    if raised.decision:
        payload["decision"] = raised.decision
    return payload
