"""`xunshi calendar load [--merge | --replace] | show | reset` (issue #8).

The world's case 2024-R1/U01 entered 巡前准备 on 2024-09-02 09:00, due 2024-09-24. A 2024
file with one holiday, Monday 2024-09-23, pushes that due date a day later when merged.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from cli_harness import KEY, Cli

ONE_HOLIDAY = "year: 2024\nholidays: [2024-09-23]\nworkdays: []\n"
STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
NOW = "YYYY-MM-DD HH:MM"
# The history shows instants in ISO 8601 with the business offset (issue #8, defect 15).
INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00")
NOW_ISO = "YYYY-MM-DDTHH:MM:SS+08:00"


def calendar_file(cli: Cli, text: str = ONE_HOLIDAY, name: str = "cal2024.yaml") -> str:
    """A calendar file next to the database; its path."""
    path = cli.path.parent / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def due(cli: Cli) -> str:
    """The world case's due date."""
    shown: dict[str, Any] = cli.json("case", "show", KEY)
    return str(shown["due_on"])


def test_a_plain_load_merges_and_lists_what_it_moved(world: Cli) -> None:
    text = world.out("calendar", "load", calendar_file(world))

    assert text == (
        "Loaded 2024 from cal2024.yaml (merge): 29 holidays, 8 make-up working days;"
        " 1 deadline moved\n"
        "  case 2024-R1/U01 (preparation): due 2024-09-24 → 2024-09-25\n"
    )
    assert due(world) == "2024-09-25"
    # 国庆 is still off: the 5th working day after 09-27 is still 10-10.
    assert world.out("calendar", "workdays", "2024-09-27", "5") == "2024-10-10\n"
    history = INSTANT.sub(NOW_ISO, world.out("case", "history", KEY))
    assert history.splitlines()[-1] == (
        f"2     {NOW_ISO}  deadline  calendar          tester          "
        "calendar 2024 merge of cal2024.yaml: due 2024-09-24 → 2024-09-25"
    )
    assert world.out("audit", "verify") == "OK: 1 chain, 2 events verified\n"


def test_merge_and_replace_together_is_a_usage_error(world: Cli) -> None:
    path = calendar_file(world)
    assert world.usage("calendar", "load", path, "--merge", "--replace") == (
        "Error: --merge and --replace cannot be used together"
    )
    assert due(world) == "2024-09-24"


def test_replace_drops_the_built_in_days_the_file_does_not_list(world: Cli) -> None:
    world.run("calendar", "load", calendar_file(world), "--merge")
    assert world.out("calendar", "workdays", "2024-09-27", "5") == "2024-10-10\n"

    loaded = world.json("calendar", "load", calendar_file(world), "--replace")

    assert {k: loaded[k] for k in ("year", "mode", "holidays", "workdays")} == {
        "year": 2024,
        "mode": "replace",
        "holidays": 1,
        "workdays": 0,
    }
    assert [m["key"] for m in loaded["rescheduled"]] == [KEY]
    # 中秋 (09-16, 09-17) is worked now and its make-up Saturday (09-14) is not.
    assert loaded["rescheduled"][0]["due_on"] == {"old": "2024-09-25", "new": "2024-09-24"}
    assert world.out("calendar", "workdays", "2024-09-27", "5") == "2024-10-04\n"


def test_show_lists_the_days_with_their_sources_and_the_loads(world: Cli) -> None:
    world.run("calendar", "load", calendar_file(world), "--actor", "巡视办")

    text = STAMP.sub(NOW, world.out("calendar", "show", "2024"))

    lines = text.splitlines()
    assert lines[:4] == [
        "2024: 29 holidays, 8 make-up working days (1 load, on the built-in data)",
        "",
        "日期        星期  类别      名称    来源",
        "2024-01-01  周一  节假日    元旦    官方",
    ]
    assert "2024-09-23  周一  节假日            cal2024.yaml (巡视办)" in lines
    assert "2024-09-29  周日  调休上班  国庆节  官方" in lines
    assert lines[-3:] == [
        "",
        "载入  时间              载入人  文件          方式   节假日  调休上班  平常日",
        f"1     {NOW}  巡视办  cal2024.yaml  merge  1       0         0",
    ]
    shown = world.json("calendar", "show", "2024")
    assert (shown["year"], shown["holidays"], shown["workdays"]) == (2024, 29, 8)
    assert {
        "date": "2024-09-23",
        "kind": "holiday",
        "title": None,
        "source": "cal2024.yaml",
        "load": 1,
        "loaded_by": "巡视办",
    } in shown["days"]
    assert [load["mode"] for load in shown["loads"]] == ["merge"]


def test_show_without_a_database_is_the_built_in_data(cli: Cli) -> None:
    assert cli.out("calendar", "show", "2026").splitlines()[0] == (
        "2026: 33 holidays, 6 make-up working days (the built-in data)"
    )
    assert cli.out("calendar", "show", "2027") == (
        "2027: no data, weekends only: deadlines through it are 暂定 provisional"
        " (no built-in data, nothing loaded)\n"
    )
    assert not cli.path.exists()


def test_reset_returns_to_the_built_in_data(world: Cli) -> None:
    world.run("calendar", "load", calendar_file(world))

    assert world.out("calendar", "reset", "2024", "--actor", "王主任") == (
        "Reset 2024 to the built-in data: 28 holidays, 8 make-up working days; 1 deadline moved\n"
        "  case 2024-R1/U01 (preparation): due 2024-09-25 → 2024-09-24\n"
    )
    assert due(world) == "2024-09-24"
    shown = world.json("calendar", "show", "2024")
    assert {day["source"] for day in shown["days"]} == {"官方"}
    assert [(x["mode"], x["source"], x["loaded_by"]) for x in shown["loads"]] == [
        ("merge", "cal2024.yaml", "tester"),
        ("reset", None, "王主任"),
    ]
    history = world.json("case", "history", KEY)
    assert [(e["kind"], e["actor"], e["data"]["mode"]) for e in history[1:]] == [
        ("deadline", "tester", "merge"),
        ("deadline", "王主任", "reset"),
    ]
    assert world.out("audit", "verify") == "OK: 1 chain, 3 events verified\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("reset", "2024"), "calendar 2024 is the built-in data already: nothing to reset"),
        (("reset", "2027"), "calendar 2027 has no data loaded: nothing to reset"),
        (("reset", "1899"), "year 1899 is outside the calendar (years 1900–2200)"),
        (("show", "2201"), "year 2201 is outside the calendar (years 1900–2200)"),
        (("show", "二〇二四"), "YEAR '二〇二四' is not a year (e.g. 2025)"),
        (("reset", "20x4"), "YEAR '20x4' is not a year (e.g. 2025)"),
    ],
)
def test_calendar_refusals_are_one_line_and_write_nothing(
    world: Cli, args: tuple[str, ...], message: str
) -> None:
    before = world.sql("SELECT count(*) FROM calendar_year") + world.sql(
        "SELECT count(*) FROM event"
    )
    assert world.fail("calendar", *args) == message
    after = world.sql("SELECT count(*) FROM calendar_year") + world.sql(
        "SELECT count(*) FROM event"
    )
    assert after == before


def test_a_file_with_ordinary_days(world: Cli) -> None:
    text = "year: 2024\nholidays: []\nworkdays: []\nordinary: [2024-10-07]\n"
    world.run("calendar", "load", calendar_file(world, text, "fix2024.yaml"))
    # 10-07 (a Monday of the 国庆 week) is worked again.
    assert world.out("calendar", "workdays", "2024-09-30", "1") == "2024-10-07\n"
