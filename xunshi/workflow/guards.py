"""Named guards: built-in predicates a definition may put on a transition.

A definition never carries code or expressions, only names; this registry maps each name
to a function. A guard returns None when the transition may proceed, or the reason it
may not (one short clause, e.g. `items P01, P02 are not settled`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from xunshi.definitions.schema import Definition
from xunshi.storage import queries as q


@dataclass(frozen=True, slots=True)
class GuardContext:
    """What a guard may look at: the open transaction and the instance being moved."""

    conn: Connection
    instance_id: int
    definition: Definition
    state: str
    label: str
    # Any stored definition version by (name, version): other instances run on their own.
    definition_of: Callable[[str, int], Definition] = field(repr=False, compare=False)


Guard = Callable[[GuardContext], "str | None"]

_REGISTRY: dict[str, Guard] = {}


def register_guard(name: str) -> Callable[[Guard], Guard]:
    """Decorator: make `fn` available to definitions as guard `name`."""

    def decorate(fn: Guard) -> Guard:
        if name in _REGISTRY and _REGISTRY[name] is not fn:
            raise ValueError(f"guard {name!r} is already registered")
        _REGISTRY[name] = fn
        return fn

    return decorate


def unregister_guard(name: str) -> None:
    """Remove a guard (tests register their own)."""
    _REGISTRY.pop(name, None)


def guard(name: str) -> Guard:
    """The guard registered as `name`; KeyError if there is none."""
    return _REGISTRY[name]


def guard_names() -> frozenset[str]:
    """Every registered guard name (what definition validation accepts)."""
    return frozenset(_REGISTRY)


# -- built-in guards ----------------------------------------------------------------------


@register_guard("all_items_settled")
def all_items_settled(ctx: GuardContext) -> str | None:
    """A case may close only when each of its items is in a state tagged `settled`
    (accepted, 销号, or long-term in the built-in definition)."""
    i, it = q.instances, q.items
    rows = ctx.conn.execute(
        select(it.c.code, i.c.state, i.c.definition_name, i.c.definition_version)
        .join(i, i.c.id == it.c.id)
        .where(it.c.case_id == ctx.instance_id)
        .order_by(it.c.code)
    ).all()
    open_items = [
        (code, state)
        for code, state, name, version in rows
        if not ctx.definition_of(name, version).state(state).has_tag("settled")
    ]
    if not open_items:
        return None
    listed = ", ".join(f"{code} ({state})" for code, state in open_items)
    noun = "item is" if len(open_items) == 1 else "items are"
    return f"{len(open_items)} {noun} neither accepted nor long-term: {listed}"


@register_guard("all_tasks_done")
def all_tasks_done(ctx: GuardContext) -> str | None:
    """An item may apply for closing (销号) only when it has tasks and all are done."""
    t = q.tasks
    rows = ctx.conn.execute(
        select(t.c.number, t.c.status).where(t.c.item_id == ctx.instance_id).order_by(t.c.number)
    ).all()
    if not rows:
        return "it has no tasks (add its measures with `xunshi task add`)"
    open_tasks = [number for number, status in rows if status != "done"]
    if not open_tasks:
        return None
    listed = ", ".join(f"#{n}" for n in open_tasks)
    noun = "task" if len(open_tasks) == 1 else "tasks"
    return f"{noun} {listed} not done"
