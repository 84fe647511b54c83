"""What the office has set up: rounds, groups, units, categories, definitions, the calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from xunshi.definitions.schema import Definition
from xunshi.read.context import ReadContext
from xunshi.storage import queries as q
from xunshi.workflow.calendar import (
    Calendar,
    DayKind,
    LoadMode,
    YearLoad,
    calendar_for,
    check_year,
    covered,
    year_days,
)
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
    round_id = resolve_round(conn, code)
    row = conn.execute(
        select(r.c.id, r.c.code, r.c.title, r.c.start_on).where(r.c.id == round_id)
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
class Tag:
    """One entry of the office's business-domain tag list (业务领域)."""

    id: int
    name: str

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {"id": self.id, "name": self.name}


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


# How `calendar show` names the built-in data as a day's source.
BUILTIN_SOURCE = "官方"


@dataclass(frozen=True, slots=True)
class LoadInfo:
    """One stored load of a calendar year: who, when, which file, how, what it listed."""

    id: int
    mode: LoadMode
    source: str  # the file's name; "" for a reset
    loaded_by: str
    loaded_at: datetime  # in the business time zone
    holidays: int  # the days its file listed
    workdays: int
    ordinary: int

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "load": self.id,
            "mode": self.mode,
            "source": self.source or None,
            "loaded_by": self.loaded_by,
            "loaded_at": self.loaded_at.isoformat(),
            "holidays": self.holidays,
            "workdays": self.workdays,
            "ordinary": self.ordinary,
        }


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """A holiday or make-up working day of a year, and where it came from."""

    day: date
    kind: DayKind
    title: str
    load: LoadInfo | None  # None: the built-in data

    @property
    def source(self) -> str:
        """`官方`, or the name of the file that set it."""
        return BUILTIN_SOURCE if self.load is None else self.load.source

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "date": self.day.isoformat(),
            "kind": self.kind,
            "title": self.title or None,
            "source": self.source,
            "load": None if self.load is None else self.load.id,
            "loaded_by": None if self.load is None else self.load.loaded_by,
        }


@dataclass(frozen=True, slots=True)
class CalendarYear:
    """The answer of `calendar show YEAR`: every special day with its source, every load."""

    year: int
    builtin: bool  # the built-in data covers the year
    has_data: bool  # False: weekends only (deadlines through it are provisional)
    days: tuple[CalendarDay, ...]
    loads: tuple[LoadInfo, ...]

    @property
    def holidays(self) -> int:
        """How many holidays the year has."""
        return sum(d.kind == "holiday" for d in self.days)

    @property
    def workdays(self) -> int:
        """How many make-up working days the year has."""
        return sum(d.kind == "workday" for d in self.days)

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "calendar": "cn",
            "year": self.year,
            "builtin": self.builtin,
            "has_data": self.has_data,
            "holidays": self.holidays,
            "workdays": self.workdays,
            "days": [d.to_json() for d in self.days],
            "loads": [load.to_json() for load in self.loads],
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

    def tags(self) -> list[Tag]:
        """The business-domain tag list, in the office's order."""
        t = q.tags
        with self.ctx.reading() as conn:
            rows = conn.execute(select(t.c.id, t.c.name).order_by(t.c.position, t.c.id))
            return [Tag(*row) for row in rows]

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

    def calendar_year(self, year: int, *, initialised: bool) -> CalendarYear:
        """A year's holidays and make-up days with their sources, and the year's loads.

        Without an initialised database only the built-in data exists.
        """
        check_year(year)
        loads: list[YearLoad] = []
        if initialised:
            with self.ctx.reading() as conn:
                loads = self.ctx.schedule.loads(conn, "cn", year)
        infos = {load.id: self._load_info(load) for load in loads}
        days = year_days(year, loads)
        shown = tuple(
            CalendarDay(day, marked.kind, marked.title, infos.get(marked.load))
            for day, marked in sorted((days or {}).items())
        )
        return CalendarYear(year, covered(year), days is not None, shown, tuple(infos.values()))

    def _load_info(self, load: YearLoad) -> LoadInfo:
        file = load.file
        assert load.loaded_at is not None, "a stored load knows when it was made"
        return LoadInfo(
            id=load.id,
            mode=load.mode,
            source=load.source_name,
            loaded_by=load.loaded_by,
            loaded_at=load.loaded_at.astimezone(self.ctx.tz),
            holidays=len(file.holidays),
            workdays=len(file.workdays),
            ordinary=len(file.ordinary),
        )

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
