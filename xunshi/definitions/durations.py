"""Durations of the definition language: `5wd` working days, `10d` days, `2mo` months.

A stage limit (`due`) is a positive duration, a date of the case's round plan
(`plan.leave`, `plan.move_in`, optionally `{plan: leave, else: 30wd}`), or a duration after a
milestone's recorded date (`{milestone: feedback_meeting, after: 2mo}`, optionally with
`else: 30wd`). A ladder offset
(`at`) is signed and counted from the due date: `-3wd` before it, `0` at it, `5wd` or
`+5wd` and `2d` after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast

Unit = Literal["wd", "d", "mo"]
PlanDate = Literal["move_in", "leave"]
# The plan dates a stage may be due on, and what the plan sheet calls them.
PLAN_DATES: dict[str, str] = {"move_in": "进驻日期", "leave": "撤离日期"}
PLAN_PREFIX = "plan."

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


@dataclass(frozen=True, slots=True)
class PlanDue:
    """A stage due on a date of the case's round plan: its batch's move-in or leave date.

    `fallback`: the limit from entry for a case whose plan has no such date (no batch, or
    a batch without it); None: such a case cannot enter the stage.
    """

    date: PlanDate
    fallback: Duration | None = None

    def __str__(self) -> str:
        text = f"{PLAN_PREFIX}{self.date}"
        return text if self.fallback is None else f"{text}, else {self.fallback}"

    @property
    def title(self) -> str:
        """What the plan calls the date (撤离日期)."""
        return PLAN_DATES[self.date]

    def to_json(self) -> str | dict[str, str]:
        """The canonical form: `plan.leave`, or `{plan: leave, else: 30wd}`."""
        if self.fallback is None:
            return f"{PLAN_PREFIX}{self.date}"
        return {"plan": self.date, "else": str(self.fallback)}


@dataclass(frozen=True, slots=True)
class MilestoneDue:
    """A stage due `after` the date a milestone was recorded as having happened, whichever
    stage recorded it (the latest recording, if it was recorded again after a loop back).

    So the unit's two-month report counts from the feedback meeting's own date (`{milestone:
    feedback_meeting, after: 2mo}`), not from whenever the office fired the next trigger.
    `fallback`: the limit from entry when the milestone was never recorded; None: such an
    instance cannot enter the stage.
    """

    milestone: str
    after: Duration
    fallback: Duration | None = None

    def __str__(self) -> str:
        text = f"{self.after} after {self.milestone}"
        return text if self.fallback is None else f"{text}, else {self.fallback}"

    def to_json(self) -> dict[str, str]:
        """The canonical form: `{milestone: feedback_meeting, after: 2mo[, else: 30wd]}`."""
        found = {"milestone": self.milestone, "after": str(self.after)}
        if self.fallback is not None:
            found["else"] = str(self.fallback)
        return found


Due = Duration | PlanDue | MilestoneDue


def parse_plan_date(value: object) -> PlanDate:
    """`leave` or `move_in`; raise ValueError naming the plan dates otherwise."""
    if isinstance(value, str) and value in PLAN_DATES:
        return cast(PlanDate, value)
    known = ", ".join(PLAN_DATES)
    raise ValueError(f"unknown plan date {value!r} (plan dates: {known})")


def parse_stage_due(value: object) -> Due:
    """A stage limit as stored: a duration, `plan.DATE`, `{plan: DATE, else: DURATION}` or
    `{milestone: NAME, after: DURATION, else: DURATION}`."""
    if isinstance(value, dict) and "milestone" in value:
        fallback = value.get("else")
        return MilestoneDue(
            str(value["milestone"]),
            parse_due(value.get("after")),
            None if fallback is None else parse_due(fallback),
        )
    if isinstance(value, dict):
        fallback = value.get("else")
        return PlanDue(
            parse_plan_date(value.get("plan")), None if fallback is None else parse_due(fallback)
        )
    if isinstance(value, str) and value.strip().startswith(PLAN_PREFIX):
        return PlanDue(parse_plan_date(value.strip().removeprefix(PLAN_PREFIX)))
    return parse_due(value)
