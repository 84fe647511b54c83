"""The office's ordered lists (categories, business-domain tags): made what a file says."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Table

K = TypeVar("K", bound=Hashable)


def gone_from(current: Mapping[K, int], wanted: Sequence[K]) -> list[K]:
    """The entries of the list that the file no longer names."""
    kept = set(wanted)
    return [key for key in current if key not in kept]


def make_list(
    conn: Connection,
    table: Table,
    current: Mapping[K, int],
    wanted: Sequence[K],
    values: Callable[[K], dict[str, Any]],
) -> tuple[int, int, int]:
    """Make `table` (rows with an id and a position) hold `wanted` in its order: remove what
    is gone, move what stays, insert what is new with `values(key)`; (added, kept, removed).

    `current` maps each entry now in the table to its row id; the caller has refused the
    removal of anything still in use.
    """
    gone = gone_from(current, wanted)
    for key in gone:
        conn.execute(table.delete().where(table.c.id == current[key]))
    added = 0
    for position, key in enumerate(wanted):
        if key in current:
            conn.execute(table.update().where(table.c.id == current[key]).values(position=position))
        else:
            conn.execute(table.insert(), {**values(key), "position": position})
            added += 1
    return added, len(wanted) - added, len(gone)
