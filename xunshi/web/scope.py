"""What a signed-in user may see and do: a pure function of their role, scope and the case.

office and leading_group see everything; a group leader the cases of their group; a unit
liaison and a party secretary their unit's cases; the discipline group and the organisation
department every case, read-only (they supervise the rectification). Whatever is outside a
user's scope is answered as if it did not exist (404). Which actions a role may take in a
stage is the definitions' business: the services refuse what a role may not do.
"""

from __future__ import annotations

from dataclasses import dataclass

SEE_ALL = ("office", "leading_group")
SUPERVISORS = ("discipline_group", "organization_dept")
UNIT_ROLES = ("unit_liaison", "party_secretary")


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking: their name, role and scope (from the user record, never the request)."""

    name: str
    role: str
    round: str | None = None  # a group leader's round
    group: str | None = None  # a group leader's group
    unit: str | None = None  # a unit liaison's or party secretary's unit


@dataclass(frozen=True, slots=True)
class CaseScope:
    """What scoping needs to know of a case."""

    round: str
    group: str
    unit: str


def sees_case(viewer: Viewer, case: CaseScope) -> bool:
    """Whether the case is within the viewer's scope."""
    if viewer.role in SEE_ALL or viewer.role in SUPERVISORS:
        return True
    if viewer.role == "group_leader":
        return _same(viewer.round, case.round) and _same(viewer.group, case.group)
    if viewer.role in UNIT_ROLES:
        return _same(viewer.unit, case.unit)
    return False


def sees_whole_round(viewer: Viewer) -> bool:
    """Whether the viewer sees every case of every round (else only those in scope)."""
    return viewer.role in SEE_ALL or viewer.role in SUPERVISORS


def may_act(viewer: Viewer) -> bool:
    """Whether the viewer may record anything on a case they see (supervisors only read)."""
    return viewer.role not in SUPERVISORS


def _same(scoped: str | None, code: str) -> bool:
    # Codes are matched as stored; the CLI resolves any case, so compare case-insensitively.
    return scoped is not None and scoped.lower() == code.lower()
