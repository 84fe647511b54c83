"""The problem list in the JSON API under `/api/v1`: a round's items (as `item list --json`),
one item (as `item show --json`) and a round's tasks, within the token user's scope; the
lists paged as the CLI's (`limit`, `after`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from xunshi.errors import BadInput
from xunshi.paging import parse_key_cursor
from xunshi.read.users import UserView
from xunshi.web.access import check_round, token_user, viewer_of
from xunshi.web.desk import desk_of
from xunshi.web.items import (
    ItemQuery,
    TaskQuery,
    visible_item,
    visible_item_stream,
    visible_task_stream,
)
from xunshi.web.paging import PAGED, after_query, api_page, limit_query, page_of
from xunshi.web.schemas import BAD_FILTER, REFUSALS

router = APIRouter(prefix="/api/v1", tags=["xunshi"], responses=REFUSALS)
TokenUser = Annotated[UserView, Depends(token_user)]
Limit = Annotated[str | None, limit_query()]
T = TypeVar("T")


@router.get("/rounds/{round_code}/items", responses=PAGED | BAD_FILTER)
def list_items(
    request: Request,
    response: Response,
    round_code: str,
    user: TokenUser,
    unit: str = "",
    state: str = "",
    category: str = "",
    tag: str = "",
    owner: str = "",
    overdue: bool = False,
    include_void: bool = False,
    limit: Limit = None,
    after: Annotated[
        str | None,
        after_query("item", "Only the items after this key, ROUND/UNIT/CODE (items come by key)."),
    ] = None,
) -> list[dict[str, Any]]:
    """The round's items in the user's scope (as `item list --round R --json`), with the
    same filters, by key; a filter naming nothing (an unknown state) is 400."""
    page = api_page(limit, after, lambda text: parse_key_cursor(text, "item", "after"))
    services = desk_of(request).services
    query = ItemQuery(unit, state, category, tag, owner, overdue, include_void)
    check_round(services, viewer_of(user), round_code)
    views = _filtered(
        lambda: visible_item_stream(services, viewer_of(user), round_code, query, page.after)
    )
    tz = services.settings.tz
    return [v.to_json(tz) for v in page_of(request, response, views, page, lambda v: str(v.key))]


@router.get("/items/{round_code}/{unit_code}/{item_code}")
def show_item(
    request: Request, round_code: str, unit_code: str, item_code: str, user: TokenUser
) -> dict[str, Any]:
    """One item, if the user sees its case (as `item show R/U/C --json`); else 404."""
    services = desk_of(request).services
    view = visible_item(services, viewer_of(user), round_code, unit_code, item_code)
    return view.to_json(services.settings.tz)


@router.get("/rounds/{round_code}/tasks", responses=PAGED | BAD_FILTER)
def list_tasks(
    request: Request,
    response: Response,
    round_code: str,
    user: TokenUser,
    unit: str = "",
    status: str = "",
    owner: str = "",
    overdue: bool = False,
    pending: bool = False,
    include_void: bool = False,
    limit: Limit = None,
    after: Annotated[
        str | None,
        after_query(
            "task",
            "Only the tasks after this key, ROUND/UNIT/ITEM#N (tasks come by their item's "
            "key, then number).",
        ),
    ] = None,
) -> list[dict[str, Any]]:
    """The round's tasks in the user's scope: each as `task show --json`, with its key
    (`task`, ROUND/UNIT/ITEM#N) and its item's key (`item`) in front."""
    page = api_page(limit, after, lambda text: parse_key_cursor(text, "task", "after"))
    services = desk_of(request).services
    query = TaskQuery(unit, status, owner, overdue, pending, include_void)
    check_round(services, viewer_of(user), round_code)
    rows = _filtered(
        lambda: visible_task_stream(services, viewer_of(user), round_code, query, page.after)
    )
    tz = services.settings.tz
    return [
        {"task": str(r.key), "item": str(r.item.key), **r.task.to_json(tz)}
        for r in page_of(request, response, rows, page, lambda r: str(r.key))
    ]


def _filtered(find: Callable[[], Iterator[T]]) -> Iterator[T]:
    """The records `find` streams; a filter that names nothing is 400 (a round outside the
    scope stays 404)."""
    try:
        return find()
    except BadInput as exc:
        raise HTTPException(400, exc.message) from None
