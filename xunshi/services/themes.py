"""Thematic reports (专题): a problem seen across units, answered for as a class.

A theme of a round names the department that answers for the class of problem
(`--department`) and takes in the round's items by tag, by category, or one by one
(`theme link`); a theme's mechanism measures (建章立制, 长效机制) each carry a status.

A theme is no lifecycle instance and has no hash chain of its own: each change (`added`,
`linked`, `unlinked`, `measure`) is a round event (`round_event`, kind `theme`, the theme's
code as its name), the way a change of the round plan is, with who, when, in which role
and what changed; `round events ROUND` lists them. Only the office changes themes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Row, func, select
from sqlalchemy.exc import IntegrityError

from xunshi.errors import AlreadyExists, BadInput, NotFound, Refused
from xunshi.keys import reference
from xunshi.services.commands import EVERY_CASE
from xunshi.services.rectification import ItemService
from xunshi.services.rounds import insert_round_event
from xunshi.services.tags import find_tags
from xunshi.storage import queries as q
from xunshi.storage.db import Database
from xunshi.texts import check_actor, check_code, check_name, check_text
from xunshi.workflow.clock import Clock
from xunshi.workflow.resolve import InstanceRef, find_round, resolve_item

THEME_ROLE = "office"
MEASURE_STATUSES = ("未开始", "推进中", "已完成")
ThemeAction = Literal["added", "linked", "unlinked", "measure"]


@dataclass(frozen=True, slots=True)
class ThemeSpec:
    """What `theme add` defines: the theme and how it takes in items."""

    code: str
    title: str
    department: str
    tags: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # `一级/二级`
    items: tuple[str, ...] = ()  # item references
    measures: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ThemeChanged:
    """A change of a theme: the round event that records it."""

    round: str
    code: str
    action: ThemeAction
    summary: str
    round_event: int

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "round": self.round,
            "theme": self.code,
            "action": self.action,
            "summary": self.summary,
            "round_event": self.round_event,
        }


class ThemeService:
    """Themes of a round: define, link and unlink items, move a measure's status."""

    def __init__(self, db: Database, clock: Clock, items: ItemService) -> None:
        self.db = db
        self.clock = clock
        self.items = items

    def add(
        self,
        round_code: str,
        spec: ThemeSpec,
        *,
        actor: str,
        role: str,
        at: datetime | None = None,
    ) -> ThemeChanged:
        """Define a theme of the round; it takes in items by tag, by category and by hand."""
        _check_role(role, "define")
        actor = check_actor(actor)
        code = check_code("theme", spec.code)
        title = check_name("theme title", spec.title)
        department = check_name("department", spec.department)
        measures = [check_text("measure", text) for text in spec.measures]
        if not (spec.tags or spec.categories or spec.items):
            raise BadInput("a theme takes in items: give --tag, --category or --item")

        def work(conn: Connection) -> ThemeChanged:
            round_row = _round(conn, round_code)
            if _find_theme(conn, round_row, code) is not None:
                raise AlreadyExists(_exists(code, round_row.code))
            tags = find_tags(conn, spec.tags)
            categories = []
            for text in spec.categories:
                category = self.items.category(conn, text)
                if category not in categories:
                    categories.append(category)
            items: list[InstanceRef] = []
            for item in spec.items:
                ref = _item_of_round(conn, round_row, item)
                if ref.id not in [i.id for i in items]:
                    items.append(ref)
            try:
                theme_id = int(
                    conn.execute(
                        q.themes.insert().returning(q.themes.c.id),
                        {
                            "round_id": round_row.id,
                            "code": code,
                            "title": title,
                            "department": department,
                            "created_at": self.clock.now(),
                        },
                    ).scalar_one()
                )
            except IntegrityError as exc:
                raise AlreadyExists(_exists(code, round_row.code)) from exc
            _insert_links(conn, q.theme_tags, "tag_id", theme_id, [t.id for t in tags])
            _insert_links(
                conn, q.theme_categories, "category_id", theme_id, [c.id for c in categories]
            )
            _insert_links(conn, q.theme_items, "item_id", theme_id, [i.id for i in items])
            for number, text in enumerate(measures, start=1):
                conn.execute(
                    q.theme_measures.insert(),
                    {"theme_id": theme_id, "number": number, "text": text, "status": "未开始"},
                )
            data = {
                "title": title,
                "department": department,
                "tags": [t.name for t in tags],
                "categories": [c.label for c in categories],
                "items": [str(i.key) for i in items],
                "measures": measures,
            }
            summary = f"专题 {code} {title} 设立（牵头部门 {department}）"
            return self._record(conn, round_row, code, "added", summary, data, actor, role, at)

        return self.db.run(work, immediate=True)

    def link(
        self,
        round_code: str,
        code: str,
        item: str,
        *,
        actor: str,
        role: str,
        at: datetime | None = None,
    ) -> ThemeChanged:
        """Link an item of the round to the theme by hand."""
        return self._relink(round_code, code, item, actor, role, at, linking=True)

    def unlink(
        self,
        round_code: str,
        code: str,
        item: str,
        *,
        actor: str,
        role: str,
        at: datetime | None = None,
    ) -> ThemeChanged:
        """Take back an item linked by hand (one taken in by tag or category stays in)."""
        return self._relink(round_code, code, item, actor, role, at, linking=False)

    def _relink(
        self,
        round_code: str,
        code: str,
        item: str,
        actor: str,
        role: str,
        at: datetime | None,
        *,
        linking: bool,
    ) -> ThemeChanged:
        _check_role(role, "link items to" if linking else "unlink items from")
        actor = check_actor(actor)

        def work(conn: Connection) -> ThemeChanged:
            round_row = _round(conn, round_code)
            theme = _theme(conn, round_row, code)
            ref = _item_of_round(conn, round_row, item)
            if linking:
                _add_link(conn, theme, ref)
            else:
                _remove_link(conn, theme, ref)
            summary = f"专题 {theme.code} {'纳入' if linking else '移出'}问题 {ref.key}"
            data = {"item": str(ref.key)}
            kind: Literal["linked", "unlinked"] = "linked" if linking else "unlinked"
            return self._record(conn, round_row, theme.code, kind, summary, data, actor, role, at)

        return self.db.run(work, immediate=True)

    def measure(
        self,
        round_code: str,
        code: str,
        number: int,
        status: str,
        *,
        actor: str,
        role: str,
        at: datetime | None = None,
    ) -> ThemeChanged:
        """Set the status of the theme's mechanism measure `number` (from 1)."""
        _check_role(role, "update the measures of")
        actor = check_actor(actor)
        if status not in MEASURE_STATUSES:
            raise BadInput(f"status {status!r} is not one of {'|'.join(MEASURE_STATUSES)}")

        def work(conn: Connection) -> ThemeChanged:
            round_row = _round(conn, round_code)
            theme = _theme(conn, round_row, code)
            m = q.theme_measures
            row = conn.execute(
                select(m.c.id, m.c.status, m.c.text).where(
                    m.c.theme_id == theme.id, m.c.number == number
                )
            ).first()
            if row is None:
                count = conn.execute(
                    select(func.count()).select_from(m).where(m.c.theme_id == theme.id)
                ).scalar_one()
                raise NotFound(
                    f"theme {theme.code} has no measure {number} "
                    + (f"(it has 1..{count})" if count else "(it has none)")
                )
            if row.status == status:
                raise Refused(f"measure {number} of theme {theme.code} is already {status}")
            conn.execute(m.update().where(m.c.id == row.id).values(status=status))
            summary = f"专题 {theme.code} 措施 {number} {row.status} → {status}"
            data = {"measure": number, "old": row.status, "new": status}
            return self._record(
                conn, round_row, theme.code, "measure", summary, data, actor, role, at
            )

        return self.db.run(work, immediate=True)

    # -- internals --------------------------------------------------------------------

    def _record(
        self,
        conn: Connection,
        round_row: Row[Any],
        code: str,
        action: ThemeAction,
        summary: str,
        data: dict[str, Any],
        actor: str,
        role: str,
        at: datetime | None,
    ) -> ThemeChanged:
        """The round event of the change."""
        now = self.clock.now()
        if at is not None and at > now:
            raise BadInput("events cannot be recorded ahead of time")
        event_id = insert_round_event(
            conn,
            round_row.id,
            kind="theme",
            name=code,
            filters=EVERY_CASE,
            data={"action": action, "summary": summary, **data},
            actor=actor,
            role=role,
            reason=None,
            at=at or now,
            now=now,
        )
        return ThemeChanged(round_row.code, code, action, summary, event_id)


def _check_role(role: str, action: str) -> None:
    if role != THEME_ROLE:
        raise Refused(f"only the office (role office) may {action} themes, not role {role}")


def _round(conn: Connection, code: str) -> Row[Any]:
    found = find_round(conn, code)
    if found is None:
        raise NotFound(f"round {code} does not exist")
    return found


def _exists(code: str, round_code: str) -> str:
    return f"theme {code} already exists in round {round_code}"


@dataclass(frozen=True, slots=True)
class _Theme:
    id: int
    code: str


def _find_theme(conn: Connection, round_row: Row[Any], code: str) -> _Theme | None:
    """Theme `code` of the round (in any case), or None."""
    t = q.themes
    row = conn.execute(
        select(t.c.id, t.c.code).where(
            t.c.round_id == round_row.id, func.lower(t.c.code) == code.strip().lower()
        )
    ).first()
    return None if row is None else _Theme(int(row.id), str(row.code))


def _theme(conn: Connection, round_row: Row[Any], code: str) -> _Theme:
    found = _find_theme(conn, round_row, code)
    if found is None:
        raise NotFound(f"theme {code} does not exist in round {round_row.code}")
    return found


def _item_of_round(conn: Connection, round_row: Row[Any], item: str) -> InstanceRef:
    """The item, refused unless it belongs to a case of the round."""
    ref = resolve_item(conn, reference(item, "item"))
    c, it = q.cases, q.items
    round_id = conn.execute(
        select(c.c.round_id).join(it, it.c.case_id == c.c.id).where(it.c.id == ref.id)
    ).scalar_one()
    if round_id != round_row.id:
        raise Refused(f"{ref.label} is not of round {round_row.code}")
    return ref


def _insert_links(
    conn: Connection, table: Any, column: str, theme_id: int, ids: Sequence[int]
) -> None:
    if ids:
        conn.execute(table.insert(), [{"theme_id": theme_id, column: i} for i in ids])


def _add_link(conn: Connection, theme: _Theme, ref: InstanceRef) -> None:
    links = q.theme_items
    linked = conn.execute(
        select(links.c.item_id).where(links.c.theme_id == theme.id, links.c.item_id == ref.id)
    ).first()
    if linked is not None:
        raise Refused(f"{ref.label} is already linked to theme {theme.code}")
    conn.execute(links.insert(), {"theme_id": theme.id, "item_id": ref.id})


def _remove_link(conn: Connection, theme: _Theme, ref: InstanceRef) -> None:
    links = q.theme_items
    removed = conn.execute(
        links.delete().where(links.c.theme_id == theme.id, links.c.item_id == ref.id)
    ).rowcount
    if not removed:
        raise Refused(
            f"{ref.label} is not linked to theme {theme.code} by hand (theme unlink "
            "takes back only what theme link added; one taken in by its tag or "
            "category leaves when they change)"
        )
