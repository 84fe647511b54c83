"""The problem list (问题清单) and its tasks on the desk: a round's items and tasks, an item's
page (its tasks, progress, evidence, outcome, acceptance and history), and the forms that note
a task's progress, mark it done, ask for more time (延期申请) and decide such a request.

Every page needs a signed-in user and shows only the items of the cases within their scope;
anything else is answered 404, as if it did not exist. Every POST checks the session's CSRF
token first, then the scope, then acts with the user's own name and role: the services refuse
what the definitions do not allow, and their message is shown on the page (403 or 400).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xunshi.bootstrap import Services
from xunshi.errors import BadInput, NotFound, Refused, XunshiError
from xunshi.idempotency import AlreadyDone
from xunshi.keys import InstanceKey, parse_key
from xunshi.paging import Page
from xunshi.read.cases import CaseView
from xunshi.read.items import ItemView, TaskView
from xunshi.read.users import UserView
from xunshi.services.commands import OutcomeFacts, TaskChanges
from xunshi.services.extensions import DECISION_ROLES, REQUEST_ROLES
from xunshi.texts import ROLE_TITLES
from xunshi.timeparse import parse_date
from xunshi.web.access import (
    as_request,
    check_csrf,
    check_round,
    signed_in,
    viewer_of,
    visible_cases,
)
from xunshi.web.actions import may_take, offered_milestones, offered_triggers
from xunshi.web.desk import desk_of
from xunshi.web.pages import EVENT_TITLES
from xunshi.web.scope import CaseScope, Viewer, may_act, sees_case
from xunshi.web.sessions import Session
from xunshi.workflow.audit import Event

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form()]

# What each kind of task event is called in an item's history.
TASK_EVENT_TITLES = {
    "task_added": "新增整改措施",
    "task_updated": "更新整改措施",
    "task_done": "整改措施完成",
    "extension_requested": "申请延期",
    "extension_approved": "批准延期",
    "extension_rejected": "驳回延期",
}
SOURCE_TITLES = {"inspection": "巡视发现", "audit": "巡审联动", "lead": "线索移交"}
TASK_STATUSES = {"open": "未完成", "done": "已完成"}


def item_url(key: InstanceKey) -> str:
    """The item page's address (`/items/ROUND/UNIT/CODE`)."""
    parts = (key.round, key.unit, key.item or "")
    return "/items/" + "/".join(quote(part, safe="") for part in parts)


def case_link(key: InstanceKey) -> str:
    """The page of the case a key belongs to."""
    return f"/cases/{quote(key.round, safe='')}/{quote(key.unit, safe='')}"


def task_anchor(key: InstanceKey) -> str:
    """A task's place on its item's page."""
    return f"{item_url(key.owner)}#task-{key.task}"


def task_status(task: TaskView) -> str:
    """已完成, 超期 or 进行中."""
    return "已完成" if task.status == "done" else ("超期" if task.overdue else "进行中")


def task_due(task: TaskView) -> str:
    """完成时限 as people read it: 长期坚持, or the date (and the one first set, if extended)."""
    if task.long_term or task.due_on is None:
        return "长期坚持"
    if task.original_due is not None:
        return f"{task.due_on}（原定 {task.original_due}）"
    return str(task.due_on)


FACT_TITLES = {
    "measure": "整改措施",
    "responsible_leader": "责任领导",
    "lead_department": "牵头部门",
    "cooperating_departments": "配合部门",
    "responsible_person": "责任人",
    "due_on": "完成时限",
    "long_term": "长期坚持",
}


def event_detail(event: Event, numbers: Mapping[int, int]) -> str:
    """What a task event of an item's history says, in one line (`numbers`: task id → its
    number within the item); "" for other events."""
    if event.kind != "task":
        return ""
    data = event.data
    number = data.get("number") or numbers.get(int(data.get("task") or 0))
    head = f"#{number} " if number else ""
    trigger = event.trigger
    if trigger == "task_added":
        due = "长期坚持" if data.get("long_term") else data.get("due_on") or ""
        return f"{head}{data.get('measure', '')}，时限 {due}"
    if trigger == "task_updated":
        parts = [
            f"{FACT_TITLES.get(name, name)} → {value}"
            for name, value in dict(data.get("changes") or {}).items()
        ]
        if data.get("progress"):
            parts.append(f"进展：{data['progress']}")
        return head + "；".join(parts)
    if trigger == "task_done":
        return f"{head}佐证：{data.get('evidence', '')}"
    if trigger == "extension_requested":
        return f"{head}申请延期至 {data.get('requested_due')}（原 {data.get('original_due')}）"
    if trigger == "extension_approved":
        return f"{head}时限 {data.get('previous_due')} → {data.get('due_on')}"
    if trigger == "extension_rejected":
        return f"{head}驳回延期至 {data.get('requested_due')}"
    return head.strip()


# -- scope ----------------------------------------------------------------------------------


def item_scope(view: ItemView) -> CaseScope:
    """What scoping knows of an item: its case's."""
    return CaseScope(view.round, view.group, view.unit)


def visible_item(
    services: Services, viewer: Viewer, round_code: str, unit_code: str, item_code: str
) -> ItemView:
    """Item ROUND/UNIT/CODE if the viewer sees its case; else 404, as if it did not exist."""
    key = parse_key(f"{round_code}/{unit_code}/{item_code}", "item")
    view = services.read.items.one(key)
    if not sees_case(viewer, item_scope(view)):
        raise NotFound(f"{key.label} does not exist")
    return view


@dataclass(frozen=True, slots=True)
class ItemQuery:
    """The filters of a round's problem list, as `item list` has them ("": any)."""

    unit: str = ""
    state: str = ""
    category: str = ""
    tag: str = ""
    owner: str = ""
    overdue: bool = False
    include_void: bool = False


@dataclass(frozen=True, slots=True)
class TaskQuery:
    """The filters of a round's task list ("": any)."""

    unit: str = ""
    status: str = ""  # open | done
    owner: str = ""
    overdue: bool = False
    pending: bool = False  # only tasks with an extension request waiting for a decision
    include_void: bool = False


@dataclass(frozen=True, slots=True)
class TaskRow:
    """A task of the list, with its item."""

    item: ItemView
    task: TaskView

    @property
    def key(self) -> InstanceKey:
        """ROUND/UNIT/ITEM#N."""
        return self.item.key.task_key(self.task.number)


def visible_items(
    services: Services, viewer: Viewer, round_code: str, query: ItemQuery
) -> list[ItemView]:
    """The round's items in the viewer's scope that match the query; 404 if the round is
    outside their scope, BadInput for a filter that names nothing (an unknown state)."""
    check_round(services, viewer, round_code)
    return list(visible_item_stream(services, viewer, round_code, query))


def visible_item_stream(
    services: Services,
    viewer: Viewer,
    round_code: str,
    query: ItemQuery,
    after: InstanceKey | None = None,
    *,
    including: bool = False,
) -> Iterator[ItemView]:
    """`visible_items` after a cursor (ROUND/UNIT/CODE order; from it, `including`), read
    in batches; the filters are checked before this returns, the round is the caller's to
    check (`check_round`: a round outside the scope is 404, not an empty list)."""
    views = services.read.items.stream(
        round_code=round_code,
        state=query.state.strip() or None,
        category=query.category.strip() or None,
        tag=query.tag.strip() or None,
        overdue=query.overdue,
        owner=query.owner.strip() or None,
        include_void=query.include_void,
        page=Page(after=after),
        including=including,
    )
    unit = query.unit.strip().lower()
    return (
        v
        for v in views
        if sees_case(viewer, item_scope(v)) and (not unit or v.unit.lower() == unit)
    )


def visible_tasks(
    services: Services, viewer: Viewer, round_code: str, query: TaskQuery
) -> list[TaskRow]:
    """The round's tasks in the viewer's scope that match the query; 404 if the round is
    outside their scope."""
    check_round(services, viewer, round_code)
    return list(visible_task_stream(services, viewer, round_code, query))


def visible_task_stream(
    services: Services,
    viewer: Viewer,
    round_code: str,
    query: TaskQuery,
    after: InstanceKey | None = None,
) -> Iterator[TaskRow]:
    """`visible_tasks` after a task's key (ROUND/UNIT/ITEM#N: items in key order, each
    item's tasks by number), read in batches of items; the round is the caller's to check
    (`check_round`)."""
    if query.status and query.status not in TASK_STATUSES:
        raise BadInput(f"task status {query.status!r} is not one of open, done")
    items = visible_item_stream(
        services,
        viewer,
        round_code,
        ItemQuery(unit=query.unit, include_void=query.include_void),
        None if after is None else after.owner,
        including=True,
    )
    rows = _task_rows(items, query)
    if after is None or after.task is None:
        return rows
    last = after.task
    return (r for r in rows if r.item.key != after.owner or r.task.number > last)


def _task_rows(items: Iterable[ItemView], query: TaskQuery) -> Iterator[TaskRow]:
    """The tasks of `items` that match the query's status, overdue, pending and owner."""
    owner = query.owner.strip()
    for item in items:
        for task in item.tasks:
            people = (
                task.responsible_leader,
                task.lead_department,
                task.cooperating_departments,
                task.responsible_person,
            )
            if query.status and task.status != query.status:
                continue
            if query.overdue and not task.overdue:
                continue
            if query.pending and task.pending_extension is None:
                continue
            if owner and not any(owner in who for who in people):
                continue
            yield TaskRow(item, task)


# -- the lists ------------------------------------------------------------------------------


@router.get("/rounds/{round_code}/items")
def items_page(
    request: Request,
    round_code: str,
    unit: str = "",
    state: str = "",
    category: str = "",
    tag: str = "",
    owner: str = "",
    overdue: str = "",
    include_void: str = "",
) -> HTMLResponse:
    """The round's problem list (问题清单) as the user sees it, filtered as `item list`."""
    session, user = signed_in(request)
    desk = desk_of(request)
    services = desk.services
    viewer = viewer_of(user)
    cases = visible_cases(services, viewer, round_code)
    query = ItemQuery(unit, state, category, tag, owner, _flag(overdue), _flag(include_void))
    message, status = None, 200
    try:
        items = visible_items(services, viewer, round_code, query)
    except BadInput as exc:
        items, message, status = [], exc.message, 400
    return desk.render(
        "items.html",
        session,
        status,
        **_common(user),
        round_code=cases[0].round if cases else round_code,
        units=_units(cases),
        states=_item_states(services),
        categories=services.read.catalog.categories(),
        tags=services.read.catalog.tags(),
        query=query,
        items=items,
        message=message,
        item_url=item_url,
    )


@router.get("/rounds/{round_code}/tasks")
def tasks_page(
    request: Request,
    round_code: str,
    unit: str = "",
    status: str = "",
    owner: str = "",
    overdue: str = "",
    pending: str = "",
    include_void: str = "",
) -> HTMLResponse:
    """The round's tasks (整改措施) as the user sees them."""
    session, user = signed_in(request)
    desk = desk_of(request)
    services = desk.services
    viewer = viewer_of(user)
    cases = visible_cases(services, viewer, round_code)
    query = TaskQuery(unit, status, owner, _flag(overdue), _flag(pending), _flag(include_void))
    message, code = None, 200
    try:
        rows = visible_tasks(services, viewer, round_code, query)
    except BadInput as exc:
        rows, message, code = [], exc.message, 400
    return desk.render(
        "tasks.html",
        session,
        code,
        **_common(user),
        round_code=cases[0].round if cases else round_code,
        units=_units(cases),
        statuses=TASK_STATUSES,
        query=query,
        rows=rows,
        message=message,
        task_anchor=task_anchor,
        item_url=item_url,
        task_status=task_status,
        task_due=task_due,
    )


def _flag(value: str) -> bool:
    """A checkbox of a filter form: ticked or not (anything unexpected is not)."""
    return value.strip().lower() in ("1", "true", "on", "yes")


def _units(cases: Sequence[CaseView]) -> list[tuple[str, str]]:
    """(code, name) of the units of the cases, by code: the unit filter's choices."""
    return sorted({v.unit: v.unit_name for v in cases}.items())


def _item_states(services: Services) -> list[tuple[str, str]]:
    """(name, title) of the states of the latest item definitions, in lifecycle order."""
    states: dict[str, str] = {}
    for version in services.read.catalog.definitions():
        if version.subject == "item":
            shown = services.read.catalog.definition(version.name, version.version)
            for state in shown.definition.states:
                states.setdefault(state.name, state.title)
    return list(states.items())


# -- an item --------------------------------------------------------------------------------


@router.get("/items/{round_code}/{unit_code}/{item_code}")
def item_page(request: Request, round_code: str, unit_code: str, item_code: str) -> HTMLResponse:
    """An item: its facts, stage, acceptance, tasks (progress, evidence, outcome, extension
    requests), its own outcome, its history, and what the user may do with its tasks."""
    session, user = signed_in(request)
    return _item(request, session, user, round_code, unit_code, item_code)


def _item(
    request: Request,
    session: Session,
    user: UserView,
    round_code: str,
    unit_code: str,
    item_code: str,
    *,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    desk = desk_of(request)
    services = desk.services
    tz = services.settings.tz
    viewer = viewer_of(user)
    view = visible_item(services, viewer, round_code, unit_code, item_code)
    history = services.read.history.of(str(view.key), "item")
    definition = services.read.catalog.definition(view.definition, view.definition_version)
    steps = definition.definition
    state = steps.state(view.state)
    acting = may_act(viewer) and view.voided is None and state.has_tag("tasks_open")
    trigger_titles = {t.trigger: t.title or t.trigger for t in steps.transitions}
    milestone_titles = {m.name: m.title for st in steps.states for m in st.milestones}
    numbers = {t.id: t.number for t in view.tasks}
    stepping = view.voided is None and not view.suspended
    unrecorded = [m.name for m in state.milestones if m.name not in view.milestones]
    possible = [tr.trigger for tr in steps.transitions_from(view.state)]
    return desk.render(
        "item.html",
        session,
        status,
        **_common(user),
        item=view,
        url=item_url(view.key),
        case_link=case_link(view.key),
        source_title=SOURCE_TITLES.get(view.source, view.source),
        acceptance=[(m.title, m.roles, view.milestones.get(m.name)) for m in state.milestones],
        accepted=state.has_tag("accepted"),
        in_acceptance=state.has_tag("acceptance"),
        events=history.events,
        titles=history.state_titles,
        event_titles=EVENT_TITLES,
        task_event_titles=TASK_EVENT_TITLES,
        trigger_titles=trigger_titles,
        milestone_titles=milestone_titles,
        role_titles=ROLE_TITLES,
        tz=tz,
        acting=acting,
        may_request=acting and user.role in REQUEST_ROLES and not state.has_tag("settled"),
        may_decide=may_act(viewer) and user.role in DECISION_ROLES,
        read_only=not may_act(viewer),
        step_milestones=offered_milestones(viewer, steps, view.state, unrecorded)
        if stepping
        else [],
        step_triggers=offered_triggers(viewer, steps, view.state, possible) if stepping else [],
        message=message,
        task_status=task_status,
        task_due=task_due,
        event_detail=lambda event: event_detail(event, numbers),
        today=services.now().astimezone(tz).date(),
    )


@router.post("/items/{round_code}/{unit_code}/{item_code}/milestone")
def item_milestone(
    request: Request,
    round_code: str,
    unit_code: str,
    item_code: str,
    name: FormText = "",
    reason: FormText = "",
    csrf: FormText = "",
    request_id: FormText = "",
) -> Response:
    """Record a milestone of the item's stage (e.g. 巡视办审核 in 申请销号), as `item milestone`."""
    path = (round_code, unit_code, item_code)
    return _step(request, path, "milestone", name, reason, (csrf, request_id))


@router.post("/items/{round_code}/{unit_code}/{item_code}/fire")
def item_fire(
    request: Request,
    round_code: str,
    unit_code: str,
    item_code: str,
    trigger: FormText = "",
    reason: FormText = "",
    csrf: FormText = "",
    request_id: FormText = "",
) -> Response:
    """Move the item along a trigger (e.g. 申请销号, 验收销号, 重新整改), as `item fire`."""
    path = (round_code, unit_code, item_code)
    return _step(request, path, "fire", trigger, reason, (csrf, request_id))


def _step(
    request: Request,
    path: tuple[str, str, str],
    action: str,
    name: str,
    reason: str,
    sent: tuple[str, str],
) -> Response:
    """Take a step of the item; `sent`: the form's CSRF token and request id."""
    csrf, request_id = sent
    session, user = signed_in(request)
    check_csrf(session, csrf)
    desk = desk_of(request)
    viewer = viewer_of(user)
    view = visible_item(desk.services, viewer, *path)
    steps = desk.services.read.catalog.definition(view.definition, view.definition_version)
    if not may_take(viewer, steps.definition, view.state, action, name):
        return _item(
            request, session, user, *path,
            message=f"{ROLE_TITLES[user.role]}只能查看，不能办理。", status=403,
        )  # fmt: skip
    items, key, given = desk.services.items, str(view.key), reason.strip() or None
    try:
        with as_request(request_id, user, request):
            if action == "fire":
                items.fire(key, name, actor=user.name, role=user.role, reason=given)
            else:
                items.record_milestone(key, name, actor=user.name, role=user.role, reason=given)
    except AlreadyDone:
        pass  # the same form sent again: what it did stands
    except XunshiError as exc:
        status = 403 if isinstance(exc, Refused) else 400
        return _item(request, session, user, *path, message=exc.message, status=status)
    return RedirectResponse(item_url(view.key), status_code=303)


@router.post("/items/{round_code}/{unit_code}/{item_code}/tasks/{number}/progress")
def task_progress(
    request: Request,
    round_code: str,
    unit_code: str,
    item_code: str,
    number: str,
    progress: FormText = "",
    csrf: FormText = "",
    request_id: FormText = "",
) -> Response:
    """Note a task's progress (整改进展), as `task update --progress`."""
    fields = {"progress": progress}
    path = (round_code, unit_code, item_code, number)
    return _task_act(request, path, "progress", fields, (csrf, request_id))


@router.post("/items/{round_code}/{unit_code}/{item_code}/tasks/{number}/done")
def task_done(
    request: Request,
    round_code: str,
    unit_code: str,
    item_code: str,
    number: str,
    evidence: FormText = "",
    rules: FormText = "",
    accountable: FormText = "",
    funds: FormText = "",
    csrf: FormText = "",
    request_id: FormText = "",
) -> Response:
    """Mark a task done with its evidence (佐证材料) and what it achieved, as `task done`."""
    fields = {"evidence": evidence, "rules": rules, "accountable": accountable, "funds": funds}
    path = (round_code, unit_code, item_code, number)
    return _task_act(request, path, "done", fields, (csrf, request_id))


@router.post("/items/{round_code}/{unit_code}/{item_code}/tasks/{number}/extend")
def task_extend(
    request: Request,
    round_code: str,
    unit_code: str,
    item_code: str,
    number: str,
    to: FormText = "",
    reason: FormText = "",
    csrf: FormText = "",
    request_id: FormText = "",
) -> Response:
    """Ask for a later due date (延期申请), as `task extend`; nothing moves until approved."""
    fields = {"to": to, "reason": reason}
    path = (round_code, unit_code, item_code, number)
    return _task_act(request, path, "extend", fields, (csrf, request_id))


@router.post("/items/{round_code}/{unit_code}/{item_code}/tasks/{number}/extension")
def task_extension(
    request: Request,
    round_code: str,
    unit_code: str,
    item_code: str,
    number: str,
    decision: FormText = "",
    reason: FormText = "",
    csrf: FormText = "",
    request_id: FormText = "",
) -> Response:
    """Approve (the due date moves) or reject the task's pending extension request, as
    `task extension --approve|--reject`."""
    fields = {"decision": decision, "reason": reason}
    path = (round_code, unit_code, item_code, number)
    return _task_act(request, path, "extension", fields, (csrf, request_id))


def _task_act(
    request: Request,
    path: tuple[str, str, str, str],
    action: str,
    fields: dict[str, str],
    sent: tuple[str, str],
) -> Response:
    """Act on a task; `sent`: the form's CSRF token and request id."""
    csrf, request_id = sent
    session, user = signed_in(request)
    check_csrf(session, csrf)
    desk = desk_of(request)
    viewer = viewer_of(user)
    round_code, unit_code, item_code, number = path
    view = visible_item(desk.services, viewer, round_code, unit_code, item_code)
    task = parse_key(f"{view.key}#{number}", "task")
    if not any(str(t.number) == number.strip() for t in view.tasks):
        raise NotFound(f"{task.label} does not exist")
    if not may_act(viewer):
        return _item(
            request, session, user, round_code, unit_code, item_code,
            message=f"{ROLE_TITLES[user.role]}只能查看，不能办理。", status=403,
        )  # fmt: skip
    try:
        with as_request(request_id, user, request):
            _perform(desk.services, task, action, fields, user)
    except AlreadyDone:
        pass  # the same form sent again: what it did stands
    except NotFound:
        raise
    except XunshiError as exc:
        status = 403 if isinstance(exc, Refused) else 400
        return _item(
            request, session, user, round_code, unit_code, item_code,
            message=exc.message, status=status,
        )  # fmt: skip
    return RedirectResponse(task_anchor(task), status_code=303)


def _perform(
    services: Services, task: InstanceKey, action: str, fields: dict[str, str], user: UserView
) -> None:
    """Call the service of `action` on `task` as the user, with their own role."""
    actor, role = user.name, user.role
    if action == "progress":
        changes = TaskChanges(progress=fields["progress"].strip() or None)
        services.items.update_task(task, changes, actor=actor, role=role)
    elif action == "done":
        outcome = OutcomeFacts(
            rules=tuple(line.strip() for line in fields["rules"].splitlines() if line.strip()),
            accountable=fields["accountable"].strip() or None,
            funds=fields["funds"].strip() or None,
        )
        services.items.complete_task(
            task, evidence=fields["evidence"], actor=actor, role=role, outcome=outcome
        )
    elif action == "extend":
        wanted = parse_date(fields["to"], "the date asked for")
        services.extensions.request(task, wanted, reason=fields["reason"], actor=actor, role=role)
    else:
        decision = fields["decision"]
        if decision not in ("approve", "reject"):
            raise BadInput("choose 批准 (approve) or 驳回 (reject)")
        services.extensions.decide(
            task, approve=decision == "approve", reason=fields["reason"], actor=actor, role=role
        )


def _common(user: UserView) -> dict[str, object]:
    return {"user": user, "role_title": ROLE_TITLES.get(user.role, user.role)}
