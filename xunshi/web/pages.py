"""The desk's pages: sign-in, rounds, a round's overview, a case (post/redirect/get forms).

Every page needs a signed-in user and shows only what their scope allows; every POST checks
the session's CSRF token before anything else, and records with the user's own name and role.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xunshi.errors import BadInput, Refused, XunshiError
from xunshi.idempotency import AlreadyDone
from xunshi.read.cases import CaseView
from xunshi.read.overview import RoundGlance
from xunshi.read.users import UserView
from xunshi.texts import ROLE_TITLES
from xunshi.timeparse import parse_instant
from xunshi.web import timeline
from xunshi.web.access import (
    as_request,
    check_csrf,
    session_of,
    signed_in,
    viewer_of,
    visible_case,
    visible_cases,
    visible_rounds,
)
from xunshi.web.actions import may_take, offered_milestones, offered_triggers
from xunshi.web.desk import desk_of
from xunshi.web.scope import SUPERVISORS
from xunshi.web.sessions import Session, anonymous

router = APIRouter(include_in_schema=False)

# What each kind of event is called in a case's history.
EVENT_TITLES = {
    "started": "开始",
    "transition": "流转",
    "milestone": "记录节点",
    "suspended": "暂停",
    "resumed": "恢复",
    "note": "备注",
    "voided": "撤销",
    "evaluated": "整改评估",
    "deadline": "时限调整",
    "escalation": "预警督办",
    "migrated": "升级定义",
    "unit_renamed": "单位更名",
    "leader_changed": "更换组长",
    "task": "整改任务",
    "facts": "事实更新",
    "link": "关联",
    "outcome": "整改成果",
}
# A stage due within this many days is shown yellow (黄), past its date red (红).
DUE_SOON_DAYS = 3
FormText = Annotated[str, Form()]


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def case_url(view: CaseView) -> str:
    """The case page's address."""
    return f"/cases/{quote(view.round, safe='')}/{quote(view.unit, safe='')}"


def due_status(view: CaseView) -> str:
    """红 past the due date, 黄 due within three days, 绿 on time, 无 without a due date."""
    if view.due_on is None or view.final:
        return "none"
    if view.overdue:
        return "red"
    if view.days_left is not None and view.days_left <= DUE_SOON_DAYS:
        return "yellow"
    return "green"


# -- signing in and out -----------------------------------------------------------------


@router.get("/signin")
def sign_in_page(request: Request, expired: int = 0) -> HTMLResponse:
    """The sign-in form."""
    session = session_of(request)
    message = "登录已超过 8 小时，请重新登录。" if expired or session.expired else None
    return desk_of(request).render("signin.html", session, user=None, message=message)


@router.post("/signin")
def sign_in(
    request: Request, name: FormText = "", password: FormText = "", csrf: FormText = ""
) -> Response:
    """Check the name and password; on success a new session (and CSRF token)."""
    desk = desk_of(request)
    session = session_of(request)
    check_csrf(session, csrf)
    try:
        user = desk.services.users.sign_in(name.strip(), password)
    except Refused as exc:
        time.sleep(desk.failure_delay)
        return desk.render(
            "signin.html", session, 401, user=None, message=_sign_in_message(exc), name=name
        )
    response = _see_other("/rounds")
    desk.keep(response, Session(user.id, anonymous().csrf))
    return response


def _sign_in_message(exc: Refused) -> str:
    if exc.message.startswith("too many failed sign-ins"):
        return "连续登录失败次数过多，该账号已暂时锁定 15 分钟，请稍后再试。"
    if exc.message.endswith("is disabled"):
        return "该账号已停用，请联系巡视办。"
    return "用户名或密码错误。"


@router.post("/signout")
def sign_out(request: Request, csrf: FormText = "") -> Response:
    """End the session."""
    session, _user = signed_in(request)
    check_csrf(session, csrf)
    response = _see_other("/signin")
    desk_of(request).keep(response, anonymous())
    return response


# -- rounds -------------------------------------------------------------------------------


@router.get("/")
def home(request: Request) -> Response:
    """The rounds."""
    signed_in(request)
    return _see_other("/rounds")


@router.get("/rounds")
def rounds_page(request: Request) -> HTMLResponse:
    """The rounds the user sees."""
    session, user = signed_in(request)
    desk = desk_of(request)
    rounds = visible_rounds(desk.services, viewer_of(user))
    return desk.render("rounds.html", session, **_common(user), rounds=rounds)


@dataclass(frozen=True, slots=True)
class LevelCount:
    """Escalations of one level in the round (as the user sees it)."""

    title: str
    count: int


@router.get("/rounds/{round_code}")
def round_page(request: Request, round_code: str) -> HTMLResponse:
    """A round at a glance: stage × unit matrix, counts, overdue, escalations, timeline."""
    session, user = signed_in(request)
    desk = desk_of(request)
    viewer = viewer_of(user)
    cases = visible_cases(desk.services, viewer, round_code)
    glance = desk.services.read.overview.glance(round_code, cases)
    units = {v.unit for v in cases}
    kinds = sorted({v.definition_title for v in cases})
    counts = Counter((v.state_title, v.definition_title) for v in cases)
    raised = [r for r in glance.raised if r.unit in units]
    titles = glance.level_titles()
    by_level: Counter[int] = Counter()
    for r in raised:
        if r.level > 0:
            by_level[r.level] += r.count
    levels = [LevelCount(titles[level], by_level[level]) for level in sorted(by_level)]
    tasks = [t for t in glance.overdue_tasks if t.key.unit in units]
    urls = {v.id: case_url(v) for v in cases}  # each quoted once: a round has many rows
    picture = timeline.draw(
        _lines(glance, cases, urls), desk.services.now(), desk.services.settings.tz
    )
    return desk.render(
        "round.html",
        session,
        **_common(user),
        round=glance.round,
        as_of=glance.as_of,
        cases=cases,
        stages=glance.stages,
        kinds=kinds,
        counts=counts,
        overdue=[v for v in cases if v.overdue],
        tasks=tasks,
        levels=levels,
        reminders=sum(r.count for r in raised if r.level == 0),
        timeline=picture,
        due_status=due_status,
        case_url=lambda view: urls[view.id],
    )


def _lines(
    glance: RoundGlance, cases: list[CaseView], urls: dict[int, str]
) -> list[timeline.CaseLine]:
    lines = []
    for view in cases:
        found = glance.entries.get(view.id)
        lines.append(
            timeline.CaseLine(
                label=f"{view.unit} {view.unit_name}",
                href=urls[view.id],
                spans=()
                if found is None
                else timeline.spans_from(found.entered, found.state_titles),
                due_on=None if view.final else view.due_on,
                overdue=view.overdue,
                final=view.final,
            )
        )
    return lines


# -- a case -------------------------------------------------------------------------------


@router.get("/cases/{round_code}/{unit_code}")
def case_page(
    request: Request, round_code: str, unit_code: str, as_of: str | None = None
) -> HTMLResponse:
    """A case: its stages, due date, milestones, history and what may be done now."""
    session, user = signed_in(request)
    return _case(request, session, user, round_code, unit_code, as_of=as_of)


def _case(
    request: Request,
    session: Session,
    user: UserView,
    round_code: str,
    unit_code: str,
    *,
    as_of: str | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    desk = desk_of(request)
    services = desk.services
    tz = services.settings.tz
    viewer = viewer_of(user)
    view = visible_case(services, viewer, round_code, unit_code)
    moment = None
    if as_of:
        try:
            moment = parse_instant(as_of, tz, "as_of", end_of_day=True)
            view = services.read.cases.as_of(str(view.key), moment)
        except BadInput as exc:
            message, status, moment = exc.message, 400, None
    history = services.read.history.of(str(view.key))
    events = [e for e in history.events if moment is None or e.occurred_at <= moment]
    stages = timeline.spans_from(
        [(e.occurred_at, e.to_state) for e in events], history.state_titles
    )
    acting = moment is None and view.voided is None
    definition = services.read.catalog.definition(view.definition, view.definition_version)
    steps = definition.definition
    unrecorded = [m.name for m in view.milestones if m.recorded_at is None]
    trigger_titles = {t.trigger: t.title or t.trigger for t in steps.transitions}
    milestone_titles = {m.name: m.title for st in steps.states for m in st.milestones}
    return desk.render(
        "case.html",
        session,
        status,
        **_common(user),
        case=view,
        url=case_url(view),
        stages=stages,
        events=events,
        titles=history.state_titles,
        event_titles=EVENT_TITLES,
        role_titles=ROLE_TITLES,
        trigger_titles=trigger_titles,
        milestone_titles=milestone_titles,
        tz=tz,
        as_of=moment,
        acting=acting,
        open_milestones=offered_milestones(viewer, steps, view.state, unrecorded) if acting else [],
        triggers=offered_triggers(viewer, steps, view.state, view.triggers) if acting else [],
        read_only=viewer.role in SUPERVISORS,
        message=message,
        due_status=due_status(view),
    )


@router.post("/cases/{round_code}/{unit_code}/fire")
def fire(
    request: Request,
    round_code: str,
    unit_code: str,
    trigger: FormText = "",
    reason: FormText = "",
    csrf: FormText = "",
    request_id: FormText = "",
) -> Response:
    """Fire a trigger of the case as the signed-in user, with their role."""
    return _act(request, (round_code, unit_code), "fire", trigger, reason, (csrf, request_id))


@router.post("/cases/{round_code}/{unit_code}/milestone")
def milestone(
    request: Request,
    round_code: str,
    unit_code: str,
    name: FormText = "",
    reason: FormText = "",
    csrf: FormText = "",
    request_id: FormText = "",
) -> Response:
    """Record a milestone of the case's current stage as the signed-in user."""
    return _act(request, (round_code, unit_code), "milestone", name, reason, (csrf, request_id))


def _act(
    request: Request,
    path: tuple[str, str],
    action: str,
    name: str,
    reason: str,
    sent: tuple[str, str],
) -> Response:
    """Take a step of the case; `sent`: the form's CSRF token and request id."""
    round_code, unit_code = path
    csrf, request_id = sent
    session, user = signed_in(request)
    check_csrf(session, csrf)
    desk = desk_of(request)
    viewer = viewer_of(user)
    view = visible_case(desk.services, viewer, round_code, unit_code)
    steps = desk.services.read.catalog.definition(view.definition, view.definition_version)
    if not may_take(viewer, steps.definition, view.state, action, name):
        return _case(
            request, session, user, round_code, unit_code,
            message=f"{ROLE_TITLES[user.role]}只能查看，不能办理。", status=403,
        )  # fmt: skip
    cases = desk.services.cases
    given = reason.strip() or None
    try:
        with as_request(request_id, user, request):
            if action == "fire":
                cases.fire(str(view.key), name, actor=user.name, role=user.role, reason=given)
            else:
                cases.record_milestone(
                    str(view.key), name, actor=user.name, role=user.role, reason=given
                )
    except AlreadyDone:
        pass  # the same form sent again: what it did stands
    except XunshiError as exc:
        status = 403 if isinstance(exc, Refused) else 400
        return _case(
            request, session, user, round_code, unit_code, message=exc.message, status=status
        )
    return _see_other(case_url(view))


def _common(user: UserView) -> dict[str, object]:
    return {"user": user, "role_title": ROLE_TITLES.get(user.role, user.role)}
