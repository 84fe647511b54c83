"""Validation of a lifecycle definition: plain data in, every problem out.

The checks work on plain Python values (what the YAML loader built) and name each problem
by its path into that data, e.g. `("transitions", 3, "dest")`; the loader turns paths into
lines and columns. Nothing here raises on odd input: every unexpected shape is an issue,
and a Definition is only built when there is none.
"""

from __future__ import annotations

import difflib
import re
from collections import deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import cast

from xunshi.definitions.durations import (
    PLAN_DATES,
    PLAN_PREFIX,
    Due,
    Duration,
    MilestoneDue,
    PlanDue,
    parse_due,
    parse_offset,
    parse_plan_date,
)
from xunshi.definitions.schema import (
    CALENDARS,
    DECISION_INSTRUMENTS,
    DEFAULT_SUSPEND_ROLES,
    INSTRUMENTS,
    POOR_ACTIONS,
    RESERVED_TRIGGERS,
    SUBJECTS,
    TAGS,
    Definition,
    EscalationRule,
    Evaluation,
    Milestone,
    Role,
    State,
    Subject,
    Transition,
)

# A path into the data: mapping keys (usually str) and list indexes (int).
Path = tuple[object, ...]

IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")

# Lone surrogates, and control characters but tab and line break (a description's lines).
_UNSTORABLE = re.compile(r"[\ud800-\udfff\x00-\x08\x0b-\x1f\x7f-\x9f]")
_TOP_REQUIRED = ("name", "title", "initial", "roles", "states", "transitions")
_TOP_OPTIONAL = (
    "subject",
    "calendar",
    "escalation",
    "suspend_roles",
    "description",
    "evaluation",
)
_EVALUATION_REQUIRED = ("roles", "dimensions", "grades", "poor", "on_poor")
_EVALUATION_OPTIONAL = ("rerectify",)
_STATE_OPTIONAL = ("due", "milestones", "requires", "escalation", "final", "description", "tags")
_FINAL_FORBIDS = ("due", "milestones", "requires", "escalation")
_MILESTONE_KEYS = ("title", "roles")
_TRANSITION_REQUIRED = ("trigger", "source", "dest")
_TRANSITION_OPTIONAL = ("roles", "guards", "title", "requires")
_RULE_KEYS = ("at", "level", "title", "notify")
_RULE_OPTIONAL = ("instrument", "to", "decision")


@dataclass(frozen=True, slots=True)
class Issue:
    """One validation problem: where it is (a path into the data) and what is wrong."""

    path: Path
    message: str
    key: bool = False  # point at the mapping key of `path` rather than at its value
    also: Path | None = None  # another place involved; the loader appends its line


def check_definition(
    data: object, *, guards: Collection[str] = ()
) -> tuple[Definition | None, list[Issue]]:
    """Validate plain definition data: the Definition (None if any issue) and every issue."""
    checker = _Checker(frozenset(guards))
    definition = checker.definition(data)
    if checker.issues:
        return None, checker.issues
    return definition, []


def is_identifier(value: object) -> bool:
    """Whether `value` is a valid name: lowercase letters, digits and _, starting with a letter."""
    return isinstance(value, str) and IDENTIFIER.fullmatch(value) is not None


class _Checker:
    """Walks the data once, collecting issues and building the frozen objects as it goes."""

    def __init__(self, guards: frozenset[str]) -> None:
        self.guards = guards
        self.issues: list[Issue] = []
        self.roles: set[str] = set()
        self.states: dict[str, State] = {}
        self.edges: list[tuple[str, str]] = []
        # When `roles` or `states` is itself malformed, every reference to a role or state
        # would be "unknown": those follow-on messages are left out.
        self.roles_known = True
        self.states_known = True
        # Reachability is checked on the edges that resolved, also when other parts of the
        # file are wrong, so that one run names every problem. It is skipped only when the
        # graph itself cannot be read (no usable states, initial or transitions list).
        self.graph_complete = True
        # Ends of a transition whose other end did not resolve: such a source may well reach
        # a final state and such a dest may well be reachable, so neither is blamed for it.
        self.loose_sources: set[str] = set()
        self.loose_dests: set[str] = set()
        self.finality_known = True  # every state's `final` flag could be read
        self.subject = "case"
        # Stage dues counted from a milestone: checked once every state is known.
        self.due_milestones: list[tuple[Path, str]] = []

    def report(
        self, path: Path, message: str, *, key: bool = False, also: Path | None = None
    ) -> None:
        self.issues.append(Issue(path, message, key, also))

    # -- the definition as a whole ---------------------------------------------------------

    def definition(self, data: object) -> Definition | None:
        if not isinstance(data, dict):
            self.report((), f"a definition must be a mapping, not {_kind(data)}")
            return None
        self.keys(data, (), _TOP_REQUIRED, _TOP_OPTIONAL, "")
        name = self.identifier(data, "name", (), "definition name", "")
        title = self.text(data, "title", (), "", required=True)
        description = self.text(data, "description", (), "")
        subject = self.choice(data, "subject", SUBJECTS, "case")
        self.subject = subject
        calendar = self.choice(data, "calendar", CALENDARS, "cn")
        roles = self.role_table(data)
        states = self.state_table(data)
        initial = self.initial(data)
        escalation: tuple[EscalationRule, ...] = ()
        if "escalation" in data:
            escalation = self.ladder(data["escalation"], ("escalation",), "")
        suspend_roles = self.suspend_roles(data)
        transitions = self.transitions(data)
        self.check_due_milestones()
        evaluation = None
        if "evaluation" in data:
            evaluation = self.evaluation(data["evaluation"], ("evaluation",), transitions)
        if isinstance(data.get("states"), dict):
            self.graph(initial)
        if self.issues:
            return None
        return Definition(
            name=name,
            title=title,
            description=description,
            subject=cast(Subject, subject),
            calendar=calendar,
            initial=initial,
            roles=roles,
            states=states,
            transitions=transitions,
            escalation=escalation,
            suspend_roles=suspend_roles,
            evaluation=evaluation,
        )

    def choice(
        self, data: dict[object, object], key: str, allowed: tuple[str, ...], default: str
    ) -> str:
        if key not in data:
            return default
        value = data[key]
        if isinstance(value, str) and value in allowed:
            return value
        self.report((key,), f"{key} must be one of {', '.join(allowed)}, not {_kind(value)}")
        return default

    def role_table(self, data: dict[object, object]) -> tuple[Role, ...]:
        if "roles" not in data:
            self.roles_known = False
            return ()
        value, path = data["roles"], ("roles",)
        if not isinstance(value, dict):
            self.report(path, f"roles must be a mapping of role name to title, not {_kind(value)}")
            self.roles_known = False
            return ()
        if not value:
            self.report(path, "roles must declare at least one role")
        roles = []
        for key, title in value.items():
            name = self.name_key(key, path, "role name", "")
            text = self.nonempty_text(title, (*path, key), f"role {_show(key)}: title")
            if isinstance(key, str):
                self.roles.add(key)  # even if badly spelled: one message, not one per use
            if name is not None:
                roles.append(Role(name, text))
        return tuple(roles)

    def initial(self, data: dict[object, object]) -> str:
        if "initial" not in data:
            self.graph_complete = False
            return ""
        value, path = data["initial"], ("initial",)
        if not isinstance(value, str):
            self.report(path, f"initial must be a state name, not {_kind(value)}")
            self.graph_complete = False
            return ""
        if value not in self.states:
            if self.states_known:
                self.report(path, f"unknown initial state {value!r}{self.meant(value)}")
            self.graph_complete = False
            return ""
        if self.states[value].final:
            self.report(path, f"initial state {value!r} is a final state")
            self.graph_complete = False  # everything else would be "unreachable" too
        return value

    def suspend_roles(self, data: dict[object, object]) -> tuple[str, ...]:
        if "suspend_roles" not in data:
            return tuple(r for r in DEFAULT_SUSPEND_ROLES if r in self.roles)
        return self.role_list(data["suspend_roles"], ("suspend_roles",), "", "suspend_roles")

    # -- states ----------------------------------------------------------------------------

    def state_table(self, data: dict[object, object]) -> tuple[State, ...]:
        if "states" not in data or not isinstance(data["states"], dict):
            if "states" in data:
                self.report(("states",), f"states must be a mapping, not {_kind(data['states'])}")
            self.states_known = self.graph_complete = False
            return ()
        value, path = data["states"], ("states",)
        if not value:
            self.report(path, "states must declare at least one state")
        for key, body in value.items():
            self.name_key(key, path, "state name", "")
            # A badly spelled but textual name is still registered, so references to it do
            # not each report a second, misleading "unknown state".
            if isinstance(key, str):
                self.states[key] = self.state(key, body, (*path, key))
        return tuple(self.states.values())

    def state(self, name: str, body: object, path: Path) -> State:
        prefix = f"state {name!r}: "
        if not isinstance(body, dict):
            self.report(path, f"state {name!r} must be a mapping, not {_kind(body)}")
            self.finality_known = False
            return State(name=name, title="")
        self.keys(body, path, ("title",), _STATE_OPTIONAL, prefix)
        title = self.text(body, "title", path, prefix, required=True)
        description = self.text(body, "description", path, prefix)
        final = self.final_flag(body, path, prefix)
        due = self.due(body, path, prefix)
        milestones = self.milestones(body, path, prefix)
        tags = self.tags(body, path, prefix)
        declared = body.get("milestones")
        requires = self.requires(body, path, prefix, declared if isinstance(declared, dict) else {})
        escalation = None
        if "escalation" in body:
            if "due" not in body and not final:
                self.report(
                    (*path, "escalation"), f"{prefix}escalation needs a due limit", key=True
                )
            escalation = self.ladder(body["escalation"], (*path, "escalation"), prefix)
        if final:
            for key in _FINAL_FORBIDS:
                if key in body:
                    self.report((*path, key), f"{prefix}a final state cannot have {key}", key=True)
        return State(
            name=name,
            title=title,
            due=due,
            milestones=milestones,
            requires=requires,
            escalation=escalation,
            final=final,
            description=description,
            tags=tags,
        )

    def final_flag(self, body: dict[object, object], path: Path, prefix: str) -> bool:
        value = body.get("final", False)
        if isinstance(value, bool):
            return value
        self.report((*path, "final"), f"{prefix}final must be true or false, not {_kind(value)}")
        self.finality_known = False
        return False

    def due(self, body: dict[object, object], path: Path, prefix: str) -> Due | None:
        if "due" not in body:
            return None
        value, path = body["due"], (*path, "due")
        if isinstance(value, dict) and "milestone" in value:
            return self.milestone_due(value, path, prefix)
        if isinstance(value, dict) or (
            isinstance(value, str) and value.strip().startswith(PLAN_PREFIX)
        ):
            return self.plan_due(value, path, prefix)
        try:
            return parse_due(value)
        except ValueError as exc:
            self.report(path, f"{prefix}{exc}")
            return None

    def plan_due(self, value: object, path: Path, prefix: str) -> PlanDue | None:
        """`plan.leave`, or `{plan: leave, else: 30wd}`: a date of the case's round plan."""
        if self.subject != "case":
            self.report(
                path,
                f"{prefix}due on a plan date applies to case definitions only "
                "(the round plan dates cases)",
            )
            return None
        fallback: Duration | None = None
        if isinstance(value, dict):
            self.keys(value, path, ("plan",), ("else",), f"{prefix}due: ")
            named, where = value.get("plan"), (*path, "plan")
            if "else" in value:
                try:
                    fallback = parse_due(value["else"])
                except ValueError as exc:
                    self.report((*path, "else"), f"{prefix}due: else: {exc}")
                    return None
            if "plan" not in value:
                return None
        else:
            named, where = str(value).strip().removeprefix(PLAN_PREFIX), path
        try:
            return PlanDue(parse_plan_date(named), fallback)
        except ValueError:
            known = ", ".join(f"{PLAN_PREFIX}{d}" for d in PLAN_DATES)
            shown = _show(f"{PLAN_PREFIX}{named}" if isinstance(named, str) else named)
            self.report(where, f"{prefix}unknown plan date {shown} (plan dates: {known})")
            return None

    def milestone_due(
        self, value: dict[object, object], path: Path, prefix: str
    ) -> MilestoneDue | None:
        """`{milestone: feedback_meeting, after: 2mo, else: 30wd}`: counted from the date a
        milestone (of any stage) was recorded as having happened."""
        self.keys(value, path, ("milestone", "after"), ("else",), f"{prefix}due: ")
        named = value.get("milestone")
        if not is_identifier(named):
            self.report((*path, "milestone"), f"{prefix}due: {_bad_name('milestone', named)}")
            return None
        durations: dict[str, Duration | None] = {"after": None, "else": None}
        for key in durations:
            if key in value:
                try:
                    durations[key] = parse_due(value[key])
                except ValueError as exc:
                    self.report((*path, key), f"{prefix}due: {key}: {exc}")
                    return None
        after = durations["after"]
        if after is None:
            return None
        self.due_milestones.append(((*path, "milestone"), cast(str, named)))
        return MilestoneDue(cast(str, named), after, durations["else"])

    def check_due_milestones(self) -> None:
        """A stage's due counts from a milestone some state declares."""
        if not self.states_known:
            return
        declared = {m.name for state in self.states.values() for m in state.milestones}
        for path, name in self.due_milestones:
            if name not in declared:
                self.report(
                    path,
                    f"due counts from milestone {name!r}, which no state declares"
                    + _likely(name, declared),
                )

    # -- 整改评估 --------------------------------------------------------------------------

    def evaluation(
        self, value: object, path: Path, transitions: tuple[Transition, ...]
    ) -> Evaluation | None:
        """The `evaluation:` block of a case definition (整改评估)."""
        prefix = "evaluation: "
        if self.subject != "case":
            self.report(path, "evaluation applies to case definitions only", key=True)
            return None
        if not isinstance(value, dict):
            self.report(path, f"evaluation must be a mapping, not {_kind(value)}")
            return None
        self.keys(value, path, _EVALUATION_REQUIRED, _EVALUATION_OPTIONAL, prefix)
        roles = self.role_list(value.get("roles", []), (*path, "roles"), prefix, "roles")
        if "roles" in value and not roles:
            self.report((*path, "roles"), f"{prefix}roles must name at least one role")
        dimensions = self.weights(value.get("dimensions"), (*path, "dimensions"), prefix)
        grades = self.grades(value.get("grades"), (*path, "grades"), prefix)
        names = {g for g, _ in grades}
        poor = tuple(
            name
            for index, name in self.name_list(
                value.get("poor", []), (*path, "poor"), f"{prefix}poor"
            )
            if self._known_grade(name, names, (*path, "poor", index), prefix)
        )
        on_poor = value.get("on_poor")
        if "on_poor" in value and on_poor not in POOR_ACTIONS:
            self.report(
                (*path, "on_poor"),
                f"{prefix}on_poor must be one of {', '.join(POOR_ACTIONS)}, not {_kind(on_poor)}",
            )
        rerectify = value.get("rerectify", "")
        if on_poor == "rerectify":
            rerectify = self.rerectify(value, path, prefix, transitions, roles)
        elif "rerectify" in value:
            self.report(
                (*path, "rerectify"), f"{prefix}rerectify applies only with on_poor: rerectify"
            )
        if self.states_known and not any(s.has_tag("evaluation") for s in self.states.values()):
            self.report(
                path, f"{prefix}no state is tagged evaluation (where the case is evaluated)"
            )
        if not (dimensions and grades and isinstance(on_poor, str) and on_poor in POOR_ACTIONS):
            return None
        return Evaluation(roles, dimensions, grades, poor, on_poor, str(rerectify or ""))

    def _known_grade(self, name: str, names: set[str], path: Path, prefix: str) -> bool:
        if names and name not in names:
            self.report(path, f"{prefix}poor lists {name!r}, which is not a grade")
            return False
        return True

    def weights(self, value: object, path: Path, prefix: str) -> tuple[tuple[str, int], ...]:
        """`{组织领导: 20, …}`: whole-number weights, each above 0, adding up to 100."""
        if not isinstance(value, dict) or not value:
            if value is not None:
                self.report(path, f"{prefix}dimensions must map each dimension to its weight")
            return ()
        found = []
        for name, weight in value.items():
            label = f"{prefix}dimension {_show(name)}"
            if not isinstance(name, str) or not name.strip() or "=" in name:
                self.report((*path, name), f"{label}: a name must be text without '='", key=True)
                continue
            self.storable(name, (*path, name), label)
            if isinstance(weight, bool) or not isinstance(weight, int) or weight <= 0:
                self.report((*path, name), f"{label}: weight must be a whole number above 0")
                continue
            found.append((name.strip(), weight))
        total = sum(w for _, w in found)
        if len(found) == len(value) and total != 100:
            self.report(path, f"{prefix}dimension weights add up to {total}, not 100")
            return ()
        return tuple(found)

    def grades(self, value: object, path: Path, prefix: str) -> tuple[tuple[str, int], ...]:
        """`{好: 90, 较好: 80, 一般: 60, 差: 0}`: each grade's lowest score, best first."""
        if not isinstance(value, dict) or not value:
            if value is not None:
                self.report(path, f"{prefix}grades must map each grade to its lowest score")
            return ()
        found: list[tuple[str, int]] = []
        for name, lowest in value.items():
            label = f"{prefix}grade {_show(name)}"
            if not isinstance(name, str) or not name.strip():
                self.report((*path, name), f"{label}: a grade must be text", key=True)
                return ()
            self.storable(name, (*path, name), label)
            if isinstance(lowest, bool) or not isinstance(lowest, int) or not 0 <= lowest <= 100:
                self.report((*path, name), f"{label}: lowest score must be a whole number 0–100")
                return ()
            if found and lowest >= found[-1][1]:
                self.report(
                    (*path, name),
                    f"{label}: grades go from the best down; {lowest} is not below "
                    f"{found[-1][0]}'s {found[-1][1]}",
                )
                return ()
            found.append((name, lowest))
        if found[-1][1] != 0:
            self.report(path, f"{prefix}the last grade must start at 0 (every score has a grade)")
            return ()
        return tuple(found)

    def rerectify(
        self,
        value: dict[object, object],
        path: Path,
        prefix: str,
        transitions: tuple[Transition, ...],
        roles: tuple[str, ...],
    ) -> str:
        """The trigger a failing grade fires: from every state tagged evaluation, open to
        the evaluating roles, needing no milestone."""
        trigger = value.get("rerectify")
        where = (*path, "rerectify")
        if not isinstance(trigger, str):
            self.report(
                where if "rerectify" in value else path,
                f"{prefix}on_poor: rerectify needs rerectify: the trigger that sends the case back",
            )
            return ""
        evaluated = [s for s in self.states.values() if s.has_tag("evaluation")]
        for state in evaluated:
            found = [t for t in transitions if t.trigger == trigger and t.source == state.name]
            if not found:
                self.report(
                    where, f"{prefix}trigger {trigger!r} does not leave state {state.name!r}"
                )
                continue
            move = found[0]
            if move.roles and any(r not in move.roles for r in roles):
                self.report(where, f"{prefix}trigger {trigger!r} must allow every evaluating role")
            if move.guards or move.required(state):
                self.report(where, f"{prefix}trigger {trigger!r} must need no guard or milestone")
        return trigger

    def milestones(
        self, body: dict[object, object], path: Path, prefix: str
    ) -> tuple[Milestone, ...]:
        if "milestones" not in body:
            return ()
        value, path = body["milestones"], (*path, "milestones")
        if not isinstance(value, dict):
            self.report(
                path, f"{prefix}milestones must be a mapping of name to title, not {_kind(value)}"
            )
            return ()
        milestones = []
        for key, spec in value.items():
            name = self.name_key(key, path, "milestone name", prefix)
            here, label = (*path, key), f"{prefix}milestone {_show(key)}"
            roles: tuple[str, ...] = ()
            count = ""
            if isinstance(spec, dict):
                self.keys(spec, here, ("title",), ("roles", "count"), f"{label}: ")
                title = self.text(spec, "title", here, f"{label}: ", required=True)
                if "roles" in spec:
                    roles = self.role_list(spec["roles"], (*here, "roles"), f"{label}: ", "roles")
                if "count" in spec:
                    count = self.nonempty_text(spec["count"], (*here, "count"), f"{label}: count")
                    if len(count) > 8:
                        self.report(
                            (*here, "count"),
                            f"{label}: count is the unit a number is counted in (人次, 件), "
                            "at most 8 characters",
                        )
            elif isinstance(spec, str):
                title = self.nonempty_text(spec, here, f"{label}: title")
            else:
                self.report(
                    here, f"{label} must be a title or a mapping with title, not {_kind(spec)}"
                )
                continue
            if name is not None:
                milestones.append(Milestone(name, title, roles, count))
        return tuple(milestones)

    def tags(self, body: dict[object, object], path: Path, prefix: str) -> tuple[str, ...]:
        """Tags from the declared vocabulary (`TAGS`) that apply to the definition's subject."""
        if "tags" not in body:
            return ()
        path = (*path, "tags")
        names = self.name_list(body["tags"], path, f"{prefix}tags")
        for index, name in names:
            meaning = TAGS.get(name)
            if meaning is None:
                known = ", ".join(t for t, m in TAGS.items() if self.subject in m.subjects)
                self.report(
                    (*path, index),
                    f"{prefix}unknown tag {name!r} (tags of {self.subject} definitions: "
                    f"{known or 'none'})",
                )
            elif self.subject not in meaning.subjects:
                subjects = " and ".join(f"{s} definitions" for s in meaning.subjects)
                self.report((*path, index), f"{prefix}tag {name!r} applies to {subjects} only")
        return tuple(name for _, name in names)

    def requires(
        self, body: dict[object, object], path: Path, prefix: str, declared: Collection[object]
    ) -> tuple[str, ...]:
        if "requires" not in body:
            return ()
        path = (*path, "requires")
        names = self.name_list(body["requires"], path, f"{prefix}requires")
        for index, name in names:
            if name not in declared:
                self.report((*path, index), f"{prefix}unknown milestone {name!r} in requires")
        return tuple(name for _, name in names)

    # -- escalation ladders ----------------------------------------------------------------

    def ladder(self, value: object, path: Path, prefix: str) -> tuple[EscalationRule, ...]:
        if not isinstance(value, list):
            self.report(path, f"{prefix}escalation must be a list of rules, not {_kind(value)}")
            return ()
        rules = []
        last_level: int | None = None
        offsets: list[Duration] = []
        for index, spec in enumerate(value):
            here, label = (*path, index), f"{prefix}escalation rule {index + 1}"
            if not isinstance(spec, dict):
                self.report(here, f"{label} must be a mapping, not {_kind(spec)}")
                continue
            self.keys(spec, here, _RULE_KEYS, _RULE_OPTIONAL, f"{label}: ")
            at = self.offset(spec, here, label)
            level = self.level(spec, here, label)
            title = self.text(spec, "title", here, f"{label}: ", required=True)
            notify = self.notify(spec, here, label)
            instrument, to, decision = self.instrument(spec, here, label)
            if level is not None:
                if last_level is not None and level <= last_level:
                    self.report(
                        (*here, "level"),
                        f"{label}: levels must increase ({level} after {last_level})",
                    )
                last_level = level
            if at is not None:
                earlier = next((o for o in reversed(offsets) if _goes_back(o, at)), None)
                if earlier is not None:
                    self.report(
                        (*here, "at"),
                        f"{label}: offsets must not go backwards ({at} after {earlier})",
                    )
                offsets.append(at)
            if at is not None and level is not None:
                rules.append(EscalationRule(at, level, title, notify, instrument, to, decision))
        return tuple(rules)

    def instrument(
        self, spec: dict[object, object], path: Path, label: str
    ) -> tuple[str, str, bool]:
        """The rung's instrument, recipient role and whether it waits for a decision."""
        instrument = ""
        if "instrument" in spec:
            value = spec["instrument"]
            if isinstance(value, str) and value in INSTRUMENTS:
                instrument = value
            else:
                likely = difflib.get_close_matches(str(value), list(INSTRUMENTS), n=1)
                hint = f" (did you mean {likely[0]!r}?)" if likely else ""
                self.report(
                    (*path, "instrument"),
                    f"{label}: unknown instrument {value!r}{hint}; one of {', '.join(INSTRUMENTS)}",
                )
        to = ""
        if "to" in spec:
            value = spec["to"]
            if not isinstance(value, str):
                self.report((*path, "to"), f"{label}: to must name one role, not {_kind(value)}")
            elif value not in self.roles and self.roles_known:
                self.report((*path, "to"), f"{label}: unknown role {value!r} in to")
            else:
                to = value
        decision = False
        if "decision" in spec:
            value = spec["decision"]
            if isinstance(value, bool):
                decision = value
            else:
                self.report(
                    (*path, "decision"),
                    f"{label}: decision must be true or false, not {_kind(value)}",
                )
        if instrument in DECISION_INSTRUMENTS and not decision and "decision" not in spec:
            self.report(
                (*path, "instrument"),
                f"{label}: {instrument} is a decision people take: mark the rung decision: true",
            )
        elif instrument in DECISION_INSTRUMENTS and spec.get("decision") is False:
            self.report(
                (*path, "decision"),
                f"{label}: {instrument} is a decision people take: it cannot be decision: false",
            )
        return instrument, to, decision

    def offset(self, spec: dict[object, object], path: Path, label: str) -> Duration | None:
        if "at" not in spec:
            return None
        try:
            return parse_offset(spec["at"])
        except ValueError as exc:
            self.report((*path, "at"), f"{label}: {exc}")
            return None

    def level(self, spec: dict[object, object], path: Path, label: str) -> int | None:
        if "level" not in spec:
            return None
        value = spec["level"]
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        self.report(
            (*path, "level"), f"{label}: level must be a whole number 0 or more, not {_kind(value)}"
        )
        return None

    def notify(self, spec: dict[object, object], path: Path, label: str) -> tuple[str, ...]:
        if "notify" not in spec:
            return ()
        value = spec["notify"]
        if isinstance(value, list) and not value:
            self.report((*path, "notify"), f"{label}: notify must name at least one role")
            return ()
        return self.role_list(value, (*path, "notify"), f"{label}: ", "notify")

    # -- transitions -----------------------------------------------------------------------

    def transitions(self, data: dict[object, object]) -> tuple[Transition, ...]:
        if "transitions" not in data:
            self.graph_complete = False
            return ()
        value, path = data["transitions"], ("transitions",)
        if not isinstance(value, list):
            self.report(path, f"transitions must be a list, not {_kind(value)}")
            self.graph_complete = False
            return ()
        first_seen: dict[tuple[str, str], Path] = {}
        transitions: list[Transition] = []
        for index, spec in enumerate(value):
            transitions.extend(self.transition(index, spec, (*path, index), first_seen))
        return tuple(transitions)

    def transition(
        self, index: int, spec: object, path: Path, first_seen: dict[tuple[str, str], Path]
    ) -> list[Transition]:
        number = index + 1
        if not isinstance(spec, dict):
            self.report(path, f"transition {number} must be a mapping, not {_kind(spec)}")
            self.graph_complete = False
            return []
        trigger = spec.get("trigger")
        label = (
            f"transition {number} ({trigger})" if is_identifier(trigger) else f"transition {number}"
        )
        prefix = f"{label}: "
        self.keys(spec, path, _TRANSITION_REQUIRED, _TRANSITION_OPTIONAL, prefix)
        trigger_name = self.identifier(spec, "trigger", path, "trigger", prefix)
        if trigger_name in RESERVED_TRIGGERS:
            self.report(
                (*path, "trigger"),
                f"{prefix}trigger {trigger_name!r} is reserved for a built-in event",
            )
        sources, whole = self.sources(spec, path, prefix)
        dest = self.dest(spec, path, prefix)
        if not dest:
            self.loose_sources.update(sources)
        if dest and not whole:
            self.loose_dests.add(dest)
        roles = (
            self.role_list(spec["roles"], (*path, "roles"), prefix, "") if "roles" in spec else ()
        )
        guards = self.guard_list(spec, path, prefix)
        title = self.text(spec, "title", path, prefix)
        requires = self.transition_requires(spec, path, prefix, sources)
        here = (*path, "trigger")
        result = []
        for source in sources:
            if dest:
                self.edges.append((source, dest))
            if trigger_name:
                earlier = first_seen.setdefault((source, trigger_name), here)
                if earlier != here:
                    self.report(
                        here,
                        f"duplicate trigger {trigger_name!r} from state {source!r}",
                        also=earlier,
                    )
            result.append(Transition(trigger_name, source, dest, roles, guards, title, requires))
        return result

    def transition_requires(
        self, spec: dict[object, object], path: Path, prefix: str, sources: list[str]
    ) -> tuple[str, ...] | None:
        """A transition's own milestone requirements (None: its source states' ones)."""
        if "requires" not in spec:
            return None
        path = (*path, "requires")
        names = self.name_list(spec["requires"], path, f"{prefix}requires")
        for index, name in names:
            for source in sources:
                if self.states[source].milestone(name) is None:
                    self.report(
                        (*path, index),
                        f"{prefix}unknown milestone {name!r} of source state {source!r} "
                        "in requires",
                    )
        return tuple(name for _, name in names)

    def sources(
        self, spec: dict[object, object], path: Path, prefix: str
    ) -> tuple[list[str], bool]:
        """The declared source states that resolved (final ones included), and whether all did."""
        if "source" not in spec:
            return [], False
        value, path = spec["source"], (*path, "source")
        if isinstance(value, str):
            named = [(path, value)]
        elif isinstance(value, list) and value:
            named = [
                ((*path, i), name) for i, name in self.name_list(value, path, f"{prefix}source")
            ]
        else:
            what = "an empty list" if isinstance(value, list) else _kind(value)
            self.report(path, f"{prefix}source must be a state name or a list of them, not {what}")
            return [], False
        known = []
        whole = len(named) == len(value) if isinstance(value, list) else True
        for where, name in named:
            if name not in self.states:
                if self.states_known:
                    self.report(where, f"{prefix}unknown source state {name!r}{self.meant(name)}")
                self.loose_sources.update(self.likely_states(name))
                whole = False
                continue
            if self.states[name].final:
                self.report(where, f"{prefix}source {name!r} is a final state")
            known.append(name)
        return known, whole

    def dest(self, spec: dict[object, object], path: Path, prefix: str) -> str:
        if "dest" not in spec:
            return ""
        value = spec["dest"]
        if not isinstance(value, str):
            self.report((*path, "dest"), f"{prefix}dest must be a state name, not {_kind(value)}")
            return ""
        if value in self.states:
            return value
        if self.states_known:
            self.report((*path, "dest"), f"{prefix}unknown dest state {value!r}{self.meant(value)}")
        self.loose_dests.update(self.likely_states(value))
        return ""

    def guard_list(self, spec: dict[object, object], path: Path, prefix: str) -> tuple[str, ...]:
        if "guards" not in spec:
            return ()
        path = (*path, "guards")
        names = self.name_list(spec["guards"], path, f"{prefix}guards")
        for index, name in names:
            # Guards name registered predicates; an expression is refused, never evaluated.
            if not is_identifier(name):
                self.report((*path, index), f"{prefix}{_bad_name('guard name', name)}")
            elif name not in self.guards:
                self.report((*path, index), f"{prefix}unknown guard {name!r}")
        return tuple(name for _, name in names)

    # -- the graph -------------------------------------------------------------------------

    def likely_states(self, typo: str) -> list[str]:
        """The declared state a misspelt reference most likely meant (at most one)."""
        return difflib.get_close_matches(typo, list(self.states), n=1, cutoff=0.75)

    def meant(self, typo: str) -> str:
        likely = self.likely_states(typo)
        return f" (did you mean {likely[0]!r}?)" if likely else ""

    def graph(self, initial: str) -> None:
        finals = [name for name, state in self.states.items() if state.final]
        if not finals and self.states and self.finality_known:
            self.report(("states",), "no final state: mark one with final: true", key=True)
        if not self.graph_complete:
            return
        forward: dict[str, set[str]] = {name: set() for name in self.states}
        backward: dict[str, set[str]] = {name: set() for name in self.states}
        for source, dest in self.edges:
            forward[source].add(dest)
            backward[dest].add(source)
        reached = _closure([initial, *self.loose_dests], forward)
        for name in self.states:
            if name not in reached:
                self.report(
                    ("states", name),
                    f"state {name!r} is unreachable from initial state {initial!r}",
                    key=True,
                )
        if not finals or not self.finality_known:
            return
        reaching = _closure([*finals, *self.loose_sources], backward)
        for name in self.states:
            if name not in reaching:
                self.report(
                    ("states", name), f"state {name!r} cannot reach a final state", key=True
                )

    # -- small shapes ----------------------------------------------------------------------

    def keys(
        self,
        data: Mapping[object, object],
        path: Path,
        required: tuple[str, ...],
        optional: tuple[str, ...],
        prefix: str,
    ) -> None:
        for key in data:
            if key not in required and key not in optional:
                self.report((*path, key), f"{prefix}unknown key {_show(key)}", key=True)
        for key in required:
            if key not in data:
                self.report(path, f"{prefix}missing required key {key!r}", key=True)

    def text(
        self,
        data: dict[object, object],
        key: str,
        path: Path,
        prefix: str,
        *,
        required: bool = False,
    ) -> str:
        if key not in data:
            return ""
        value = data[key]
        if required:
            return self.nonempty_text(value, (*path, key), f"{prefix}{key}")
        if isinstance(value, str):
            self.storable(value, (*path, key), f"{prefix}{key}")
            return value
        self.report((*path, key), f"{prefix}{key} must be text, not {_kind(value)}")
        return ""

    def nonempty_text(self, value: object, path: Path, label: str) -> str:
        if not isinstance(value, str):
            self.report(path, f"{label} must be text, not {_kind(value)}")
            return ""
        if not value.strip():
            self.report(path, f"{label} must not be empty")
        self.storable(value, path, label)
        return value

    def storable(self, value: str, path: Path, label: str) -> None:
        """Report a text no database can store, or that no one can read: YAML's escapes
        (`"\\ud800"`, `"\\0"`) make lone surrogates and control characters."""
        found = _UNSTORABLE.search(value)
        if found is None:
            return
        char = found.group()
        what = "half of a character" if "\ud800" <= char <= "\udfff" else "a control character"
        self.report(path, f"{label} holds {char!r}, {what}: not text that can be stored")

    def identifier(
        self, data: dict[object, object], key: str, path: Path, what: str, prefix: str
    ) -> str:
        if key not in data:
            return ""
        value = data[key]
        if is_identifier(value):
            return cast(str, value)
        self.report((*path, key), f"{prefix}{_bad_name(what, value)}")
        return ""

    def name_key(self, key: object, path: Path, what: str, prefix: str) -> str | None:
        if is_identifier(key):
            return cast(str, key)
        self.report((*path, key), f"{prefix}{_bad_name(what, key)}", key=True)
        return None

    def name_list(self, value: object, path: Path, label: str) -> list[tuple[int, str]]:
        """The (index, name) pairs of a list of names; each odd entry is an issue."""
        if not isinstance(value, list):
            self.report(path, f"{label} must be a list, not {_kind(value)}")
            return []
        names: list[tuple[int, str]] = []
        seen: set[str] = set()
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.report((*path, index), f"{label} must list names, not {_kind(item)}")
            elif item in seen:
                self.report((*path, index), f"{label} lists {item!r} twice")
            else:
                seen.add(item)
                names.append((index, item))
        return names

    def role_list(self, value: object, path: Path, prefix: str, where: str) -> tuple[str, ...]:
        label = f"{prefix}{where or 'roles'}"
        names = self.name_list(value, path, label)
        suffix = f" in {where}" if where not in ("", "roles") else ""
        for index, name in names:
            if name not in self.roles and self.roles_known:
                self.report((*path, index), f"{prefix}unknown role {name!r}{suffix}")
        return tuple(name for _, name in names)


def _closure(start: Iterable[str], edges: Mapping[str, Collection[str]]) -> set[str]:
    seen = set(start)
    queue = deque(seen)
    while queue:
        for nxt in edges[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _goes_back(earlier: Duration, later: Duration) -> bool:
    """Whether `later` is certainly before `earlier` (5wd and 7d cannot be compared)."""
    if earlier.unit == later.unit:
        return later.amount < earlier.amount
    return _sign(later.amount) < _sign(earlier.amount)


def _sign(amount: int) -> int:
    return (amount > 0) - (amount < 0)


def _likely(typo: str, names: Collection[str]) -> str:
    likely = difflib.get_close_matches(typo, sorted(names), n=1, cutoff=0.75)
    return f" (did you mean {likely[0]!r}?)" if likely else ""


def _bad_name(what: str, value: object) -> str:
    return f"bad {what} {_show(value)}: use lowercase letters, digits and _, starting with a letter"


def _show(value: object) -> str:
    """A short repr for messages."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: object) -> str:
    """How a value's type reads in a message: `a list`, `text 'yes'`, `the number 5`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"text {_show(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
