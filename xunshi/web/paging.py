"""Paged API lists: `limit` and `after` as the CLI's `--limit` and `--after`, a 400 for a
bad one, and a `Link: <…>; rel="next"` header while more records follow."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any, TypeVar

from fastapi import HTTPException, Query, Request, Response

from xunshi.errors import BadInput
from xunshi.paging import Page, parse_limit

K = TypeVar("K")
T = TypeVar("T")

# What the parameters look like, for the OpenAPI document only (FastAPI would answer 422
# for a mismatch; the API answers 400, as for a filter that names nothing).
# Control characters are left out: Python's strip() takes \x1c–\x1f and \x85 for space,
# a JSON Schema (ECMA) `\s` does not, and a part that strips to nothing is refused.
_CHAR = r"[^/#:\x00-\x1f\x7f-\x9f]"
_PART = rf"{_CHAR}*[^/#:\s\x00-\x1f\x7f-\x9f]{_CHAR}*"
PATTERNS = {
    "limit": r"^[1-9][0-9]{0,8}$",
    "code": r"[^\s\x00-\x1f\x7f-\x9f]",
    "case": rf"^{_PART}/{_PART}$",
    "item": rf"^{_PART}/{_PART}/{_PART}$",
    "task": rf"^{_PART}/{_PART}/{_PART}#[0-9]{{1,9}}$",
}


def limit_query() -> Any:
    """The `limit` parameter."""
    return Query(
        description="At most this many records (a positive whole number).",
        json_schema_extra={"pattern": PATTERNS["limit"]},
    )


def after_query(form: str, description: str) -> Any:
    """The `after` parameter: a cursor of `form` (a key of PATTERNS)."""
    return Query(description=description, json_schema_extra={"pattern": PATTERNS[form]})


# The documented answers of a paged list besides its own shape.
PAGED: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            "Link": {
                "description": 'The next page, `<URL>; rel="next"`, while more records follow '
                "a page of `limit`",
                "schema": {"type": "string"},
            }
        }
    },
}


def api_page(limit: str | None, after: str | None, cursor: Callable[[str], K]) -> Page[K]:
    """The page a request asks for; 400 if `limit` or `after` does not parse."""
    try:
        return Page(
            None if limit is None else parse_limit(limit, "limit"),
            None if after is None else cursor(after),
        )
    except BadInput as exc:
        raise HTTPException(400, exc.message) from None


def page_of(
    request: Request,
    response: Response,
    records: Iterable[T],
    page: Page[Any],
    key: Callable[[T], str],
) -> list[T]:
    """At most `page.limit` of `records` (read one further, to know whether more follow:
    then the answer links to the next page, after the last key of this one)."""
    if page.limit is None:
        return list(records)
    taken = list(islice(records, page.limit + 1))
    shown = taken[: page.limit]
    if len(taken) > page.limit:
        following = request.url.include_query_params(after=key(shown[-1]), limit=page.limit)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return shown
