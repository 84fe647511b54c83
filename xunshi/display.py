"""Plain-text tables that line up with Chinese text (wide characters take two columns), and
the words every front end and message uses for escalation levels."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def width(text: str) -> int:
    """Display width of `text` in a terminal."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, columns: int) -> str:
    """`text` padded with spaces to `columns` display columns."""
    return text + " " * max(columns - width(text), 0)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A table with a header row, columns two spaces apart; no trailing spaces."""
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in r] for r in rows]
    widths = [max(width(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        line = "  ".join(pad(cell, widths[i]) for i, cell in enumerate(row))
        lines.append(line.rstrip())
    return "\n".join(lines)


def _cell(value: object) -> str:
    """A cell's text on one line (a text may hold line breaks; a table row may not)."""
    if value is None:
        return ""
    return " ".join(str(value).splitlines())


def plural(count: int, singular: str, many: str | None = None) -> str:
    """`1 case`, `2 cases` (or the given plural form)."""
    word = singular if count == 1 else (many or singular + "s")
    return f"{count} {word}"


# What a level is called wherever escalations of several ladders are counted or announced
# together: one stage's ladder calls level 1 超期督办 and another's 整改超期督办.
LEVEL_TITLES = {0: "提醒", 1: "督办", 2: "告诫", 3: "问责"}
BEYOND = "升级"  # every level above 3; its number tells them apart


def level_word(level: int) -> str:
    """`提醒`, `督办`, `告诫`, `问责`, then `升级` for every level above."""
    return LEVEL_TITLES.get(level, BEYOND)


def level_title(level: int) -> str:
    """`L0 提醒`, `L1 督办`, `L2 告诫`, `L3 问责`, `L4 升级`, …"""
    return f"L{level} {level_word(level)}"
