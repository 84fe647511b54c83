"""The JSON API under `/api/v1`: the CLI's `--json` shapes, for the holder of an API token
(`xunshi user token NAME`), within that user's scope."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from xunshi.read.users import UserView
from xunshi.web.access import token_user, viewer_of, visible_case, visible_cases, visible_rounds
from xunshi.web.desk import desk_of
from xunshi.web.schemas import REFUSALS, CaseShape, RoundShape

router = APIRouter(prefix="/api/v1", tags=["xunshi"], responses=REFUSALS)
TokenUser = Annotated[UserView, Depends(token_user)]


@router.get("/rounds", response_model=list[RoundShape])
def list_rounds(request: Request, user: TokenUser) -> list[dict[str, Any]]:
    """The rounds the token's user sees (as `round list --json`)."""
    services = desk_of(request).services
    return [r.to_json() for r in visible_rounds(services, viewer_of(user))]


@router.get("/rounds/{round_code}/cases", response_model=list[CaseShape])
def list_cases(request: Request, round_code: str, user: TokenUser) -> list[dict[str, Any]]:
    """The round's cases in the user's scope (as `case list --round R --json`)."""
    services = desk_of(request).services
    tz = services.settings.tz
    return [v.to_json(tz) for v in visible_cases(services, viewer_of(user), round_code)]


@router.get("/cases/{round_code}/{unit_code}", response_model=CaseShape)
def show_case(request: Request, round_code: str, unit_code: str, user: TokenUser) -> dict[str, Any]:
    """One case, if the user sees it (as `case show R/U --json`); else 404."""
    services = desk_of(request).services
    view = visible_case(services, viewer_of(user), round_code, unit_code)
    return view.to_json(services.settings.tz)
