"""Common problems (共性问题), computed: the same category and tag in at least N units.

An item is a common problem when, for one of its business-domain tags, the round's items
of its category that carry that tag belong to at least N units (`XUNSHI_COMMON_PROBLEM_UNITS`,
default 3). Void items count for nothing. Nobody types it: it changes as soon as an item's
category or tags change (`item update`), or an item is added or voided. Key problems
(重点问题) stay a judgement the office records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, distinct, func, select

from xunshi.keys import InstanceKey
from xunshi.read.catalog import RoundInfo, round_info
from xunshi.read.context import ReadContext
from xunshi.storage import queries as q

# (round code, 一级类别, 二级类别, tag)
PairKey = tuple[str, str, str, str]


@dataclass(frozen=True, slots=True)
class Pair:
    """One category × tag of a round: the units whose items have both, and those items."""

    level1: str
    level2: str
    tag: str
    units: dict[str, str] = field(default_factory=dict)  # unit code → name
    items: list[InstanceKey] = field(default_factory=list)


def pairs(conn: Connection, round_codes: Iterable[str]) -> dict[PairKey, Pair]:
    """Every category × tag of the rounds' live items, with its units and items."""
    codes = sorted(set(round_codes))
    if not codes:
        return {}
    it, i, c, r, u, cat, t, itag = (
        q.items,
        q.instances,
        q.cases,
        q.rounds,
        q.units,
        q.categories,
        q.tags,
        q.item_tags,
    )
    rows = conn.execute(
        select(r.c.code, cat.c.level1, cat.c.level2, t.c.name, u.c.code, u.c.name, it.c.code)
        .select_from(it)
        .join(i, i.c.id == it.c.id)
        .join(c, c.c.id == it.c.case_id)
        .join(r, r.c.id == c.c.round_id)
        .join(u, u.c.id == c.c.unit_id)
        .join(cat, cat.c.id == it.c.category_id)
        .join(itag, itag.c.item_id == it.c.id)
        .join(t, t.c.id == itag.c.tag_id)
        .where(r.c.code.in_(codes), i.c.voided.is_(False))
        .order_by(r.c.code, u.c.code, it.c.code)
    )
    found: dict[PairKey, Pair] = {}
    for round_code, level1, level2, tag, unit, unit_name, item in rows:
        pair = found.setdefault((round_code, level1, level2, tag), Pair(level1, level2, tag))
        pair.units[unit] = unit_name
        pair.items.append(InstanceKey(round_code, unit, item))
    return found


def common_pairs(conn: Connection, round_codes: Iterable[str], threshold: int) -> set[PairKey]:
    """The category × tag pairs of the rounds' live items found in at least `threshold` units
    (counted by the database: nothing held per item)."""
    codes = sorted(set(round_codes))
    if not codes:
        return set()
    it, i, c, r, cat, t, itag = (
        q.items,
        q.instances,
        q.cases,
        q.rounds,
        q.categories,
        q.tags,
        q.item_tags,
    )
    rows = conn.execute(
        select(r.c.code, cat.c.level1, cat.c.level2, t.c.name)
        .select_from(it)
        .join(i, i.c.id == it.c.id)
        .join(c, c.c.id == it.c.case_id)
        .join(r, r.c.id == c.c.round_id)
        .join(cat, cat.c.id == it.c.category_id)
        .join(itag, itag.c.item_id == it.c.id)
        .join(t, t.c.id == itag.c.tag_id)
        .where(r.c.code.in_(codes), i.c.voided.is_(False))
        .group_by(r.c.code, cat.c.level1, cat.c.level2, t.c.name)
        .having(func.count(distinct(c.c.unit_id)) >= threshold)
    )
    return {(code, level1, level2, tag) for code, level1, level2, tag in rows}


def is_common(
    common: set[PairKey], round_code: str, category: tuple[str, str], tags: Iterable[str]
) -> bool:
    """Whether an item of `round_code` in `category` with `tags` is a common problem
    (`common`: the pairs `common_pairs` found)."""
    return any((round_code, category[0], category[1], tag) in common for tag in tags)


@dataclass(frozen=True, slots=True)
class CommonProblems:
    """The common problems of a round: each category × tag found in enough units."""

    round: RoundInfo
    as_of: date
    threshold: int
    problems: tuple[Pair, ...]

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "round": self.round.code,
            "threshold": self.threshold,
            "problems": [
                {
                    "category": f"{p.level1}/{p.level2}",
                    "tag": p.tag,
                    "unit_count": len(p.units),
                    "units": [{"code": code, "name": name} for code, name in p.units.items()],
                    "items": [str(key) for key in p.items],
                }
                for p in self.problems
            ],
        }


class CommonQueries:
    """The common problems of a round."""

    def __init__(self, ctx: ReadContext) -> None:
        self.ctx = ctx

    def of(self, round_code: str) -> CommonProblems:
        """Each category × tag of the round in at least N units, in the category list's and
        then the tag list's order."""
        cat, t = q.categories, q.tags
        with self.ctx.reading() as conn:
            info = round_info(conn, round_code)
            found = pairs(conn, [info.code])
            categories = {
                (row.level1, row.level2): n
                for n, row in enumerate(
                    conn.execute(select(cat.c.level1, cat.c.level2).order_by(cat.c.position))
                )
            }
            tags = {
                name: n
                for n, name in enumerate(
                    conn.execute(select(t.c.name).order_by(t.c.position)).scalars()
                )
            }
        common = [p for p in found.values() if len(p.units) >= self.ctx.common_units]
        common.sort(key=lambda p: (categories[(p.level1, p.level2)], tags[p.tag]))
        return CommonProblems(info, self.ctx.today(), self.ctx.common_units, tuple(common))
