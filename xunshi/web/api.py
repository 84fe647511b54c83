"""The JSON API under `/api/v1`: the CLI's `--json` shapes, for the holder of an API token
(`xunshi user token NAME`), within that user's scope. Lists take `limit` and `after` as the
CLI's `--limit` and `--after` (`web/paging.py`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from xunshi.paging import Page, after_key, parse_code_cursor, parse_key_cursor
from xunshi.read.users import UserView
from xunshi.web.access import (
    token_user,
    viewer_of,
    visible_case,
    visible_case_stream,
    visible_rounds,
)
from xunshi.web.desk import desk_of
from xunshi.web.paging import PAGED, after_query, api_page, limit_query, page_of
from xunshi.web.schemas import BAD_FILTER, REFUSALS, CaseShape, RoundShape

router = APIRouter(prefix="/api/v1", tags=["xunshi"], responses=REFUSALS)
TokenUser = Annotated[UserView, Depends(token_user)]
Limit = Annotated[str | None, limit_query()]


@router.get("/rounds", response_model=list[RoundShape], responses=PAGED | BAD_FILTER)
def list_rounds(
    request: Request,
    response: Response,
    user: TokenUser,
    limit: Limit = None,
    after: Annotated[
        str | None,
        after_query(
            "code",
            "Only the rounds after the one with this code (rounds come in the order they were "
            "created); a code not in the list is 404.",
        ),
    ] = None,
) -> list[dict[str, Any]]:
    """The rounds the token's user sees (as `round list --json`), in the order they were
    created."""
    page = api_page(limit, after, lambda text: parse_code_cursor(text, "after"))
    services = desk_of(request).services
    rounds = visible_rounds(services, viewer_of(user))
    following = after_key(rounds, lambda r: r.code, Page(after=page.after), "round", "after")
    return [r.to_json() for r in page_of(request, response, following, page, lambda r: r.code)]


@router.get(
    "/rounds/{round_code}/cases", response_model=list[CaseShape], responses=PAGED | BAD_FILTER
)
def list_cases(
    request: Request,
    response: Response,
    round_code: str,
    user: TokenUser,
    limit: Limit = None,
    after: Annotated[
        str | None,
        after_query("case", "Only the cases after this key, ROUND/UNIT (cases come by key)."),
    ] = None,
) -> list[dict[str, Any]]:
    """The round's cases in the user's scope (as `case list --round R --json`), by key."""
    page = api_page(limit, after, lambda text: parse_key_cursor(text, "case", "after"))
    services = desk_of(request).services
    tz = services.settings.tz
    views = visible_case_stream(services, viewer_of(user), round_code, page.after)
    shown = page_of(request, response, views, page, lambda v: str(v.key))
    return [v.to_json(tz) for v in shown]


@router.get("/cases/{round_code}/{unit_code}", response_model=CaseShape)
def show_case(request: Request, round_code: str, unit_code: str, user: TokenUser) -> dict[str, Any]:
    """One case, if the user sees it (as `case show R/U --json`); else 404."""
    services = desk_of(request).services
    view = visible_case(services, viewer_of(user), round_code, unit_code)
    return view.to_json(services.settings.tz)
