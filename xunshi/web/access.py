"""Who is asking and what they may see: the signed-in user (or the API token's), their
viewer, and the rounds and cases within their scope — everything else is hidden (404)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import HTTPException, Request

from xunshi.bootstrap import Services
from xunshi.errors import NotFound
from xunshi.idempotency import Request as CommandRequest
from xunshi.idempotency import checked_request_id, new_request_id, using
from xunshi.keys import InstanceKey
from xunshi.paging import Page
from xunshi.read.cases import CaseView
from xunshi.read.catalog import RoundInfo
from xunshi.read.users import UserView
from xunshi.web.desk import SignInNeeded, desk_of
from xunshi.web.scope import CaseScope, Viewer, sees_case, sees_whole_round
from xunshi.web.sessions import COOKIE, Session

CSRF_REFUSED = "表单已失效（安全校验未通过），请刷新页面后重试"


def session_of(request: Request) -> Session:
    """The session the request's cookie holds (a new anonymous one if none)."""
    return desk_of(request).sessions.load(request.cookies.get(COOKIE))


def signed_in(request: Request) -> tuple[Session, UserView]:
    """The session and its user; to the sign-in page if nobody (enabled) is signed in."""
    session = session_of(request)
    user = None
    if session.user_id is not None:
        user = desk_of(request).services.users.by_id(session.user_id)
    if user is None:
        raise SignInNeeded(expired=session.expired)
    return session, user


@contextmanager
def as_request(sent: str, user: UserView, request: Request) -> Iterator[None]:
    """Run a form's command as the request its form names (`xunshi.idempotency`): the id
    the form carried (a new one if it carried none), the user and the action as the
    command, so that an id sent again by anyone else, or for another action, is refused."""
    rid = checked_request_id(sent.strip()) if sent.strip() else new_request_id()
    command = f"desk {user.name}: POST {request.url.path}"
    with using(CommandRequest(rid, command)):
        yield


def check_csrf(session: Session, sent: str) -> None:
    """Refuse (403) a form that did not send back the session's CSRF token."""
    if not session.csrf_matches(sent):
        raise HTTPException(403, CSRF_REFUSED)


def token_user(request: Request) -> UserView:
    """The user of the request's bearer token; 401 without a valid one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    user = None
    if scheme.lower() == "bearer" and token.strip():
        user = desk_of(request).services.users.by_token(token.strip())
    if user is None:
        raise HTTPException(
            401, "a valid API token is needed", headers={"WWW-Authenticate": "Bearer"}
        )
    return user


def viewer_of(user: UserView) -> Viewer:
    """What scoping knows of a user."""
    return Viewer(user.name, user.role, user.round, user.group, user.unit)


def scope_of(view: CaseView) -> CaseScope:
    """What scoping knows of a case."""
    return CaseScope(view.round, view.group, view.unit)


def visible_cases(services: Services, viewer: Viewer, round_code: str) -> list[CaseView]:
    """The round's cases the viewer sees; 404 if the round is outside their scope."""
    views = services.read.cases.many(round_code=round_code)
    shown = [v for v in views if sees_case(viewer, scope_of(v))]
    if not shown and not _round_in_scope(viewer, round_code):
        raise NotFound(f"round {round_code} does not exist")
    return shown


def visible_case_stream(
    services: Services, viewer: Viewer, round_code: str, after: InstanceKey | None = None
) -> Iterator[CaseView]:
    """`visible_cases` after a cursor (ROUND/UNIT order), read in batches: never more than
    a batch held, whatever the round's size. 404 if the round is outside the scope."""
    check_round(services, viewer, round_code)
    views = services.read.cases.stream(round_code=round_code, page=Page(after=after))
    return (v for v in views if sees_case(viewer, scope_of(v)))


def check_round(services: Services, viewer: Viewer, round_code: str) -> None:
    """404 unless the round exists and the viewer sees it (their own, or a case of it)."""
    views = services.read.cases.stream(round_code=round_code)
    if not _round_in_scope(viewer, round_code) and not any(
        sees_case(viewer, scope_of(v)) for v in views
    ):
        raise NotFound(f"round {round_code} does not exist")


def visible_rounds(services: Services, viewer: Viewer) -> list[RoundInfo]:
    """The rounds the viewer sees: every one, or those with a case in their scope."""
    rounds = services.read.catalog.rounds()
    if sees_whole_round(viewer):
        return rounds
    seen = {v.round for v in services.read.cases.many() if sees_case(viewer, scope_of(v))}
    return [r for r in rounds if r.code in seen or _is_own_round(viewer, r.code)]


def visible_case(services: Services, viewer: Viewer, round_code: str, unit_code: str) -> CaseView:
    """Case ROUND/UNIT if the viewer sees it; else 404, as if it did not exist."""
    view = services.read.cases.one(f"{round_code}/{unit_code}")
    if not sees_case(viewer, scope_of(view)):
        raise NotFound(f"case {round_code}/{unit_code} does not exist")
    return view


def _round_in_scope(viewer: Viewer, round_code: str) -> bool:
    return sees_whole_round(viewer) or _is_own_round(viewer, round_code)


def _is_own_round(viewer: Viewer, round_code: str) -> bool:
    return viewer.round is not None and viewer.round.lower() == round_code.lower()
