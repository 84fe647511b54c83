"""Working-day calendars: which days are worked, and arithmetic in working days.

The `cn` calendar follows the statutory holidays and make-up working days (调休) published by
the State Council, as shipped in `chinesecalendar`, plus user files that add or replace whole
years. A year without data falls back to weekends only; arithmetic through such a year is
*provisional* and is recomputed when the data arrives.

Working days are counted from per-year sorted tuples of date ordinals, built once per year and
searched with `bisect`, so adding or counting working days costs a few bisections per year
spanned instead of a walk over every day.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Protocol

from xunshi.errors import BadInput

_SATURDAY = 5
_FILE_KEYS = ("year", "holidays", "workdays")
_RANGE_KEYS = frozenset({"from", "to", "title"})
# The years the calendar counts in; arithmetic that would leave them is refused.
MIN_YEAR = 1900
MAX_YEAR = 2200
_YEARS = f"years {MIN_YEAR}–{MAX_YEAR}"
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


def parse_calendar_file(text: str, source: str) -> YearData:
    """Read one year of holidays and make-up working days from YAML; raise CalendarFileError."""
    document = _load_yaml(text, source)
    if not isinstance(document, dict):
        raise CalendarFileError(
            f"{source}: expected a mapping with keys year, holidays, workdays,"
            f" not {_kind(document)}"
        )
    missing = [key for key in _FILE_KEYS if key not in document]
    if missing:
        raise CalendarFileError(f"{source}: missing key {', '.join(missing)}")
    extra = sorted(str(key) for key in document if key not in _FILE_KEYS)
    if extra:
        raise CalendarFileError(
            f"{source}: unknown key {', '.join(extra)} (expected year, holidays, workdays)"
        )
    year = document["year"]
    if not isinstance(year, int) or isinstance(year, bool) or not MIN_YEAR <= year <= MAX_YEAR:
        raise CalendarFileError(
            f"{source}: year must be an integer from {MIN_YEAR} to {MAX_YEAR}, not {year!r}"
        )
    holidays = frozenset(_holidays(document["holidays"], year, source))
    workdays = frozenset(_workdays(document["workdays"], year, source))
    both = sorted(holidays & workdays)
    if both:
        raise CalendarFileError(f"{source}: {both[0]} is both a holiday and a make-up working day")
    return YearData(year, holidays, workdays)


def calendar_for(name: str, overrides: Iterable[YearData] = ()) -> Calendar:
    """The calendar called `name` (only `cn` exists), with user years on top."""
    if name == "cn":
        return CnCalendar(overrides)
    raise ValueError(f"unknown calendar {name!r} (known: cn)")


@cache
def _chinese_calendar_years() -> Mapping[int, YearData]:
    import chinese_calendar  # imported on first use: commands that only read stay fast

    holidays: dict[int, set[date]] = {}
    workdays: dict[int, set[date]] = {}
    for day in chinese_calendar.holidays:
        holidays.setdefault(day.year, set()).add(day)
    for day in chinese_calendar.workdays:
        workdays.setdefault(day.year, set()).add(day)
    return {
        year: YearData(year, frozenset(holidays.get(year, ())), frozenset(workdays.get(year, ())))
        for year in sorted(holidays.keys() | workdays.keys())
    }


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


def _holidays(entries: object, year: int, source: str) -> Iterator[date]:
    if not isinstance(entries, list):
        raise CalendarFileError(
            f"{source}: holidays must be a list of dates or {{from, to}} ranges,"
            f" not {_kind(entries)}"
        )
    for entry in entries:
        if isinstance(entry, dict):
            yield from _holiday_range(entry, year, source)
        else:
            yield _date_in_year(entry, "holiday", year, source)


def _holiday_range(entry: dict[Any, Any], year: int, source: str) -> Iterator[date]:
    keys = set(entry)
    if not {"from", "to"} <= keys or not keys <= _RANGE_KEYS:
        shown = ", ".join(sorted(str(k) for k in keys))
        raise CalendarFileError(
            f"{source}: a holiday range needs keys from and to (and optionally title),"
            f" not {{{shown}}}"
        )
    title = entry.get("title")
    if title is not None and not isinstance(title, str):
        raise CalendarFileError(f"{source}: holiday range title must be text, not {title!r}")
    first = _date_in_year(entry["from"], "holiday", year, source)
    last = _date_in_year(entry["to"], "holiday", year, source)
    if first > last:
        raise CalendarFileError(
            f"{source}: holiday range from {first} to {last} ends before it starts"
        )
    for ordinal in range(first.toordinal(), last.toordinal() + 1):
        yield date.fromordinal(ordinal)


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


def _date_in_year(value: object, what: str, year: int, source: str) -> date:
    day = _as_date(value)
    if day is None:
        raise CalendarFileError(f"{source}: {what} {value} is not a date (YYYY-MM-DD)")
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
    return f"{type(value).__name__} {value!r}"
