"""The calendar feed (issue #13, part 4): a round's open deadlines, and the .ics file of them.

On every backend. Each file written is read back by two parsers: `icalendar` (the library
that writes it) and `vobject` (an independent one).
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
import vobject
from rectification_helpers import OFFICE, ROUND, SHANGHAI, Rectifying, shanghai

from xunshi.bootstrap import App
from xunshi.errors import BadInput, NotFound
from xunshi.read.deadlines import RoundDeadlines
from xunshi.reports.ics import write_ics
from xunshi.services.commands import TaskChanges
from xunshi.workflow.clock import ManualClock

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def ics(view: RoundDeadlines) -> str:
    """The file `calendar export` writes for `view`."""
    out = io.StringIO()
    write_ics(view, SHANGHAI, out)
    return out.getvalue()


def events(text: str) -> dict[str, dict[str, Any]]:
    """UID → what `icalendar` reads of each event, checked against what `vobject` reads."""
    found: dict[str, dict[str, Any]] = {}
    for event in icalendar.Calendar.from_ical(text).walk("VEVENT"):
        found[str(event["UID"])] = {
            "start": event.decoded("DTSTART"),
            "end": event.decoded("DTEND"),
            "summary": str(event["SUMMARY"]),
            "description": str(event["DESCRIPTION"]),
            "categories": [str(c) for c in event["CATEGORIES"].cats],
            "sequence": int(event["SEQUENCE"]),
            "stamp": event.decoded("DTSTAMP"),
            "modified": event.decoded("LAST-MODIFIED"),
            "status": str(event["STATUS"]),
        }
    other = vobject.readOne(text)
    read = {
        e.uid.value: {
            "start": e.dtstart.value,
            "end": e.dtend.value,
            "summary": e.summary.value,
            "description": e.description.value,
            "categories": list(e.categories.value),
            "sequence": int(e.sequence.value),
            "stamp": e.dtstamp.value,
            "modified": e.last_modified.value,
            "status": e.status.value,
        }
        for e in other.contents.get("vevent", [])
    }
    assert read == found
    return found


@pytest.fixture
def rect(app: App, clock: ManualClock) -> Rectifying:
    """U01 in 整改 with three problems; U02 preparing; U03 suspended; U04 of group G2."""
    world = Rectifying(app, clock)
    world.case("U01", "示例市财政局")
    world.item("U01", "P01", title="理论学习流于形式")
    rectifying = world.item("U01", "P02", title="公务接待超标准")
    world.begin(rectifying)
    world.task(rectifying, date(2024, 12, 31), measure="修订公务接待办法", person="钱科长")
    world.task(rectifying, None, measure="长期坚持")
    done = world.task(rectifying, date(2024, 11, 30), measure="清退超标准费用")
    world.done(f"{rectifying}#{done.number}")
    accepted = world.item("U01", "P03")
    world.begin(accepted)
    world.task(accepted, date(2024, 10, 31))
    world.accept(accepted)
    cases = app.services.cases
    cases.add_unit("U02", "示例市审计局")
    cases.start_case(
        round_code=ROUND, unit_code="U02", group_code="G1", definition="regular", actor=OFFICE
    )
    cases.add_unit("U03", "示例市统计局")
    cases.start_case(
        round_code=ROUND, unit_code="U03", group_code="G1", definition="regular", actor=OFFICE
    )
    cases.suspend(f"{ROUND}/U03", actor=OFFICE, role="office", reason="巡视组临时召回")
    cases.add_group(ROUND, "G2", "李组长")
    cases.add_unit("U04", "示例市人民医院")
    cases.start_case(
        round_code=ROUND, unit_code="U04", group_code="G2", definition="mobile", actor=OFFICE
    )
    return world


def test_every_open_deadline_and_nothing_else(app: App, rect: Rectifying) -> None:
    found = app.services.read.deadlines.of(ROUND)
    assert [d.ident for d in found.deadlines] == [
        "case/2024-R1/U04/preparation",  # 机动巡视: 5wd
        "item/2024-R1/U01/P01/identified",
        "case/2024-R1/U02/preparation",
        "case/2024-R1/U01/rectification",  # 2mo
        "task/2024-R1/U01/P02#1",
    ]
    # The dates are those `case show` and `item show` give.
    read = app.services.read
    due = {d.ident: d.due_on for d in found.deadlines}
    for unit in ("U01", "U02", "U04"):
        view = read.cases.one(f"{ROUND}/{unit}")
        assert due[f"case/{view.key}/{view.state}"] == view.due_on
    assert due["item/2024-R1/U01/P01/identified"] == read.items.one(f"{ROUND}/U01/P01").due_on
    assert due["task/2024-R1/U01/P02#1"] == date(2024, 12, 31)
    # Left out: U03 (suspended), P02's stage (整改中 has no due date), P02#2 (long-term),
    # P02#3 (done), P03 (已销号) and its task (done).
    assert not [d for d in found.deadlines if d.key.unit == "U03" or d.key.item == "P03"]


def test_each_deadline_says_what_is_due_and_who_answers(app: App, rect: Rectifying) -> None:
    found = {d.ident: d for d in app.services.read.deadlines.of(ROUND).deadlines}
    task = found["task/2024-R1/U01/P02#1"]
    assert (task.what, task.problem, task.unit_name, task.group, task.group_leader) == (
        "修订公务接待办法",
        "P02 公务接待超标准",
        "示例市财政局",
        "G1",
        "张组长",
    )
    assert task.responsible == (
        ("责任领导", "赵副局长"),
        ("牵头部门", "办公室"),
        ("责任人", "钱科长"),
    )
    stage = found["case/2024-R1/U04/preparation"]
    assert (stage.what, stage.inspection, stage.group, stage.group_leader) == (
        "巡前准备",
        "机动巡视",
        "G2",
        "李组长",
    )
    text = ics(app.services.read.deadlines.of(ROUND))
    read = events(text)
    assert read["task/2024-R1/U01/P02#1@xunshi"]["summary"] == (
        "【整改任务】2024-R1/U01/P02#1 修订公务接待办法"
    )
    assert read["task/2024-R1/U01/P02#1@xunshi"]["description"] == (
        "被巡视单位：示例市财政局（U01）\n巡视组：G1（组长：张组长）\n巡视类型：常规巡视\n"
        "问题：P02 公务接待超标准\n整改措施：修订公务接待办法\n责任领导：赵副局长\n"
        "牵头部门：办公室\n责任人：钱科长\n完成时限：2024-12-31"
    )
    assert read["case/2024-R1/U04/preparation@xunshi"]["summary"] == "【期限】2024-R1/U04 巡前准备"
    assert read["item/2024-R1/U01/P01/identified@xunshi"]["summary"] == (
        "【问题期限】2024-R1/U01/P01 问题确认"
    )
    assert read["item/2024-R1/U01/P01/identified@xunshi"]["categories"] == ["问题期限"]
    assert read["case/2024-R1/U04/preparation@xunshi"]["categories"] == ["巡视期限"]
    assert read["task/2024-R1/U01/P02#1@xunshi"]["categories"] == ["整改任务"]


def test_the_file_is_a_calendar_of_all_day_events(app: App, rect: Rectifying) -> None:
    found = app.services.read.deadlines.of(ROUND)
    text = ics(found)
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")  # every line ends in CRLF
    calendar = icalendar.Calendar.from_ical(text)
    assert str(calendar["PRODID"]) == "-//xunshi//巡视期限日历//ZH"
    assert str(calendar["X-WR-CALNAME"]) == "2024年第一轮巡视"
    assert str(calendar["X-WR-TIMEZONE"]) == "Asia/Shanghai"
    assert vobject.readOne(text).contents["x-wr-calname"][0].value == "2024年第一轮巡视"
    read = events(text)
    assert len(read) == len(found.deadlines)
    for deadline in found.deadlines:
        event = read[f"{deadline.ident}@xunshi"]
        # All-day: a date, not a time; the day after ends it.
        assert type(event["start"]) is date and type(event["end"]) is date
        assert (event["start"], event["end"]) == (
            deadline.due_on,
            deadline.due_on + timedelta(days=1),
        )
        assert event["stamp"] == event["modified"] == deadline.changed_at.astimezone(UTC)
        assert event["sequence"] == deadline.revision
        assert event["status"] == "CONFIRMED"
    assert "VTIMEZONE" not in text  # nothing is a time of day


def test_the_due_date_is_the_business_date_when_utc_is_a_day_behind(
    app: App, rect: Rectifying, clock: ManualClock
) -> None:
    # 07:00 in Shanghai on Tuesday 2024-09-03 is 23:00 UTC on Monday 2024-09-02.
    clock.set(shanghai(2024, 9, 3, 7))
    app.services.cases.add_unit("U05", "示例市民政局")
    app.services.cases.start_case(
        round_code=ROUND, unit_code="U05", group_code="G1", definition="regular", actor=OFFICE
    )
    found = app.services.read.deadlines.of(ROUND, unit="U05")
    [event] = events(ics(found)).values()
    # 15 working days from Tuesday 09-03 (09-14 a make-up Saturday, 09-15..17 中秋节);
    # counted from the UTC date, Monday 09-02, it would be a day earlier.
    assert event["start"] == date(2024, 9, 25) == app.services.read.cases.one(f"{ROUND}/U05").due_on
    assert event["end"] == date(2024, 9, 26)
    assert event["stamp"] == datetime(2024, 9, 2, 23, 0, tzinfo=UTC)


def test_uids_are_stable_and_a_moved_date_keeps_its_uid(
    app: App, rect: Rectifying, clock: ManualClock
) -> None:
    first = ics(app.services.read.deadlines.of(ROUND))
    clock.advance(timedelta(days=3))
    again = ics(app.services.read.deadlines.of(ROUND))
    assert again == first  # nothing changed: the same file, byte for byte
    before = events(first)
    # The office moves a task's date; the group is recalled from U02 and comes back.
    task = f"{ROUND}/U01/P02#1"
    app.services.items.update_task(
        task, TaskChanges(due_on=date(2025, 1, 15)), actor=OFFICE, role="office"
    )
    app.services.cases.suspend(f"{ROUND}/U02", actor=OFFICE, role="office", reason="召回")
    clock.advance(timedelta(days=7))
    app.services.cases.resume(f"{ROUND}/U02", actor=OFFICE, role="office")
    after = events(ics(app.services.read.deadlines.of(ROUND)))
    assert after.keys() == before.keys()
    moved = {uid for uid in after if after[uid]["start"] != before[uid]["start"]}
    assert moved == {"task/2024-R1/U01/P02#1@xunshi", "case/2024-R1/U02/preparation@xunshi"}
    for uid in moved:
        assert after[uid]["sequence"] > before[uid]["sequence"]
        assert after[uid]["modified"] > before[uid]["modified"]
    assert after["task/2024-R1/U01/P02#1@xunshi"]["start"] == date(2025, 1, 15)
    assert after["case/2024-R1/U02/preparation@xunshi"]["start"] == (
        app.services.read.cases.one(f"{ROUND}/U02").due_on
    )


def test_a_stage_left_drops_out_and_the_next_comes_in(app: App, rect: Rectifying) -> None:
    before = {d.ident for d in app.services.read.deadlines.of(ROUND).deadlines}
    rect.fire(f"{ROUND}/U01/P01", "plan", "unit_liaison")
    after = {d.ident for d in app.services.read.deadlines.of(ROUND).deadlines}
    assert before - after == {"item/2024-R1/U01/P01/identified"}
    assert after - before == {"item/2024-R1/U01/P01/planned"}


def test_provisional_dates_are_marked_until_the_year_is_loaded(
    app: App, rect: Rectifying, clock: ManualClock
) -> None:
    # 15 working days from 2026-12-21 end in 2027, a year without built-in data.
    clock.set(shanghai(2026, 12, 21, 9))
    app.services.cases.add_unit("U06", "示例市文旅局")
    app.services.cases.start_case(
        round_code=ROUND, unit_code="U06", group_code="G1", definition="regular", actor=OFFICE
    )
    uid = "case/2024-R1/U06/preparation@xunshi"
    [before] = events(ics(app.services.read.deadlines.of(ROUND, unit="U06"))).values()
    assert before["summary"] == "【期限】2024-R1/U06 巡前准备（暂定）"
    assert before["categories"] == ["巡视期限", "暂定"]
    assert before["status"] == "TENTATIVE"
    assert before["description"].endswith(
        f"期限：{before['start'].isoformat()}（暂定：该年节假日数据尚未载入，按周末计算）"
    )
    clock.advance(timedelta(hours=1))
    calendar_2027 = (EXAMPLES / "calendar-2027.yaml").read_text(encoding="utf-8")
    app.services.calendar.load(calendar_2027, "calendar-2027.yaml", OFFICE)
    after = events(ics(app.services.read.deadlines.of(ROUND, unit="U06")))
    assert list(after) == [uid]
    assert after[uid]["summary"] == "【期限】2024-R1/U06 巡前准备"
    assert after[uid]["categories"] == ["巡视期限"]
    assert after[uid]["status"] == "CONFIRMED"
    # 元旦 2027-01-01..03 is now a holiday: the date moves a day later, the UID stays.
    assert after[uid]["start"] == before["start"] + timedelta(days=1)
    assert after[uid]["sequence"] > before["sequence"]


def test_a_group_or_a_unit_only(app: App, rect: Rectifying) -> None:
    deadlines = app.services.read.deadlines
    of_g2 = deadlines.of(ROUND, group="g2")  # codes in any case
    assert [d.ident for d in of_g2.deadlines] == ["case/2024-R1/U04/preparation"]
    assert (of_g2.group, of_g2.unit) == ("G2", None)
    of_g1 = {d.key.unit for d in deadlines.of(ROUND, group="G1").deadlines}
    assert of_g1 == {"U01", "U02"}
    of_u01 = deadlines.of(ROUND, unit="u01", group="G1")
    assert {d.key.unit for d in of_u01.deadlines} == {"U01"}
    assert len(of_u01.deadlines) == 3
    assert (of_u01.unit, of_u01.unit_name) == ("U01", "示例市财政局")
    calendar = icalendar.Calendar.from_ical(ics(of_u01))
    assert str(calendar["X-WR-CALNAME"]) == "2024年第一轮巡视 巡视组 G1 示例市财政局"
    assert deadlines.of(ROUND, unit="U03").deadlines == ()  # suspended: nothing runs


def test_unknown_rounds_groups_and_units_are_refused(app: App, rect: Rectifying) -> None:
    deadlines = app.services.read.deadlines
    with pytest.raises(NotFound, match=r"^round 2099-R1 does not exist$"):
        deadlines.of("2099-R1")
    with pytest.raises(NotFound, match=r"^group G9 does not exist in round 2024-R1$"):
        deadlines.of(ROUND, group="G9")
    with pytest.raises(NotFound, match=r"^unit U99 does not exist$"):
        deadlines.of(ROUND, unit="U99")
    app.services.cases.add_unit("U07", "示例市水务局")
    with pytest.raises(NotFound, match=r"^unit U07 is not inspected in round 2024-R1$"):
        deadlines.of(ROUND, unit="U07")
    with pytest.raises(
        BadInput, match=r"^unit U04 is inspected by group G2 in round 2024-R1, not by G1$"
    ):
        deadlines.of(ROUND, unit="U04", group="G1")


def test_an_empty_round_is_an_empty_calendar(app: App, rect: Rectifying) -> None:
    app.services.cases.create_round("2024-R2", "2024年第二轮巡视", date(2024, 10, 8))
    found = app.services.read.deadlines.of("2024-R2")
    assert found.deadlines == ()
    text = ics(found)
    assert events(text) == {}
    assert str(icalendar.Calendar.from_ical(text)["X-WR-CALNAME"]) == "2024年第二轮巡视"


def test_the_json_shape(app: App, rect: Rectifying) -> None:
    found = app.services.read.deadlines.of(ROUND, group="G1")
    shape = found.to_json(SHANGHAI)
    assert (shape["round"]["code"], shape["group"], shape["unit"]) == (ROUND, "G1", None)
    task = next(d for d in shape["deadlines"] if d["kind"] == "task")
    assert task == {
        "id": "task/2024-R1/U01/P02#1",
        "kind": "task",
        "key": "2024-R1/U01/P02#1",
        "stage": None,
        "what": "修订公务接待办法",
        "due_on": "2024-12-31",
        "provisional": False,
        "unit_name": "示例市财政局",
        "group": "G1",
        "group_leader": "张组长",
        "inspection": "常规巡视",
        "problem": "P02 公务接待超标准",
        "responsible": {"责任领导": "赵副局长", "牵头部门": "办公室", "责任人": "钱科长"},
        "revision": app.services.read.items.one(f"{ROUND}/U01/P02").version,
        "changed_at": "2024-09-02T09:00:00+08:00",
    }
    stage = next(d for d in shape["deadlines"] if d["kind"] == "case")
    assert (stage["id"], stage["stage"], stage["problem"], stage["responsible"]) == (
        "case/2024-R1/U02/preparation",
        "preparation",
        None,
        {},
    )
