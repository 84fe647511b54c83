"""The messages people read: what an escalation says in text, markdown and HTML."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from xunshi.workflow.messages import escalation_message, notify_test_message

DESK = "https://desk.example.org/xunshi"
STAGE: dict[str, Any] = {
    "escalation": 7,
    "case": "2025-R1/U01",
    "subject": "case 2025-R1/U01",
    "stage": "preparation",
    "stage_title": "巡前准备",
    "task": None,
    "task_number": None,
    "measure": None,
    "responsible_person": None,
    "lead_department": None,
    "level": 1,
    "title": "超期督办",
    "notify": ["office", "group_leader"],
    "notify_titles": {"office": "巡视办", "group_leader": "巡视组组长"},
    "due_on": "2025-03-24",
    "days_overdue": 3,
    "raised_at": "2025-03-27T00:00:00+08:00",
    "provisional": False,
    "round": "2025-R1",
    "group": "G1",
    "unit": "U01",
    "unit_name": "示例市财政局",
    "item": None,
    "item_title": None,
}
TASK: dict[str, Any] = {
    **STAGE,
    "case": "2025-R1/U01/P05",
    "subject": "item 2025-R1/U01/P05",
    "stage": "fixing",
    "stage_title": "任务 #1",
    "task": 41,
    "task_number": 1,
    "measure": "修订议事规则",
    "responsible_person": "李某",
    "lead_department": "办公室",
    "level": 0,
    "title": "整改到期提醒",
    "notify": ["unit_liaison"],
    "notify_titles": {"unit_liaison": "被巡视单位联络员"},
    "due_on": "2025-06-30",
    "days_overdue": -3,
    "item": "P05",
    "item_title": "“三重一大”事项未集体决策",
}


def test_an_overdue_stage_says_what_how_late_and_what_to_do() -> None:
    message = escalation_message(STAGE, DESK)

    assert message.text() == (
        "【督办】超期督办：2025-R1/U01 示例市财政局\n"
        "案件：2025-R1/U01 示例市财政局\n"
        "巡视组：G1\n"
        "阶段：巡前准备\n"
        "期限：2025-03-24（已超期 3 天）\n"
        "通知：巡视办、巡视组组长\n"
        "请尽快完成“巡前准备”阶段工作，并说明超期原因。\n"
        "查看：https://desk.example.org/xunshi/cases/2025-R1/U01\n"
        "—— xunshi 巡视督办"
    )


def test_a_task_reminder_names_the_measure_its_problem_and_who_answers_for_it() -> None:
    message = escalation_message(TASK, None)

    assert message.title == "【提醒】整改到期提醒：2025-R1/U01/P05#1 示例市财政局"
    assert message.text().splitlines()[1:] == [
        "任务：#1 修订议事规则（牵头部门 办公室，责任人 李某）",
        "问题：2025-R1/U01/P05 “三重一大”事项未集体决策",
        "案件：2025-R1/U01 示例市财政局",
        "巡视组：G1",
        "期限：2025-06-30（还有 3 天）",
        "通知：被巡视单位联络员",
        "请于 2025-06-30 前完成整改措施“修订议事规则”并在 xunshi 中报送完成情况。",
        "—— xunshi 巡视督办",
    ]


def test_an_item_stage_names_its_problem() -> None:
    item = {**TASK, "task": None, "task_number": None, "measure": None, "stage_title": "问题确认"}
    item.update(days_overdue=0, level=2, title="超期告诫")

    lines = escalation_message(item, None).text().splitlines()

    assert lines[0] == "【告诫】超期告诫：2025-R1/U01/P05 示例市财政局"
    assert lines[1:6] == [
        "问题：2025-R1/U01/P05 “三重一大”事项未集体决策",
        "案件：2025-R1/U01 示例市财政局",
        "巡视组：G1",
        "阶段：问题确认",
        "期限：2025-06-30（今日到期）",
    ]


def test_levels_above_three_are_upgrades_and_provisional_dates_say_so() -> None:
    message = escalation_message({**STAGE, "level": 5, "provisional": True}, None)

    assert message.title.startswith("【升级】超期督办")
    assert "期限：2025-03-24（暂定，已超期 3 天）" in message.text().splitlines()


def test_markdown_bolds_the_headline_and_labels_and_links_the_case() -> None:
    message = escalation_message(STAGE, DESK)

    assert message.markdown() == (
        "**【督办】超期督办：2025-R1/U01 示例市财政局**\n"
        "**案件**：2025-R1/U01 示例市财政局\n"
        "**巡视组**：G1\n"
        "**阶段**：巡前准备\n"
        "**期限**：2025-03-24（已超期 3 天）\n"
        "**通知**：巡视办、巡视组组长\n"
        "请尽快完成“巡前准备”阶段工作，并说明超期原因。\n"
        "[查看详情](https://desk.example.org/xunshi/cases/2025-R1/U01)\n"
        "—— xunshi 巡视督办"
    )
    assert message.markdown(line_break="\n\n").count("\n\n") == 8


def test_html_escapes_what_it_shows() -> None:
    message = escalation_message({**STAGE, "unit_name": "A&B <局>"}, DESK)

    assert message.html() == (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"></head><body>'
        "<h3>【督办】超期督办：2025-R1/U01 A&amp;B &lt;局&gt;</h3><table>"
        '<tr><th align="left">案件</th><td>2025-R1/U01 A&amp;B &lt;局&gt;</td></tr>'
        '<tr><th align="left">巡视组</th><td>G1</td></tr>'
        '<tr><th align="left">阶段</th><td>巡前准备</td></tr>'
        '<tr><th align="left">期限</th><td>2025-03-24（已超期 3 天）</td></tr>'
        '<tr><th align="left">通知</th><td>巡视办、巡视组组长</td></tr>'
        "</table><p>请尽快完成“巡前准备”阶段工作，并说明超期原因。</p>"
        '<p><a href="https://desk.example.org/xunshi/cases/2025-R1/U01">查看详情</a></p>'
        "<p><small>—— xunshi 巡视督办</small></p></body></html>"
    )


def test_the_test_message_says_what_it_is() -> None:
    at = datetime(2025, 3, 3, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))

    assert notify_test_message("wecom", "office", at, None).text() == (
        "【测试】xunshi 通知测试\n"
        "渠道：wecom\n"
        "角色：office\n"
        "时间：2025-03-03T09:30:00+08:00\n"
        "这是一条测试消息：收到即说明督办通知可以送达本群或本邮箱，无需处理。\n"
        "—— xunshi 巡视督办"
    )


def test_a_long_measure_is_quoted_short_on_one_line() -> None:
    measure = "修订" + "议事规则" * 100 + "\n第二行"

    message = escalation_message({**TASK, "measure": measure}, None)

    quoted = "修订" + ("议事规则" * 25)[:97] + "…"
    assert len(quoted) == 100
    assert message.text().splitlines()[1] == (f"任务：#1 {quoted}（牵头部门 办公室，责任人 李某）")
    assert f"完成整改措施“{quoted}”" in message.action
    assert len(message.markdown().encode()) < 4096
