"""Durations of the definition language: `5wd` working days, `10d` days, `2mo` months.

A stage limit (`due`) is a positive duration. A ladder offset (`at`) is signed and counted
from the due date: `-3wd` before it, `0` at it, `5wd` or `+5wd` and `2d` after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Unit = Literal["wd", "d", "mo"]

_UNIT_WORDS: dict[str, str] = {"wd": "working days", "d": "days", "mo": "months"}
_PATTERN = re.compile(r"^([+-]?)(\d{1,4})(wd|d|mo)$")


@dataclass(frozen=True, slots=True)
class Duration:
    """A signed amount of working days, calendar days or months."""

    amount: int
    unit: Unit

    def __str__(self) -> str:
        if self.amount == 0:
            return "0"
        return f"{self.amount}{self.unit}"

    def describe(self) -> str:
        """Human words, e.g. `5 working days`."""
        return f"{self.amount} {_UNIT_WORDS[self.unit]}"


def parse_due(value: object) -> Duration:
    """Parse a stage limit such as `15wd`, `10d` or `2mo`; raise ValueError if it is not one."""
    duration = _parse(value)
    if duration.amount <= 0:
        raise ValueError(f"due must be a positive duration such as 5wd, 10d or 2mo, not {value!r}")
    return duration


def parse_offset(value: object) -> Duration:
    """Parse a ladder offset such as `-3wd`, `0`, `5wd` or `+2d`; raise ValueError if not one."""
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return Duration(0, "d")
    if isinstance(value, str) and value.strip() in ("0", "+0", "-0"):
        return Duration(0, "d")
    duration = _parse(value)
    if duration.unit == "mo":
        raise ValueError(f"escalation offset must be in wd or d, not months ({value!r})")
    return duration


def _parse(value: object) -> Duration:
    if not isinstance(value, str):
        raise ValueError(
            f"duration must be text such as 5wd, 10d or 2mo, not {type(value).__name__} {value!r}"
        )
    match = _PATTERN.match(value.strip())
    if match is None:
        raise ValueError(
            f"bad duration {value!r}: use Nwd (working days), Nd (days) or Nmo (months)"
        )
    sign, digits, unit = match.groups()
    amount = int(digits) * (-1 if sign == "-" else 1)
    return Duration(amount, unit)  # type: ignore[arg-type]
