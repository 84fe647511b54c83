"""The rectification progress chart: open and accepted problems over time, as inline SVG.

Two stacked areas over the days (or weeks): 已销号 at the bottom, 未销号 on top of it, so the
upper edge is every problem on the list. Axes with whole-number ticks, a few date labels, a
legend; each point has a tooltip with its counts. Deterministic, every text escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from xunshi.read.progress import ProgressPoint

WIDTH = 760
HEIGHT = 300
LEFT = 48
RIGHT = 20
TOP = 36
BOTTOM = 44
DATE_LABELS = 8  # at most this many dates under the axis
OPEN_COLOUR = "#e8a33d"
ACCEPTED_COLOUR = "#3c9a5f"
FONT = "font-family=\"'Noto Sans CJK SC','Microsoft YaHei',sans-serif\""


def ticks(top: int) -> list[int]:
    """Whole-number ticks from 0 to at least `top`: steps of 1, 2 or 5 times a power of ten,
    at most five steps."""
    top = max(top, 1)
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            count = -(-top // step)
            if count <= 5:
                return list(range(0, count * step + 1, step))
        magnitude *= 10


def draw(points: Sequence[ProgressPoint]) -> str:
    """The chart's SVG; an empty string without points."""
    if not points:
        return ""
    scale = ticks(max(p.total for p in points))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = max(len(points) - 1, 1)

    def x(n: int) -> float:
        return LEFT + (plot_w * n / span if len(points) > 1 else plot_w / 2)

    def y(value: int) -> float:
        return TOP + plot_h - plot_h * value / scale[-1]

    base = [(x(n), y(0)) for n in range(len(points))]
    accepted = [(x(n), y(p.accepted)) for n, p in enumerate(points)]
    total = [(x(n), y(p.total)) for n, p in enumerate(points)]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="progress" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="整改进度" {FONT} font-size="11">',
        "<title>整改进度：未销号与已销号问题数</title>",
    ]
    for value in scale:
        parts.append(
            f'<line x1="{LEFT}" y1="{y(value):.1f}" x2="{WIDTH - RIGHT}" y2="{y(value):.1f}" '
            f'stroke="{"#999" if value == 0 else "#e4e4e4"}"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value}</text>'
        )
    parts.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#999"/>')
    parts.append(_area("accepted", accepted, base, ACCEPTED_COLOUR))
    parts.append(_area("open", total, accepted, OPEN_COLOUR))
    every = max(1, -(-len(points) // DATE_LABELS))
    for n, point in enumerate(points):
        if n % every == 0 or n == len(points) - 1:
            parts.append(
                f'<text x="{x(n):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">'
                f"{escape(point.day.strftime('%m-%d'))}</text>"
            )
        tip = f"{point.day.isoformat()}：未销号 {point.open}，已销号 {point.accepted}"
        parts.append(
            f'<circle class="point" cx="{x(n):.1f}" cy="{y(point.total):.1f}" r="3" '
            f'fill="{OPEN_COLOUR}" data-day="{point.day.isoformat()}" '
            f'data-open="{point.open}" data-accepted="{point.accepted}">'
            f"<title>{escape(tip)}</title></circle>"
        )
    parts.append(
        f'<text x="{LEFT - 6}" y="{TOP - 14}" text-anchor="start" fill="#555">问题数</text>'
    )
    parts += _legend(WIDTH - RIGHT - 200, 12)
    parts.append("</svg>")
    return "\n".join(parts)


def _area(
    name: str, upper: list[tuple[float, float]], lower: list[tuple[float, float]], colour: str
) -> str:
    """The region between two lines (left to right along `upper`, back along `lower`)."""
    ring = upper + list(reversed(lower))
    if len(upper) == 1:  # one day: a bar wide enough to see
        (ux, uy), (_lx, ly) = upper[0], lower[0]
        ring = [(ux - 6, uy), (ux + 6, uy), (ux + 6, ly), (ux - 6, ly)]
    points = " ".join(f"{px:.1f},{py:.1f}" for px, py in ring)
    return (
        f'<polygon class="{name}" points="{points}" fill="{colour}" fill-opacity="0.75" '
        f'stroke="{colour}"/>'
    )


def _legend(left: int, top: int) -> list[str]:
    found = []
    for n, (title, colour) in enumerate((("未销号", OPEN_COLOUR), ("已销号", ACCEPTED_COLOUR))):
        x = left + n * 100
        found.append(
            f'<g class="legend"><rect x="{x}" y="{top}" width="14" height="10" '
            f'fill="{colour}"/><text x="{x + 20}" y="{top + 9}">{title}</text></g>'
        )
    return found
