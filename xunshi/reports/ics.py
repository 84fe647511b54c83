"""The deadlines of a round as an iCalendar file (RFC 5545): one all-day event per deadline.

Written with `icalendar`. What each event carries, and why:

- `UID`: the deadline's identity (`case/2024-R1/U01/onsite@xunshi`), the same in every
  export, so that importing the file again updates the event instead of adding a second.
- `DTSTART;VALUE=DATE` the due date (a business date: no time, no time zone to shift it),
  `DTEND` the day after: an all-day event on the due date, in any calendar's time zone.
- `SEQUENCE` the case's or problem's version and `LAST-MODIFIED` its last change: both rise
  when the due date moves, so that clients take the new date. `DTSTAMP`, which RFC 5545
  makes the same as LAST-MODIFIED in a file without METHOD, is that instant too: exporting
  unchanged deadlines again gives the same file, byte for byte.
- `SUMMARY` (`【期限】2024-R1/U01 现场巡视`), `DESCRIPTION` (unit, group, stage or measure and
  who answers for it; no links), `CATEGORIES` (巡视期限, 问题期限 or 整改任务, and 暂定).
- A 暂定 due date (counted on weekends only: the year's calendar is not loaded) says so in
  the summary and the categories, and is `STATUS:TENTATIVE`; the others `CONFIRMED`.
- `TRANSP:TRANSPARENT`: a deadline does not make anyone busy.

The calendar is named after the round (`X-WR-CALNAME`, and RFC 7986's `NAME`), with the
group or unit it was filtered to, and carries the business time zone (`X-WR-TIMEZONE`).
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import IO
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from xunshi.read.deadlines import Deadline, RoundDeadlines

PRODID = "-//xunshi//巡视期限日历//ZH"
DOMAIN = "xunshi"
PROVISIONAL = "暂定"
# The summary's prefix and the event's category, by kind of deadline.
PREFIXES = {"case": "【期限】", "item": "【问题期限】", "task": "【整改任务】"}
CATEGORIES = {"case": "巡视期限", "item": "问题期限", "task": "整改任务"}
SUMMARY_MEASURE = 30  # characters of a measure in a summary (the description has it whole)


def uid(deadline: Deadline) -> str:
    """The event's UID: what the deadline is, the same in every export."""
    return f"{deadline.ident}@{DOMAIN}"


def name(view: RoundDeadlines) -> str:
    """The calendar's name: the round's title, and the group or unit it is limited to."""
    parts = [view.round.title]
    if view.group is not None:
        parts.append(f"巡视组 {view.group}")
    if view.unit_name is not None:
        parts.append(view.unit_name)
    return " ".join(parts)


def summary(deadline: Deadline) -> str:
    """`【期限】2024-R1/U01 现场巡视`, `【整改任务】2024-R1/U01/P01#1 建立健全制度`, `（暂定）`."""
    what = " ".join(deadline.what.split())
    if len(what) > SUMMARY_MEASURE:
        what = what[: SUMMARY_MEASURE - 1] + "…"
    text = f"{PREFIXES[deadline.kind]}{deadline.key} {what}"
    return f"{text}（{PROVISIONAL}）" if deadline.provisional else text


def description(deadline: Deadline) -> str:
    """The event's text: unit, group, inspection, the stage or the measure and who answers."""
    leader = f"（组长：{deadline.group_leader}）" if deadline.group_leader else ""
    lines = [
        f"被巡视单位：{deadline.unit_name}（{deadline.key.unit}）",
        f"巡视组：{deadline.group}{leader}",
        f"巡视类型：{deadline.inspection}",
    ]
    if deadline.problem:
        lines.append(f"问题：{deadline.problem}")
    if deadline.kind == "task":
        lines.append(f"整改措施：{deadline.what}")
        lines.extend(f"{title}：{who}" for title, who in deadline.responsible)
        lines.append(f"完成时限：{deadline.due_on.isoformat()}")
    else:
        stage = "问题阶段" if deadline.kind == "item" else "阶段"
        lines.append(f"{stage}：{deadline.what}")
        due = deadline.due_on.isoformat()
        if deadline.provisional:
            due += f"（{PROVISIONAL}：该年节假日数据尚未载入，按周末计算）"
        lines.append(f"期限：{due}")
    return "\n".join(lines)


def event(deadline: Deadline) -> Event:
    """One all-day VEVENT on the deadline's due date."""
    changed = deadline.changed_at.astimezone(UTC)
    found = Event()
    found.add("uid", uid(deadline))
    found.add("dtstamp", changed)
    found.add("last-modified", changed)
    found.add("sequence", deadline.revision)
    found.add("dtstart", deadline.due_on)
    found.add("dtend", deadline.due_on + timedelta(days=1))
    found.add("summary", summary(deadline))
    found.add("description", description(deadline))
    categories = [CATEGORIES[deadline.kind]]
    if deadline.provisional:
        categories.append(PROVISIONAL)
    found.add("categories", categories)
    found.add("status", "TENTATIVE" if deadline.provisional else "CONFIRMED")
    found.add("transp", "TRANSPARENT")
    return found


def calendar(view: RoundDeadlines, tz: ZoneInfo) -> Calendar:
    """The VCALENDAR of a round's deadlines."""
    found = Calendar()
    found.add("prodid", PRODID)
    found.add("version", "2.0")
    found.add("calscale", "GREGORIAN")
    found.add("name", name(view))
    found.add("x-wr-calname", name(view))
    found.add("x-wr-timezone", tz.key)
    for deadline in view.deadlines:
        found.add_component(event(deadline))
    return found


def write_ics(view: RoundDeadlines, tz: ZoneInfo, out: IO[str]) -> None:
    """The iCalendar text (CRLF line ends, as RFC 5545 wants; the caller opens it as UTF-8)."""
    out.write(calendar(view, tz).to_ical().decode("utf-8"))
