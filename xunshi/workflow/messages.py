"""Notifications as people read them: one `Message` per escalation, in Chinese.

A message is a headline, a few labelled facts, what to do and a link to the case page; each
channel renders it in its platform's format (`text`, `markdown`, `html`). It is built from
an outbox payload alone, so a retry says exactly what the first attempt said.

    【督办】超期督办：2024-R1/U01 示例市财政局
    案件：2024-R1/U01 示例市财政局
    巡视组：G1
    阶段：巡前准备
    期限：2024-09-24（已超期 1 天）
    通知：巡视办
    请尽快完成“巡前准备”阶段工作，并说明超期原因。
    查看：https://desk.example.org/cases/2024-R1/U01
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from xunshi.display import level_word

SIGNATURE = "xunshi 巡视督办"  # every message ends with it: a keyword robots may require
# A measure may run to 2,000 characters; a robot message has a few KB (WeCom: 4,096 bytes of
# markdown). Messages quote it this long at most; the desk and the ledger have the rest.
MEASURE_CHARS = 100


@dataclass(frozen=True, slots=True)
class Message:
    """A headline, labelled facts, what to do, and where to look."""

    title: str
    facts: tuple[tuple[str, str], ...]
    action: str
    link: str | None = None

    def body(self) -> list[str]:
        """One line per fact, then the action."""
        return [*(f"{label}：{value}" for label, value in self.facts), self.action]

    def text(self) -> str:
        """Plain text: the headline, the body, the link, the signature."""
        link = [f"查看：{self.link}"] if self.link else []
        return "\n".join([self.title, *self.body(), *link, f"—— {SIGNATURE}"])

    def markdown(self, *, line_break: str = "\n") -> str:
        """Markdown: the headline bold, the labels bold, the link a link.

        DingTalk needs a blank line (`line_break="\\n\\n"`) where WeCom takes a newline.
        """
        lines = [f"**{self.title}**"]
        lines += [f"**{label}**：{value}" for label, value in self.facts]
        lines.append(self.action)
        if self.link:
            lines.append(f"[查看详情]({self.link})")
        lines.append(f"—— {SIGNATURE}")
        return line_break.join(lines)

    def html(self) -> str:
        """A small HTML document: the headline, a table of the facts, the action, the link."""
        e = html.escape
        rows = "".join(
            f'<tr><th align="left">{e(label)}</th><td>{e(value)}</td></tr>'
            for label, value in self.facts
        )
        link = f'<p><a href="{e(self.link)}">查看详情</a></p>' if self.link else ""
        return (
            '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"></head><body>'
            f"<h3>{e(self.title)}</h3><table>{rows}</table><p>{e(self.action)}</p>{link}"
            f"<p><small>—— {e(SIGNATURE)}</small></p></body></html>"
        )


def escalation_message(payload: Mapping[str, Any], desk_url: str | None) -> Message:
    """The message of one escalation's outbox payload."""
    level = int(payload["level"])
    subject = _subject(payload)
    title = f"【{level_word(level)}】{payload['title']}：{subject}"
    facts: list[tuple[str, str]] = []
    if payload.get("task"):
        facts.append(("任务", _task(payload)))
        facts.append(("问题", _item(payload)))
    elif payload.get("item"):
        facts.append(("问题", _item(payload)))
    facts.append(("案件", _case(payload)))
    if payload.get("group"):
        facts.append(("巡视组", str(payload["group"])))
    if not payload.get("task"):
        facts.append(("阶段", str(payload["stage_title"])))
    facts.append(("期限", _due(payload)))
    titles = payload.get("notify_titles") or {}
    notified = [str(titles.get(role, role)) for role in payload["notify"]]
    if notified:
        facts.append(("通知", "、".join(notified)))
    return Message(title, tuple(facts), _action(payload), case_link(desk_url, payload))


def notify_test_message(
    channel: str, role: str | None, sent_at: datetime, desk_url: str | None
) -> Message:
    """What `xunshi notify test CHANNEL` sends: says what it is, to whom, and when."""
    facts = [("渠道", channel)]
    if role:
        facts.append(("角色", role))
    facts.append(("时间", sent_at.isoformat(timespec="seconds")))
    return Message(
        "【测试】xunshi 通知测试",
        tuple(facts),
        "这是一条测试消息：收到即说明督办通知可以送达本群或本邮箱，无需处理。",
        desk_url,
    )


def case_link(desk_url: str | None, payload: Mapping[str, Any]) -> str | None:
    """`DESK/cases/ROUND/UNIT`, when a desk is configured (codes are URL-safe)."""
    if not desk_url or not payload.get("round") or not payload.get("unit"):
        return None
    return f"{desk_url}/cases/{payload['round']}/{payload['unit']}"


def _subject(payload: Mapping[str, Any]) -> str:
    """What escalated, short: `2024-R1/U01 示例市财政局`, `…/P01#1` for a task."""
    key = str(payload["case"])
    if payload.get("task"):
        key = f"{key}#{payload['task_number']}"
    name = payload.get("unit_name")
    return f"{key} {name}" if name else key


def _case(payload: Mapping[str, Any]) -> str:
    case = f"{payload['round']}/{payload['unit']}" if payload.get("round") else payload["case"]
    name = payload.get("unit_name")
    return f"{case} {name}" if name else str(case)


def _item(payload: Mapping[str, Any]) -> str:
    code = f"{payload['round']}/{payload['unit']}/{payload['item']}"
    return f"{code} {payload['item_title']}" if payload.get("item_title") else code


def _task(payload: Mapping[str, Any]) -> str:
    text = f"#{payload['task_number']} {_measure(payload)}"
    who = [
        f"牵头部门 {payload['lead_department']}" if payload.get("lead_department") else "",
        f"责任人 {payload['responsible_person']}" if payload.get("responsible_person") else "",
    ]
    who = [w for w in who if w]
    return f"{text}（{'，'.join(who)}）" if who else text


def _due(payload: Mapping[str, Any]) -> str:
    """`2024-09-24（已超期 3 天）`, `（还有 3 天）`, `（今日到期）`; 暂定 when provisional."""
    days = int(payload["days_overdue"])
    if days > 0:
        when = f"已超期 {days} 天"
    elif days == 0:
        when = "今日到期"
    else:
        when = f"还有 {-days} 天"
    provisional = "暂定，" if payload.get("provisional") else ""
    return f"{payload['due_on']}（{provisional}{when}）"


def _action(payload: Mapping[str, Any]) -> str:
    """What to do: finish the stage or the measure, by the date or now with a reason."""
    if payload.get("task"):
        work = f"完成整改措施“{_measure(payload)}”并在 xunshi 中报送完成情况"
    else:
        work = f"完成“{payload['stage_title']}”阶段工作"
    if int(payload["days_overdue"]) > 0:
        return f"请尽快{work}，并说明超期原因。"
    return f"请于 {payload['due_on']} 前{work}。"


def _measure(payload: Mapping[str, Any]) -> str:
    """The task's measure, cut at `MEASURE_CHARS` characters (on one line)."""
    measure = " ".join(str(payload["measure"]).split())
    if len(measure) <= MEASURE_CHARS:
        return measure
    return measure[: MEASURE_CHARS - 1] + "…"
