"""Frozen definition objects: what a validated lifecycle definition is made of.

Objects are built by the loader only after validation succeeded, so every name a
transition, milestone or rule refers to exists. `Definition.to_dict()` is the canonical
form: it is what the digest covers and what the database stores.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from xunshi.definitions.durations import (
    Due,
    Duration,
    MilestoneDue,
    PlanDue,
    parse_offset,
    parse_stage_due,
)

Subject = Literal["case", "item", "clue"]
SUBJECTS: tuple[str, ...] = ("case", "item", "clue")
CALENDARS: tuple[str, ...] = ("cn",)
# Built-in events (every non-final state may be suspended and resumed, every state voided);
# definitions may not reuse their names.
RESERVED_TRIGGERS: tuple[str, ...] = ("suspend", "resume", "start", "note", "void")
DEFAULT_SUSPEND_ROLES: tuple[str, ...] = ("office",)
# The version of the canonical form (`Definition.to_dict`). Bodies stored before it had a
# `format` key are format 1: they predate state tags (see `LEGACY_ITEM_TAGS`).
FORMAT = 2


@dataclass(frozen=True, slots=True)
class TagMeaning:
    """What a state tag tells the code about a state, and which subjects may use it."""

    subjects: tuple[str, ...]
    meaning: str


# The declared vocabulary: code that needs to know what a state means (may tasks change
# here? is the problem closed?) asks for a tag, never for a state name.
TAGS: dict[str, TagMeaning] = {
    "tasks_open": TagMeaning(("item",), "the item's tasks may be added and changed"),
    "acceptance": TagMeaning(("item",), "the unit applied for 销号; acceptance is recorded here"),
    "accepted": TagMeaning(("item",), "the problem is closed by acceptance (已销号)"),
    "long_term": TagMeaning(("item",), "the problem is under long-term rectification (长期整改)"),
    "settled": TagMeaning(("item",), "the item no longer holds its case open"),
    "items_open": TagMeaning(("case",), "problems (items) may be added to the case"),
    "fix_now_items": TagMeaning(
        ("case",), "problems to be rectified at once (立行立改, fix_now) may be added"
    ),
    "clues_open": TagMeaning(("case",), "问题线索 (clues) may be handed over (移交) in this stage"),
    "evaluation": TagMeaning(
        ("case",), "整改评估: the rectification is evaluated here (`case evaluate`)"
    ),
    "handed_over": TagMeaning(
        ("clue",), "the clue is with its receiver (移交); entering it records the receiver"
    ),
    "disposed": TagMeaning(
        ("clue",),
        "the receiver reported its disposition (处置); entering it records the disposition type",
    ),
    "concluded": TagMeaning(
        ("clue",), "the clue is closed (办结); entering it records the outcome"
    ),
}

# The instruments an escalation rung may use, mildest first (published 巡视 practice: a
# warning graded by recipient, then a supervision letter; 约谈, 通报 and 问责 are decisions
# people take, so a rung using one must be `decision: true`).
INSTRUMENTS: dict[str, str] = {
    "提醒": "a reminder before or at the deadline",
    "预警": "a warning to the one responsible",
    "督办函": "a supervision letter (督办)",
    "约谈": "a talk with the responsible leader, decided by the office",
    "通报": "a circulated notice (通报批评), decided by the office",
    "问责建议": "a proposal for accountability (问责), decided by the office",
}
DECISION_INSTRUMENTS: frozenset[str] = frozenset({"约谈", "通报", "问责建议"})

# Item states as the code named them before definitions declared tags (format 1). A
# definition stored then reads with these tags, so running items keep their meaning.
LEGACY_ITEM_TAGS: dict[str, tuple[str, ...]] = {
    "identified": ("tasks_open",),
    "planned": ("tasks_open",),
    "rectifying": ("tasks_open",),
    "long_term": ("tasks_open", "long_term", "settled"),
    "submitted": ("acceptance",),
    "accepted": ("accepted", "settled"),
    "archived": ("accepted", "settled"),
}


@dataclass(frozen=True, slots=True)
class Role:
    """A role that actors act in, e.g. `group_leader` 巡视组组长."""

    name: str
    title: str


@dataclass(frozen=True, slots=True)
class Milestone:
    """A fact recorded during a stage, e.g. `midterm_consultation` 中期会商.

    `roles` empty means any role of the definition may record it. A milestone with a
    `count` (its unit: 人次, 件, 份) is recorded with a number that reports add up (talks
    held, letters received, documents reviewed).
    """

    name: str
    title: str
    roles: tuple[str, ...] = ()
    count: str = ""


@dataclass(frozen=True, slots=True)
class EscalationRule:
    """One rung of an escalation ladder: fire `at` relative to the due date.

    `to` is the role the instrument is addressed to (the one graded: officer, leader, main
    leader), `notify` who hears of it. A `decision` rung notifies nobody when it fires: it
    raises a proposal the office confirms (then `notify` hears) or dismisses.
    """

    at: Duration
    level: int
    title: str
    notify: tuple[str, ...]
    instrument: str = ""
    to: str = ""
    decision: bool = False


@dataclass(frozen=True, slots=True)
class State:
    """A stage of the lifecycle."""

    name: str
    title: str
    due: Due | None = None  # a duration from entry, or a date of the round plan
    milestones: tuple[Milestone, ...] = ()
    requires: tuple[str, ...] = ()
    escalation: tuple[EscalationRule, ...] | None = None  # None: the definition's ladder
    final: bool = False
    description: str = ""
    tags: tuple[str, ...] = ()

    def has_tag(self, tag: str) -> bool:
        """Whether the state is declared with `tag` (see `TAGS`)."""
        return tag in self.tags

    def milestone(self, name: str) -> Milestone | None:
        """The milestone called `name`, if this state declares it."""
        for milestone in self.milestones:
            if milestone.name == name:
                return milestone
        return None


@dataclass(frozen=True, slots=True)
class Transition:
    """An edge `source --trigger--> dest`; `roles` empty means any role.

    `requires` None means the source state's `requires`; a tuple replaces them for this
    transition (empty: leaving this way needs no milestone, e.g. sending work back).
    """

    trigger: str
    source: str
    dest: str
    roles: tuple[str, ...] = ()
    guards: tuple[str, ...] = ()
    title: str = ""
    requires: tuple[str, ...] | None = None

    def required(self, state: State) -> tuple[str, ...]:
        """The milestones this transition needs recorded in its source state."""
        return state.requires if self.requires is None else self.requires


# What a poor evaluation does: send the case back (二次整改) or flag it for a 回头看.
POOR_ACTIONS: tuple[str, ...] = ("rerectify", "lookback")


@dataclass(frozen=True, slots=True)
class Evaluation:
    """整改评估 as a case definition declares it: scored by deduction from 100 over weighted
    dimensions, graded by the lowest score of each grade.

    `dimensions`: (name, weight) in declaration order, the weights adding up to 100 (a
    dimension scores from 0 to its weight). `grades`: (grade, lowest score) from the best
    down, the last one's lowest score 0. `poor`: the grades that fail; `on_poor`: what a
    failing grade does — `rerectify` fires the transition `rerectify` names (back to
    集中整改), `lookback` lets the case close flagged for a 回头看 in a later round.
    """

    roles: tuple[str, ...]
    dimensions: tuple[tuple[str, int], ...]
    grades: tuple[tuple[str, int], ...]
    poor: tuple[str, ...]
    on_poor: str
    rerectify: str = ""

    def weight(self, dimension: str) -> int | None:
        """The weight of `dimension`, None if it is not declared."""
        return dict(self.dimensions).get(dimension)

    def grade_of(self, score: int) -> str:
        """The grade a total score earns."""
        for grade, lowest in self.grades:
            if score >= lowest:
                return grade
        return self.grades[-1][0]

    def band(self, grade: str) -> tuple[int, int] | None:
        """The scores (lowest, highest) that earn `grade`, None if it is not declared."""
        highest = 100
        for name, lowest in self.grades:
            if name == grade:
                return lowest, highest
            highest = lowest - 1
        return None

    def to_dict(self) -> dict[str, Any]:
        """The canonical form (lists: declaration order matters)."""
        return {
            "roles": list(self.roles),
            "dimensions": [{"name": n, "weight": w} for n, w in self.dimensions],
            "grades": [{"grade": g, "lowest": low} for g, low in self.grades],
            "poor": list(self.poor),
            "on_poor": self.on_poor,
            "rerectify": self.rerectify,
        }


def evaluation_from(data: Mapping[str, Any]) -> Evaluation:
    """An Evaluation from its canonical form."""
    return Evaluation(
        roles=tuple(data["roles"]),
        dimensions=tuple((d["name"], int(d["weight"])) for d in data["dimensions"]),
        grades=tuple((g["grade"], int(g["lowest"])) for g in data["grades"]),
        poor=tuple(data["poor"]),
        on_poor=data["on_poor"],
        rerectify=data.get("rerectify", ""),
    )


@dataclass(frozen=True, slots=True)
class Definition:
    """A validated lifecycle definition (one version of it)."""

    name: str
    title: str
    subject: Subject
    calendar: str
    initial: str
    roles: tuple[Role, ...]
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    escalation: tuple[EscalationRule, ...] = ()
    suspend_roles: tuple[str, ...] = DEFAULT_SUSPEND_ROLES
    description: str = ""
    evaluation: Evaluation | None = None  # 整改评估 (case definitions that declare it)
    _states: dict[str, State] = field(init=False, repr=False, compare=False)
    _roles: dict[str, Role] = field(init=False, repr=False, compare=False)
    _plan: bool = field(init=False, repr=False, compare=False)
    _anchors: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_states", {s.name: s for s in self.states})
        object.__setattr__(self, "_roles", {r.name: r for r in self.roles})
        object.__setattr__(self, "_plan", any(isinstance(s.due, PlanDue) for s in self.states))
        anchors = frozenset(s.due.milestone for s in self.states if isinstance(s.due, MilestoneDue))
        object.__setattr__(self, "_anchors", anchors)

    @property
    def uses_plan(self) -> bool:
        """Whether a stage is due on a date of the round plan (`due: plan.leave`)."""
        return self._plan

    @property
    def due_milestones(self) -> frozenset[str]:
        """The milestones a stage's due date counts from (`{milestone: …, after: 2mo}`)."""
        return self._anchors

    def state(self, name: str) -> State:
        """The state called `name`; KeyError if there is none."""
        return self._states[name]

    def has_state(self, name: str) -> bool:
        """Whether the definition declares a state called `name`."""
        return name in self._states

    def role(self, name: str) -> Role | None:
        """The role called `name`, if declared."""
        return self._roles.get(name)

    def role_title(self, name: str) -> str:
        """The Chinese title of a role, or the name itself if undeclared."""
        role = self._roles.get(name)
        return role.title if role else name

    def ladder(self, state: str) -> tuple[EscalationRule, ...]:
        """The escalation ladder that applies in `state` (its own, else the default)."""
        own = self._states[state].escalation
        return self.escalation if own is None else own

    def tagged(self, tag: str) -> frozenset[str]:
        """The names of the states declared with `tag`."""
        return frozenset(s.name for s in self.states if tag in s.tags)

    def transitions_from(self, state: str) -> tuple[Transition, ...]:
        """Transitions whose source is `state`, in declaration order."""
        return tuple(t for t in self.transitions if t.source == state)

    def triggers(self) -> tuple[str, ...]:
        """Every trigger name, in first-declared order."""
        return tuple(dict.fromkeys(t.trigger for t in self.transitions))

    def to_dict(self) -> dict[str, Any]:
        """The canonical, JSON-ready form (what the digest covers)."""
        return {
            "format": FORMAT,
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "subject": self.subject,
            "calendar": self.calendar,
            "initial": self.initial,
            # Lists, not mappings: canonical JSON sorts keys, and declaration order matters.
            "roles": [{"name": r.name, "title": r.title} for r in self.roles],
            "suspend_roles": list(self.suspend_roles),
            "escalation": [_rule_dict(r) for r in self.escalation],
            "states": [_state_dict(s) for s in self.states],
            "transitions": [
                {
                    "trigger": t.trigger,
                    "source": t.source,
                    "dest": t.dest,
                    "roles": list(t.roles),
                    "guards": list(t.guards),
                    "title": t.title,
                    "requires": None if t.requires is None else list(t.requires),
                }
                for t in self.transitions
            ],
            # Only when declared: definitions without 整改评估 keep their digest.
            **({} if self.evaluation is None else {"evaluation": self.evaluation.to_dict()}),
        }

    @property
    def digest(self) -> str:
        """sha256 over the canonical form: the content part of the definition's identity."""
        return hashlib.sha256(canonical_json(self.to_dict()).encode()).hexdigest()


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no whitespace and real (non-escaped) Unicode."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def definition_from_dict(data: Mapping[str, Any]) -> Definition:
    """Rebuild a Definition from its canonical form (as stored; already validated)."""
    legacy = data.get("format", 1) == 1 and data["subject"] == "item"
    return Definition(
        name=data["name"],
        title=data["title"],
        description=data.get("description", ""),
        subject=data["subject"],
        calendar=data["calendar"],
        initial=data["initial"],
        roles=tuple(Role(r["name"], r["title"]) for r in data["roles"]),
        suspend_roles=tuple(data["suspend_roles"]),
        escalation=tuple(_rule_from(r) for r in data["escalation"]),
        # Only item states had meanings by name; a format-1 case definition has no tags (and
        # so takes problems in every stage that is not final).
        states=tuple(_state_from(s, legacy and data["subject"] == "item") for s in data["states"]),
        transitions=tuple(
            Transition(
                trigger=t["trigger"],
                source=t["source"],
                dest=t["dest"],
                roles=tuple(t["roles"]),
                guards=tuple(t["guards"]),
                title=t["title"],
                requires=None if t.get("requires") is None else tuple(t["requires"]),
            )
            for t in data["transitions"]
        ),
        evaluation=None if data.get("evaluation") is None else evaluation_from(data["evaluation"]),
    )


def _rule_dict(rule: EscalationRule) -> dict[str, Any]:
    rule_dict: dict[str, Any] = {
        "at": str(rule.at),
        "level": rule.level,
        "title": rule.title,
        "notify": list(rule.notify),
    }
    # Only when used: a definition written before rungs had them keeps its digest.
    if rule.instrument:
        rule_dict["instrument"] = rule.instrument
    if rule.to:
        rule_dict["to"] = rule.to
    if rule.decision:
        rule_dict["decision"] = True
    return rule_dict


def _rule_from(data: Mapping[str, Any]) -> EscalationRule:
    return EscalationRule(
        at=parse_offset(data["at"]),
        level=data["level"],
        title=data["title"],
        notify=tuple(data["notify"]),
        instrument=data.get("instrument", ""),
        to=data.get("to", ""),
        decision=bool(data.get("decision", False)),
    )


def _state_dict(state: State) -> dict[str, Any]:
    return {
        "name": state.name,
        "title": state.title,
        "description": state.description,
        "due": _due_json(state.due),
        "milestones": [_milestone_dict(m) for m in state.milestones],
        "requires": list(state.requires),
        "escalation": None
        if state.escalation is None
        else [_rule_dict(r) for r in state.escalation],
        "final": state.final,
        "tags": list(state.tags),
    }


def _milestone_dict(milestone: Milestone) -> dict[str, Any]:
    found: dict[str, Any] = {
        "name": milestone.name,
        "title": milestone.title,
        "roles": list(milestone.roles),
    }
    if milestone.count:  # only when used: older definitions keep their digest
        found["count"] = milestone.count
    return found


def _due_json(due: Due | None) -> str | dict[str, str] | None:
    """A stage limit's canonical form: `15wd`, `plan.leave`, `{plan: leave, else: 30wd}` or
    `{milestone: feedback_meeting, after: 2mo}`."""
    if due is None:
        return None
    return due.to_json() if isinstance(due, PlanDue | MilestoneDue) else str(due)


def _state_from(data: Mapping[str, Any], legacy: bool) -> State:
    escalation = data["escalation"]
    tags = LEGACY_ITEM_TAGS.get(data["name"], ()) if legacy else tuple(data.get("tags", ()))
    return State(
        name=data["name"],
        title=data["title"],
        description=data.get("description", ""),
        due=None if data["due"] is None else parse_stage_due(data["due"]),
        milestones=tuple(
            Milestone(m["name"], m["title"], tuple(m["roles"]), m.get("count", ""))
            for m in data["milestones"]
        ),
        requires=tuple(data["requires"]),
        escalation=None if escalation is None else tuple(_rule_from(r) for r in escalation),
        final=data["final"],
        tags=tags,
    )
