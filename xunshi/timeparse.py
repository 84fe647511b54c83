"""Times and dates as people type and read them (ISO 8601, business time zone by default)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
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
        start = datetime.combine(day, time.min, tzinfo=tz)
        if end_of_day:
            return datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz) - timedelta(
                microseconds=1
            )
        return start
    try:
        instant = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise BadInput(
            f"{what} {text!r} is not an ISO 8601 time (e.g. 2024-09-27 or 2024-09-27T09:30)"
        ) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=tz)
    return instant


def business_time(instant: datetime, tz: ZoneInfo) -> str:
    """An instant as people read it: `2024-09-27 09:30` in the business time zone."""
    return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M")
