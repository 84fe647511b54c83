"""The forward path of a built-in case definition, read from the definition itself.

The CLI and integration tests drive cases along it; deriving it from the YAML means a
change of the built-in stages changes every test's path with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from xunshi.definitions.loader import builtin_definitions
from xunshi.definitions.schema import Definition, Transition


@dataclass(frozen=True, slots=True)
class Need:
    """A milestone a step needs: who may record it and whether it takes a count."""

    name: str
    role: str
    counted: bool


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A passing 整改评估 (full marks): what a trigger guarded by `evaluated` needs first."""

    score: int
    grade: str
    dimensions: tuple[tuple[str, int], ...]
    role: str

    def options(self) -> list[str]:
        """`case evaluate` options for it (without the case and --actor)."""
        dims = [a for name, w in self.dimensions for a in ("--dimension", f"{name}={w}")]
        return ["--score", str(self.score), "--grade", self.grade, *dims, "--role", self.role]


@dataclass(frozen=True, slots=True)
class Step:
    """Leaving `stage` forwards: record `needs` (and the evaluation, if the trigger needs
    one), then fire `trigger` as `role`."""

    stage: str
    needs: tuple[Need, ...]
    trigger: str
    role: str
    evaluation: Evaluation | None = None

    @property
    def milestones(self) -> tuple[str, ...]:
        """The names of the milestones needed."""
        return tuple(n.name for n in self.needs)


def definition(name: str = "regular") -> Definition:
    """The built-in definition called `name`."""
    return {d.name: d for d in builtin_definitions()}[name]


@cache
def forward_path(name: str = "regular") -> tuple[Step, ...]:
    """Every step from the initial state to the final one, always to the latest stage."""
    defn = definition(name)
    order = [s.name for s in defn.states]
    steps = []
    state = defn.initial
    while not defn.state(state).final:
        move = max(defn.transitions_from(state), key=lambda t: order.index(t.dest))
        steps.append(_step(defn, state, move))
        state = move.dest
    return tuple(steps)


def steps_to(stage: str, name: str = "regular") -> int:
    """How many steps lead from the initial state into `stage`."""
    return [s.stage for s in forward_path(name)].index(stage)


def _step(defn: Definition, state: str, move: Transition) -> Step:
    role = move.roles[0] if move.roles else "office"
    needs = []
    for name in move.required(defn.state(state)):
        milestone = defn.state(state).milestone(name)
        assert milestone is not None
        needs.append(
            Need(name, milestone.roles[0] if milestone.roles else role, bool(milestone.count))
        )
    evaluation = None
    if "evaluated" in move.guards and defn.evaluation is not None:
        evaluation = Evaluation(
            100, defn.evaluation.grades[0][0], defn.evaluation.dimensions, defn.evaluation.roles[0]
        )
    return Step(state, tuple(needs), move.trigger, role, evaluation)
