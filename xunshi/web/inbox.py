"""The signed-in user's inbox (待办): what waits for them, each entry linking to its page.

- escalations (预警、督办) addressed to their role — its recipient or among those notified —
  on cases and items within their scope, while they are open;
- for the office, the decisions pending: proposals of the decision rungs (约谈, 问责建议 …)
  to confirm or dismiss, and clues (问题线索) registered but not yet handed over;
- items awaiting their acceptance (销号): a milestone of the acceptance stage their role
  records, or, once the milestones are in, the acceptance their role may give;
- extension requests (延期申请): those pending their decision (approvers), or their own
  requests still pending (requesters).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from xunshi.bootstrap import Services
from xunshi.errors import XunshiError
from xunshi.keys import InstanceKey
from xunshi.read.clues import ClueView
from xunshi.read.escalations import EscalationView
from xunshi.read.extensions import ExtensionView
from xunshi.read.items import ItemView
from xunshi.read.users import UserView
from xunshi.services.extensions import DECISION_ROLES, REQUEST_ROLES
from xunshi.texts import ROLE_TITLES
from xunshi.web.access import scope_of, signed_in, viewer_of
from xunshi.web.desk import desk_of
from xunshi.web.items import case_link, item_scope, item_url, task_anchor
from xunshi.web.scope import Viewer, sees_case

router = APIRouter(include_in_schema=False)
# Who decides the proposals of decision rungs and hands clues over: the office.
OFFICE = "office"


@dataclass(frozen=True, slots=True)
class Awaiting:
    """An item in its acceptance stage and what of it waits for the user."""

    item: ItemView
    steps: tuple[str, ...]  # the milestones or transitions (their titles)


@dataclass(frozen=True, slots=True)
class Inbox:
    """Everything waiting for one user."""

    escalations: list[EscalationView]
    decisions: list[EscalationView]
    clues: list[ClueView]
    acceptance: list[Awaiting]
    to_decide: list[ExtensionView]
    requested: list[ExtensionView]

    @property
    def count(self) -> int:
        """How many entries in all."""
        return sum(
            len(part)
            for part in (
                self.escalations,
                self.decisions,
                self.clues,
                self.acceptance,
                self.to_decide,
                self.requested,
            )
        )


def escalation_url(view: EscalationView) -> str:
    """The page of what escalated: its item (at its task), else its case."""
    key = view.key
    if key.item is not None:
        return item_url(key) if not view.task_id else item_url(key) + f"#task-{_number(view)}"
    return case_link(key)


def _number(view: EscalationView) -> str:
    # A task's escalation is titled `任务 #N` by the read side.
    return view.stage_title.rpartition("#")[2]


def inbox_of(services: Services, user: UserView) -> Inbox:
    """What waits for `user`, within their scope."""
    viewer = viewer_of(user)
    seen = _cases_in_scope(services, viewer)

    def mine(key: InstanceKey) -> bool:
        return (key.round.lower(), key.unit.lower()) in seen

    role = user.role
    escalations = [
        e
        for e in services.read.escalations.many(open_only=True)
        if mine(e.key)
        and e.decision in (None, "confirmed")
        and (e.recipient == role or role in e.notify)
    ]
    decisions: list[EscalationView] = []
    clues: list[ClueView] = []
    if role == OFFICE:
        decisions = [
            e for e in services.read.escalations.many(pending_decision=True) if mine(e.key)
        ]
        clues = _clues_to_hand_over(services, role, mine)
    extensions = [e for e in services.read.extensions.many(pending=True) if mine(e.task)]
    return Inbox(
        escalations=escalations,
        decisions=decisions,
        clues=clues,
        acceptance=_awaiting_acceptance(services, viewer, role),
        to_decide=extensions if role in DECISION_ROLES else [],
        requested=[e for e in extensions if e.requested_by == user.name]
        if role in REQUEST_ROLES
        else [],
    )


def _cases_in_scope(services: Services, viewer: Viewer) -> set[tuple[str, str]]:
    return {
        (v.round.lower(), v.unit.lower())
        for v in services.read.cases.many()
        if sees_case(viewer, scope_of(v))
    }


def _clues_to_hand_over(
    services: Services, role: str, mine: Callable[[InstanceKey], bool]
) -> list[ClueView]:
    """Clues still in their definition's first state (登记): the hand-over waits."""
    try:
        views = services.read.clues.many(role=role)
    except XunshiError:  # no clue definition declares the role
        return []
    initial: dict[tuple[str, int], str] = {}
    found = []
    for view in views:
        version = (view.definition, view.definition_version)
        if version not in initial:
            shown = services.read.catalog.definition(*version)
            initial[version] = shown.definition.initial
        if view.state == initial[version] and mine(view.key):
            found.append(view)
    return found


def _awaiting_acceptance(services: Services, viewer: Viewer, role: str) -> list[Awaiting]:
    """Items in an acceptance stage (tagged `acceptance`) in scope with a milestone the role
    records still open, or — every required one recorded — an acceptance the role gives."""
    found = []
    for view in services.read.items.many():
        if "acceptance" not in view.tags or not sees_case(viewer, item_scope(view)):
            continue
        steps = services.read.catalog.definition(view.definition, view.definition_version)
        definition = steps.definition
        state = definition.state(view.state)
        waiting = [
            m.title for m in state.milestones if m.name not in view.milestones and role in m.roles
        ]
        for move in definition.transitions_from(state.name):
            needed = move.required(state)
            ready = all(name in view.milestones for name in needed)
            accepting = definition.state(move.dest).has_tag("accepted")
            if accepting and ready and role in move.roles:
                waiting.append(move.title or move.trigger)
        if waiting and not view.suspended:
            found.append(Awaiting(view, tuple(waiting)))
    return found


@router.get("/inbox")
def inbox_page(request: Request) -> HTMLResponse:
    """What waits for the signed-in user."""
    session, user = signed_in(request)
    desk = desk_of(request)
    return desk.render(
        "inbox.html",
        session,
        user=user,
        role_title=ROLE_TITLES.get(user.role, user.role),
        inbox=inbox_of(desk.services, user),
        tz=desk.services.settings.tz,
        escalation_url=escalation_url,
        item_url=item_url,
        case_link=case_link,
        task_anchor=task_anchor,
        role_titles=ROLE_TITLES,
    )
