"""The round's timeline picture: one bar per case per stage, with the due date of each case's
current stage marked, drawn as SVG on the server from the cases' histories.

Pure: given the cases' stage spans and today, it returns the SVG text, every name escaped.
From `COMPACT_FROM` cases on (a large round) it is drawn compactly: thin rows without
their text labels or a tooltip per bar; each row is a link whose tooltip names the unit,
its current stage and due date, and every bar and due mark is still there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from typing import NamedTuple
from zoneinfo import ZoneInfo

LABEL_WIDTH = 170
CHART_WIDTH = 760
ROW = 24
BAR = 14
TOP = 34
# From this many cases on, the picture is drawn compactly (see `COMPACT`).
COMPACT_FROM = 100
# Colours of the stages, in the order they first appear (a print-friendly palette).
PALETTE = (
    "#4e79a7",
    "#59a14f",
    "#9c755f",
    "#f28e2b",
    "#76b7b2",
    "#b07aa1",
    "#edc948",
    "#ff9da7",
    "#86bcb6",
    "#8cd17d",
    "#e15759",
    "#499894",
    "#d37295",
    "#b6992d",
    "#79706e",
    "#d4a6c8",
)


class Layout(NamedTuple):
    """Where rows go: the width of the labels, a row's height, a bar's."""

    label_width: int
    row: int
    bar: int
    compact: bool


FULL = Layout(LABEL_WIDTH, ROW, BAR, compact=False)
COMPACT = Layout(24, 7, 5, compact=True)  # no labels: only room for the first tick


@dataclass(frozen=True, slots=True)
class Span:
    """One stage of a case: entered at `start`, left at `end` (None: still in it)."""

    stage: str  # its title
    start: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class CaseLine:
    """One case's row: its label, its stages, the due date of its current stage."""

    label: str
    href: str
    spans: tuple[Span, ...]
    due_on: date | None
    overdue: bool
    final: bool = False  # in its final stage: the last bar is a mark, not a span to today


def spans_from(
    events: Sequence[tuple[datetime, str | None]], titles: Mapping[str, str]
) -> tuple[Span, ...]:
    """Stage spans from a history's (occurred at, state entered) pairs, oldest first."""
    entered = [(at, titles.get(state, state)) for at, state in events if state is not None]
    return tuple(
        Span(title, at, entered[n + 1][0] if n + 1 < len(entered) else None)
        for n, (at, title) in enumerate(entered)
    )


def draw(lines: Sequence[CaseLine], now: datetime, tz: ZoneInfo) -> str:
    """The SVG of the round's timeline (empty text when there is no case)."""
    if not lines:
        return ""
    layout = COMPACT if len(lines) >= COMPACT_FROM else FULL
    label_width, row, bar = layout.label_width, layout.row, layout.bar
    starts = [s.start for line in lines for s in line.spans] or [now]
    first = min(starts).astimezone(tz).date()
    last = max(
        [now.astimezone(tz).date()] + [line.due_on for line in lines if line.due_on is not None]
    )
    days = max((last - first).days + 1, 1)

    def x(day: date) -> float:
        return label_width + CHART_WIDTH * (day - first).days / days

    placed: dict[datetime, float] = {}  # a stage's end is the next one's start: place it once

    def x_at(instant: datetime) -> float:
        found = placed.get(instant)
        if found is None:
            local = instant.astimezone(tz)
            fraction = (local.hour * 60 + local.minute) / (24 * 60)
            found = placed[instant] = x(local.date()) + CHART_WIDTH * fraction / days
        return found

    colours: dict[str, str] = {}
    for line in lines:
        for span in line.spans:
            colours.setdefault(span.stage, PALETTE[len(colours) % len(PALETTE)])
    bottom = TOP + row * len(lines)
    height = bottom + 40 + 18 * ((len(colours) + 4) // 5)
    width = label_width + CHART_WIDTH + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline{" compact" * layout.compact}" '
        f'role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        "<title>时间轴：各单位各阶段用时与办理时限</title>",
    ]
    parts += _axis(first, last, days, x, bottom)
    today_x = x_at(now)
    for n, line in enumerate(lines):
        y = TOP + row * n
        if layout.compact:
            parts.append(f'<a href="{escape(line.href)}"><title>{escape(_row_title(line))}</title>')
        else:
            parts.append(
                f'<a href="{escape(line.href)}"><text x="4" y="{y + bar - 2}" class="label">'
                f"{escape(line.label)}</text></a>"
            )
        for span in line.spans:
            left = x_at(span.start)
            right = x_at(span.end) if span.end is not None else (left if line.final else today_x)
            current = span.end is None
            css = "bar current overdue" if current and line.overdue else "bar"
            shape = (
                f'<rect x="{left:.1f}" y="{y}" width="{max(right - left, 2):.1f}" '
                f'height="{bar}" fill="{colours[span.stage]}"'
            )
            if layout.compact:  # no tooltip per bar, no class but the one CSS styles
                parts.append(f'{shape} class="{css}"/>' if css != "bar" else f"{shape}/>")
            else:
                tip = escape(_span_title(line.label, span, tz))
                parts.append(f'{shape} class="{css}"><title>{tip}</title></rect>')
        if line.due_on is not None:
            due_x = x(line.due_on + timedelta(days=1))  # due by the end of that day
            mark = "due overdue" if line.overdue else "due"
            if layout.compact:
                parts.append(
                    f'<path d="M{due_x:.1f} {y} l2 -2 h-4 z M{due_x:.1f} {y} v{bar + 1}" '
                    f'class="{mark}"/>'
                )
            else:
                parts.append(
                    f'<path d="M{due_x:.1f} {y - 3} l4 -5 h-8 z M{due_x:.1f} {y - 3} v{bar + 6}" '
                    f'class="{mark}"><title>{escape(line.label)} 办理时限 '
                    f"{line.due_on.isoformat()}</title></path>"
                )
        if layout.compact:
            parts.append("</a>")
    parts.append(
        f'<line x1="{today_x:.1f}" y1="{TOP - 10}" x2="{today_x:.1f}" y2="{bottom}" class="today"/>'
    )
    parts += _legend(colours, bottom + 24, label_width)
    parts.append("</svg>")
    return "".join(parts)


def _row_title(line: CaseLine) -> str:
    """A compact row's tooltip: `U01 某某公司 现场巡视 办理时限 2024-09-20（已超期）`."""
    current = line.spans[-1].stage if line.spans else ""
    due = "" if line.due_on is None else f" 办理时限 {line.due_on.isoformat()}"
    return f"{line.label} {current}{due}{'（已超期）' if line.overdue else ''}"


def _span_title(label: str, span: Span, tz: ZoneInfo) -> str:
    start = span.start.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    end = "至今" if span.end is None else span.end.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return f"{label} {span.stage}：{start} — {end}"


def _axis(first: date, last: date, days: int, x: Callable[[date], float], bottom: int) -> list[str]:
    step = max(1, days // 10)
    parts = []
    day = first
    while day <= last:
        at = x(day)
        parts.append(
            f'<line x1="{at:.1f}" y1="{TOP - 6}" x2="{at:.1f}" y2="{bottom}" class="grid"/>'
            f'<text x="{at:.1f}" y="{TOP - 12}" class="tick">{day:%m-%d}</text>'
        )
        day += timedelta(days=step)
    return parts


def _legend(colours: dict[str, str], y: int, label_width: int) -> list[str]:
    parts = []
    for n, (stage, colour) in enumerate(colours.items()):
        left = label_width + 150 * (n % 5)
        top = y + 18 * (n // 5)
        parts.append(
            f'<rect x="{left}" y="{top - 10}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{left + 16}" y="{top}" class="legend">{escape(stage)}</text>'
        )
    return parts
