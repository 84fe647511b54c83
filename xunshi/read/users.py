"""The people of the web desk: who they are, the role they act with and their scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, select

from xunshi.errors import NotFound
from xunshi.read.context import ReadContext
from xunshi.storage import queries as q


@dataclass(frozen=True, slots=True)
class UserView:
    """A user as stored, with the codes of their scope (never the password hash)."""

    id: int
    name: str
    role: str
    round: str | None  # the round of the group scope
    group: str | None  # the group scope's code
    unit: str | None  # the unit scope's code
    disabled: bool
    created_at: datetime

    @property
    def group_key(self) -> str | None:
        """The group scope as `ROUND/G`, or None."""
        return None if self.group is None else f"{self.round}/{self.group}"

    def to_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "name": self.name,
            "role": self.role,
            "group": self.group_key,
            "unit": self.unit,
            "disabled": self.disabled,
            "created_at": self.created_at.astimezone(tz).isoformat(),
        }


def user_select() -> Select[Any]:
    """Users with the codes of their scope."""
    u, g, r, un = q.web_users, q.groups, q.rounds, q.units
    return (
        select(
            u.c.id,
            u.c.name,
            u.c.role,
            r.c.code.label("round"),
            g.c.code.label("group"),
            un.c.code.label("unit"),
            u.c.disabled,
            u.c.created_at,
        )
        .select_from(
            u.outerjoin(g, g.c.id == u.c.group_id)
            .outerjoin(r, r.c.id == g.c.round_id)
            .outerjoin(un, un.c.id == u.c.unit_id)
        )
        .order_by(u.c.name)
    )


def user_view(row: Any) -> UserView:
    """A row of `user_select` as a view."""
    return UserView(
        row.id,
        row.name,
        row.role,
        row.round,
        row.group,
        row.unit,
        bool(row.disabled),
        row.created_at,
    )


def find_user(conn: Connection, name: str) -> UserView | None:
    """User `name` (exactly as written), or None."""
    row = conn.execute(user_select().where(q.web_users.c.name == name)).first()
    return None if row is None else user_view(row)


def user_by_id(conn: Connection, user_id: int) -> UserView | None:
    """The user with id `user_id`, or None."""
    row = conn.execute(user_select().where(q.web_users.c.id == user_id)).first()
    return None if row is None else user_view(row)


class UserQueries:
    """Users of the web desk."""

    def __init__(self, ctx: ReadContext) -> None:
        self.ctx = ctx

    def many(self) -> list[UserView]:
        """Every user, by name."""
        with self.ctx.reading() as conn:
            return [user_view(row) for row in conn.execute(user_select())]

    def one(self, name: str) -> UserView:
        """User `name`."""
        with self.ctx.reading() as conn:
            found = find_user(conn, name)
        if found is None:
            raise NotFound(f"user {name} does not exist")
        return found
