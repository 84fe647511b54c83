"""Times and dates as people type and read them (ISO 8601, business time zone by default)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from xunshi.errors import BadInput


def parse_date(text: str, what: str = "date") -> date:
    """`2024-09-27` → a date; anything else is bad input."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"{what} {text!r} is not a date (YYYY-MM-DD)") from None


def parse_instant(
    text: str, tz: ZoneInfo, what: str = "time", *, end_of_day: bool = False
) -> datetime:
    """An ISO 8601 instant; a bare date or a time without offset is in `tz`.

    A bare date means the start of that day, or its last instant with `end_of_day`
    (so `--as-of 2024-10-10` includes everything that happened on the 10th).
    """
    raw = text.strip()
    if len(raw) == 10:
        day = parse_date(raw, what)
        instant = datetime.combine(day, time.max if end_of_day else time.min, tzinfo=tz)
        return _convertible(instant, tz, text, what)
    try:
        instant = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise BadInput(
            f"{what} {text!r} is not an ISO 8601 time (e.g. 2024-09-27 or 2024-09-27T09:30)"
        ) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=tz)
    return _convertible(instant, tz, text, what)


def _convertible(instant: datetime, tz: ZoneInfo, text: str, what: str) -> datetime:
    """`instant`, once it is one that UTC (what is stored) and `tz` (what is shown) can
    express: 9999-12-31T23:00-01:00 is in the year 10000 in UTC, past what a date holds."""
    try:
        instant.astimezone(UTC)
        instant.astimezone(tz)
    except OverflowError:
        raise BadInput(f"{what} {text!r} is out of range (years 1 to 9999 in UTC)") from None
    return instant


def business_time(instant: datetime, tz: ZoneInfo) -> str:
    """An instant as people read it: `2024-09-27 09:30` in the business time zone."""
    # isoformat, not strftime: strftime writes the year 1 as `1`, not `0001`.
    return instant.astimezone(tz).replace(tzinfo=None).isoformat(sep=" ", timespec="minutes")
