"""Compile a definition to a `transitions` machine, once per definition version.

The machine is shared by every instance on that version: firing hands it a throw-away
`Subject` (never registered with the machine), so memory does not grow with the number
of cases. Role, milestone and guard checks are the transitions' conditions; a failing
condition leaves its reason on the subject so the refusal can name exactly what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from xunshi.definitions.schema import Definition, Transition
from xunshi.workflow.guards import GuardContext, guard


@dataclass(slots=True)
class Subject:
    """The transient model one event is fired on."""

    state: str
    role: str
    milestones: Mapping[str, str]
    context: GuardContext | None = None
    refusal: str | None = field(default=None)


Condition = Callable[[Any], bool]


class CompiledDefinition:
    """A definition version with its `transitions` machine."""

    def __init__(self, definition: Definition, version: int) -> None:
        from transitions import Machine  # imported on first compile: reads do not need it

        self.definition = definition
        self.version = version
        self.machine = Machine(
            model=None,
            states=[{"name": s.name, "final": s.final} for s in definition.states],
            initial=definition.initial,
            transitions=[self._transition_spec(t) for t in definition.transitions],
            auto_transitions=False,
            send_event=True,
            name=f"{definition.name}@{version}",
        )
        # A trigger is unique per source state (the validator sees to it): one lookup each.
        self._by_edge = {(t.source, t.trigger): t for t in definition.transitions}

    def _transition_spec(self, transition: Transition) -> dict[str, Any]:
        conditions: list[Condition] = [_role_condition(self.definition, transition)]
        required = transition.required(self.definition.state(transition.source))
        if required:
            conditions.append(_milestone_condition(self.definition, transition.source, required))
        conditions.extend(_guard_condition(name) for name in transition.guards)
        return {
            "trigger": transition.trigger,
            "source": transition.source,
            "dest": transition.dest,
            "conditions": conditions,
        }

    def has_trigger(self, trigger: str) -> bool:
        """Whether any transition of the definition uses `trigger`."""
        return trigger in self.machine.events

    def triggers_from(self, state: str) -> list[str]:
        """Triggers that leave `state`, in declaration order."""
        return [t.trigger for t in self.definition.transitions_from(state)]

    def transition(self, trigger: str, state: str) -> Transition | None:
        """The definition's transition for `trigger` from `state`, if there is one."""
        return self._by_edge.get((state, trigger))

    def fire(self, subject: Subject, trigger: str) -> bool:
        """Run `trigger` on `subject`; True and `subject.state` moved, or False with a refusal."""
        return bool(self.machine.events[trigger].trigger(subject))


def _role_condition(definition: Definition, transition: Transition) -> Condition:
    allowed = transition.roles

    def role_allowed(event: Any) -> bool:
        subject: Subject = event.model
        if not allowed or subject.role in allowed:
            return True
        names = ", ".join(f"{r} ({definition.role_title(r)})" for r in allowed)
        subject.refusal = (
            f"role {subject.role} ({definition.role_title(subject.role)}) may not; allowed: {names}"
        )
        return False

    return role_allowed


def _milestone_condition(
    definition: Definition, state: str, required: tuple[str, ...]
) -> Condition:
    declared = definition.state(state)

    def milestones_recorded(event: Any) -> bool:
        subject: Subject = event.model
        missing = [name for name in required if name not in subject.milestones]
        if not missing:
            return True
        names = ", ".join(f"{n} ({_milestone_title(declared, n)})" for n in missing)
        noun = "milestone" if len(missing) == 1 else "milestones"
        subject.refusal = f"{noun} {names} not recorded"
        return False

    return milestones_recorded


def _milestone_title(state: Any, name: str) -> str:
    milestone = state.milestone(name)
    return milestone.title if milestone else name


def _guard_condition(name: str) -> Condition:
    check = guard(name)

    def guarded(event: Any) -> bool:
        subject: Subject = event.model
        if subject.context is None:
            raise RuntimeError(f"guard {name} needs a context")
        reason = check(subject.context)
        if reason is None:
            return True
        subject.refusal = reason
        return False

    return guarded


class MachineCache:
    """Compiled definitions by (name, version); bounded by the number of versions."""

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, int], CompiledDefinition] = {}

    def get(
        self, name: str, version: int, load: Callable[[str, int], Definition]
    ) -> CompiledDefinition:
        """The compiled definition, compiling it from `load(name, version)` on first use."""
        key = (name, version)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = CompiledDefinition(load(name, version), version)
            self._compiled[key] = compiled
        return compiled

    def forget(self, name: str, version: int) -> None:
        """Drop a compiled version (its number is being registered anew)."""
        self._compiled.pop((name, version), None)
