"""Named guards: built-in predicates a definition may put on a transition.

A definition never carries code or expressions, only names; this registry maps each name
to a pure function of a `GuardContext`. A guard returns None when the transition may
proceed, or the reason it may not (one short clause, e.g. `items P01, P02 are not
settled`). What a guard needs beyond the instance itself — its case's items, its tasks —
it declares as facts by name; the engine loads them before deciding (facts.py), so the
decision stays a pure function.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from xunshi.definitions.schema import Definition


@dataclass(frozen=True, slots=True)
class GuardContext:
    """What a guard may look at: the instance being moved and the facts it asked for."""

    instance_id: int
    definition: Definition
    state: str
    label: str
    facts: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


Guard = Callable[[GuardContext], "str | None"]

_REGISTRY: dict[str, Guard] = {}
_NEEDS: dict[str, tuple[str, ...]] = {}


def register_guard(name: str, needs: Collection[str] = ()) -> Callable[[Guard], Guard]:
    """Decorator: make `fn` available to definitions as guard `name`, given facts `needs`."""

    def decorate(fn: Guard) -> Guard:
        if name in _REGISTRY and _REGISTRY[name] is not fn:
            raise ValueError(f"guard {name!r} is already registered")
        _REGISTRY[name] = fn
        _NEEDS[name] = tuple(needs)
        return fn

    return decorate


def unregister_guard(name: str) -> None:
    """Remove a guard (tests register their own)."""
    _REGISTRY.pop(name, None)
    _NEEDS.pop(name, None)


def guard(name: str) -> Guard:
    """The guard registered as `name`; KeyError if there is none."""
    return _REGISTRY[name]


def facts_needed(names: Collection[str]) -> frozenset[str]:
    """The facts the guards `names` look at."""
    return frozenset(fact for name in names for fact in _NEEDS.get(name, ()))


def guard_names() -> frozenset[str]:
    """Every registered guard name (what definition validation accepts)."""
    return frozenset(_REGISTRY)


# -- built-in guards ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemFact:
    """One item of a case as the `case_items` fact gives it."""

    code: str
    state: str
    settled: bool  # its state is tagged `settled` in the item's own definition version


@dataclass(frozen=True, slots=True)
class TaskFact:
    """One task of an item as the `item_tasks` fact gives it."""

    number: int
    status: str


@register_guard("all_items_settled", needs=("case_items",))
def all_items_settled(ctx: GuardContext) -> str | None:
    """A case may close only when each of its items is in a state tagged `settled`
    (accepted, 销号, or long-term in the built-in definition)."""
    items: list[ItemFact] = ctx.facts["case_items"]
    open_items = [item for item in items if not item.settled]
    if not open_items:
        return None
    listed = ", ".join(f"{item.code} ({item.state})" for item in open_items)
    noun = "item is" if len(open_items) == 1 else "items are"
    return f"{len(open_items)} {noun} neither accepted nor long-term: {listed}"


@register_guard("all_tasks_done", needs=("item_tasks",))
def all_tasks_done(ctx: GuardContext) -> str | None:
    """An item may apply for closing (销号) only when it has tasks and all are done."""
    tasks: list[TaskFact] = ctx.facts["item_tasks"]
    if not tasks:
        return "it has no tasks (add its measures with `xunshi task add`)"
    open_tasks = [task.number for task in tasks if task.status != "done"]
    if not open_tasks:
        return None
    listed = ", ".join(f"#{n}" for n in open_tasks)
    noun = "task" if len(open_tasks) == 1 else "tasks"
    return f"{noun} {listed} not done"


@register_guard("evaluated", needs=("evaluation",))
def evaluated(ctx: GuardContext) -> str | None:
    """A case may close only once its rectification was evaluated (整改评估) in this stage.

    A poor grade that sends the case back (二次整改) has moved it out of the stage already;
    one that flags it for a 回头看 lets it close."""
    if ctx.facts["evaluation"]:
        return None
    return "its rectification has not been evaluated (整改评估: `xunshi case evaluate`)"
