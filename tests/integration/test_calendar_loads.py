"""Calendar loads merge or replace a year, say where every day came from, and leave a trace.

Issue #8: loading a file for 2025 with one holiday turned 春节 and 国庆 into working days,
moved due dates and left no trace. Now a plain load merges (the listed days override, the
rest stays as the built-in data says), replacing takes `replace`, every moved due date or
rung is a `deadline` event with the old and new date and who loaded the calendar, and a
reset returns to the built-in data, recorded the same way. On every backend.

The world: case 2025-R1/U01 enters 巡前准备 on Monday 2025-09-22 09:00 (15 working days:
due 2025-10-17 over the 国庆 week, its first rung at -3wd: 10-14 00:00); its item P01 is
due 2025-10-11 (a make-up Saturday); task #1 of P01 is due 2025-10-15 and its first rung
(-5wd) fires 2025-10-09 00:00.
"""

from __future__ import annotations

import contextlib
import re
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from escalation_helpers import instance, live_timer
from rectification_helpers import CATEGORIES_YAML, POLITICS, task_facts
from sqlalchemy import select
from worlds import snapshot

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings
from xunshi.errors import BadInput, Refused
from xunshi.services.commands import ItemFacts
from xunshi.storage import queries as q
from xunshi.workflow.audit import Event
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.schedule import Rung, Schedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
BUILTIN = Path(__file__).parents[2] / "xunshi" / "definitions" / "builtin"
CASE = "2025-R1/U01"
ITEM = "2025-R1/U01/P01"
ONE_HOLIDAY = "year: 2025\nholidays: [2025-10-09]\nworkdays: []\n"
# 春节, 国庆 (with 中秋) and the make-up Sunday before 国庆, as the built-in data has them.
SPRING_FESTIVAL = [date(2025, 1, d) for d in range(28, 32)] + [date(2025, 2, d) for d in (1, 2)]
NATIONAL_DAY = [date(2025, 10, d) for d in range(1, 9)]


def sh(year: int, month: int, day: int, hour: int = 0) -> datetime:
    """An instant in business time (Asia/Shanghai)."""
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def world(app: App, clock: ManualClock) -> int:
    """Case 2025-R1/U01, its item P01 and task #1 of P01 (see the module docstring)."""
    clock.set(sh(2025, 9, 22, 9))
    cases, items = app.services.cases, app.services.items
    cases.create_round("2025-R1", "2025年第一轮巡视", date(2025, 9, 1))
    cases.add_group("2025-R1", "G1", "张组长")
    cases.add_unit("U01", "示例市财政局")
    # `regular` without its state tags: a definition that tags no stage takes problems in
    # every stage, so P01 can sit beside a case still in 巡前准备 (whose due date is moved).
    untagged = (BUILTIN / "regular.yaml").read_text(encoding="utf-8")
    untagged = untagged.replace("\nname: regular\n", "\nname: regular_untagged\n")
    untagged = re.sub(r"    tags: \[[a-z_, ]*\]\n", "", untagged)
    # Without its stage tagged `evaluation`, 整改评估 is not declared either.
    untagged = re.sub(r"\nevaluation:\n(  .*\n)+", "\n", untagged)
    app.services.definitions.load(untagged, "regular_untagged.yaml", "巡视办")
    cases.start_case(
        round_code="2025-R1",
        unit_code="U01",
        group_code="G1",
        definition="regular_untagged",
        actor="巡视办",
    )
    items.load_categories(CATEGORIES_YAML, "categories.yaml")
    items.add_item(
        CASE,
        ItemFacts(
            code="P01",
            title="问题P01",
            category=POLITICS,
            manifestations="具体表现",
            key_problem=False,
            fix_now=False,
            root_cause="问题根源",
            source="inspection",
        ),
        actor="巡视办",
    )
    added = items.add_task(
        ITEM, task_facts(date(2025, 10, 15)), actor="李联络员", role="unit_liaison"
    )
    assert instance(app, CASE)["due_on"] == date(2025, 10, 17)
    return added.id


def history(app: App, key: str, kind: str = "case") -> list[Event]:
    """The history of a case or an item."""
    return list(app.services.read.history.of(key, kind).events)


def deadline_events(app: App, key: str, kind: str = "case") -> list[Event]:
    """The `deadline` events of a case or an item."""
    return [e for e in history(app, key, kind) if e.kind == "deadline"]


def item_row(app: App) -> dict[str, Any]:
    """The instance row of item P01."""
    i, it = q.instances, q.items
    with app.db.transaction() as conn:
        row = conn.execute(
            select(i).join(it, it.c.id == i.c.id).where(it.c.code == "P01")
        ).mappings()
        return dict(row.one())


def task_timer(app: App, task_id: int) -> tuple[int, int, datetime, date]:
    """(level, generation, fire_at, due_on) of the task's live timer."""
    t = q.timers
    with app.db.transaction() as conn:
        row = conn.execute(
            select(t.c.level, t.c.generation, t.c.fire_at, t.c.due_on).where(
                t.c.task_id == task_id, t.c.status.in_(("pending", "claimed"))
            )
        ).one()
    return row.level, row.generation, row.fire_at, row.due_on


def rung(level: int, fire_at: str) -> dict[str, Any]:
    """A rung as a `deadline` event records it."""
    return {"level": level, "fire_at": fire_at, "provisional": False}


def assert_audit_clean(app: App) -> None:
    """`audit verify` finds nothing wrong."""
    report = app.services.audit.verify()
    assert report.ok, report.problems


# -- merge: the scenario --------------------------------------------------------------


def test_a_file_with_one_holiday_merges_and_the_official_holidays_stay(
    app: App, world: int
) -> None:
    changed = app.services.calendar.load(ONE_HOLIDAY, "cal2025.yaml", "巡视办")

    assert (changed.year, changed.mode, changed.source, changed.loaded_by) == (
        2025,
        "merge",
        "cal2025.yaml",
        "巡视办",
    )
    assert (changed.holidays, changed.workdays) == (28 + 1, 5)
    cal = app.services.read.catalog.calendar()
    assert not any(cal.is_working_day(d) for d in SPRING_FESTIVAL + NATIONAL_DAY)
    assert cal.is_working_day(date(2025, 9, 28))  # the make-up Sunday stays worked
    assert not cal.is_working_day(date(2025, 10, 9))  # the one listed day
    # One more day off before the due date: 10-17 → 10-20 (not earlier: 国庆 is still off).
    assert instance(app, CASE)["due_on"] == date(2025, 10, 20)
    assert_audit_clean(app)


def test_every_moved_deadline_is_an_event_with_the_old_and_new_date_and_the_loader(
    app: App, clock: ManualClock, world: int
) -> None:
    clock.set(sh(2025, 9, 23, 10))
    case_id, item_id = instance(app, CASE)["id"], item_row(app)["id"]

    changed = app.services.calendar.load(ONE_HOLIDAY, "cal2025.yaml", "巡视办")

    # The case's stage: due 10-17 → 10-20, its first rung 10-14 → 10-15.
    [moved] = deadline_events(app, CASE)
    assert (moved.actor, moved.role, moved.trigger, moved.occurred_at) == (
        "巡视办",
        None,
        "calendar",
        sh(2025, 9, 23, 10),
    )
    assert dict(moved.data) == {
        "calendar": "cn",
        "year": 2025,
        "mode": "merge",
        "load": changed.load,
        "source": "cal2025.yaml",
        "stage": "preparation",
        "due_on": {"old": "2025-10-17", "new": "2025-10-20"},
        "provisional": {"old": False, "new": False},
        "rung": {
            "old": rung(0, "2025-10-14T00:00:00+08:00"),
            "new": rung(0, "2025-10-15T00:00:00+08:00"),
        },
    }
    assert moved.reason == (
        "calendar 2025 merge of cal2025.yaml: due 2025-10-17 → 2025-10-20,"
        " next rung level 0 at 2025-10-14 00:00 → level 0 at 2025-10-15 00:00"
    )
    timer = live_timer(app, case_id)
    assert (timer["level"], timer["generation"], timer["fire_at"], timer["due_on"]) == (
        0,
        2,
        sh(2025, 10, 15),
        date(2025, 10, 20),
    )

    # The item: its stage's due date (10-11 → 10-13), then its task's first rung. The task
    # is due when the office said (10-15); only the rung, counted in working days, moves.
    stage_moved, task_moved = deadline_events(app, ITEM, "item")
    assert stage_moved.data["stage"] == "identified"
    assert stage_moved.data["due_on"] == {"old": "2025-10-11", "new": "2025-10-13"}
    assert item_row(app)["due_on"] == date(2025, 10, 13)
    assert task_moved.actor == "巡视办"
    assert {k: v for k, v in task_moved.data.items() if k not in ("calendar", "load")} == {
        "year": 2025,
        "mode": "merge",
        "source": "cal2025.yaml",
        "task": world,
        "number": 1,
        "due_on": {"old": "2025-10-15", "new": "2025-10-15"},
        "provisional": {"old": False, "new": False},
        "rung": {
            "old": rung(0, "2025-10-09T00:00:00+08:00"),
            "new": rung(0, "2025-09-30T00:00:00+08:00"),
        },
    }
    assert task_moved.reason == (
        "calendar 2025 merge of cal2025.yaml: task #1 due 2025-10-15,"
        " next rung level 0 at 2025-10-09 00:00 → level 0 at 2025-09-30 00:00"
    )
    assert task_timer(app, world) == (0, 2, sh(2025, 9, 30), date(2025, 10, 15))

    # The result names each move and the event that records it.
    assert [(str(m.key), m.seq) for m in changed.rescheduled] == [
        (CASE, moved.seq),
        (ITEM, stage_moved.seq),
        (f"{ITEM}#1", task_moved.seq),
    ]
    assert changed.rescheduled[2].old_rung == Rung(0, sh(2025, 10, 9), False)
    assert_audit_clean(app)
    assert item_id != case_id


def test_loading_what_is_already_in_effect_moves_nothing_and_appends_nothing(
    app: App, world: int
) -> None:
    app.services.calendar.load(ONE_HOLIDAY, "cal2025.yaml", "巡视办")
    before = [len(history(app, CASE)), len(history(app, ITEM, "item"))]

    again = app.services.calendar.load(ONE_HOLIDAY, "cal2025-again.yaml", "巡视办")

    assert again.rescheduled == ()
    assert [len(history(app, CASE)), len(history(app, ITEM, "item"))] == before
    shown = app.services.read.catalog.calendar_year(2025, initialised=True)
    assert [load.source for load in shown.loads] == ["cal2025.yaml", "cal2025-again.yaml"]


def test_ordinary_days_turn_an_official_holiday_back_into_a_working_day(
    app: App, world: int
) -> None:
    text = "year: 2025\nholidays: []\nworkdays: []\nordinary: [2025-10-08]\n"

    changed = app.services.calendar.load(text, "fix2025.yaml", "巡视办")

    cal = app.services.read.catalog.calendar()
    assert cal.is_working_day(date(2025, 10, 8))
    assert not cal.is_working_day(date(2025, 10, 7))
    assert instance(app, CASE)["due_on"] == date(2025, 10, 16)
    assert [m.new_due_on for m in changed.rescheduled if m.key.kind == "case"] == [
        date(2025, 10, 16)
    ]


def test_a_suspended_stage_moves_its_due_date_and_has_no_rung(
    app: App, clock: ManualClock, world: int
) -> None:
    clock.set(sh(2025, 9, 24, 9))
    app.services.cases.suspend(CASE, actor="王主任", role="office", reason="召回")

    app.services.calendar.load(ONE_HOLIDAY, "cal2025.yaml", "巡视办")

    [moved] = deadline_events(app, CASE)
    assert moved.data["due_on"] == {"old": "2025-10-17", "new": "2025-10-20"}
    assert moved.data["rung"] == {"old": None, "new": None}
    assert instance(app, CASE)["suspended"]
    assert_audit_clean(app)


# -- replace ----------------------------------------------------------------------------------


def test_replacing_a_year_the_built_in_data_covers_needs_replace(app: App, world: int) -> None:
    app.services.calendar.load(ONE_HOLIDAY, "cal2025.yaml", "巡视办")
    assert not app.services.read.catalog.calendar().is_working_day(date(2025, 10, 1))

    changed = app.services.calendar.load(ONE_HOLIDAY, "cal2025.yaml", "巡视办", mode="replace")

    assert (changed.mode, changed.holidays, changed.workdays) == ("replace", 1, 0)
    cal = app.services.read.catalog.calendar()
    assert all(cal.is_working_day(d) for d in NATIONAL_DAY if d.weekday() < 5)
    assert not cal.is_working_day(date(2025, 9, 28))  # no make-up Sunday any more
    # From 09-22: 15 working days without 国庆, 10-09 off: due 10-14.
    assert instance(app, CASE)["due_on"] == date(2025, 10, 14)
    merged, replaced = deadline_events(app, CASE)
    assert replaced.data["mode"] == "replace"
    assert replaced.data["due_on"] == {"old": "2025-10-20", "new": "2025-10-14"}
    assert replaced.seq == merged.seq + 1
    assert_audit_clean(app)


def test_a_year_without_built_in_data_is_the_file_whatever_the_mode(app: App) -> None:
    first = "year: 2027\nholidays: [2027-01-01, 2027-01-04]\nworkdays: []\n"
    second = "year: 2027\nholidays: [2027-01-05]\nworkdays: []\n"

    assert app.services.calendar.load(first, "a.yaml", "甲").mode == "replace"
    assert app.services.calendar.load(second, "b.yaml", "甲", mode="merge").mode == "replace"

    cal = app.services.read.catalog.calendar()
    assert cal.is_working_day(date(2027, 1, 4))  # the first file is gone
    assert not cal.is_working_day(date(2027, 1, 5))


# -- show -------------------------------------------------------------------------------------


def test_show_lists_every_holiday_and_make_up_day_with_where_it_came_from(
    app: App, clock: ManualClock, world: int
) -> None:
    clock.set(sh(2025, 9, 23, 10))
    text = (
        "year: 2025\nholidays:\n  - {from: 2025-10-09, to: 2025-10-10, title: 调整}\n"
        "workdays: [2025-10-12]\n"
    )
    changed = app.services.calendar.load(text, "cal2025.yaml", "巡视办")

    shown = app.services.read.catalog.calendar_year(2025, initialised=True)

    assert (shown.year, shown.builtin, shown.has_data) == (2025, True, True)
    assert (shown.holidays, shown.workdays) == (28 + 2, 5 + 1)
    by_day = {d.day: d for d in shown.days}
    assert [d.day for d in shown.days] == sorted(by_day)
    official = by_day[date(2025, 1, 28)]
    assert (official.kind, official.title, official.source, official.load) == (
        "holiday",
        "春节",
        "官方",
        None,
    )
    assert (by_day[date(2025, 9, 28)].kind, by_day[date(2025, 9, 28)].title) == (
        "workday",
        "国庆节",
    )
    loaded = by_day[date(2025, 10, 10)]
    assert (loaded.kind, loaded.title, loaded.source) == ("holiday", "调整", "cal2025.yaml")
    assert loaded.load is not None and loaded.load.loaded_by == "巡视办"
    assert by_day[date(2025, 10, 12)].kind == "workday"
    assert [(x.id, x.mode, x.source, x.loaded_by, x.holidays, x.workdays) for x in shown.loads] == [
        (changed.load, "merge", "cal2025.yaml", "巡视办", 2, 1)
    ]
    assert shown.loads[0].loaded_at == sh(2025, 9, 23, 10)

    data = shown.to_json()
    assert {k: data[k] for k in ("calendar", "year", "builtin", "has_data")} == {
        "calendar": "cn",
        "year": 2025,
        "builtin": True,
        "has_data": True,
    }
    assert data["days"][0] == {
        "date": "2025-01-01",
        "kind": "holiday",
        "title": "元旦",
        "source": "官方",
        "load": None,
        "loaded_by": None,
    }
    assert {"date": "2025-10-10", "kind": "holiday", "title": "调整", "source": "cal2025.yaml",
            "load": changed.load, "loaded_by": "巡视办"} in data["days"]  # fmt: skip
    assert data["loads"] == [
        {
            "load": changed.load,
            "mode": "merge",
            "source": "cal2025.yaml",
            "loaded_by": "巡视办",
            "loaded_at": "2025-09-23T10:00:00+08:00",
            "holidays": 2,
            "workdays": 1,
            "ordinary": 0,
        }
    ]


def test_show_of_a_year_without_data(app: App) -> None:
    shown = app.services.read.catalog.calendar_year(2027, initialised=True)
    assert (shown.builtin, shown.has_data, shown.days, shown.loads) == (False, False, (), ())
    with pytest.raises(BadInput, match=r"^year 2201 is outside the calendar \(years 1900–2200\)$"):
        app.services.read.catalog.calendar_year(2201, initialised=True)


# -- reset ------------------------------------------------------------------------------------


def test_reset_returns_to_the_built_in_data_and_is_recorded(
    app: App, clock: ManualClock, world: int
) -> None:
    app.services.calendar.load(ONE_HOLIDAY, "cal2025.yaml", "巡视办")
    clock.set(sh(2025, 9, 24, 11))

    changed = app.services.calendar.reset(2025, "王主任")

    assert (changed.mode, changed.source, changed.loaded_by) == ("reset", "", "王主任")
    assert (changed.holidays, changed.workdays) == (28, 5)
    assert instance(app, CASE)["due_on"] == date(2025, 10, 17)
    _merged, reset = deadline_events(app, CASE)
    assert (reset.actor, reset.occurred_at) == ("王主任", sh(2025, 9, 24, 11))
    assert {k: reset.data[k] for k in ("mode", "source", "due_on")} == {
        "mode": "reset",
        "source": None,
        "due_on": {"old": "2025-10-20", "new": "2025-10-17"},
    }
    assert reset.reason is not None
    assert reset.reason.startswith("calendar 2025 reset to the built-in data: due 2025-10-20")
    # The task's rung is back where it was.
    assert task_timer(app, world)[2] == sh(2025, 10, 9)

    shown = app.services.read.catalog.calendar_year(2025, initialised=True)
    assert {d.source for d in shown.days} == {"官方"}
    assert [(x.mode, x.source, x.loaded_by) for x in shown.loads] == [
        ("merge", "cal2025.yaml", "巡视办"),
        ("reset", "", "王主任"),
    ]
    assert_audit_clean(app)


def test_reset_is_refused_when_the_year_is_the_built_in_data_already(app: App, world: int) -> None:
    before = snapshot(app)
    with pytest.raises(Refused) as never_loaded:
        app.services.calendar.reset(2025, "王主任")
    assert never_loaded.value.message == (
        "calendar 2025 is the built-in data already: nothing to reset"
    )
    assert snapshot(app) == before

    app.services.calendar.load(ONE_HOLIDAY, "cal2025.yaml", "巡视办")
    app.services.calendar.reset(2025, "王主任")
    before = snapshot(app)
    with pytest.raises(Refused):
        app.services.calendar.reset(2025, "王主任")
    assert snapshot(app) == before

    with pytest.raises(Refused) as nothing:
        app.services.calendar.reset(2027, "王主任")
    assert nothing.value.message == "calendar 2027 has no data loaded: nothing to reset"
    with pytest.raises(BadInput):
        app.services.calendar.reset(1899, "王主任")
    assert snapshot(app) == before


def test_resetting_a_year_without_built_in_data_makes_its_deadlines_provisional_again(
    app: App, clock: ManualClock
) -> None:
    # Entered Sunday 2026-12-20 with 15wd: due in 2027, which the built-in data lacks.
    clock.set(sh(2026, 12, 20, 9))
    app.services.cases.create_round("2026-R9", "2026年第九轮巡视", date(2026, 12, 20))
    app.services.cases.add_group("2026-R9", "G1", "张组长")
    app.services.cases.add_unit("U01", "示例市财政局")
    app.services.cases.start_case(
        round_code="2026-R9", unit_code="U01", group_code="G1", definition="regular", actor="办"
    )
    key = "2026-R9/U01"
    text = (
        "year: 2027\nholidays:\n  - {from: 2027-01-01, to: 2027-01-03, title: 元旦}\nworkdays: []\n"
    )
    app.services.calendar.load(text, "cal2027.yaml", "巡视办")
    row = instance(app, key)
    assert (row["due_on"], row["provisional"]) == (date(2027, 1, 11), False)

    changed = app.services.calendar.reset(2027, "巡视办")

    assert (changed.has_data, changed.holidays, changed.workdays) == (False, 0, 0)
    assert not app.services.read.catalog.calendar().has_data(2027)
    row = instance(app, key)
    assert (row["due_on"], row["provisional"]) == (date(2027, 1, 8), True)
    _loaded, reset = deadline_events(app, key)
    assert reset.data["due_on"] == {"old": "2027-01-11", "new": "2027-01-08"}
    assert reset.data["provisional"] == {"old": False, "new": True}
    assert reset.data["rung"]["new"]["provisional"] is True
    shown = app.services.read.catalog.calendar_year(2027, initialised=True)
    assert (shown.has_data, shown.days, [x.mode for x in shown.loads]) == (
        False,
        (),
        ["replace", "reset"],
    )
    assert_audit_clean(app)


def test_two_loads_at_once_each_build_on_the_other(
    app: App, clock: ManualClock, world: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each load reads the year's earlier loads, then moves what the year as a whole moves.
    # Two at once must not each move deadlines by a year that lacks the other's day: the
    # second waits for the first (PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE).
    # The probe lets both read before either writes, unless the second is made to wait.
    read_loads = Schedule.loads
    arrived = threading.Barrier(2)

    def loads_then_wait(self: Schedule, *args: Any, **kwargs: Any) -> Any:
        found = read_loads(self, *args, **kwargs)
        # A broken barrier: the other load waits for this one to commit, nothing overlaps.
        with contextlib.suppress(threading.BrokenBarrierError):
            arrived.wait(timeout=1.0)
        return found

    monkeypatch.setattr(Schedule, "loads", loads_then_wait)
    other = bootstrap(Settings(db_url=app.settings.db_url, actor="tester"), clock=clock)
    files = [
        (app, "year: 2025\nholidays: [2025-10-09]\nworkdays: []\n", "a.yaml"),
        (other, "year: 2025\nholidays: [2025-10-10]\nworkdays: []\n", "b.yaml"),
    ]
    errors: list[BaseException] = []

    def load(target: App, text: str, name: str) -> None:
        try:
            target.services.calendar.load(text, name, "巡视办")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=load, args=f) for f in files]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        other.db.dispose()

    assert errors == []
    # Both days off: 10-17 → 10-21, whichever load committed last.
    assert instance(app, CASE)["due_on"] == date(2025, 10, 21)
    moved = [e.data["due_on"] for e in deadline_events(app, CASE)]
    assert moved[-1]["new"] == "2025-10-21"
    assert_audit_clean(app)
