"""What the office has set up: rounds, groups, units, categories, definitions, the calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from xunshi.definitions.schema import Definition
from xunshi.read.context import ReadContext
from xunshi.storage import queries as q
from xunshi.workflow.calendar import Calendar, calendar_for
from xunshi.workflow.registry import DefinitionVersion
from xunshi.workflow.resolve import resolve_round


@dataclass(frozen=True, slots=True)
class RoundInfo:
    """A round as stored."""

    id: int
    code: str
    title: str
    start_on: date

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "id": self.id,
            "code": self.code,
            "title": self.title,
            "start_on": self.start_on.isoformat(),
        }


def round_info(conn: Connection, code: str) -> RoundInfo:
    """The round called `code` (NotFound if there is none), read in the caller's transaction."""
    r = q.rounds
    resolve_round(conn, code)
    row = conn.execute(
        select(r.c.id, r.c.code, r.c.title, r.c.start_on).where(r.c.code == code)
    ).one()
    return RoundInfo(*row)


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A group as stored."""

    id: int
    round: str
    code: str
    leader: str

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {"id": self.id, "round": self.round, "code": self.code, "leader": self.leader}


@dataclass(frozen=True, slots=True)
class UnitInfo:
    """A unit as stored."""

    id: int
    code: str
    name: str
    category: str

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {"id": self.id, "code": self.code, "name": self.name, "category": self.category}


@dataclass(frozen=True, slots=True)
class Category:
    """One entry of the office's two-level category list."""

    id: int
    level1: str
    level2: str

    @property
    def label(self) -> str:
        """`一级/二级`."""
        return f"{self.level1}/{self.level2}"

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {"id": self.id, "level1": self.level1, "level2": self.level2}


@dataclass(frozen=True, slots=True)
class DefinitionShown:
    """One definition version with its content."""

    version: int
    definition: Definition

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape: version, digest and the canonical form."""
        return {
            "version": self.version,
            "digest": self.definition.digest,
            **self.definition.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Workdays:
    """The answer of `calendar workdays`."""

    start: date
    n: int
    result: date
    provisional: bool

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "from": self.start.isoformat(),
            "n": self.n,
            "date": self.result.isoformat(),
            "provisional": self.provisional,
        }


def version_json(version: DefinitionVersion, tz: ZoneInfo) -> dict[str, Any]:
    """The `--json` shape of a registered definition version."""
    return {
        "name": version.name,
        "title": version.title,
        "subject": version.subject,
        "version": version.version,
        "digest": version.digest,
        "loaded_at": version.loaded_at.astimezone(tz).isoformat(),
        "loaded_by": version.loaded_by,
        "builtin": version.builtin,
        "source": version.source_name,
    }


class CatalogQueries:
    """Rounds, groups, units, categories, definitions and the calendar."""

    def __init__(self, ctx: ReadContext) -> None:
        self.ctx = ctx

    def rounds(self) -> list[RoundInfo]:
        """Every round, oldest first."""
        r = q.rounds
        with self.ctx.reading() as conn:
            rows = conn.execute(select(r.c.id, r.c.code, r.c.title, r.c.start_on).order_by(r.c.id))
            return [RoundInfo(*row) for row in rows]

    def groups(self, round_code: str) -> list[GroupInfo]:
        """The groups of a round."""
        g = q.groups
        with self.ctx.reading() as conn:
            round_id = resolve_round(conn, round_code)
            rows = conn.execute(
                select(g.c.id, g.c.code, g.c.leader)
                .where(g.c.round_id == round_id)
                .order_by(g.c.code)
            )
            return [GroupInfo(row.id, round_code, row.code, row.leader) for row in rows]

    def units(self) -> list[UnitInfo]:
        """Every unit, by code."""
        u = q.units
        with self.ctx.reading() as conn:
            rows = conn.execute(select(u.c.id, u.c.code, u.c.name, u.c.category).order_by(u.c.code))
            return [UnitInfo(*row) for row in rows]

    def categories(self) -> list[Category]:
        """The category list, in the office's order."""
        c = q.categories
        with self.ctx.reading() as conn:
            rows = conn.execute(
                select(c.c.id, c.c.level1, c.c.level2).order_by(c.c.position, c.c.id)
            )
            return [Category(*row) for row in rows]

    def definitions(self) -> list[DefinitionVersion]:
        """The latest version of every registered definition, by name."""
        with self.ctx.reading() as conn:
            versions = self.ctx.registry.versions(conn)
        latest: dict[str, DefinitionVersion] = {}
        for version in versions:
            latest[version.name] = version
        return list(latest.values())

    def definition(self, name: str, version: int | None = None) -> DefinitionShown:
        """One version of a definition (the latest by default)."""
        with self.ctx.reading() as conn:
            if version is None:
                version = self.ctx.registry.latest_version(conn, name)
            return DefinitionShown(version, self.ctx.definition(conn, name, version))

    def workdays(self, start: date, n: int, *, initialised: bool) -> Workdays:
        """The n-th working day after `start`; the years users loaded count when `initialised`."""
        if initialised:
            with self.ctx.reading() as conn:
                cal = self.ctx.calendar(conn)
        else:
            cal = calendar_for("cn")
        result = cal.add_working_days(start, n)
        provisional = cal.provisional(min(start, result), max(start, result))
        return Workdays(start, n, result, provisional)

    def calendar(self) -> Calendar:
        """The `cn` working-day calendar with the years users loaded."""
        with self.ctx.reading() as conn:
            return self.ctx.calendar(conn)

    def has_rounds(self) -> bool:
        """Whether any round exists (the demo needs an empty database)."""
        with self.ctx.reading() as conn:
            return conn.execute(select(q.rounds.c.id).limit(1)).first() is not None

    @property
    def database(self) -> str:
        """The database's URL with any password hidden."""
        return self.ctx.db.display_url
