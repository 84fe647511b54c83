"""Named guards: built-in predicates a definition may put on a transition.

A definition never carries code or expressions, only names; this registry maps each name
to a function. A guard returns None when the transition may proceed, or the reason it
may not (one short clause, e.g. `items P01, P02 are not settled`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection

from xunshi.definitions.schema import Definition


@dataclass(frozen=True, slots=True)
class GuardContext:
    """What a guard may look at: the open transaction and the instance being moved."""

    conn: Connection
    instance_id: int
    definition: Definition
    state: str
    label: str


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
