"""What a signed-in user is offered to do with a case or an item now: the stage's open
milestones and its triggers that the definition gives their role, as buttons.

Whatever a button posts, the services decide again; the offer only spares people buttons
that would be refused. The supervising bodies (the discipline group, the organisation
department) are offered, and may do, only what a definition names their role for — reviewing
a rectification plan, accepting a problem (销号), reopening it — never the steps any role may
take.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from xunshi.definitions.schema import Definition
from xunshi.web.scope import SUPERVISORS, Viewer


@dataclass(frozen=True, slots=True)
class Offer:
    """A milestone to record or a trigger to fire, with its title."""

    name: str
    title: str


def allowed(viewer: Viewer, roles: tuple[str, ...]) -> bool:
    """Whether the viewer's role may take a step declared with `roles` (empty: any role;
    a supervising body only where it is named)."""
    if viewer.role in SUPERVISORS:
        return viewer.role in roles
    return not roles or viewer.role in roles


def milestone_roles(definition: Definition, state: str, name: str) -> tuple[str, ...] | None:
    """The roles milestone `name` of `state` is declared with; None if it has no such one."""
    for milestone in definition.state(state).milestones:
        if milestone.name == name:
            return milestone.roles
    return None


def trigger_roles(definition: Definition, state: str, trigger: str) -> tuple[str, ...] | None:
    """The roles `trigger` may be fired with from `state`; None if it leaves no such way."""
    for transition in definition.transitions_from(state):
        if transition.trigger == trigger:
            return transition.roles
    return None


def offered_milestones(
    viewer: Viewer, definition: Definition, state: str, open_names: Iterable[str]
) -> list[Offer]:
    """The open milestones of `state` the viewer may record, in the definition's order."""
    wanted = set(open_names)
    return [
        Offer(m.name, m.title)
        for m in definition.state(state).milestones
        if m.name in wanted and allowed(viewer, m.roles)
    ]


def offered_triggers(
    viewer: Viewer, definition: Definition, state: str, triggers: Iterable[str]
) -> list[Offer]:
    """The triggers (of those possible now) the viewer may fire, each once."""
    possible = set(triggers)
    offers: dict[str, Offer] = {}
    for transition in definition.transitions_from(state):
        if transition.trigger in possible and allowed(viewer, transition.roles):
            title = transition.title or transition.trigger
            offers.setdefault(transition.trigger, Offer(transition.trigger, title))
    return list(offers.values())


def may_take(viewer: Viewer, definition: Definition, state: str, action: str, name: str) -> bool:
    """Whether a supervising body may take this step (others: the services decide)."""
    if viewer.role not in SUPERVISORS:
        return True
    if action == "fire":
        roles = trigger_roles(definition, state, name)
    else:
        roles = milestone_roles(definition, state, name)
    return roles is not None and allowed(viewer, roles)
