"""The .ics writer's pieces on deadlines made by hand: UIDs, summaries, descriptions, names."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from xunshi.keys import InstanceKey
from xunshi.read.catalog import RoundInfo
from xunshi.read.deadlines import Deadline, RoundDeadlines
from xunshi.reports.ics import description, name, summary, uid, write_ics
from xunshi.reports.output import choose_target

ROUND = RoundInfo(1, "2025-R1", "2025年第一轮巡视", date(2025, 3, 3))
STAGE = Deadline(
    kind="case",
    key=InstanceKey("2025-R1", "U01"),
    stage="onsite",
    what="现场巡视",
    due_on=date(2025, 4, 24),
    provisional=False,
    unit_name="示例市财政局",
    group="G1",
    group_leader="组长甲",
    inspection="常规巡视",
    problem="",
    responsible=(),
    revision=12,
    changed_at=datetime(2025, 3, 12, 1, 0, tzinfo=UTC),
)
TASK = replace(
    STAGE,
    kind="task",
    key=InstanceKey("2025-R1", "U01", "P05", 1),
    stage="",
    what="修订议事规则",
    due_on=date(2025, 6, 30),
    problem="P05 “三重一大”事项未集体决策",
    responsible=(("责任领导", "分管负责同志"), ("牵头部门", "办公室"), ("责任人", "李某")),
)


def test_the_uid_is_what_the_deadline_is() -> None:
    assert uid(STAGE) == "case/2025-R1/U01/onsite@xunshi"
    assert uid(TASK) == "task/2025-R1/U01/P05#1@xunshi"
    problem = replace(STAGE, kind="item", key=InstanceKey("2025-R1", "U01", "P05"))
    assert uid(replace(problem, stage="identified")) == "item/2025-R1/U01/P05/identified@xunshi"
    # Nothing that may change is in it: not the date, the title, the version or the time.
    moved = replace(STAGE, due_on=date(2025, 5, 6), what="现场", revision=13, provisional=True)
    assert uid(moved) == uid(STAGE)


def test_summaries() -> None:
    assert summary(STAGE) == "【期限】2025-R1/U01 现场巡视"
    assert summary(replace(STAGE, provisional=True)) == "【期限】2025-R1/U01 现场巡视（暂定）"
    assert summary(TASK) == "【整改任务】2025-R1/U01/P05#1 修订议事规则"
    problem = replace(STAGE, kind="item", key=InstanceKey("2025-R1", "U01", "P05"), what="问题确认")
    assert summary(problem) == "【问题期限】2025-R1/U01/P05 问题确认"


def test_a_long_measure_is_cut_in_the_summary_and_whole_in_the_description() -> None:
    measure = "建立健全制度\n" + "落实" * 30
    long_task = replace(TASK, what=measure)
    assert summary(long_task) == "【整改任务】2025-R1/U01/P05#1 建立健全制度 " + "落实" * 11 + "…"
    assert f"整改措施：{measure}\n" in description(long_task)


def test_descriptions() -> None:
    assert description(STAGE) == (
        "被巡视单位：示例市财政局（U01）\n巡视组：G1（组长：组长甲）\n巡视类型：常规巡视\n"
        "阶段：现场巡视\n期限：2025-04-24"
    )
    assert description(replace(STAGE, provisional=True)).endswith(
        "期限：2025-04-24（暂定：该年节假日数据尚未载入，按周末计算）"
    )
    assert description(replace(TASK, group_leader="")) == (
        "被巡视单位：示例市财政局（U01）\n巡视组：G1\n巡视类型：常规巡视\n"
        "问题：P05 “三重一大”事项未集体决策\n整改措施：修订议事规则\n"
        "责任领导：分管负责同志\n牵头部门：办公室\n责任人：李某\n完成时限：2025-06-30"
    )


def test_the_calendar_is_named_after_the_round_and_its_filters() -> None:
    view = RoundDeadlines(ROUND, None, None, None, ())
    assert name(view) == "2025年第一轮巡视"
    assert name(replace(view, group="G1")) == "2025年第一轮巡视 巡视组 G1"
    assert name(replace(view, unit="U01", unit_name="示例市财政局")) == (
        "2025年第一轮巡视 示例市财政局"
    )


@pytest.mark.parametrize("text", ["逗号,分号;反斜杠\\冒号:", "第一行\n第二行", "长" * 200])
def test_text_survives_both_parsers(text: str) -> None:
    view = RoundDeadlines(ROUND, None, None, None, (replace(TASK, what=text),))
    out = io.StringIO()
    write_ics(view, ZoneInfo("Asia/Shanghai"), out)
    written = out.getvalue()
    assert all(len(line.encode()) <= 75 for line in written.split("\r\n"))  # folded
    [ours] = icalendar.Calendar.from_ical(written).walk("VEVENT")
    assert f"整改措施：{text}\n" in str(ours["DESCRIPTION"])
    theirs = vobject.readOne(written).vevent
    assert theirs.description.value == str(ours["DESCRIPTION"])
    assert theirs.summary.value == str(ours["SUMMARY"]) == summary(replace(TASK, what=text))


def test_an_ics_file_is_named_so(tmp_path: Path) -> None:
    assert choose_target(str(tmp_path / "期限.ICS"), None, ("ics",), force=False).format == "ics"
    assert choose_target("-", None, ("ics",), force=False).format == "ics"
