"""The `cn` working-day calendar and calendar files."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from xunshi.errors import BadInput, XunshiError
from xunshi.workflow.calendar import (
    OFFICIAL,
    Calendar,
    CalendarFile,
    CalendarFileError,
    CnCalendar,
    LoadMode,
    MarkedDay,
    OutsideCalendar,
    YearData,
    YearLoad,
    calendar_for,
    covered,
    loaded_years,
    official_days,
    parse_calendar_file,
    year_days,
)

CAL = CnCalendar()

FILE_2027 = """\
year: 2027
holidays:
  - 2027-01-01
  - {from: 2027-02-06, to: 2027-02-13, title: 春节}
  - {from: "2027-10-01", to: "2027-10-07", title: 国庆节}
workdays: [2027-02-14, 2027-02-20, "2027-10-09"]
"""


def naive_add(cal: Calendar, start: date, n: int) -> date:
    """Walk day by day: the reference for add_working_days."""
    step = timedelta(days=1 if n > 0 else -1)
    day, left = start, abs(n)
    while left:
        day += step
        if cal.is_working_day(day):
            left -= 1
    return day


# --- is_working_day -------------------------------------------------------------------------


@pytest.mark.parametrize("day", [date(2024, 9, 29), date(2024, 10, 12)])
def test_make_up_days_are_working_days(day: date) -> None:
    assert day.weekday() >= 5
    assert CAL.is_working_day(day)


@pytest.mark.parametrize("day", [date(2024, 10, d) for d in range(1, 8)])
def test_national_day_week_is_off(day: date) -> None:
    assert not CAL.is_working_day(day)


def test_ordinary_days() -> None:
    assert CAL.is_working_day(date(2024, 10, 8))  # Tuesday after the holiday
    assert not CAL.is_working_day(date(2024, 10, 13))  # Sunday


def test_agrees_with_chinesecalendar_for_every_day_it_knows() -> None:
    day, last = date(2004, 1, 1), date(2026, 12, 31)
    while day <= last:
        assert CAL.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_year_without_data_has_weekends_only() -> None:
    assert not CAL.has_data(2027)
    assert CAL.is_working_day(date(2027, 1, 1))  # a Friday; New Year unknown without data
    assert not CAL.is_working_day(date(2027, 1, 2))  # Saturday


# --- add_working_days / count_working_days --------------------------------------------------


def test_five_working_days_over_national_day() -> None:
    assert CAL.add_working_days(date(2024, 9, 27), 5) == date(2024, 10, 10)


def test_five_working_days_back_over_national_day() -> None:
    assert CAL.add_working_days(date(2024, 10, 10), -5) == date(2024, 9, 27)


def test_zero_working_days_is_the_start() -> None:
    assert CAL.add_working_days(date(2024, 10, 3), 0) == date(2024, 10, 3)


def test_start_on_a_holiday_is_not_counted() -> None:
    assert CAL.add_working_days(date(2024, 10, 3), 1) == date(2024, 10, 8)
    assert CAL.add_working_days(date(2024, 10, 3), -1) == date(2024, 9, 30)


def test_count_working_days_is_half_open() -> None:
    assert CAL.count_working_days(date(2024, 9, 27), date(2024, 10, 10)) == 5
    assert CAL.count_working_days(date(2024, 9, 27), date(2024, 9, 27)) == 0
    assert CAL.count_working_days(date(2024, 10, 10), date(2024, 9, 27)) == 0
    assert CAL.count_working_days(date(2024, 9, 30), date(2024, 10, 7)) == 0


def test_across_a_year_boundary_without_data() -> None:
    end = CAL.add_working_days(date(2026, 12, 28), 5)
    # 12-29, 12-30, 12-31, then 2027-01-01 (Friday, no data) and 01-04.
    assert end == date(2027, 1, 4)
    assert CAL.count_working_days(date(2026, 12, 28), end) == 5
    assert CAL.provisional(date(2026, 12, 28), end)
    assert CAL.add_working_days(end, -5) == date(2026, 12, 28)


def test_across_a_year_boundary_with_data() -> None:
    # 2024-12-31, then 2025-01-01 is New Year's Day: 01-02, 01-03, 01-06.
    assert CAL.add_working_days(date(2024, 12, 30), 4) == date(2025, 1, 6)
    assert CAL.count_working_days(date(2024, 12, 30), date(2025, 1, 6)) == 4


def test_long_spans_match_a_day_by_day_walk() -> None:
    start = date(2019, 3, 7)
    for n in (250, 1000, 3000, -250, -1000, -3000):
        assert CAL.add_working_days(start, n) == naive_add(CAL, start, n), n
    assert CAL.count_working_days(date(2010, 5, 1), date(2025, 5, 1)) == sum(
        CAL.is_working_day(date(2010, 5, 1) + timedelta(days=k))
        for k in range(1, (date(2025, 5, 1) - date(2010, 5, 1)).days + 1)
    )


@pytest.mark.parametrize(
    ("start", "n", "message"),
    [
        (date(2024, 2, 29), 99_999_999, "2024-02-29 + 99999999 working days"),
        (date(2024, 2, 29), -99_999_999, "2024-02-29 - 99999999 working days"),
        # Within what a walk could reach, but past 2200: refused when the walk gets there.
        (date(2024, 2, 29), 60_000, "2024-02-29 + 60000 working days"),
        (date(2200, 12, 31), 1, "2200-12-31 + 1 working day"),
        (date(1900, 1, 1), -1, "1900-01-01 - 1 working day"),
        (date(9999, 12, 31), 1, "9999-12-31"),
        (date(9999, 12, 31), 0, "9999-12-31"),
        (date(1, 1, 1), -1, "0001-01-01"),
    ],
)
def test_arithmetic_outside_the_calendar_is_bad_input(start: date, n: int, message: str) -> None:
    with pytest.raises(OutsideCalendar) as caught:
        CAL.add_working_days(start, n)
    assert isinstance(caught.value, BadInput)
    assert caught.value.message == f"{message} is outside the calendar (years 1900–2200)"


def test_arithmetic_at_the_edges_of_the_calendar() -> None:
    assert CAL.add_working_days(date(2200, 12, 30), 1) == date(2200, 12, 31)  # a Wednesday
    assert CAL.add_working_days(date(1900, 1, 2), -1) == date(1900, 1, 1)  # a Monday
    assert CAL.count_working_days(date(1900, 1, 1), date(2200, 12, 31)) > 78_000


def test_counting_outside_the_calendar_is_bad_input() -> None:
    with pytest.raises(OutsideCalendar, match=r"^9999-12-31 is outside the calendar"):
        CAL.count_working_days(date(2024, 1, 1), date(9999, 12, 31))
    assert CAL.count_working_days(date(9999, 12, 31), date(2024, 1, 1)) == 0  # empty span


working_dates = st.dates(min_value=date(2003, 1, 1), max_value=date(2029, 12, 31))
steps = st.integers(min_value=-400, max_value=400)


@given(working_dates, steps)
def test_adding_then_subtracting_returns_to_a_working_day(day: date, n: int) -> None:
    assume(CAL.is_working_day(day))
    assert CAL.add_working_days(CAL.add_working_days(day, n), -n) == day


@given(working_dates, st.integers(min_value=0, max_value=400))
def test_count_inverts_add(day: date, n: int) -> None:
    assert CAL.count_working_days(day, CAL.add_working_days(day, n)) == n


@given(working_dates, st.integers(min_value=-60, max_value=60))
def test_add_matches_a_day_by_day_walk(day: date, n: int) -> None:
    assert CAL.add_working_days(day, n) == naive_add(CAL, day, n)


# --- data, provisional, overrides -----------------------------------------------------------


def test_years_with_data() -> None:
    assert CAL.years() == list(range(2004, 2027))
    assert CAL.has_data(2024)
    assert not CAL.has_data(2027)
    assert not CAL.has_data(2003)


def test_provisional_when_any_spanned_year_lacks_data() -> None:
    assert not CAL.provisional(date(2024, 9, 27), date(2024, 10, 10))
    assert CAL.provisional(date(2026, 6, 1), date(2028, 1, 1))
    assert CAL.provisional(date(2028, 1, 1), date(2026, 6, 1))
    assert CAL.provisional(date(2003, 12, 1), date(2004, 2, 1))


def test_a_2027_file_makes_2027_arithmetic_final_and_uses_its_holidays() -> None:
    cal = CAL.with_years(parse_calendar_file(FILE_2027, "cal2027.yaml").data)
    end = cal.add_working_days(date(2026, 12, 28), 5)
    assert end == date(2027, 1, 5)  # 2027-01-01 is now a holiday
    assert not cal.provisional(date(2026, 12, 28), end)
    assert cal.years()[-1] == 2027
    assert not cal.is_working_day(date(2027, 2, 8))
    assert cal.is_working_day(date(2027, 2, 14))  # Sunday make-up day
    assert cal.add_working_days(date(2027, 2, 5), 1) == date(2027, 2, 14)
    # the original calendar is unchanged
    assert CAL.add_working_days(date(2026, 12, 28), 5) == date(2027, 1, 4)
    assert not CAL.has_data(2027)


def test_with_years_replaces_a_year_completely() -> None:
    warm = CnCalendar()
    assert warm.add_working_days(date(2024, 9, 27), 5) == date(2024, 10, 10)  # fill the cache
    plain_2024 = warm.with_years(YearData(2024, frozenset(), frozenset()))
    assert plain_2024.is_working_day(date(2024, 10, 1))
    assert not plain_2024.is_working_day(date(2024, 9, 29))
    assert plain_2024.add_working_days(date(2024, 9, 27), 5) == date(2024, 10, 4)
    assert plain_2024.add_working_days(date(2025, 1, 1), 1) == date(2025, 1, 2)  # 2025 kept


def test_overrides_given_at_construction() -> None:
    cal = CnCalendar([YearData(2027, frozenset({date(2027, 1, 1)}), frozenset())])
    assert cal.has_data(2027)
    assert not cal.is_working_day(date(2027, 1, 1))


def test_year_data_must_hold_dates_of_its_year() -> None:
    with pytest.raises(ValueError, match="calendar data for 2027 holds 2026-12-31, not in 2027"):
        YearData(2027, frozenset({date(2026, 12, 31)}), frozenset())


def test_calendar_for_cn() -> None:
    cal = calendar_for("cn")
    assert cal.name == "cn"
    assert cal.add_working_days(date(2024, 9, 27), 5) == date(2024, 10, 10)


def test_calendar_for_cn_with_loads() -> None:
    cal = calendar_for("cn", [YearLoad(1, "replace", parse_calendar_file(FILE_2027, "cal.yaml"))])
    assert cal.has_data(2027)
    assert not cal.is_working_day(date(2027, 1, 1))


def test_calendar_for_unknown_name() -> None:
    with pytest.raises(ValueError, match=r"^unknown calendar 'hk' \(known: cn\)$"):
        calendar_for("hk")


# --- calendar files -------------------------------------------------------------------------


def test_parse_calendar_file() -> None:
    data = parse_calendar_file(FILE_2027, "cal2027.yaml")
    assert data.year == 2027
    assert len(data.holidays) == 1 + 8 + 7
    assert date(2027, 2, 6) in data.holidays
    assert date(2027, 2, 13) in data.holidays
    assert date(2027, 10, 7) in data.holidays
    assert data.workdays == frozenset({date(2027, 2, 14), date(2027, 2, 20), date(2027, 10, 9)})
    assert data.ordinary == frozenset()
    # Ranges give their days a title; a single date has none.
    assert data.titles[date(2027, 2, 6)] == "春节"
    assert data.titles[date(2027, 10, 7)] == "国庆节"
    assert date(2027, 1, 1) not in data.titles


def test_parse_calendar_file_with_ordinary_days() -> None:
    text = "year: 2025\nholidays: []\nworkdays: []\nordinary: [2025-10-08, 2025-09-28]\n"
    data = parse_calendar_file(text, "fix2025.yaml")
    assert data.ordinary == frozenset({date(2025, 10, 8), date(2025, 9, 28)})


def test_parse_calendar_file_with_empty_lists() -> None:
    data = parse_calendar_file("year: 2030\nholidays: []\nworkdays: []\n", "cal.yaml")
    assert data == CalendarFile(2030, frozenset(), frozenset())
    assert data.data == YearData(2030, frozenset(), frozenset())


def test_calendar_file_error_is_a_value_error_and_a_xunshi_error() -> None:
    with pytest.raises(CalendarFileError) as caught:
        parse_calendar_file("[]", "cal.yaml")
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, XunshiError)


def bad(text: str) -> str:
    """The one-line message for an invalid calendar file named cal2027.yaml."""
    with pytest.raises(CalendarFileError) as caught:
        parse_calendar_file(text, "cal2027.yaml")
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_bad_file_not_a_mapping() -> None:
    assert bad("- 2027-01-01\n") == (
        "cal2027.yaml: expected a mapping with keys year, holidays, workdays, not a list"
    )


def test_bad_file_empty() -> None:
    assert bad("") == (
        "cal2027.yaml: expected a mapping with keys year, holidays, workdays, not nothing"
    )


def test_bad_file_not_yaml() -> None:
    assert bad("year: [2027\n") == (
        "cal2027.yaml: not valid YAML: expected ',' or ']', but got '<stream end>' (line 2)"
    )


def test_bad_file_missing_key() -> None:
    assert bad("year: 2027\nholidays: []\n") == "cal2027.yaml: missing key workdays"


def test_bad_file_missing_keys() -> None:
    assert bad("year: 2027\n") == "cal2027.yaml: missing key holidays, workdays"


def test_bad_file_extra_key() -> None:
    assert bad("year: 2027\nholidays: []\nworkdays: []\nholiday: []\n") == (
        "cal2027.yaml: unknown key holiday"
        " (expected year, holidays, workdays and optionally ordinary)"
    )


@pytest.mark.parametrize(
    ("year", "shown"),
    [("'2027'", "'2027'"), ("1899", "1899"), ("2201", "2201"), ("true", "True")],
)
def test_bad_file_year(year: str, shown: str) -> None:
    assert bad(f"year: {year}\nholidays: []\nworkdays: []\n") == (
        f"cal2027.yaml: year must be an integer from 1900 to 2200, not {shown}"
    )


def test_bad_file_holidays_not_a_list() -> None:
    assert bad("year: 2027\nholidays: 2027-01-01\nworkdays: []\n") == (
        "cal2027.yaml: holidays must be a list of dates or {from, to} ranges,"
        " not date datetime.date(2027, 1, 1)"
    )


def test_bad_file_workdays_not_a_list() -> None:
    assert bad("year: 2027\nholidays: []\nworkdays: {}\n") == (
        "cal2027.yaml: workdays must be a list of dates, not a mapping"
    )


def test_bad_file_holiday_not_a_date() -> None:
    assert bad("year: 2027\nholidays: [2027-13-01]\nworkdays: []\n") == (
        "cal2027.yaml: holiday 2027-13-01 is not a date (YYYY-MM-DD)"
    )


def test_bad_file_holiday_not_iso() -> None:
    assert bad("year: 2027\nholidays: [01/02/2027]\nworkdays: []\n") == (
        "cal2027.yaml: holiday 01/02/2027 is not a date (YYYY-MM-DD)"
    )


def test_bad_file_holiday_with_a_time() -> None:
    assert bad("year: 2027\nholidays: [2027-01-01 10:00:00]\nworkdays: []\n") == (
        "cal2027.yaml: holiday 2027-01-01 10:00:00 is not a date (YYYY-MM-DD)"
    )


def test_bad_file_range_end_not_a_date() -> None:
    text = "year: 2027\nholidays:\n  - {from: 2027-02-06, to: 2027-02-30}\nworkdays: []\n"
    assert bad(text) == "cal2027.yaml: holiday 2027-02-30 is not a date (YYYY-MM-DD)"


def test_bad_file_workday_not_a_date() -> None:
    assert bad("year: 2027\nholidays: []\nworkdays: [next saturday]\n") == (
        "cal2027.yaml: make-up working day next saturday is not a date (YYYY-MM-DD)"
    )


def test_bad_file_holiday_outside_the_year() -> None:
    assert bad("year: 2027\nholidays: [2026-12-31]\nworkdays: []\n") == (
        "cal2027.yaml: holiday 2026-12-31 is not in 2027"
    )


def test_bad_file_range_outside_the_year() -> None:
    text = "year: 2027\nholidays:\n  - {from: 2027-12-31, to: 2028-01-01}\nworkdays: []\n"
    assert bad(text) == "cal2027.yaml: holiday 2028-01-01 is not in 2027"


def test_bad_file_workday_outside_the_year() -> None:
    assert bad("year: 2027\nholidays: []\nworkdays: [2028-01-08]\n") == (
        "cal2027.yaml: make-up working day 2028-01-08 is not in 2027"
    )


def test_bad_file_range_backwards() -> None:
    text = "year: 2027\nholidays:\n  - {from: 2027-02-13, to: 2027-02-06}\nworkdays: []\n"
    assert bad(text) == (
        "cal2027.yaml: holiday range from 2027-02-13 to 2027-02-06 ends before it starts"
    )


def test_bad_file_range_keys() -> None:
    text = "year: 2027\nholidays:\n  - {start: 2027-02-06, to: 2027-02-13}\nworkdays: []\n"
    assert bad(text) == (
        "cal2027.yaml: a holiday range needs keys from and to (and optionally title),"
        " not {start, to}"
    )


def test_bad_file_range_title() -> None:
    text = (
        "year: 2027\nholidays:\n  - {from: 2027-02-06, to: 2027-02-13, title: [a]}\nworkdays: []\n"
    )
    assert bad(text) == "cal2027.yaml: holiday range title must be text, not ['a']"


@pytest.mark.parametrize(
    ("title", "message"),
    [
        (r"春\ud800节", "holiday range title holds '\\ud800', half of a character"),
        (r"春\0节", "holiday range title must be one line of text"),
        (r"春\n节", "holiday range title must be one line of text"),
        ("春" * 201, "holiday range title is 201 characters long; at most 200"),
    ],
)
def test_bad_file_range_title_is_checked_as_a_name(title: str, message: str) -> None:
    # A title is stored and shown as every name is: one line, storable (issue #8).
    text = f'year: 2027\nholidays:\n  - {{from: 2027-02-06, to: 2027-02-13, title: "{title}"}}\n'
    assert bad(text + "workdays: []\n").startswith(f"cal2027.yaml: {message}")


def test_a_range_title_is_stripped() -> None:
    text = 'year: 2027\nholidays:\n  - {from: 2027-02-06, to: 2027-02-06, title: " 春节 "}\n'
    assert parse_calendar_file(text + "workdays: []\n", "x.yaml").titles == {
        date(2027, 2, 6): "春节"
    }


def test_bad_file_day_both_holiday_and_workday() -> None:
    text = (
        "year: 2027\nholidays:\n  - {from: 2027-02-06, to: 2027-02-13}\n"
        "workdays: [2027-02-14, 2027-02-13]\n"
    )
    assert bad(text) == "cal2027.yaml: 2027-02-13 is both a holiday and a make-up working day"


def test_bad_file_ordinary_not_a_list() -> None:
    assert bad("year: 2027\nholidays: []\nworkdays: []\nordinary: 2027-01-01\n") == (
        "cal2027.yaml: ordinary must be a list of dates, not date datetime.date(2027, 1, 1)"
    )


def test_bad_file_ordinary_day_outside_the_year() -> None:
    assert bad("year: 2027\nholidays: []\nworkdays: []\nordinary: [2026-10-08]\n") == (
        "cal2027.yaml: ordinary day 2026-10-08 is not in 2027"
    )


def test_bad_file_day_both_listed_and_ordinary() -> None:
    text = "year: 2027\nholidays: [2027-01-01]\nworkdays: []\nordinary: [2027-01-01]\n"
    assert bad(text) == "cal2027.yaml: 2027-01-01 is both a holiday and an ordinary day"
    text = "year: 2027\nholidays: []\nworkdays: [2027-02-20]\nordinary: [2027-02-20]\n"
    assert bad(text) == (
        "cal2027.yaml: 2027-02-20 is both a make-up working day and an ordinary day"
    )


def test_bad_file_make_up_day_on_a_weekday() -> None:
    assert bad("year: 2027\nholidays: []\nworkdays: [2027-02-15]\n") == (
        "cal2027.yaml: make-up working day 2027-02-15 is a Monday, not a Saturday or Sunday"
    )


# --- the built-in data, loads in order ------------------------------------------------------

ONE_HOLIDAY_2025 = "year: 2025\nholidays: [2025-10-09]\nworkdays: []\n"


def load(number: int, mode: LoadMode, text: str, source: str = "cal.yaml") -> YearLoad:
    """A stored load of a calendar file."""
    return YearLoad(number, mode, parse_calendar_file(text, source), source, "tester")


def reset(number: int, year: int) -> YearLoad:
    """A stored reset of `year`."""
    return YearLoad(number, "reset", CalendarFile(year, frozenset(), frozenset()))


def kinds(days: dict[date, MarkedDay] | None) -> dict[date, str]:
    """The kind of every special day."""
    assert days is not None
    return {day: marked.kind for day, marked in days.items()}


def test_the_built_in_data_names_its_days() -> None:
    days = official_days(2025)
    assert days is not None
    assert days[date(2025, 1, 28)] == MarkedDay("holiday", "春节", OFFICIAL)
    assert days[date(2025, 10, 6)] == MarkedDay("holiday", "中秋", OFFICIAL)
    assert days[date(2025, 9, 28)] == MarkedDay("workday", "国庆节", OFFICIAL)  # 调休 for 国庆
    assert official_days(2027) is None
    assert covered(2004) and covered(2026)
    assert not covered(2003) and not covered(2027)


def test_without_loads_a_year_is_the_built_in_data() -> None:
    assert year_days(2025, []) == official_days(2025)
    assert year_days(2027, []) is None


def test_a_merge_overrides_the_days_it_lists_and_keeps_every_other() -> None:
    # Issue #8: a 2025 file with one holiday turned 春节 and 国庆 into working days.
    days = year_days(2025, [load(1, "merge", ONE_HOLIDAY_2025)])
    official = official_days(2025)
    assert days is not None and official is not None
    assert days[date(2025, 10, 9)] == MarkedDay("holiday", "", 1)
    assert {d: m for d, m in days.items() if d != date(2025, 10, 9)} == official
    cal = calendar_for("cn", [load(1, "merge", ONE_HOLIDAY_2025)])
    assert not cal.is_working_day(date(2025, 1, 29))  # 春节
    assert not cal.is_working_day(date(2025, 10, 1))  # 国庆
    assert cal.is_working_day(date(2025, 9, 28))  # its make-up Sunday
    assert not cal.is_working_day(date(2025, 10, 9))


def test_a_replace_makes_the_file_the_whole_year() -> None:
    days = year_days(2025, [load(1, "replace", ONE_HOLIDAY_2025)])
    assert kinds(days) == {date(2025, 10, 9): "holiday"}
    cal = calendar_for("cn", [load(1, "replace", ONE_HOLIDAY_2025)])
    assert cal.is_working_day(date(2025, 10, 1))
    assert not cal.is_working_day(date(2025, 9, 28))


def test_ordinary_days_undo_a_holiday_or_a_make_up_day() -> None:
    text = "year: 2025\nholidays: []\nworkdays: []\nordinary: [2025-10-08, 2025-09-28]\n"
    days = kinds(year_days(2025, [load(1, "merge", text)]))
    assert date(2025, 10, 8) not in days
    assert date(2025, 9, 28) not in days
    assert days[date(2025, 10, 7)] == "holiday"
    cal = calendar_for("cn", [load(1, "merge", text)])
    assert cal.is_working_day(date(2025, 10, 8))  # a Wednesday, worked again
    assert not cal.is_working_day(date(2025, 9, 28))  # a Sunday, off again


def test_a_listed_day_keeps_its_title_unless_the_file_gives_one() -> None:
    text = (
        "year: 2025\nholidays:\n  - 2025-10-01\n  - {from: 2025-10-02, to: 2025-10-02,"
        " title: 改名}\nworkdays: [2025-10-04]\n"
    )
    days = year_days(2025, [load(1, "merge", text)])
    assert days is not None
    assert days[date(2025, 10, 1)] == MarkedDay("holiday", "国庆节", 1)
    assert days[date(2025, 10, 2)] == MarkedDay("holiday", "改名", 1)
    assert days[date(2025, 10, 4)] == MarkedDay("workday", "", 1)  # a holiday before


def test_loads_apply_in_order_and_a_reset_returns_to_the_built_in_data() -> None:
    later = "year: 2025\nholidays: [2025-10-10]\nworkdays: []\n"
    loads = [load(1, "merge", ONE_HOLIDAY_2025), load(2, "merge", later)]
    days = year_days(2025, loads)
    assert days is not None
    assert (days[date(2025, 10, 9)].load, days[date(2025, 10, 10)].load) == (1, 2)
    assert year_days(2025, [*loads, reset(3, 2025)]) == official_days(2025)
    after = year_days(2025, [*loads, reset(3, 2025), load(4, "merge", later)])
    assert after is not None and date(2025, 10, 9) not in after
    assert after[date(2025, 10, 10)].load == 4


def test_a_year_without_built_in_data_is_its_file_and_a_reset_empties_it() -> None:
    days = year_days(2027, [load(1, "replace", FILE_2027)])
    assert kinds(days) == kinds(year_days(2027, [load(1, "merge", FILE_2027)]))
    assert len(kinds(days)) == 16 + 3
    assert year_days(2027, [load(1, "replace", FILE_2027), reset(2, 2027)]) is None
    assert loaded_years([load(1, "replace", FILE_2027), reset(2, 2027)]) == []
    assert not calendar_for("cn", [load(1, "replace", FILE_2027), reset(2, 2027)]).has_data(2027)


def test_a_load_of_another_year_is_refused_by_the_fold() -> None:
    with pytest.raises(ValueError, match="load 1 is for 2027, not 2025"):
        year_days(2025, [load(1, "merge", FILE_2027)])


def _aliases(levels: int) -> str:
    """A YAML list of nine lists of nine … (9**levels items once aliases are expanded)."""
    lines = ["    - &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for level in range(1, levels):
        lines.append(f"    - &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("where", ["holidays:\n  - ", "holidays: []\nworkdays:\n  - "])
def test_a_huge_value_from_aliases_is_named_briefly(where: str) -> None:
    # A few hundred bytes of aliases expand to half a million items; the message used to
    # repr them all (minutes, gigabytes for a few levels more) (issue #8).
    text = "year: 2027\n" + where + "\n" + _aliases(6)
    if where.startswith("holidays: []"):
        text = text.replace("workdays:\n  - \n", "workdays:\n  -\n")
    else:
        text = text.replace("holidays:\n  - \n", "holidays:\n  -\n") + "workdays: []\n"
    message = bad(text)
    assert message.startswith("cal2027.yaml: ") and message.endswith("is not a date (YYYY-MM-DD)")
    assert len(message) < 200


def test_a_huge_year_is_named_briefly() -> None:
    text = "holidays: []\nworkdays: []\nyear:\n" + _aliases(6)
    message = bad(text)
    assert message.startswith("cal2027.yaml: year must be an integer from 1900 to 2200, not [[")
    assert len(message) < 200
