"""The decision core: whether a command may happen to an instance, and the event it makes.

Pure functions of (definition, current instance state, command, time, and the few facts
the definition's guards look at): no database, no clock, no I/O. A refusal is an
exception that names exactly what is missing; an allowed command becomes a `Decision` —
the sealed event to append, the stage's deadline after it, and what the timers must do.
The engine (`engine.py`) is the pipeline around it: load → decide → append → save → schedule.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from xunshi.definitions.durations import PLAN_PREFIX, MilestoneDue, PlanDue
from xunshi.definitions.schema import Definition, State
from xunshi.errors import BadInput, Refused
from xunshi.texts import check_actor, check_text
from xunshi.timeparse import business_time
from xunshi.workflow.audit import GENESIS_HASH, Event, Projection
from xunshi.workflow.calendar import Calendar
from xunshi.workflow.deadlines import (
    NO_PLAN,
    PlanDates,
    due_date,
    is_provisional,
    shift_for_suspension,
)
from xunshi.workflow.guards import GuardContext
from xunshi.workflow.machine import CompiledDefinition, Subject

# What the timers do after an event: a new stage entry arms its first rung, a pause stops
# the stage's timers, a resume re-arms the rungs not yet raised, a void stops every timer
# of the instance (its tasks' too); other events leave them.
Effect = Literal["enter", "pause", "resume", "void", "none"]
CommandKind = Literal[
    "fire",
    "milestone",
    "suspend",
    "resume",
    "task",
    "facts",
    "note",
    "escalation",
    "deadline",
    "decision",
    "void",
    "unit_renamed",
    "leader_changed",
    "link",
    "evaluate",
    "outcome",
]
# The largest number a counted milestone takes (talks held, letters received).
MAX_COUNT = 1_000_000
# Who confirms or dismisses a proposal raised by a `decision` rung (约谈, 通报, 问责建议).
DECISION_ROLES: tuple[str, ...] = ("office",)
# Who may void (撤销) a case or an item: withdrawing a record is the office's correction.
VOID_ROLES: tuple[str, ...] = ("office",)
# What still happens to a void instance: the rows it shares with other cases change, and
# its history records that like every other case's.
_ON_VOID = frozenset({"unit_renamed", "leader_changed"})


class Deadline(NamedTuple):
    """When the current stage is due, and whether the calendar was complete for it."""

    due_on: date | None
    provisional: bool = False


NO_DEADLINE = Deadline(None, False)


class InstanceState(NamedTuple):
    """An instance row as read at the start of a command (or as a command left it).

    The pipeline's types are named tuples: immutable like frozen dataclasses, and several
    times cheaper to build, which every event does a few times.
    """

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
    voided: bool = False

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
            voided=bool(row["voided"]),
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
            voided=self.voided,
        )

    def after(self, event: Event, deadline: Deadline) -> InstanceState:
        """The row once `event` is applied (the same fold `audit verify` replays with)."""
        projection = self.projection()
        projection.apply(event)
        assert projection.entered_at is not None and projection.last_occurred_at is not None
        return InstanceState(
            id=self.id,
            subject=self.subject,
            definition_name=self.definition_name,
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
            voided=projection.voided,
        )


class Command(NamedTuple):
    """What someone asks of an instance: fire a trigger, record a milestone, and so on.

    `name` is the trigger, milestone or task action; `at` when it happened (None: now).
    """

    kind: CommandKind
    actor: str
    role: str | None
    name: str | None = None
    reason: str | None = None
    at: datetime | None = None
    data: Mapping[str, Any] = MappingProxyType({})


class Named(Protocol):
    """Something with a label for messages (an InstanceRef: `case 2024-R1/U01`)."""

    @property
    def label(self) -> str:
        """How messages name it."""
        ...


class Situation(NamedTuple):
    """What a decision may look at besides the definition and the instance.

    `named` names the instance in messages (its label is built only for a refusal);
    `calendar` is the definition's working-day calendar, given for the commands that
    compute a deadline (fire, resume, start); `facts` are what the guards of the trigger
    asked for (see guards.py); `plan` the case's batch and its dates, loaded when the
    definition has a stage due on one (`due: plan.leave`); `void_reason` why a void
    instance was voided (given only for one).
    """

    named: Named | str
    tz: ZoneInfo
    calendar: Calendar | None = None
    facts: Mapping[str, Any] = MappingProxyType({})
    plan: PlanDates = NO_PLAN
    void_reason: str | None = None

    @property
    def label(self) -> str:
        """How messages name the instance."""
        return self.named if isinstance(self.named, str) else self.named.label

    @property
    def working_days(self) -> Calendar:
        """The calendar, which a deadline needs."""
        if self.calendar is None:
            raise ValueError("this decision needs the working-day calendar")
        return self.calendar


class NoPlanDate(Refused):
    """A stage due on a plan date the case's plan does not have (and no fallback)."""

    def __init__(self, state: State, due: PlanDue, plan: PlanDates) -> None:
        if plan.batch is None:
            why = "the case is in no batch of its round's plan"
        else:
            why = f"its batch {plan.batch} has no {due.title} yet (set it with `xunshi round plan`)"
        super().__init__(
            f"{state.title} ({state.name}) is due on the plan's {due.title} "
            f"({PLAN_PREFIX}{due.date}), and {why}"
        )


class NoMilestoneDate(Refused):
    """A stage due after a milestone the instance never recorded (and no fallback)."""

    def __init__(self, state: State, due: MilestoneDue) -> None:
        super().__init__(
            f"{state.title} ({state.name}) is due {due.after} after milestone {due.milestone}, "
            "which has not been recorded"
        )


class Decision(NamedTuple):
    """An allowed command: the event to append, the deadline after it, the timers' effect."""

    event: Event
    deadline: Deadline
    effect: Effect


def decide(
    compiled: CompiledDefinition,
    instance: InstanceState,
    command: Command,
    now: datetime,
    situation: Situation,
) -> Decision:
    """Refuse (raising, naming what is missing) or return the decision for `command`."""
    command = _checked_words(command)
    if instance.voided and command.kind not in _ON_VOID:
        raise Refused(void_refusal(situation.label, situation.void_reason))
    return _DECIDERS[command.kind](_Ask(compiled, instance, command, now, situation))


def void_refusal(label: str, reason: str | None) -> str:
    """Why nothing can happen to a void instance: `case … is void (撤销): 重复录入; …`."""
    why = reason or "no reason recorded"
    return f"{label} is void (撤销): {why}; nothing more can happen to it"


def _checked_words(command: Command) -> Command:
    """Who acts is a name and a reason a text: stripped, or refused (blank, huge, broken)."""
    actor = check_actor(command.actor)
    reason = command.reason
    if reason is not None:
        reason = check_text("reason", reason, required=False) or None
    if (actor, reason) == (command.actor, command.reason):
        return command
    return command._replace(actor=actor, reason=reason)


def decide_start(
    definition: Definition,
    subject: str,
    role: str | None,
    at: datetime | None,
    now: datetime,
    situation: Situation,
) -> tuple[datetime, Deadline]:
    """Whether an instance of `definition` may start: its first event's time and deadline."""
    if definition.subject != subject:
        raise BadInput(f"definition {definition.name} is for {definition.subject}s, not {subject}s")
    if role is not None:
        _check_role_declared(definition, role)
    occurred = occurred_at(at, now, None, situation)
    try:
        first = deadline(
            definition,
            definition.initial,
            occurred,
            situation.working_days,
            situation.tz,
            situation.plan,
        )
    except (NoPlanDate, NoMilestoneDate) as exc:
        raise Refused(f"{situation.label} cannot start: {exc.message}") from None
    return occurred, first


def started_event(
    instance_id: int,
    definition: Definition,
    version: int,
    actor: str,
    role: str | None,
    occurred: datetime,
    now: datetime,
    facts: Mapping[str, Any] | None = None,
    names: Mapping[str, str] | None = None,
) -> Event:
    """The first event of an instance's history (with its facts: an item's title, …; and
    `names`: a case's unit name and group leader, see `audit.CASE_FACTS`)."""
    data: dict[str, Any] = {"definition": definition.name, "definition_version": version}
    if facts is not None:
        data["facts"] = dict(facts)
    if names is not None:
        data.update(names)
    return Event(
        instance_id=instance_id,
        seq=1,
        kind="started",
        trigger=None,
        from_state=None,
        to_state=definition.initial,
        actor=actor,
        role=role,
        reason=None,
        data=data,
        occurred_at=occurred,
        recorded_at=now,
        prev_hash=GENESIS_HASH,
    ).sealed()


def deadline(
    definition: Definition,
    state: str,
    entered_at: datetime,
    cal: Calendar,
    tz: ZoneInfo,
    plan: PlanDates = NO_PLAN,
) -> Deadline:
    """The due date of `state` entered at `entered_at` (none without a `due`).

    A stage due on a plan date is due on the date itself (never provisional: the calendar
    does not compute it); without the date, on its fallback limit, else NoPlanDate. A stage
    due after a milestone counts from the date the milestone was recorded as having happened
    (`plan.milestones`); never recorded, from entry on its fallback, else NoMilestoneDate;
    entered again after a loop back (`plan.visited`), its `after` from this entry.
    """
    stage = definition.state(state)
    due = stage.due
    if due is None:
        return NO_DEADLINE
    if isinstance(due, MilestoneDue) and state in plan.visited:
        # Entered again (二次整改 after a poor evaluation): the milestone's period is spent;
        # the stage gets its period anew from this entry.
        due = due.after
    elif isinstance(due, MilestoneDue):
        recorded = plan.milestones.get(due.milestone)
        if recorded is not None:
            due_on = due_date(recorded, due.after, cal)
            return Deadline(due_on, is_provisional(recorded, due_on, cal))
        if due.fallback is None:
            raise NoMilestoneDate(stage, due)
        due = due.fallback
    if isinstance(due, PlanDue):
        planned = plan.on(due.date)
        if planned is not None:
            return Deadline(planned, False)
        if due.fallback is None:
            raise NoPlanDate(stage, due, plan)
        due = due.fallback
    entered_on = entered_at.astimezone(tz).date()
    due_on = due_date(entered_on, due, cal)
    return Deadline(due_on, is_provisional(entered_on, due_on, cal))


# -- one decider per command kind ---------------------------------------------------------


class _Ask(NamedTuple):
    """Everything one decision looks at."""

    compiled: CompiledDefinition
    instance: InstanceState
    command: Command
    now: datetime
    situation: Situation


def _fire(ask: _Ask) -> Decision:
    compiled, instance, command, now, situation = ask
    defn = compiled.definition
    trigger, role = str(command.name), str(command.role)
    _check_open(instance, defn, situation)
    _check_role_declared(defn, role)
    transition = compiled.transition(trigger, instance.state)
    if transition is None:
        raise Refused(_no_transition(situation.label, compiled, instance.state, trigger))
    occurred = occurred_at(command.at, now, instance.last_occurred_at, situation)
    context = None
    if transition.guards:  # what a guard looks at, built only when there is one
        context = GuardContext(instance.id, defn, instance.state, situation.label, situation.facts)
    subject = Subject(
        state=instance.state, role=role, milestones=instance.milestones, context=context
    )
    if not compiled.fire(subject, trigger):
        raise Refused(f"{situation.label} cannot {trigger}: {subject.refusal}")
    # A transition may record facts the service checked (a clue's receiver, disposition or
    # outcome): they are in its event, so that the history covers them.
    event = _event(
        instance,
        command,
        "transition",
        occurred,
        now,
        trigger=trigger,
        from_state=instance.state,
        to_state=subject.state,
        data=command.data,  # a round-wide fire's id (`round_event`), else nothing
    )
    try:
        entered = deadline(
            defn, subject.state, occurred, situation.working_days, situation.tz, situation.plan
        )
    except (NoPlanDate, NoMilestoneDate) as exc:
        raise Refused(f"{situation.label} cannot {trigger}: {exc.message}") from None
    return Decision(event, entered, "enter")


def _milestone(ask: _Ask) -> Decision:
    compiled, instance, command, now, situation = ask
    defn = compiled.definition
    milestone, role = str(command.name), str(command.role)
    _check_open(instance, defn, situation)
    _check_role_declared(defn, role)
    state = defn.state(instance.state)
    declared = state.milestone(milestone)
    if declared is None:
        names = ", ".join(m.name for m in state.milestones) or "none"
        raise Refused(
            f"{situation.label} cannot record {milestone}: stage {state.title} ({state.name}) "
            f"has no such milestone (its milestones: {names})"
        )
    title = f"{milestone} ({declared.title})"
    if declared.roles and role not in declared.roles:
        allowed = ", ".join(f"{r} ({defn.role_title(r)})" for r in declared.roles)
        raise Refused(
            f"{situation.label} cannot record {title}: role {role} ({defn.role_title(role)}) "
            f"may not; allowed: {allowed}"
        )
    if milestone in instance.milestones:
        when = business_time(datetime.fromisoformat(instance.milestones[milestone]), situation.tz)
        raise Refused(f"{situation.label}: milestone {title} was already recorded at {when}")
    # A round-wide event's id (`round_event`) comes with the command's data.
    data: dict[str, Any] = {**command.data, "milestone": milestone}
    count = command.data.get("count")
    if declared.count:
        if count is None:
            raise BadInput(
                f"{situation.label}: milestone {title} is counted in {declared.count}: "
                "give --count N"
            )
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_COUNT:
            raise BadInput(
                f"{situation.label}: --count must be a whole number from 0 to {MAX_COUNT}"
            )
        data["count"] = count
    elif count is not None:
        raise BadInput(f"{situation.label}: milestone {title} is not counted; drop --count")
    occurred = occurred_at(command.at, now, instance.last_occurred_at, situation)
    event = _event(instance, command, "milestone", occurred, now, data=data)
    return Decision(event, _unchanged(instance), "none")


def _suspend(ask: _Ask) -> Decision:
    compiled, instance, command, now, situation = ask
    defn = compiled.definition
    role = str(command.role)
    state = defn.state(instance.state)
    if state.final:
        raise Refused(f"{situation.label} is {state.title} ({state.name}); it cannot be suspended")
    if instance.suspended:
        since = _since(instance, situation)
        raise Refused(f"{situation.label} is already suspended (since {since})")
    _check_role_declared(defn, role)
    _check_suspend_role(situation, defn, role, "suspend")
    if not (command.reason or "").strip():
        raise BadInput("a suspension needs a reason")
    occurred = occurred_at(command.at, now, instance.last_occurred_at, situation)
    event = _event(instance, command, "suspended", occurred, now, trigger="suspend")
    return Decision(event, _unchanged(instance), "pause")


def _resume(ask: _Ask) -> Decision:
    compiled, instance, command, now, situation = ask
    defn = compiled.definition
    role = str(command.role)
    if not instance.suspended:
        raise Refused(f"{situation.label} is not suspended")
    _check_role_declared(defn, role)
    _check_suspend_role(situation, defn, role, "resume")
    occurred = occurred_at(command.at, now, instance.last_occurred_at, situation)
    moved = resumed_deadline(instance, occurred, situation.working_days, situation.tz)
    data = {} if moved.due_on is None else {"due_on": moved.due_on.isoformat()}
    event = _event(instance, command, "resumed", occurred, now, trigger="resume", data=data)
    return Decision(event, moved, "resume")


def _task(ask: _Ask) -> Decision:
    compiled, instance, command, now, situation = ask
    _check_role_declared(compiled.definition, str(command.role))
    occurred = occurred_at(command.at, now, instance.last_occurred_at, situation)
    event = _event(
        instance, command, "task", occurred, now, trigger=command.name, data=command.data
    )
    return Decision(event, _unchanged(instance), "none")


def _facts(ask: _Ask) -> Decision:
    compiled, instance, command, now, situation = ask
    _check_open(instance, compiled.definition, situation)
    _check_role_declared(compiled.definition, str(command.role))
    if not (command.reason or "").strip():
        raise BadInput(f"changing the facts of {situation.label} needs a reason (--reason)")
    occurred = occurred_at(command.at, now, instance.last_occurred_at, situation)
    event = _event(
        instance, command, "facts", occurred, now, trigger="facts_updated", data=command.data
    )
    return Decision(event, _unchanged(instance), "none")


def _note(ask: _Ask) -> Decision:
    _compiled, instance, command, now, situation = ask
    occurred = occurred_at(command.at, now, instance.last_occurred_at, situation)
    event = _event(instance, command, "note", occurred, now, trigger="note", data=command.data)
    return Decision(event, _unchanged(instance), "none")


def _escalation(ask: _Ask) -> Decision:
    _compiled, instance, command, now, _situation = ask
    # The sweep has checked that the rung applies; it is recorded when it is raised.
    raised_at = command.at or now
    event = _event(
        instance,
        command,
        "escalation",
        max(raised_at, instance.last_occurred_at),
        now,
        trigger=command.name,
        data=command.data,
    )
    return Decision(event, _unchanged(instance), "none")


def _decision(ask: _Ask) -> Decision:
    compiled, instance, command, now, situation = ask
    defn = compiled.definition
    role = str(command.role)
    _check_role_declared(defn, role)
    if role not in DECISION_ROLES:
        allowed = ", ".join(f"{r} ({defn.role_title(r)})" for r in DECISION_ROLES)
        raise Refused(
            f"{situation.label}: role {role} ({defn.role_title(role)}) may not decide on an "
            f"escalation; allowed: {allowed}"
        )
    if not (command.reason or "").strip():
        raise BadInput("a decision needs a reason (--reason)")
    occurred = occurred_at(command.at, now, instance.last_occurred_at, situation)
    event = _event(
        instance, command, "decision", occurred, now, trigger=command.name, data=command.data
    )
    return Decision(event, _unchanged(instance), "none")


def _deadline(ask: _Ask) -> Decision:
    _compiled, instance, command, now, situation = ask
    # The schedule has moved the deadline on a calendar load; the event records it (old and
    # new date, the load and who made it), whatever the instance's state.
    occurred = occurred_at(command.at, now, instance.last_occurred_at, situation)
    event = _event(
        instance, command, "deadline", occurred, now, trigger=command.name, data=command.data
    )
    return Decision(event, _unchanged(instance), "none")


def _void(ask: _Ask) -> Decision:
    compiled, instance, command, now, situation = ask
    defn = compiled.definition
    role = str(command.role)
    _check_role_declared(defn, role)
    if role not in VOID_ROLES:
        allowed = ", ".join(f"{r} ({defn.role_title(r)})" for r in VOID_ROLES)
        raise Refused(
            f"{situation.label} cannot be voided: role {role} ({defn.role_title(role)}) may "
            f"not; allowed: {allowed}"
        )
    if not (command.reason or "").strip():
        raise BadInput(f"voiding {situation.label} needs a reason (--reason)")
    occurred = occurred_at(command.at, now, instance.last_occurred_at, situation)
    event = _event(instance, command, "voided", occurred, now, trigger="void", data=command.data)
    return Decision(event, _unchanged(instance), "void")


def _correction(ask: _Ask) -> Decision:
    _compiled, instance, command, now, situation = ask
    # The service changed the unit's or group's row; the event records the old and the new
    # value in every case that shows it, whatever the case's state (closed and void too).
    occurred = occurred_at(command.at, now, instance.last_occurred_at, situation)
    event = _event(instance, command, command.kind, occurred, now, data=command.data)
    return Decision(event, _unchanged(instance), "none")


def _link(ask: _Ask) -> Decision:
    compiled, instance, command, now, situation = ask
    # The service checked the problem and who may link; a clue's links may change in any
    # state (a problem may arise from a clue concluded long ago).
    _check_role_declared(compiled.definition, str(command.role))
    occurred = occurred_at(command.at, now, instance.last_occurred_at, situation)
    event = _event(
        instance, command, "link", occurred, now, trigger=command.name, data=command.data
    )
    return Decision(event, _unchanged(instance), "none")


def _evaluate(ask: _Ask) -> Decision:
    """整改评估: in a stage tagged `evaluation`, by a role the definition's `evaluation`
    names; the service checked the scores against it (`workflow/evaluation.py`)."""
    compiled, instance, command, now, situation = ask
    defn = compiled.definition
    role = str(command.role)
    _check_open(instance, defn, situation)
    _check_role_declared(defn, role)
    evaluation = defn.evaluation
    if evaluation is None:
        raise Refused(
            f"{situation.label} cannot be evaluated: definition {defn.name} declares no "
            "整改评估 (evaluation)"
        )
    state = defn.state(instance.state)
    if not state.has_tag("evaluation"):
        where = ", ".join(f"{s.title} ({s.name})" for s in defn.states if s.has_tag("evaluation"))
        raise Refused(
            f"{situation.label} is in {state.title} ({state.name}); it is evaluated in {where}"
        )
    if role not in evaluation.roles:
        allowed = ", ".join(f"{r} ({defn.role_title(r)})" for r in evaluation.roles)
        raise Refused(
            f"{situation.label} cannot be evaluated by role {role} ({defn.role_title(role)}); "
            f"allowed: {allowed}"
        )
    occurred = occurred_at(command.at, now, instance.last_occurred_at, situation)
    event = _event(instance, command, "evaluated", occurred, now, data=command.data)
    return Decision(event, _unchanged(instance), "none")


def _outcome(ask: _Ask) -> Decision:
    """整改成果 of an item as a whole: the service checked the values and when an item may
    record one (a task done, or accepted); in any state after that, accepted or archived."""
    compiled, instance, command, now, situation = ask
    _check_role_declared(compiled.definition, str(command.role))
    if command.name == "outcome_replaced" and not (command.reason or "").strip():
        raise BadInput(f"replacing the outcome of {situation.label} needs a reason (--reason)")
    occurred = occurred_at(command.at, now, instance.last_occurred_at, situation)
    event = _event(
        instance, command, "outcome", occurred, now, trigger=command.name, data=command.data
    )
    return Decision(event, _unchanged(instance), "none")


_DECIDERS = {
    "fire": _fire,
    "milestone": _milestone,
    "suspend": _suspend,
    "resume": _resume,
    "task": _task,
    "facts": _facts,
    "note": _note,
    "escalation": _escalation,
    "deadline": _deadline,
    "decision": _decision,
    "void": _void,
    "unit_renamed": _correction,
    "leader_changed": _correction,
    "link": _link,
    "evaluate": _evaluate,
    "outcome": _outcome,
}


# -- shared checks and shapes -------------------------------------------------------------


def replayed_deadline(
    definition: Definition,
    state: str,
    entered_at: datetime,
    pauses: Iterable[tuple[str, datetime]],
    cal: Calendar,
    tz: ZoneInfo,
    plan: PlanDates = NO_PLAN,
) -> Deadline:
    """A stage's due date from its history: entry and limit (or plan date), then each
    (suspended, resumed) pause in order, shifted exactly as a resume shifts it on the live
    path."""
    found = deadline(definition, state, entered_at, cal, tz, plan)
    if found.due_on is None:
        return found
    due_on = found.due_on
    suspended_on: date | None = None
    shifted = False
    for kind, occurred_at in pauses:
        if kind == "suspended":
            suspended_on = occurred_at.astimezone(tz).date()
        elif kind == "resumed" and suspended_on is not None:
            resumed_on = occurred_at.astimezone(tz).date()
            due_on = shift_for_suspension(due_on, suspended_on, resumed_on, cal)
            suspended_on = None
            shifted = True
    if not shifted:
        return found
    # A plan date is before the stage's entry when the stage was entered late.
    entered_on = min(entered_at.astimezone(tz).date(), found.due_on)
    return Deadline(due_on, found.provisional or is_provisional(entered_on, due_on, cal))


def resumed_deadline(
    instance: InstanceState, resumed_at: datetime, cal: Calendar, tz: ZoneInfo
) -> Deadline:
    """The due date moved later by the working days in (suspended on, resumed on]."""
    if instance.due_on is None or instance.suspended_at is None:
        return Deadline(instance.due_on, instance.provisional)
    suspended_on = instance.suspended_at.astimezone(tz).date()
    resumed_on = resumed_at.astimezone(tz).date()
    due_on = shift_for_suspension(instance.due_on, suspended_on, resumed_on, cal)
    entered_on = instance.entered_at.astimezone(tz).date()
    return Deadline(due_on, is_provisional(entered_on, due_on, cal))


def occurred_at(
    at: datetime | None, now: datetime, last: datetime | None, situation: Situation
) -> datetime:
    """When the event happened: `at` if given (never ahead of now or of the last event)."""
    if at is None:
        return now if last is None or now >= last else last
    if at.tzinfo is None:
        raise BadInput("a time without a zone reached the engine")
    tz = situation.tz
    if at > now:
        raise BadInput(
            f"time {business_time(at, tz)} is later than now ({business_time(now, tz)}); "
            "events cannot be recorded ahead of time"
        )
    if last is not None and at < last:
        raise BadInput(
            f"time {business_time(at, tz)} is earlier than the last event of {situation.label} "
            f"({business_time(last, tz)})"
        )
    return at


def _event(
    instance: InstanceState,
    command: Command,
    kind: str,
    occurred: datetime,
    now: datetime,
    *,
    trigger: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> Event:
    return Event(
        instance_id=instance.id,
        seq=instance.version + 1,
        kind=kind,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        actor=command.actor,
        role=command.role,
        reason=command.reason,
        data=data or {},
        occurred_at=occurred,
        recorded_at=now,
        prev_hash=instance.head_hash,
    ).sealed()


def _unchanged(instance: InstanceState) -> Deadline:
    return Deadline(instance.due_on, instance.provisional)


def _since(instance: InstanceState, situation: Situation) -> str:
    at = instance.suspended_at
    return business_time(at, situation.tz) if at is not None else "?"


def _check_open(instance: InstanceState, defn: Definition, situation: Situation) -> None:
    state = defn.state(instance.state)
    if state.final:
        raise Refused(f"{situation.label} is {state.title} ({state.name}); nothing more can happen")
    if instance.suspended:
        since = _since(instance, situation)
        raise Refused(f"{situation.label} is suspended since {since}; resume it first")


def _check_suspend_role(situation: Situation, defn: Definition, role: str, action: str) -> None:
    if role not in defn.suspend_roles:
        allowed = ", ".join(f"{r} ({defn.role_title(r)})" for r in defn.suspend_roles) or "nobody"
        raise Refused(
            f"{situation.label} cannot {action}: role {role} ({defn.role_title(role)}) may not; "
            f"allowed: {allowed}"
        )


def _check_role_declared(defn: Definition, role: str) -> None:
    if defn.role(role) is None:
        roles = ", ".join(r.name for r in defn.roles)
        raise Refused(f"role {role} is not defined by {defn.name} (roles: {roles})")


def _no_transition(label: str, compiled: CompiledDefinition, state: str, trigger: str) -> str:
    defn = compiled.definition
    if not compiled.has_trigger(trigger):
        known = ", ".join(defn.triggers())
        return f"{label} cannot {trigger}: {defn.name} has no such trigger ({known})"
    title = defn.state(state).title
    possible = ", ".join(compiled.triggers_from(state)) or "none"
    return f"{label} cannot {trigger} from {title} ({state}); possible now: {possible}"
