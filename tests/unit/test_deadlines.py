"""Due dates, overdue instants, ladder instants and clock pauses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from xunshi.definitions.durations import Duration, parse_due, parse_offset
from xunshi.workflow.calendar import CnCalendar, parse_calendar_file
from xunshi.workflow.deadlines import (
    add_months,
    days_left,
    due_date,
    is_provisional,
    overdue_from,
    rule_fires_at,
    shift_for_suspension,
    start_of_day,
    working_days_left,
)

CAL = CnCalendar()
TZ = ZoneInfo("Asia/Shanghai")
CST = timezone(timedelta(hours=8))
ENTERED = date(2024, 9, 27)
DUE = date(2024, 10, 10)

FILE_2027 = """\
year: 2027
holidays: [2027-01-01]
workdays: []
"""


# --- due dates ------------------------------------------------------------------------------


def test_due_in_working_days_over_national_day() -> None:
    assert due_date(ENTERED, parse_due("5wd"), CAL) == DUE


def test_due_in_days() -> None:
    assert due_date(ENTERED, parse_due("10d"), CAL) == date(2024, 10, 7)


@pytest.mark.parametrize(
    ("entered", "due", "expected"),
    [
        (date(2024, 1, 31), "1mo", date(2024, 2, 29)),
        (date(2023, 1, 31), "1mo", date(2023, 2, 28)),
        (date(2024, 3, 31), "1mo", date(2024, 4, 30)),
        (date(2024, 8, 31), "6mo", date(2025, 2, 28)),
        (date(2024, 11, 15), "2mo", date(2025, 1, 15)),
        (date(2024, 1, 15), "12mo", date(2025, 1, 15)),
    ],
)
def test_due_in_months_clamps_the_day(entered: date, due: str, expected: date) -> None:
    assert due_date(entered, parse_due(due), CAL) == expected


def test_add_months_backwards() -> None:
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert add_months(date(2024, 1, 31), -2) == date(2023, 11, 30)


def test_due_across_a_year_boundary_is_provisional_without_data() -> None:
    entered = date(2026, 12, 28)
    due = due_date(entered, parse_due("5wd"), CAL)
    assert due == date(2027, 1, 4)
    assert is_provisional(entered, due, CAL)


def test_due_across_a_year_boundary_is_final_with_a_2027_file() -> None:
    cal = CAL.with_years(parse_calendar_file(FILE_2027, "cal2027.yaml").data)
    entered = date(2026, 12, 28)
    due = due_date(entered, parse_due("5wd"), cal)
    assert due == date(2027, 1, 5)
    assert not is_provisional(entered, due, cal)


def test_due_within_known_years_is_not_provisional() -> None:
    assert not is_provisional(ENTERED, DUE, CAL)


# --- instants -------------------------------------------------------------------------------


def test_overdue_from_the_first_instant_of_the_next_day() -> None:
    instant = overdue_from(DUE, TZ)
    assert instant == datetime(2024, 10, 11, tzinfo=CST)
    assert instant.tzinfo is TZ
    assert instant.astimezone(UTC) == datetime(2024, 10, 10, 16, tzinfo=UTC)


def test_start_of_day_where_clocks_skip_midnight() -> None:
    # Brazil started summer time at 00:00 on 2018-11-04: the day began at 01:00 -02:00.
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    first = start_of_day(date(2018, 11, 4), sao_paulo)
    assert first.astimezone(UTC) == datetime(2018, 11, 4, 3, tzinfo=UTC)
    assert (first.hour, first.minute) == (1, 0)


@pytest.mark.parametrize(
    ("at", "fires"),
    [
        # the 3rd working day before 10-10: 10-09, 10-08, then 09-30 (10-01..07 are holidays)
        ("-3wd", datetime(2024, 9, 30, tzinfo=CST)),
        ("-1wd", datetime(2024, 10, 9, tzinfo=CST)),
        ("-2d", datetime(2024, 10, 8, tzinfo=CST)),
        ("0", datetime(2024, 10, 11, tzinfo=CST)),
        # the 5th working day after 10-10: 10-11, 10-12 (make-up Saturday), 10-14, 10-15, 10-16
        ("+5wd", datetime(2024, 10, 17, tzinfo=CST)),
        ("5wd", datetime(2024, 10, 17, tzinfo=CST)),
        ("+2d", datetime(2024, 10, 13, tzinfo=CST)),
    ],
)
def test_ladder_for_a_stage_entered_before_national_day(at: str, fires: datetime) -> None:
    due = due_date(ENTERED, parse_due("5wd"), CAL)
    assert due == DUE
    instant = rule_fires_at(due, parse_offset(at), CAL, TZ)
    assert instant == fires
    assert instant.utcoffset() == timedelta(hours=8)


def test_ladder_instants_are_in_order() -> None:
    ladder = ["-3wd", "-2d", "0", "+2d", "+5wd"]
    instants = [rule_fires_at(DUE, parse_offset(at), CAL, TZ) for at in ladder]
    assert instants == sorted(instants)


def test_ladder_offset_in_months_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^escalation offset must be in wd or d, not months"):
        rule_fires_at(DUE, Duration(1, "mo"), CAL, TZ)


# --- suspension -----------------------------------------------------------------------------


def test_suspension_moves_due_by_the_paused_working_days() -> None:
    # paused days in (09-27, 10-09]: 09-29, 09-30, 10-08, 10-09 -> 4 working days
    assert CAL.count_working_days(date(2024, 9, 27), date(2024, 10, 9)) == 4
    shifted = shift_for_suspension(DUE, date(2024, 9, 27), date(2024, 10, 9), CAL)
    assert shifted == date(2024, 10, 15)  # 10-11, 10-12 (make-up Saturday), 10-14, 10-15


def test_suspension_resumed_the_same_day_changes_nothing() -> None:
    assert shift_for_suspension(DUE, date(2024, 9, 30), date(2024, 9, 30), CAL) == DUE


def test_suspension_over_holidays_only_changes_nothing() -> None:
    assert shift_for_suspension(DUE, date(2024, 9, 30), date(2024, 10, 7), CAL) == DUE


def test_suspension_counts_the_resume_day_not_the_suspend_day() -> None:
    # suspended Monday 2024-10-14, resumed Tuesday 10-15: one working day (10-15) given back
    due = date(2024, 10, 18)
    assert shift_for_suspension(due, date(2024, 10, 14), date(2024, 10, 15), CAL) == date(
        2024, 10, 21
    )


def test_resume_before_suspension_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"^resumed on 2024-10-01, before suspension on 2024-10-02$"
    ):
        shift_for_suspension(DUE, date(2024, 10, 2), date(2024, 10, 1), CAL)


# --- days left ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [(date(2024, 10, 1), 9), (DUE, 0), (date(2024, 10, 11), -1), (date(2024, 10, 20), -10)],
)
def test_days_left(today: date, expected: int) -> None:
    assert days_left(DUE, today) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (ENTERED, 5),
        (date(2024, 10, 1), 3),  # 10-08, 10-09, 10-10
        (DUE, 0),
        (date(2024, 10, 11), -1),
        (date(2024, 10, 13), -2),  # 10-11 and the make-up Saturday 10-12
        (date(2024, 10, 14), -3),
    ],
)
def test_working_days_left(today: date, expected: int) -> None:
    assert working_days_left(DUE, today, CAL) == expected
