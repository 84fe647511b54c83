"""The engine: start instances, fire triggers, record milestones — one transaction each.

Every command reads the instance row, refuses (writing nothing) when it is not allowed,
appends one event to the instance's hash chain and updates the row with an optimistic
version check. The row is the projection of the history, advanced by the same
`Projection.apply` that `audit verify` replays with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from xunshi.definitions.schema import Definition, canonical_json
from xunshi.errors import BadInput, Conflict, NotFound, Refused
from xunshi.storage import queries as q
from xunshi.storage.db import is_write_conflict
from xunshi.workflow.audit import GENESIS_HASH, Event, Projection
from xunshi.workflow.clock import Clock
from xunshi.workflow.guards import GuardContext
from xunshi.workflow.machine import CompiledDefinition, Subject
from xunshi.workflow.registry import Registry


@dataclass(frozen=True, slots=True)
class InstanceRef:
    """An instance and the words that name it in messages (`case 2024-R1/U01`).

    `row` may carry the instance row read in the same transaction while resolving the
    name, so that the command does not read it twice.
    """

    id: int
    label: str
    row: Mapping[Any, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Deadline:
    """When the current stage is due, and whether the calendar was complete for it."""

    due_on: date | None
    provisional: bool = False


NO_DEADLINE = Deadline(None, False)

# Event kinds that change nothing but the milestones and the chain's head.
PROGRESS_KINDS = frozenset({"milestone", "note", "escalation", "task"})


class StageHooks(Protocol):
    """Deadlines and timers around stage changes (implemented by `Schedule`)."""

    def deadline(
        self, conn: Connection, definition: Definition, state: str, entered_at: datetime
    ) -> Deadline:
        """The due date of `state` entered at `entered_at`."""
        ...

    def resumed_deadline(
        self,
        conn: Connection,
        instance: InstanceState,
        definition: Definition,
        resumed_at: datetime,
    ) -> Deadline:
        """The current stage's due date moved by the working days it was suspended."""
        ...

    def stage_entered(
        self, conn: Connection, instance: InstanceState, definition: Definition, now: datetime
    ) -> None:
        """After the row entered a new stage: retire the old stage's timers, start new ones."""
        ...

    def paused(self, conn: Connection, instance: InstanceState) -> None:
        """After a suspension: the stage's pending timers stop."""
        ...

    def rescheduled(
        self, conn: Connection, instance: InstanceState, definition: Definition
    ) -> None:
        """After a resume: timers for the rungs not yet raised, on the moved due date."""
        ...


@dataclass(slots=True)
class InstanceState:
    """An instance row as read at the start of a command."""

    id: int
    subject: str
    definition_name: str
    definition_version: int
    state: str
    entered_at: datetime
    version: int
    milestones: dict[str, str]
    suspended: bool
    suspended_at: datetime | None
    due_on: date | None
    provisional: bool
    last_occurred_at: datetime
    head_hash: str
    stage_seq: int

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> InstanceState:
        """From a mapping of the `instance` table."""
        return cls(
            id=row["id"],
            subject=row["subject"],
            definition_name=row["definition_name"],
            definition_version=row["definition_version"],
            state=row["state"],
            entered_at=row["entered_at"],
            version=row["version"],
            milestones=json.loads(row["milestones"]),
            suspended=bool(row["suspended"]),
            suspended_at=row["suspended_at"],
            due_on=row["due_on"],
            provisional=bool(row["provisional"]),
            last_occurred_at=row["last_occurred_at"],
            head_hash=row["head_hash"],
            stage_seq=row["stage_seq"],
        )

    def projection(self) -> Projection:
        """The projection this row claims to be."""
        return Projection(
            state=self.state,
            definition_name=self.definition_name,
            definition_version=self.definition_version,
            version=self.version,
            entered_at=self.entered_at,
            milestones=dict(self.milestones),
            suspended=self.suspended,
            suspended_at=self.suspended_at,
            last_occurred_at=self.last_occurred_at,
            head_hash=self.head_hash,
            stage_seq=self.stage_seq,
        )


@dataclass(slots=True)
class ReadSet:
    """Versions read by earlier attempts of one command (SQLite retries after contention).

    If a retry finds a different version, someone else's write came in between: that is
    a conflict, not something to silently apply on top of.
    """

    versions: dict[int, int] = field(default_factory=dict)

    def check(self, ref: InstanceRef, version: int) -> None:
        """Record `version`, or raise Conflict if an earlier attempt saw another one."""
        seen = self.versions.setdefault(ref.id, version)
        if seen != version:
            raise Conflict(conflict_message(ref, seen))


def conflict_message(ref: InstanceRef, version: int) -> str:
    """The one line a losing writer sees."""
    return (
        f"{ref.label} was changed by someone else at the same time (version {version} is no "
        "longer current); nothing was written, try again"
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a command did: the event appended and the instance after it."""

    event: Event
    instance: InstanceState
    definition: Definition


class Engine:
    """Fires events on instances of stored definitions."""

    def __init__(self, registry: Registry, clock: Clock, tz: ZoneInfo, hooks: StageHooks) -> None:
        self.registry = registry
        self.clock = clock
        self.tz = tz
        self.hooks = hooks

    # -- commands -------------------------------------------------------------------

    def start(
        self,
        conn: Connection,
        *,
        subject: str,
        definition: str,
        actor: str,
        role: str | None,
        at: datetime | None = None,
        version: int | None = None,
    ) -> Outcome:
        """Create an instance of the latest (or given) version in its initial state."""
        if version is None:
            version = self.registry.latest_version(conn, definition)
        compiled = self.registry.compiled(conn, definition, version)
        defn = compiled.definition
        if defn.subject != subject:
            raise BadInput(f"definition {defn.name} is for {defn.subject}s, not {subject}s")
        if role is not None:
            _check_role_declared(defn, role)
        now = self.clock.now()
        occurred = self._occurred_at(at, now, None, None)
        deadline = self.hooks.deadline(conn, defn, defn.initial, occurred)
        instance_id = conn.execute(
            q.INSERT_INSTANCE,
            {
                "subject": subject,
                "definition_name": defn.name,
                "definition_version": version,
                "state": defn.initial,
                "entered_at": occurred,
                "version": 0,
                "milestones": "{}",
                "suspended": False,
                "suspended_at": None,
                "due_on": deadline.due_on,
                "provisional": deadline.provisional,
                "last_occurred_at": occurred,
                "head_hash": GENESIS_HASH,
                "stage_seq": 1,
            },
        ).scalar_one()
        row = InstanceState(
            id=instance_id,
            subject=subject,
            definition_name=defn.name,
            definition_version=version,
            state=defn.initial,
            entered_at=occurred,
            version=0,
            milestones={},
            suspended=False,
            suspended_at=None,
            due_on=deadline.due_on,
            provisional=deadline.provisional,
            last_occurred_at=occurred,
            head_hash=GENESIS_HASH,
            stage_seq=0,
        )
        event = Event(
            instance_id=instance_id,
            seq=1,
            kind="started",
            trigger=None,
            from_state=None,
            to_state=defn.initial,
            actor=actor,
            role=role,
            reason=None,
            data={"definition": defn.name, "definition_version": version},
            occurred_at=occurred,
            recorded_at=now,
            prev_hash=GENESIS_HASH,
        ).sealed()
        ref = InstanceRef(instance_id, f"{subject} #{instance_id}")
        after = self._append(conn, ref, row, event, deadline)
        self.hooks.stage_entered(conn, after, defn, now)
        return Outcome(event, after, defn)

    def fire(
        self,
        conn: Connection,
        ref: InstanceRef,
        trigger: str,
        *,
        actor: str,
        role: str,
        reason: str | None = None,
        at: datetime | None = None,
        reads: ReadSet | None = None,
    ) -> Outcome:
        """Move the instance along `trigger`, or refuse naming exactly what is missing."""
        row = self.load(conn, ref, reads)
        compiled = self.compiled(conn, row)
        defn = compiled.definition
        self._check_open(ref, row, defn)
        _check_role_declared(defn, role)
        transition = compiled.transition(trigger, row.state)
        if transition is None:
            raise Refused(self._no_transition(ref, compiled, row.state, trigger))
        now = self.clock.now()
        occurred = self._occurred_at(at, now, row.last_occurred_at, ref)
        subject = Subject(
            state=row.state,
            role=role,
            milestones=row.milestones,
            context=GuardContext(
                conn,
                row.id,
                defn,
                row.state,
                ref.label,
                lambda name, version: self.registry.definition(conn, name, version),
            ),
        )
        if not compiled.fire(subject, trigger):
            raise Refused(f"{ref.label} cannot {trigger}: {subject.refusal}")
        deadline = self.hooks.deadline(conn, defn, subject.state, occurred)
        event = self._event(
            row,
            "transition",
            actor,
            role,
            occurred,
            now,
            trigger=trigger,
            from_state=row.state,
            to_state=subject.state,
            reason=reason,
        )
        after = self._append(conn, ref, row, event, deadline)
        self.hooks.stage_entered(conn, after, defn, now)
        return Outcome(event, after, defn)

    def record_milestone(
        self,
        conn: Connection,
        ref: InstanceRef,
        milestone: str,
        *,
        actor: str,
        role: str,
        reason: str | None = None,
        at: datetime | None = None,
        reads: ReadSet | None = None,
    ) -> Outcome:
        """Record that a milestone of the current stage happened."""
        row = self.load(conn, ref, reads)
        defn = self.compiled(conn, row).definition
        self._check_open(ref, row, defn)
        _check_role_declared(defn, role)
        state = defn.state(row.state)
        declared = state.milestone(milestone)
        if declared is None:
            names = ", ".join(m.name for m in state.milestones) or "none"
            raise Refused(
                f"{ref.label} cannot record {milestone}: stage {state.title} ({state.name}) "
                f"has no such milestone (its milestones: {names})"
            )
        label = f"{milestone} ({declared.title})"
        if declared.roles and role not in declared.roles:
            allowed = ", ".join(f"{r} ({defn.role_title(r)})" for r in declared.roles)
            raise Refused(
                f"{ref.label} cannot record {label}: role {role} ({defn.role_title(role)}) "
                f"may not; allowed: {allowed}"
            )
        if milestone in row.milestones:
            when = self.business_time(datetime.fromisoformat(row.milestones[milestone]))
            raise Refused(f"{ref.label}: milestone {label} was already recorded at {when}")
        now = self.clock.now()
        occurred = self._occurred_at(at, now, row.last_occurred_at, ref)
        event = self._event(
            row,
            "milestone",
            actor,
            role,
            occurred,
            now,
            reason=reason,
            data={"milestone": milestone},
        )
        after = self._append(conn, ref, row, event, Deadline(row.due_on, row.provisional))
        return Outcome(event, after, defn)

    def suspend(
        self,
        conn: Connection,
        ref: InstanceRef,
        *,
        actor: str,
        role: str,
        reason: str,
        at: datetime | None = None,
        reads: ReadSet | None = None,
    ) -> Outcome:
        """Pause the stage's clock (e.g. the group is recalled): its timers stop."""
        row = self.load(conn, ref, reads)
        defn = self.compiled(conn, row).definition
        state = defn.state(row.state)
        if state.final:
            raise Refused(f"{ref.label} is {state.title} ({state.name}); it cannot be suspended")
        if row.suspended:
            since = self.business_time(row.suspended_at) if row.suspended_at else "?"
            raise Refused(f"{ref.label} is already suspended (since {since})")
        _check_role_declared(defn, role)
        _check_suspend_role(ref, defn, role, "suspend")
        if not reason.strip():
            raise BadInput("a suspension needs a reason")
        now = self.clock.now()
        occurred = self._occurred_at(at, now, row.last_occurred_at, ref)
        event = self._event(
            row, "suspended", actor, role, occurred, now, trigger="suspend", reason=reason
        )
        after = self._append(conn, ref, row, event, Deadline(row.due_on, row.provisional))
        self.hooks.paused(conn, after)
        return Outcome(event, after, defn)

    def resume(
        self,
        conn: Connection,
        ref: InstanceRef,
        *,
        actor: str,
        role: str,
        reason: str | None = None,
        at: datetime | None = None,
        reads: ReadSet | None = None,
    ) -> Outcome:
        """Restart a suspended stage's clock; its due date moves by the days suspended."""
        row = self.load(conn, ref, reads)
        defn = self.compiled(conn, row).definition
        if not row.suspended:
            raise Refused(f"{ref.label} is not suspended")
        _check_role_declared(defn, role)
        _check_suspend_role(ref, defn, role, "resume")
        now = self.clock.now()
        occurred = self._occurred_at(at, now, row.last_occurred_at, ref)
        deadline = self.hooks.resumed_deadline(conn, row, defn, occurred)
        event = self._event(
            row,
            "resumed",
            actor,
            role,
            occurred,
            now,
            trigger="resume",
            reason=reason,
            data={} if deadline.due_on is None else {"due_on": deadline.due_on.isoformat()},
        )
        after = self._append(conn, ref, row, event, deadline)
        self.hooks.rescheduled(conn, after, defn)
        return Outcome(event, after, defn)

    def record_escalation(
        self,
        conn: Connection,
        ref: InstanceRef,
        *,
        level: int,
        title: str,
        data: Mapping[str, Any],
        now: datetime,
    ) -> Outcome:
        """Append an escalation to the history (the sweep has checked it applies)."""
        row = self.load(conn, ref)
        defn = self.compiled(conn, row).definition
        occurred = max(now, row.last_occurred_at)
        event = self._event(
            row,
            "escalation",
            "xunshi",
            None,
            occurred,
            self.clock.now(),
            trigger=f"level{level}",
            reason=title,
            data=data,
        )
        after = self._append(conn, ref, row, event, Deadline(row.due_on, row.provisional))
        return Outcome(event, after, defn)

    def note(
        self,
        conn: Connection,
        ref: InstanceRef,
        *,
        actor: str,
        role: str | None,
        text: str,
        data: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> Outcome:
        """Append a note (e.g. an escalation acknowledged) without changing the state."""
        row = self.load(conn, ref)
        defn = self.compiled(conn, row).definition
        now = self.clock.now()
        occurred = self._occurred_at(at, now, row.last_occurred_at, ref)
        event = self._event(
            row, "note", actor, role, occurred, now, trigger="note", reason=text, data=data
        )
        after = self._append(conn, ref, row, event, Deadline(row.due_on, row.provisional))
        return Outcome(event, after, defn)

    def record_task(
        self,
        conn: Connection,
        ref: InstanceRef,
        action: str,
        data: Mapping[str, Any],
        *,
        actor: str,
        role: str,
        at: datetime | None = None,
        reads: ReadSet | None = None,
    ) -> Outcome:
        """Append a task change (`task_added`, `task_updated`, `task_done`) to an item."""
        row = self.load(conn, ref, reads)
        defn = self.compiled(conn, row).definition
        _check_role_declared(defn, role)
        now = self.clock.now()
        occurred = self._occurred_at(at, now, row.last_occurred_at, ref)
        event = self._event(row, "task", actor, role, occurred, now, trigger=action, data=data)
        after = self._append(conn, ref, row, event, Deadline(row.due_on, row.provisional))
        return Outcome(event, after, defn)

    # -- reading --------------------------------------------------------------------

    def load(
        self, conn: Connection, ref: InstanceRef, reads: ReadSet | None = None
    ) -> InstanceState:
        """The instance row (and, on a retry, a conflict if it moved meanwhile)."""
        found = ref.row
        if found is None:
            found = q.INSTANCE_ROW.first(conn, {"id": ref.id})
        if found is None:
            raise NotFound(f"{ref.label} does not exist")
        row = InstanceState.from_row(found)
        if reads is not None:
            reads.check(ref, row.version)
        return row

    def compiled(self, conn: Connection, row: InstanceState) -> CompiledDefinition:
        """The compiled definition version the instance runs on."""
        return self.registry.compiled(conn, row.definition_name, row.definition_version)

    def business_time(self, instant: datetime) -> str:
        """An instant as people read it: `2024-09-27 09:30` in the business time zone."""
        return instant.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    # -- internals ------------------------------------------------------------------

    def _event(
        self,
        row: InstanceState,
        kind: str,
        actor: str,
        role: str | None,
        occurred: datetime,
        now: datetime,
        *,
        trigger: str | None = None,
        from_state: str | None = None,
        to_state: str | None = None,
        reason: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Event:
        return Event(
            instance_id=row.id,
            seq=row.version + 1,
            kind=kind,
            trigger=trigger,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            role=role,
            reason=reason,
            data=data or {},
            occurred_at=occurred,
            recorded_at=now,
            prev_hash=row.head_hash,
        ).sealed()

    def _append(
        self,
        conn: Connection,
        ref: InstanceRef,
        row: InstanceState,
        event: Event,
        deadline: Deadline,
    ) -> InstanceState:
        """Move the row to the new projection and insert the event, or raise Conflict.

        The row is updated first (`WHERE version = old`): on PostgreSQL that takes the
        instance's row lock before anything else, so every writer of an instance — a user's
        command or the sweep — locks in the same order (instance, then its timers) and a
        racing writer waits, finds the version moved and gets a conflict, never a deadlock.
        """
        projection = row.projection()
        projection.apply(event)
        assert projection.entered_at is not None and projection.last_occurred_at is not None
        if event.kind in PROGRESS_KINDS:
            updated = q.ADVANCE_INSTANCE.rowcount(
                conn,
                {
                    "b_id": row.id,
                    "b_version": row.version,
                    "version": projection.version,
                    "milestones": canonical_json(projection.milestones),
                    "last_occurred_at": projection.last_occurred_at,
                    "head_hash": projection.head_hash,
                },
            )
        else:
            updated = q.MOVE_INSTANCE.rowcount(
                conn,
                {
                    "b_id": row.id,
                    "b_version": row.version,
                    "state": projection.state,
                    "entered_at": projection.entered_at,
                    "version": projection.version,
                    "milestones": canonical_json(projection.milestones),
                    "suspended": projection.suspended,
                    "suspended_at": projection.suspended_at,
                    "due_on": deadline.due_on,
                    "provisional": deadline.provisional,
                    "last_occurred_at": projection.last_occurred_at,
                    "head_hash": projection.head_hash,
                    "definition_version": projection.definition_version,
                    "stage_seq": projection.stage_seq,
                },
            )
        if updated != 1:
            raise Conflict(conflict_message(ref, row.version))
        try:
            q.APPEND_EVENT.rowcount(
                conn,
                {
                    "instance_id": event.instance_id,
                    "seq": event.seq,
                    "kind": event.kind,
                    "trigger": event.trigger,
                    "from_state": event.from_state,
                    "to_state": event.to_state,
                    "actor": event.actor,
                    "role": event.role,
                    "reason": event.reason,
                    "data": event.data_json(),
                    "occurred_at": event.occurred_at,
                    "recorded_at": event.recorded_at,
                    "prev_hash": event.prev_hash,
                    "hash": event.hash,
                },
            )
        except IntegrityError as exc:
            if is_write_conflict(exc):
                raise Conflict(conflict_message(ref, row.version)) from exc
            raise
        return InstanceState(
            id=row.id,
            subject=row.subject,
            definition_name=row.definition_name,
            definition_version=projection.definition_version,
            state=projection.state,
            entered_at=projection.entered_at,
            version=projection.version,
            milestones=projection.milestones,
            suspended=projection.suspended,
            suspended_at=projection.suspended_at,
            due_on=deadline.due_on,
            provisional=deadline.provisional,
            last_occurred_at=projection.last_occurred_at,
            head_hash=projection.head_hash,
            stage_seq=projection.stage_seq,
        )

    def _occurred_at(
        self, at: datetime | None, now: datetime, last: datetime | None, ref: InstanceRef | None
    ) -> datetime:
        if at is None:
            return now if last is None or now >= last else last
        if at.tzinfo is None:
            raise BadInput("a time without a zone reached the engine")
        if at > now:
            raise BadInput(
                f"time {self.business_time(at)} is later than now ({self.business_time(now)}); "
                "events cannot be recorded ahead of time"
            )
        if last is not None and at < last and ref is not None:
            raise BadInput(
                f"time {self.business_time(at)} is earlier than the last event of {ref.label} "
                f"({self.business_time(last)})"
            )
        return at

    def _check_open(self, ref: InstanceRef, row: InstanceState, defn: Definition) -> None:
        state = defn.state(row.state)
        if state.final:
            raise Refused(f"{ref.label} is {state.title} ({state.name}); nothing more can happen")
        if row.suspended:
            since = self.business_time(row.suspended_at) if row.suspended_at else "?"
            raise Refused(f"{ref.label} is suspended since {since}; resume it first")

    def _no_transition(
        self, ref: InstanceRef, compiled: CompiledDefinition, state: str, trigger: str
    ) -> str:
        defn = compiled.definition
        if not compiled.has_trigger(trigger):
            known = ", ".join(defn.triggers())
            return f"{ref.label} cannot {trigger}: {defn.name} has no such trigger ({known})"
        title = defn.state(state).title
        possible = ", ".join(compiled.triggers_from(state)) or "none"
        return f"{ref.label} cannot {trigger} from {title} ({state}); possible now: {possible}"


def _check_suspend_role(ref: InstanceRef, defn: Definition, role: str, action: str) -> None:
    if role not in defn.suspend_roles:
        allowed = ", ".join(f"{r} ({defn.role_title(r)})" for r in defn.suspend_roles) or "nobody"
        raise Refused(
            f"{ref.label} cannot {action}: role {role} ({defn.role_title(role)}) may not; "
            f"allowed: {allowed}"
        )


def _check_role_declared(defn: Definition, role: str) -> None:
    if defn.role(role) is None:
        roles = ", ".join(r.name for r in defn.roles)
        raise Refused(f"role {role} is not defined by {defn.name} (roles: {roles})")
