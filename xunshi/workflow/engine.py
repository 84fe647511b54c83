"""The engine: one pipeline around the decision core, in the caller's transaction.

load the instance row and its compiled definition → decide (pure, decide.py: refuse naming
what is missing, or the event to append) → append the event and move the row with an
optimistic version check → schedule (the stage's timers). The row is the projection of the
history, advanced by the same `Projection.apply` that `audit verify` replays with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from xunshi import idempotency
from xunshi.definitions.schema import Definition, canonical_json
from xunshi.errors import Conflict, NotFound
from xunshi.keys import InstanceKey
from xunshi.storage import instances
from xunshi.texts import check_actor
from xunshi.workflow.audit import GENESIS_HASH, Event
from xunshi.workflow.calendar import Calendar
from xunshi.workflow.clock import Clock
from xunshi.workflow.deadlines import NO_PLAN, PlanDates
from xunshi.workflow.decide import (
    Command,
    Decision,
    InstanceState,
    Situation,
    decide,
    decide_start,
    started_event,
)
from xunshi.workflow.facts import load_facts
from xunshi.workflow.guards import facts_needed
from xunshi.workflow.machine import CompiledDefinition
from xunshi.workflow.plan import due_dates
from xunshi.workflow.registry import Registry
from xunshi.workflow.resolve import InstanceRef
from xunshi.workflow.voids import void_reason

# Event kinds that change nothing but the milestones and the chain's head.
PROGRESS_KINDS = frozenset(
    {
        "milestone",
        "note",
        "escalation",
        "task",
        "facts",
        "decision",
        "unit_renamed",
        "leader_changed",
        "link",
        "evaluated",
        "outcome",
    }
)


class StageHooks(Protocol):
    """Calendars and timers around stage changes (implemented by `Schedule`)."""

    def calendar(self, conn: Connection, name: str) -> Calendar:
        """The working-day calendar `name` with the years users loaded."""
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

    def voided(self, conn: Connection, instance: InstanceState) -> None:
        """After a void: every live timer of the instance (its tasks' too) stops."""
        ...


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
    """Runs commands on instances of stored definitions."""

    def __init__(self, registry: Registry, clock: Clock, tz: ZoneInfo, hooks: StageHooks) -> None:
        self.registry = registry
        self.clock = clock
        self.tz = tz
        self.hooks = hooks

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
        key: InstanceKey | None = None,
        facts: Mapping[str, Any] | None = None,
        plan: PlanDates = NO_PLAN,
        names: Mapping[str, str] | None = None,
    ) -> Outcome:
        """Create an instance of the latest (or given) version in its initial state.

        `facts` (an item's title, category, flags …) and `names` (a case's unit name and
        group leader) go into its first event, so that the history covers them and `audit
        verify` can replay them; `plan` is a new case's batch and its dates (an initial
        stage may be due on one).
        """
        if version is None:
            version = self.registry.latest_version(conn, definition, subject)
        defn = self.registry.compiled(conn, definition, version).definition
        actor = check_actor(actor)
        label = key.label if key is not None else f"new {subject}"
        now = self.clock.now()
        situation = Situation(label, self.tz, self.hooks.calendar(conn, defn.calendar), plan=plan)
        occurred, first = decide_start(defn, subject, role, at, now, situation)
        instance_id = instances.insert_instance(
            conn,
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
                "due_on": first.due_on,
                "provisional": first.provisional,
                "last_occurred_at": occurred,
                "head_hash": GENESIS_HASH,
                "stage_seq": 1,
                "voided": False,
            },
        )
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
            due_on=first.due_on,
            provisional=first.provisional,
            last_occurred_at=occurred,
            head_hash=GENESIS_HASH,
            stage_seq=0,
        )
        event = started_event(instance_id, defn, version, actor, role, occurred, now, facts, names)
        decision = Decision(event, first, "enter")
        after = self._append(conn, InstanceRef(instance_id, key), row, decision)
        self.hooks.stage_entered(conn, after, defn, now)
        return Outcome(event, after, defn)

    def execute(
        self,
        conn: Connection,
        ref: InstanceRef,
        command: Command,
        reads: ReadSet | None = None,
    ) -> Outcome:
        """Load, decide, append, save, schedule: one command on one instance."""
        row = self.load(conn, ref, reads)
        compiled = self.compiled(conn, row)
        defn = compiled.definition
        # Only a new stage entry or a resume computes a deadline on the calendar.
        needs_calendar = command.kind in ("fire", "resume")
        # A new stage may be due on a date of the case's round plan (`due: plan.leave`) or
        # after a milestone's recorded date (`{milestone: feedback_meeting, after: 2mo}`).
        # Read only for the stage the trigger enters: most count from their entry alone.
        dated = defn.uses_plan or bool(defn.due_milestones)
        entering = (
            compiled.transition(command.name, row.state)
            if dated and command.kind == "fire" and command.name is not None
            else None
        )
        plan = (
            NO_PLAN
            if entering is None
            else due_dates(conn, row.id, defn, self.tz, stage=entering.dest)
        )
        situation = Situation(
            ref,
            self.tz,
            self.hooks.calendar(conn, defn.calendar) if needs_calendar else None,
            self._facts(conn, compiled, row, command),
            plan,
            # Read only for a void instance, whose refusal says why it was voided.
            void_reason(conn, row.id) if row.voided else None,
        )
        now = self.clock.now()
        decision = decide(compiled, row, command, now, situation)
        after = self._append(conn, ref, row, decision)
        if decision.effect == "enter":
            self.hooks.stage_entered(conn, after, defn, now)
        elif decision.effect == "pause":
            self.hooks.paused(conn, after)
        elif decision.effect == "resume":
            self.hooks.rescheduled(conn, after, defn)
        elif decision.effect == "void":
            self.hooks.voided(conn, after)
        return Outcome(decision.event, after, defn)

    # -- reading --------------------------------------------------------------------

    def load(
        self, conn: Connection, ref: InstanceRef, reads: ReadSet | None = None
    ) -> InstanceState:
        """The instance row (and, on a retry, a conflict if it moved meanwhile)."""
        found = ref.row
        if found is None:
            found = instances.read_instance(conn, ref.id)
        if found is None:
            raise NotFound(f"{ref.label} does not exist")
        row = InstanceState.from_row(found)
        if reads is not None:
            reads.check(ref, row.version)
        return row

    def compiled(self, conn: Connection, row: InstanceState) -> CompiledDefinition:
        """The compiled definition version the instance runs on."""
        return self.registry.compiled(conn, row.definition_name, row.definition_version)

    # -- internals ------------------------------------------------------------------

    def _facts(
        self,
        conn: Connection,
        compiled: CompiledDefinition,
        row: InstanceState,
        command: Command,
    ) -> dict[str, Any]:
        """What the guards of the transition being fired look at (nothing otherwise)."""
        if command.kind != "fire" or command.name is None:
            return {}
        transition = compiled.transition(command.name, row.state)
        needed = facts_needed(transition.guards) if transition is not None else frozenset()
        if not needed:
            return {}
        return load_facts(
            conn, row.id, needed, lambda name, v: self.registry.definition(conn, name, v)
        )

    def _append(
        self, conn: Connection, ref: InstanceRef, row: InstanceState, decision: Decision
    ) -> InstanceState:
        """Move the row to the new projection and insert the event, or raise Conflict.

        The row is updated first (`WHERE version = old`): on PostgreSQL that takes the
        instance's row lock before anything else, so every writer of an instance — a user's
        command or the sweep — locks in the same order (instance, then its timers) and a
        racing writer waits, finds the version moved and gets a conflict, never a deadlock.
        """
        event = decision.event
        after = row.after(event, decision.deadline)
        values: dict[str, Any] = {
            "version": after.version,
            "milestones": canonical_json(after.milestones),
            "last_occurred_at": after.last_occurred_at,
            "head_hash": after.head_hash,
        }
        progress = event.kind in PROGRESS_KINDS
        if not progress:
            values.update(
                state=after.state,
                entered_at=after.entered_at,
                suspended=after.suspended,
                suspended_at=after.suspended_at,
                due_on=after.due_on,
                provisional=after.provisional,
                definition_version=after.definition_version,
                stage_seq=after.stage_seq,
                voided=after.voided,
            )
        moved = instances.advance(
            conn,
            row.id,
            row.version,
            values,
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
                "request_id": idempotency.current_id(),
            },
            progress=progress,
        )
        if not moved:
            raise Conflict(conflict_message(ref, row.version))
        return after
