"""The problem list in the JSON API under `/api/v1`: a round's items (as `item list --json`),
one item (as `item show --json`) and a round's tasks, within the token user's scope."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from xunshi.errors import BadInput
from xunshi.read.users import UserView
from xunshi.web.access import token_user, viewer_of, visible_cases
from xunshi.web.desk import desk_of
from xunshi.web.items import ItemQuery, TaskQuery, visible_item, visible_items, visible_tasks
from xunshi.web.schemas import BAD_FILTER, REFUSALS

router = APIRouter(prefix="/api/v1", tags=["xunshi"], responses=REFUSALS)
TokenUser = Annotated[UserView, Depends(token_user)]


@router.get("/rounds/{round_code}/items", responses=BAD_FILTER)
def list_items(
    request: Request,
    round_code: str,
    user: TokenUser,
    unit: str = "",
    state: str = "",
    category: str = "",
    tag: str = "",
    owner: str = "",
    overdue: bool = False,
    include_void: bool = False,
) -> list[dict[str, Any]]:
    """The round's items in the user's scope (as `item list --round R --json`), with the
    same filters; a filter naming nothing (an unknown state) is 400."""
    services = desk_of(request).services
    viewer = viewer_of(user)
    visible_cases(services, viewer, round_code)
    query = ItemQuery(unit, state, category, tag, owner, overdue, include_void)
    try:
        views = visible_items(services, viewer, round_code, query)
    except BadInput as exc:
        raise HTTPException(400, exc.message) from None
    tz = services.settings.tz
    return [v.to_json(tz) for v in views]


@router.get("/items/{round_code}/{unit_code}/{item_code}")
def show_item(
    request: Request, round_code: str, unit_code: str, item_code: str, user: TokenUser
) -> dict[str, Any]:
    """One item, if the user sees its case (as `item show R/U/C --json`); else 404."""
    services = desk_of(request).services
    view = visible_item(services, viewer_of(user), round_code, unit_code, item_code)
    return view.to_json(services.settings.tz)


@router.get("/rounds/{round_code}/tasks", responses=BAD_FILTER)
def list_tasks(
    request: Request,
    round_code: str,
    user: TokenUser,
    unit: str = "",
    status: str = "",
    owner: str = "",
    overdue: bool = False,
    pending: bool = False,
    include_void: bool = False,
) -> list[dict[str, Any]]:
    """The round's tasks in the user's scope: each as `task show --json`, with its key
    (`task`, ROUND/UNIT/ITEM#N) and its item's key (`item`) in front."""
    services = desk_of(request).services
    viewer = viewer_of(user)
    visible_cases(services, viewer, round_code)
    query = TaskQuery(unit, status, owner, overdue, pending, include_void)
    try:
        rows = visible_tasks(services, viewer, round_code, query)
    except BadInput as exc:
        raise HTTPException(400, exc.message) from None
    tz = services.settings.tz
    return [{"task": str(r.key), "item": str(r.item.key), **r.task.to_json(tz)} for r in rows]
