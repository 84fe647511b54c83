"""Paged lists: at most `limit` records after a cursor, in a list's stable, total order.

A list is ordered by a unique key (a case by ROUND/UNIT, an escalation by its number, a
round by its code), and a page is the records after a cursor, that key of the last record
of the previous page: so `--after <last key>` gives the next page with nothing skipped or
repeated. The large lists (cases, items) are read in keyset batches (`keyset`), each in a
short read of its own, so that memory does not grow with them; the small ones page over
what they load (`after_key`). Imports nothing of the project but its leaves, and no
SQLAlchemy: the CLI parses its options with it before anything is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, Generic, TypeVar

from xunshi.errors import BadInput
from xunshi.keys import EXAMPLES, InstanceKey, Kind, key_form, parse_key
from xunshi.texts import check_number

K = TypeVar("K")
T = TypeVar("T")

# Records read per batch (one short read each) when a list streams. Each batch sorts the
# list's keys again, so fewer, larger batches are faster (20,000 cases: 5.4 s in batches
# of 500, 4.2 s of 2,000, 3.5 s whole); 2,000 views are a few MiB, so memory stays flat.
BATCH = 2000


@dataclass(frozen=True, slots=True)
class Page(Generic[K]):
    """Which part of a list: the records after `after` (all if None), at most `limit`."""

    limit: int | None = None
    after: K | None = None

    def take(self, records: Iterator[T] | Sequence[T]) -> Iterator[T]:
        """At most `limit` of `records`."""
        return islice(records, self.limit)


# The whole list: no cursor, no limit.
WHOLE: Page[Any] = Page()


def parse_limit(text: str, what: str = "--limit") -> int:
    """A page's size as typed: a positive whole number in ASCII digits."""
    return check_number(what, text, minimum=1, noun="a positive whole number")


def parse_key_cursor(text: str, kind: Kind, what: str = "--after") -> InstanceKey:
    """A cursor that is a key (`2025-R1/U07`, `2025-R1/U07/P01`, …), never a number."""
    try:
        return parse_key(text, kind)
    except BadInput:
        raise BadInput(
            f"{what} {text!r} is not {_article(kind)} {kind} key: {key_form(kind)}, "
            f"e.g. {EXAMPLES[kind]}"
        ) from None


def parse_number_cursor(text: str, what: str = "--after") -> int:
    """A cursor that is a record's number (an escalation's, a request's)."""
    return check_number(what, text.strip().removeprefix("#"), minimum=1, noun="a number")


def parse_code_cursor(text: str, what: str = "--after") -> str:
    """A cursor that is a code or a name (a round's, a unit's, a user's): not blank."""
    if not text.strip():
        raise BadInput(f"{what} must not be blank")
    return text.strip()


def keyset(
    fetch: Callable[[K | None, int], tuple[Sequence[T], K | None]],
    page: Page[K],
    size: int = BATCH,
) -> Iterator[T]:
    """The page's records, read `size` at a time: `fetch(after, n)` reads at most `n` rows
    after the cursor and returns the records they make (a filter may drop some) with the
    key of the last row read, or None when there were fewer than `n` (the list's end)."""
    after, left = page.after, page.limit
    while left is None or left > 0:
        records, last = fetch(after, size if left is None else min(size, left))
        yield from records
        if left is not None:
            left -= len(records)
        if last is None:
            return
        after = last


def after_key(
    records: Sequence[T],
    key: Callable[[T], K],
    page: Page[K],
    what: str,
    option: str = "--after",
) -> list[T]:
    """The page of a list loaded whole: the records after the one whose key is the cursor
    (which must name a record of the list, `what` saying what the list holds)."""
    start = 0
    if page.after is not None:
        found = next((n for n, r in enumerate(records) if key(r) == page.after), None)
        if found is None:
            raise BadInput(f"{option} {page.after}: no such {what} in the list")
        start = found + 1
    return list(page.take(records[start:]))


def _article(kind: Kind) -> str:
    return "an" if kind == "item" else "a"
