"""Working-day calendars: which days are worked, and arithmetic in working days.

The `cn` calendar follows the statutory holidays and make-up working days (调休) published by
the State Council, as shipped in `chinesecalendar` (the built-in data, 官方), with the years
people load on top. Loads are kept, never edited: a year's days are the built-in data and then
its loads in order (`year_days`) — a merge overrides the days its file lists, a replace makes
the file the whole year, a reset returns to the built-in data — and every day remembers the
load that set it. A year without data falls back to weekends only; arithmetic through such a
year is *provisional* and is recomputed when the data arrives.

Working days are counted from per-year sorted tuples of date ordinals, built once per year and
searched with `bisect`, so adding or counting working days costs a few bisections per year
spanned instead of a walk over every day.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Literal, NamedTuple, Protocol

from xunshi.display import shown
from xunshi.errors import BadInput
from xunshi.texts import check_name

# How a load changes its year: `merge` overrides the days its file lists and keeps every
# other day, `replace` makes the file the whole year, `reset` returns to the built-in data.
LoadMode = Literal["merge", "replace", "reset"]
DayKind = Literal["holiday", "workday"]
# The load a day of the built-in data comes from (stored loads count from 1).
OFFICIAL = 0
# The years the calendar counts in; arithmetic that would leave them is refused.
MIN_YEAR = 1900
MAX_YEAR = 2200
_YEARS = f"years {MIN_YEAR}–{MAX_YEAR}"

_SATURDAY = 5
_FILE_KEYS = ("year", "holidays", "workdays")
_ALL_FILE_KEYS = (*_FILE_KEYS, "ordinary")
_RANGE_KEYS = frozenset({"from", "to", "title"})
# More working days than the calendar's years hold: refused without walking them.
_MAX_SPAN = 366 * (MAX_YEAR - MIN_YEAR + 1)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class YearData:
    """One year's statutory holidays and make-up working days (weekend days that are worked)."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]

    def __post_init__(self) -> None:
        strays = sorted(d for d in self.holidays | self.workdays if d.year != self.year)
        if strays:
            raise ValueError(f"calendar data for {self.year} holds {strays[0]}, not in {self.year}")


class Calendar(Protocol):
    """Which days are worked, and arithmetic in working days."""

    @property
    def name(self) -> str:
        """The calendar's name in definitions, e.g. `cn`."""
        ...

    def is_working_day(self, day: date) -> bool:
        """True if `day` is worked."""
        ...

    def has_data(self, year: int) -> bool:
        """True if holidays and make-up days are known for `year`."""
        ...

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (before it if n < 0); `start` itself if n == 0."""
        ...

    def count_working_days(self, start: date, end: date) -> int:
        """Working days in (start, end]; 0 if end <= start."""
        ...

    def provisional(self, a: date, b: date) -> bool:
        """True if a year from a to b inclusive lacks data (weekends only were assumed)."""
        ...


class CnCalendar:
    """The mainland China calendar: `chinesecalendar` data, then user years on top."""

    name = "cn"

    def __init__(self, overrides: Iterable[YearData] = ()) -> None:
        years = dict(_chinese_calendar_years())
        for data in overrides:  # a later entry for the same year wins
            years[data.year] = data
        self._years: dict[int, YearData] = years
        self._ordinals: dict[int, tuple[int, ...]] = {}

    def __repr__(self) -> str:
        known = self.years()
        span = f"{known[0]}-{known[-1]}" if known else "none"
        return f"<CnCalendar years with data: {span}>"

    def with_years(self, *data: YearData) -> CnCalendar:
        """A new calendar with these years added or replaced completely."""
        new = CnCalendar([*self._years.values(), *data])
        replaced = {d.year for d in data}
        new._ordinals = {y: o for y, o in self._ordinals.items() if y not in replaced}
        return new

    def years(self) -> list[int]:
        """The years with data, sorted."""
        return sorted(self._years)

    def has_data(self, year: int) -> bool:
        """True if holidays and make-up days are known for `year`."""
        return year in self._years

    def is_working_day(self, day: date) -> bool:
        """True if `day` is worked."""
        data = self._years.get(day.year)
        if data is None:
            return day.weekday() < _SATURDAY
        if day in data.workdays:
            return True
        return day.weekday() < _SATURDAY and day not in data.holidays

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (before it if n < 0); `start` itself if n == 0."""
        _check_in_range(start)
        if n == 0:
            return start
        if abs(n) > _MAX_SPAN:
            raise _past_the_calendar(start, n)
        year = start.year
        days = self._working_ordinals(year)
        if n > 0:
            wanted = n
            index = bisect_right(days, start.toordinal())  # first working day after start
            while index + wanted > len(days):
                wanted -= len(days) - index
                year += 1
                if year > MAX_YEAR:
                    raise _past_the_calendar(start, n)
                days = self._working_ordinals(year)
                index = 0
            return date.fromordinal(days[index + wanted - 1])
        wanted = -n
        index = bisect_left(days, start.toordinal())  # working days before start in its year
        while wanted > index:
            wanted -= index
            year -= 1
            if year < MIN_YEAR:
                raise _past_the_calendar(start, n)
            days = self._working_ordinals(year)
            index = len(days)
        return date.fromordinal(days[index - wanted])

    def count_working_days(self, start: date, end: date) -> int:
        """Working days in (start, end]; 0 if end <= start."""
        if end <= start:
            return 0
        _check_in_range(start)
        _check_in_range(end)
        first = self._working_ordinals(start.year)
        if start.year == end.year:
            return bisect_right(first, end.toordinal()) - bisect_right(first, start.toordinal())
        count = len(first) - bisect_right(first, start.toordinal())
        for year in range(start.year + 1, end.year):
            count += len(self._working_ordinals(year))
        return count + bisect_right(self._working_ordinals(end.year), end.toordinal())

    def provisional(self, a: date, b: date) -> bool:
        """True if a year from a to b inclusive lacks data (weekends only were assumed)."""
        low, high = sorted((a.year, b.year))
        return any(year not in self._years for year in range(low, high + 1))

    def _working_ordinals(self, year: int) -> tuple[int, ...]:
        days = self._ordinals.get(year)
        if days is None:
            days = tuple(d.toordinal() for d in _days_of(year) if self.is_working_day(d))
            self._ordinals[year] = days
        return days


class CalendarFileError(BadInput, ValueError):
    """The calendar file is not valid."""


class OutsideCalendar(BadInput):
    """A date or a count of working days reaches outside the years the calendar counts in."""


@dataclass(frozen=True, slots=True)
class CalendarFile:
    """What a calendar file says about its year: the days it lists, and the holidays' titles.

    `ordinary` days are neither holidays nor make-up working days: merged into a year, they
    turn a day the data marks back into an ordinary weekday or weekend day.
    """

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    ordinary: frozenset[date] = frozenset()
    titles: Mapping[date, str] = field(default_factory=dict, hash=False)

    @property
    def data(self) -> YearData:
        """The file taken as the whole year (what `--replace` makes of it)."""
        return YearData(self.year, self.holidays, self.workdays)


class MarkedDay(NamedTuple):
    """A holiday or make-up working day of a year, its title, and the load that set it."""

    kind: DayKind
    title: str
    load: int  # OFFICIAL for the built-in data


@dataclass(frozen=True, slots=True)
class YearLoad:
    """One stored load of a year: a file merged into it or replacing it, or a reset."""

    id: int
    mode: LoadMode
    file: CalendarFile
    source_name: str = ""
    loaded_by: str = ""
    loaded_at: datetime | None = None

    @property
    def year(self) -> int:
        """The year it changed."""
        return self.file.year


def covered(year: int) -> bool:
    """True if the built-in data (`chinesecalendar`) has `year`."""
    return year in _chinese_calendar_years()


def official_days(year: int) -> dict[date, MarkedDay] | None:
    """The built-in holidays and make-up working days of `year` (None: no built-in data)."""
    marked = _official_days().get(year)
    return None if marked is None else dict(marked)


def year_days(year: int, loads: Sequence[YearLoad]) -> dict[date, MarkedDay] | None:
    """The holidays and make-up days of `year`: the built-in data, then `loads` in order.

    None when the year has no data (weekends only): nothing built in and nothing loaded,
    or reset after loads of a year the built-in data does not cover.
    """
    days = official_days(year)
    for load in loads:
        if load.year != year:
            raise ValueError(f"load {load.id} is for {load.year}, not {year}")
        if load.mode == "reset":
            days = official_days(year)
            continue
        before: dict[date, MarkedDay] = {} if days is None else days
        days = {} if load.mode == "replace" else dict(before)
        file = load.file
        for day in file.ordinary:
            days.pop(day, None)
        listed: tuple[tuple[DayKind, frozenset[date]], ...] = (
            ("holiday", file.holidays),
            ("workday", file.workdays),
        )
        for kind, marked in listed:
            for day in marked:
                kept = before.get(day)
                # A listed day without a title keeps the one it had as the same kind of day.
                title = file.titles.get(day) or (kept.title if kept and kept.kind == kind else "")
                days[day] = MarkedDay(kind, title, load.id)
    return days


def year_data(year: int, days: Mapping[date, MarkedDay]) -> YearData:
    """The arithmetic's view of a year's marked days."""
    return YearData(
        year,
        frozenset(d for d, m in days.items() if m.kind == "holiday"),
        frozenset(d for d, m in days.items() if m.kind == "workday"),
    )


def loaded_years(loads: Iterable[YearLoad]) -> list[YearData]:
    """The data of every year that `loads` touch, each folded over the built-in data."""
    by_year: dict[int, list[YearLoad]] = {}
    for load in loads:
        by_year.setdefault(load.year, []).append(load)
    years = []
    for year, its_loads in by_year.items():
        days = year_days(year, its_loads)
        if days is not None:
            years.append(year_data(year, days))
    return years


def parse_calendar_file(text: str, source: str) -> CalendarFile:
    """Read one year of holidays, make-up working days and ordinary days from YAML.

    Raise CalendarFileError naming the first problem.
    """
    document = _load_yaml(text, source)
    if not isinstance(document, dict):
        raise CalendarFileError(
            f"{source}: expected a mapping with keys year, holidays, workdays,"
            f" not {_kind(document)}"
        )
    missing = [key for key in _FILE_KEYS if key not in document]
    if missing:
        raise CalendarFileError(f"{source}: missing key {', '.join(missing)}")
    extra = sorted(str(key) for key in document if key not in _ALL_FILE_KEYS)
    if extra:
        raise CalendarFileError(
            f"{source}: unknown key {', '.join(extra)}"
            " (expected year, holidays, workdays and optionally ordinary)"
        )
    year = document["year"]
    if not isinstance(year, int) or isinstance(year, bool) or not MIN_YEAR <= year <= MAX_YEAR:
        raise CalendarFileError(
            f"{source}: year must be an integer from {MIN_YEAR} to {MAX_YEAR}, not {shown(year)}"
        )
    titles: dict[date, str] = {}
    holidays = frozenset(_holidays(document["holidays"], year, source, titles))
    workdays = frozenset(_workdays(document["workdays"], year, source))
    ordinary = frozenset(_ordinary(document.get("ordinary", []), year, source))
    both = sorted(holidays & workdays)
    if both:
        raise CalendarFileError(f"{source}: {both[0]} is both a holiday and a make-up working day")
    for listed, what in ((holidays, "a holiday"), (workdays, "a make-up working day")):
        clash = sorted(listed & ordinary)
        if clash:
            raise CalendarFileError(f"{source}: {clash[0]} is both {what} and an ordinary day")
    return CalendarFile(year, holidays, workdays, ordinary, titles)


def calendar_for(name: str, loads: Iterable[YearLoad] = ()) -> Calendar:
    """The calendar called `name` (only `cn` exists), with the loaded years on top."""
    if name == "cn":
        return CnCalendar(loaded_years(loads))
    raise ValueError(f"unknown calendar {name!r} (known: cn)")


@cache
def _chinese_calendar_years() -> Mapping[int, YearData]:
    return {year: year_data(year, days) for year, days in sorted(_official_days().items())}


@cache
def _official_days() -> Mapping[int, Mapping[date, MarkedDay]]:
    import chinese_calendar  # imported on first use: commands that only read stay fast

    names = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}
    years: dict[int, dict[date, MarkedDay]] = {}
    published: tuple[tuple[DayKind, Mapping[date, str]], ...] = (
        ("holiday", chinese_calendar.holidays),
        ("workday", chinese_calendar.workdays),
    )
    for kind, days in published:
        for day, name in days.items():
            marked = MarkedDay(kind, names.get(name, name or ""), OFFICIAL)
            years.setdefault(day.year, {})[day] = marked
    return years


def check_year(year: int) -> None:
    """Refuse a year outside the years the calendar counts in."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise OutsideCalendar(f"year {year} is outside the calendar ({_YEARS})")


def _check_in_range(day: date) -> None:
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise OutsideCalendar(f"{day} is outside the calendar ({_YEARS})")


def _past_the_calendar(start: date, n: int) -> OutsideCalendar:
    sign = "+" if n > 0 else "-"
    days = "working day" if abs(n) == 1 else "working days"
    return OutsideCalendar(f"{start} {sign} {abs(n)} {days} is outside the calendar ({_YEARS})")


def _days_of(year: int) -> Iterator[date]:
    day = date(year, 1, 1)
    one = timedelta(days=1)
    while day.year == year:
        yield day
        day += one


@cache
def _loader() -> Any:
    """A SafeLoader that leaves a date-like scalar as text when it is not a real date.

    yaml.safe_load raises a bare ValueError on `2027-13-01`; keeping the text lets the
    validator name the offending entry. Built on first use (yaml is only needed here).
    """
    import yaml  # only when a calendar file is read (start-up time)

    class Loader(yaml.SafeLoader):
        pass

    def timestamp_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
        try:
            return loader.construct_yaml_timestamp(node)
        except ValueError:
            return loader.construct_scalar(node)

    Loader.add_constructor("tag:yaml.org,2002:timestamp", timestamp_or_text)
    return Loader


def _load_yaml(text: str, source: str) -> Any:
    import yaml  # only when a calendar file is read (start-up time)

    try:
        return yaml.load(text, Loader=_loader())  # safe: the loader is a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise CalendarFileError(f"{source}: not valid YAML: {problem}{where}") from error


def _holidays(entries: object, year: int, source: str, titles: dict[date, str]) -> Iterator[date]:
    if not isinstance(entries, list):
        raise CalendarFileError(
            f"{source}: holidays must be a list of dates or {{from, to}} ranges,"
            f" not {_kind(entries)}"
        )
    for entry in entries:
        if isinstance(entry, dict):
            yield from _holiday_range(entry, year, source, titles)
        else:
            yield _date_in_year(entry, "holiday", year, source)


def _holiday_range(
    entry: dict[Any, Any], year: int, source: str, titles: dict[date, str]
) -> Iterator[date]:
    keys = set(entry)
    if not {"from", "to"} <= keys or not keys <= _RANGE_KEYS:
        names = ", ".join(sorted(str(k) for k in keys))
        raise CalendarFileError(
            f"{source}: a holiday range needs keys from and to (and optionally title),"
            f" not {{{names}}}"
        )
    title = entry.get("title")
    if title is not None and not isinstance(title, str):
        raise CalendarFileError(f"{source}: holiday range title must be text, not {shown(title)}")
    if title is not None:
        try:
            title = check_name("holiday range title", title, required=False)
        except BadInput as exc:
            raise CalendarFileError(f"{source}: {exc.message}") from None
    first = _date_in_year(entry["from"], "holiday", year, source)
    last = _date_in_year(entry["to"], "holiday", year, source)
    if first > last:
        raise CalendarFileError(
            f"{source}: holiday range from {first} to {last} ends before it starts"
        )
    for ordinal in range(first.toordinal(), last.toordinal() + 1):
        day = date.fromordinal(ordinal)
        if title:
            titles[day] = title
        yield day


def _workdays(entries: object, year: int, source: str) -> Iterator[date]:
    if not isinstance(entries, list):
        raise CalendarFileError(f"{source}: workdays must be a list of dates, not {_kind(entries)}")
    for entry in entries:
        day = _date_in_year(entry, "make-up working day", year, source)
        if day.weekday() < _SATURDAY:
            raise CalendarFileError(
                f"{source}: make-up working day {day} is a {_WEEKDAY_NAMES[day.weekday()]},"
                " not a Saturday or Sunday"
            )
        yield day


def _ordinary(entries: object, year: int, source: str) -> Iterator[date]:
    if not isinstance(entries, list):
        raise CalendarFileError(f"{source}: ordinary must be a list of dates, not {_kind(entries)}")
    for entry in entries:
        yield _date_in_year(entry, "ordinary day", year, source)


def _date_in_year(value: object, what: str, year: int, source: str) -> date:
    day = _as_date(value)
    if day is None:
        raise CalendarFileError(f"{source}: {what} {_quoted(value)} is not a date (YYYY-MM-DD)")
    if day.year != year:
        raise CalendarFileError(f"{source}: {what} {day} is not in {year}")
    return day


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{type(value).__name__} {shown(value)}"


def _quoted(value: object) -> str:
    """A value as a message shows it: a date or a short text as written, anything else (a
    list an alias may have made huge, a long text) shortened."""
    if isinstance(value, list | dict) or (isinstance(value, str) and len(value) > 60):
        return shown(value)
    return str(value)
