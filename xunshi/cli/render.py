"""Every table and text the CLI prints, and the one way JSON is printed.

A command hands `emit` the JSON shape of its result (defined once, by the result type) and
a function that renders the text for people; only one of them runs.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

import click

from xunshi.display import plural, table
from xunshi.timeparse import business_time
from xunshi.workflow.outcomes import Outcome, funds_text

if TYPE_CHECKING:
    from xunshi.definitions.schema import Definition, EscalationRule
    from xunshi.read.cases import CaseView, EvaluationView
    from xunshi.read.catalog import CalendarYear, Category, GroupInfo, RoundInfo, Tag, UnitInfo
    from xunshi.read.clues import ClueView
    from xunshi.read.common import CommonProblems
    from xunshi.read.escalations import EscalationView
    from xunshi.read.extensions import ExtensionView
    from xunshi.read.history import History, RequestRecord
    from xunshi.read.items import ItemView, TaskView
    from xunshi.read.overview import RoundOverview
    from xunshi.read.rounds import RoundEventView, RoundPlan
    from xunshi.read.statistics import RoundStatistics
    from xunshi.read.theme_reports import ThemeReport
    from xunshi.read.themes import Theme
    from xunshi.services.calendar import CalendarChanged
    from xunshi.services.evaluation import Evaluated
    from xunshi.services.notify import TestSent
    from xunshi.services.rescheduling import Rescheduled
    from xunshi.services.results import Change, Corrected, TaskChange, Voided
    from xunshi.services.rounds import PlanChanged, RoundEventDone
    from xunshi.services.schema import RevisionInfo
    from xunshi.workflow.audit import Event, Report
    from xunshi.workflow.registry import DefinitionVersion
    from xunshi.workflow.schedule import Rung
    from xunshi.workflow.voids import VoidRecord

T = TypeVar("T")


class Output(Protocol):
    """Where a command prints to: JSON or text (the CLI's `State`)."""

    as_json: bool


def emit(state: Output, data: Any, human: Callable[[], str]) -> None:
    """Print `data` as JSON with --json, else the human text (nothing if it is empty)."""
    if state.as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    text = human()
    if text:
        click.echo(text)


def emit_list(
    state: Output,
    records: Iterable[T],
    to_json: Callable[[T], Any],
    human: Callable[[list[T]], str],
    *,
    jsonl: bool = False,
) -> None:
    """Print a list: one JSON object per line (`jsonl`), a JSON array written element by
    element (--json: the bytes `emit` would print for the whole list), else the text for
    people (which needs every record: a table's columns are as wide as its widest cell)."""
    if jsonl:
        for record in records:
            click.echo(json.dumps(to_json(record), ensure_ascii=False))
    elif state.as_json:
        for chunk in json_array(to_json(record) for record in records):
            click.echo(chunk, nl=False)
        click.echo()
    else:
        text = human(list(records))
        if text:
            click.echo(text)


def json_array(elements: Iterable[Any]) -> Iterable[str]:
    """`json.dumps(list(elements), ensure_ascii=False, indent=2)` in pieces, one element at
    a time, so that a long list never has to be held whole."""
    opened = False
    for element in elements:
        text = json.dumps(element, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        yield ("[\n  " if not opened else ",\n  ") + text
        opened = True
    yield "\n]" if opened else "[]"


# -- definitions ---------------------------------------------------------------------------


def definition_versions(versions: Sequence[DefinitionVersion], tz: ZoneInfo) -> str:
    """`definitions list`."""
    return table(
        ["名称", "标题", "对象", "版本", "载入时间", "载入人", "来源"],
        [
            [
                v.name,
                v.title,
                v.subject,
                v.version,
                business_time(v.loaded_at, tz),
                v.loaded_by,
                "内置" if v.builtin else v.source_name,
            ]
            for v in versions
        ],
    )


def definition_text(defn: Definition, version: int) -> str:
    """`definitions show`: stages, transitions, ladders."""
    lines = [
        f"{defn.name} v{version}  {defn.title}  ({defn.subject}, calendar {defn.calendar})",
        "",
        table(
            ["阶段", "名称", "期限", "里程碑 (* 必需)"],
            [
                [
                    s.title,
                    s.name + (" (final)" if s.final else ""),
                    "" if s.due is None else str(s.due),
                    ", ".join(
                        f"{'*' if m.name in s.requires else ''}{m.name} {m.title}"
                        + (f"（计{m.count}）" if m.count else "")
                        for m in s.milestones
                    ),
                ]
                for s in defn.states
            ],
        ),
        "",
        table(
            ["触发", "从", "到", "角色", "条件"],
            [
                [t.trigger, t.source, t.dest, ", ".join(t.roles) or "any", ", ".join(t.guards)]
                for t in defn.transitions
            ],
        ),
    ]
    # stages sharing one ladder (a YAML anchor, say) print it once, under all their names
    shared: dict[tuple[EscalationRule, ...], list[str]] = {}
    for s in defn.states:
        if s.escalation is not None:
            shared.setdefault(s.escalation, []).append(f"{s.title} ({s.name})")
    ladders = [("", defn.escalation)] + [("、".join(names), lad) for lad, names in shared.items()]
    for stage, ladder in ladders:
        lines.append("")
        if stage:
            lines.append(f"{stage} 阶段督办:")
        lines.append(
            table(
                ["级别", "时点", "名称", "方式", "通知"],
                [
                    [
                        r.level,
                        str(r.at),
                        r.title,
                        _rung_instrument(defn, r),
                        ", ".join(defn.role_title(n) for n in r.notify),
                    ]
                    for r in ladder
                ],
            )
        )
    return "\n".join(lines)


def _rung_instrument(defn: Definition, rule: EscalationRule) -> str:
    """`约谈 → 被巡视党组织书记（需决定）`: the instrument, to whom, whether the office decides."""
    text = rule.instrument
    if rule.to:
        text = f"{text} → {defn.role_title(rule.to)}" if text else f"→ {defn.role_title(rule.to)}"
    return f"{text}（需决定）" if rule.decision else text


# -- rounds, groups, units, categories -----------------------------------------------------


def rounds_table(rounds: Sequence[RoundInfo]) -> str:
    """`round list`."""
    if not rounds:
        return "No rounds."
    return table(["轮次", "标题", "开始"], [[r.code, r.title, r.start_on] for r in rounds])


def groups_table(groups: Sequence[GroupInfo]) -> str:
    """`group list`."""
    if not groups:
        return "No groups."
    return table(["巡视组", "组长"], [[g.code, g.leader] for g in groups])


def units_table(units: Sequence[UnitInfo]) -> str:
    """`unit list`."""
    if not units:
        return "No units."
    return table(["单位", "名称", "类别"], [[u.code, u.name, u.category] for u in units])


def categories_table(categories: Sequence[Category]) -> str:
    """`categories list`."""
    if not categories:
        return "No categories (load them with `xunshi categories load FILE`)."
    return table(["一级类别", "二级类别"], [[c.level1, c.level2] for c in categories])


def tags_table(tags: Sequence[Tag]) -> str:
    """`tags list`."""
    if not tags:
        return "No tags (load them with `xunshi tags load FILE`)."
    return table(["业务领域"], [[t.name] for t in tags])


# -- 专题 and common problems ---------------------------------------------------------------


def themes_list_table(reports: Sequence[ThemeReport]) -> str:
    """`theme list`."""
    if not reports:
        return "No themes in this round."
    return table(
        ["专题", "标题", "牵头部门", "涉及单位", "问题", "已销号", "未销号", "长期", "机制措施"],
        [
            [
                r.code,
                r.title,
                r.department,
                r.totals.units,
                r.totals.items,
                r.totals.accepted,
                r.totals.open,
                r.totals.long_term,
                f"{r.measures_done}/{len(r.measures)}",
            ]
            for r in reports
        ],
    )


def theme_report_text(report: ThemeReport) -> str:
    """`theme show`, `report theme` without --out."""
    # The writers' module knows what a theme takes in; it imports nothing heavy.
    from xunshi.read.theme_reports import ITEM_COLUMNS, MEASURE_COLUMNS, TOTAL_COLUMNS

    t = report.totals
    lines = [
        f"专题    {report.code} {report.title}  ({report.round.code}, 截至 {report.as_of})",
        f"牵头    {report.department}",
        f"标签    {'、'.join(report.tags) or '无'}",
        f"类别    {'、'.join(report.categories) or '无'}",
        f"指定    {'、'.join(report.linked) or '无'}",
        "",
        table(ITEM_COLUMNS, [i.cells(n) for n, i in enumerate(report.items, start=1)])
        if report.items
        else "No items in this theme.",
        "",
        table(TOTAL_COLUMNS, [[t.units, t.items, t.accepted, t.open, t.long_term]]),
        "",
        table(MEASURE_COLUMNS, [[m.number, m.text, m.status] for m in report.measures])
        if report.measures
        else "No mechanism measures.",
    ]
    return "\n".join(lines)


def common_table(common: CommonProblems) -> str:
    """`report common`."""
    if not common.problems:
        return (
            f"No common problems in round {common.round.code} (a category and tag in at "
            f"least {common.threshold} units)."
        )
    return table(
        ["类别", "业务领域", "单位数", "涉及单位", "问题"],
        [
            [
                f"{p.level1}/{p.level2}",
                p.tag,
                len(p.units),
                "、".join(p.units.values()),
                " ".join(str(key) for key in p.items),
            ]
            for p in common.problems
        ],
    )


# -- cases ---------------------------------------------------------------------------------


def cases_table(views: Sequence[CaseView], tz: ZoneInfo) -> str:
    """`case list`."""
    if not views:
        return "No cases."
    return table(
        ["编号", "案件", "单位", "类型", "阶段", "进入", "期限", "剩余"],
        [
            [
                v.id,
                v.key,
                v.unit_name,
                v.definition_title,
                v.state_title,
                v.entered_at.astimezone(tz).date(),
                due_text(v.due_on, v.provisional),
                left_text(v),
            ]
            for v in views
        ],
    )


def case_text(view: CaseView, tz: ZoneInfo, as_of: datetime | None = None) -> str:
    """`case show` (`as_of`: the instant the view was rebuilt from the history for)."""
    when = f"  (as of {business_time(as_of, tz)})" if as_of is not None else ""
    lines = [
        f"案件    {view.key}  #{view.id}{when}",
        f"单位    {view.unit} {view.unit_name}",
        f"巡视组  {view.group}  组长 {view.group_leader}",
        f"类型    {view.definition_title} ({view.definition} v{view.definition_version})",
        f"阶段    {view.state_title} ({view.state})"
        + ("  暂停中 suspended" if view.suspended else "")
        + ("  已撤销 void" if view.voided else "")
        + f"  since {business_time(view.entered_at, tz)}",
    ]
    if view.voided is not None:
        lines.append(f"撤销    {void_text(view.voided, tz)}")
    if view.follows is not None:
        lines.append(f"接续    {view.follows}（回头看）")
    if view.due_on is not None:
        lines.append(f"期限    {due_text(view.due_on, view.provisional)}  {left_text(view)}")
    if view.evaluation is not None:
        lines.append(f"整改评估  {evaluation_line(view.evaluation, tz)}")
    if view.milestones:
        lines.append("里程碑")
        for m in view.milestones:
            mark = "✓" if m.recorded_at else "·"
            need = " (必需)" if m.required else ""
            at = f"  {business_time(m.recorded_at, tz)}" if m.recorded_at else ""
            count = f"  {m.count} {m.unit}" if m.count is not None else ""
            lines.append(f"  {mark} {m.title} {m.name}{need}{at}{count}")
    if view.voided is not None:
        pass  # nothing more can happen to it: the 撤销 line says why
    elif view.suspended and not view.final:
        # Nothing can be fired while the clock is stopped: say what comes first.
        lines.append("可执行  暂停中：先恢复 (case resume)")
    elif not view.final and view.triggers:
        lines.append(f"可执行  {', '.join(view.triggers)}")
    lines.append(f"版本    {view.version}")
    return "\n".join(lines)


def extension_lines(tasks: Sequence[TaskView], tz: ZoneInfo) -> list[str]:
    """`延期` lines of `item show`: each task's pending request and approved extensions."""
    lines = []
    for t in tasks:
        for e in t.extensions:
            if e.status == "approved":
                assert e.decided_at is not None
                shown = (
                    f"已批准延期至 {e.requested_due}（原定 {e.original_due}，{e.decided_by} "
                    f"{business_time(e.decided_at, tz)} 批准）"
                )
            elif e.status == "pending":
                shown = (
                    f"延期申请待审批：至 {e.requested_due}（{e.requested_by} "
                    f"{business_time(e.requested_at, tz)} 申请：{e.reason}）"
                )
            else:
                continue
            lines.append(f"延期    #{t.number} {shown}")
    return lines


def task_status(task: TaskView) -> str:
    """已完成, 超期 or 进行中."""
    return "已完成" if task.status == "done" else ("超期" if task.overdue else "进行中")


def task_text(item: ItemView, task: TaskView, tz: ZoneInfo) -> str:
    """`task show`: the task, its item, and its extension requests."""
    due = "长期" if task.long_term else str(task.due_on or "")
    if task.original_due is not None:
        due += f"（原定 {task.original_due}）"
    lines = [
        f"任务    {item.key.task_key(task.number)}  #{task.id}  {task.measure}",
        f"问题    {item.key}  {item.title}  ({item.state_title})",
        f"责任    责任领导 {task.responsible_leader}  牵头部门 {task.lead_department}"
        + (f"  配合部门 {task.cooperating_departments}" if task.cooperating_departments else "")
        + f"  责任人 {task.responsible_person}",
        f"时限    {due}",
        f"状态    {task_status(task)}"
        + (f"  完成于 {task.completed_on}" if task.completed_on else ""),
    ]
    if task.progress:
        lines.append(f"进展    {task.progress}")
    if task.evidence:
        lines.append(f"佐证    {task.evidence}")
    if task.extensions:
        lines.append("")
        lines.append(extensions_table(task.extensions, tz))
    return "\n".join(lines)


def extensions_table(views: Sequence[ExtensionView], tz: ZoneInfo) -> str:
    """`task extensions`, and a task's requests in `task show`."""
    if not views:
        return "No extension requests."
    return table(
        [
            "编号",
            "任务",
            "单位",
            "原定时限",
            "申请延至",
            "状态",
            "申请人",
            "申请时间",
            "理由",
            "审批人",
            "审批时间",
            "审批意见",
        ],
        [
            [
                v.id,
                v.task,
                v.unit_name,
                v.original_due,
                v.requested_due,
                v.status_title,
                v.requested_by,
                business_time(v.requested_at, tz),
                v.reason,
                v.decided_by or "",
                "" if v.decided_at is None else business_time(v.decided_at, tz),
                v.decision_reason or "",
            ]
            for v in views
        ],
    )


def evaluation_line(evaluation: EvaluationView, tz: ZoneInfo) -> str:
    """`较好 86分（组织领导 18，…） 2025-06-30 10:00 巡视办`, and what a poor grade did."""
    scores = evaluation.scores
    parts = "，".join(f"{name} {value}" for name, value in scores.dimensions)
    line = (
        f"{scores.grade} {scores.score}分（{parts}） "
        f"{business_time(evaluation.at, tz)} {evaluation.actor}"
    )
    if scores.on_poor == "rerectify":
        line += "  二次整改"
    elif scores.lookback:
        line += "  建议回头看"
    return line


def due_text(due_on: date | None, provisional: bool) -> str:
    """A due date as people read it, marked (暂定) when a year it spans had no calendar data."""
    if due_on is None:
        return ""
    return due_on.isoformat() + (" (暂定)" if provisional else "")


def iso_time(instant: datetime, tz: ZoneInfo) -> str:
    """An instant in the business time zone with its offset: `2025-03-03T09:00:00+08:00`."""
    return instant.astimezone(tz).isoformat(timespec="seconds")


def void_text(record: VoidRecord, tz: ZoneInfo) -> str:
    """Who withdrew a record, when and why: `2024-09-05 10:00  巡视办 (office)  重复录入`."""
    role = f" ({record.role})" if record.role else ""
    return f"{business_time(record.at, tz)}  {record.actor}{role}  {record.reason}"


def left_text(view: CaseView) -> str:
    """还有 N 天 / 超期 N 天 / 暂停 / 已撤销."""
    if view.voided is not None:
        return "已撤销"
    if view.days_left is None or view.final:
        return ""
    if view.suspended:
        return "暂停"
    if view.overdue:
        return f"超期 {-view.days_left} 天"
    return f"还有 {view.days_left} 天"


# -- events --------------------------------------------------------------------------------


def moved_text(change: Change) -> str:
    """What a fired trigger did: `case R/U: 现场巡视 → 沟通, due …`."""
    due = due_text(change.instance.due_on, change.instance.provisional)
    line = f"{change.key.label}: {change.from_title} → {change.state_title}"
    return line + (f", due {due}" if due else "")


def voided_text(voided: Voided) -> str:
    """What a void did: `case R/U: void (已撤销), with its problems …/P01, …/P02`."""
    line = f"{voided.key.label}: void (已撤销)"
    if voided.dependents:
        line += ", with " + ", ".join(dep.key.label for dep in voided.dependents)
    return line


def corrected_text(corrected: Corrected) -> str:
    """What a rename did: `Unit U07 renamed A → B (recorded in 2 cases)`."""
    if corrected.subject == "unit":
        head = f"Unit {corrected.code} renamed {corrected.old} → {corrected.new}"
    else:
        head = f"Group {corrected.code}: leader {corrected.old} → {corrected.new}"
    return f"{head} (recorded in {plural(len(corrected.cases), 'case')})"


def recorded_text(change: Change) -> str:
    """What a recorded milestone was: `case R/U: 中期会商 (midterm_consultation) recorded`."""
    name = str(change.event.data["milestone"])
    count = change.event.data.get("count")
    counted = ""
    if count is not None:
        declared = next(
            (m for s in change.definition.states for m in s.milestones if m.name == name), None
        )
        counted = f", {count} {declared.count if declared else ''}".rstrip()
    return f"{change.key.label}: {change.milestone_title} ({name}) recorded{counted}"


def evaluated_text(done: Evaluated) -> str:
    """`case evaluate`: `case R/U: 整改评估 较好 (86): 组织领导 18, …`, and what a poor
    grade did."""
    scores = done.scores
    parts = ", ".join(f"{name} {value}" for name, value in scores.dimensions)
    line = f"{done.key.label}: 整改评估 {scores.grade} ({scores.score}): {parts}"
    if done.sent_back is not None:
        line += f"\n{moved_text(done.sent_back)} (二次整改)"
    elif scores.lookback:
        line += "\n  flagged for a 回头看 in a later round"
    return line


def event_content(e: Event, titles: Mapping[str, str]) -> str:
    """What an event did, in a history's 内容 column (`titles`: the definition's states')."""

    def what(e: Event) -> str:
        if e.kind in ("started", "transition"):
            into = titles.get(e.to_state or "", e.to_state or "")
            facts = e.data.get("facts") if e.kind == "started" else None
            recurs = facts.get("recurs_from") if isinstance(facts, dict) else None
            again = f"（屡改屡犯 {recurs}）" if recurs else ""
            return f"{e.trigger or 'start'} → {into}{again}"
        if e.kind == "milestone":
            count = e.data.get("count")
            return str(e.data.get("milestone", "")) + ("" if count is None else f" {count}")
        if e.kind == "task":
            extension = extension_event_text(e)
            if extension is not None:
                return extension
            done = e.data.get("outcome")
            shown = f" {outcome_line(Outcome.from_data(done))}" if done else ""
            return f"{e.trigger} #{e.data.get('task', '')}{shown}"
        if e.kind == "outcome":
            return f"{e.trigger} {outcome_line(Outcome.from_data(e.data))}"
        if e.kind == "facts":
            return "facts: " + facts_changed(e.data.get("changes", {}))
        if e.kind == "decision":
            return f"{e.trigger} #{e.data.get('escalation', '')} {e.data.get('instrument', '')}"
        if e.kind == "voided":
            # A case lists what went void with it; each of those names the case.
            along = e.data.get("dependents") or [e.data.get("along_with") or ""]
            return f"void with {', '.join(map(str, along))}" if any(along) else "void"
        if e.kind == "unit_renamed":
            return f"unit {e.data.get('unit')}: {e.data.get('old')} → {e.data.get('new')}"
        if e.kind == "leader_changed":
            return f"group {e.data.get('group')}: {e.data.get('old')} → {e.data.get('new')}"
        if e.kind == "link":
            return f"{e.trigger} {e.data.get('code', '')}"
        if e.kind == "evaluated":
            return f"整改评估 {e.data.get('grade', '')} {e.data.get('score', '')}"
        return e.trigger or ""

    def recorded(e: Event) -> str:
        """What a transition recorded (a clue's receiver, disposition, outcome)."""
        facts = e.data.get("facts") if e.kind == "transition" else None
        if not isinstance(facts, dict):
            return ""
        shown = [facts.get(n) for n in ("receiver_name", "disposition", "outcome")]
        return ": " + ", ".join(str(v) for v in shown if v)

    def content(e: Event) -> str:
        # An event a round event wrote says so: the same id on every case it reached.
        shown = what(e) + recorded(e)
        round_event = e.data.get("round_event")
        return shown if round_event is None else f"{shown} (round event {round_event})"

    return content(e)


def request_text(record: RequestRecord, tz: ZoneInfo) -> str:
    """What a request did the first time, when the same request runs again."""
    head = (
        f"Already done: request {record.request_id} ({record.command}) was carried out "
        "before; nothing was written now."
    )
    if not record.events:
        return head
    rows = [
        [
            entry.label,
            entry.event.seq,
            iso_time(entry.event.recorded_at, tz),
            entry.event.kind,
            event_content(entry.event, entry.state_titles),
        ]
        for entry in record.events
    ]
    return head + "\n" + table(["对象", "序号", "记录时间", "事件", "内容"], rows)


def history_table(history: History, tz: ZoneInfo) -> str:
    """`case history`, `item history`."""
    content = functools.partial(event_content, titles=history.state_titles)
    return table(
        ["序号", "时间", "事件", "内容", "人员", "角色", "理由"],
        [
            [
                e.seq,
                iso_time(e.occurred_at, tz),
                e.kind,
                content(e),
                e.actor,
                e.role or "",
                e.reason or "",
            ]
            for e in history.events
        ],
    )


def extension_event_text(e: Event) -> str | None:
    """An extension request or decision as the history shows it (None: another task event):
    `申请延期 #1 至 2025-08-29：原因`, `批准延期 #1 至 2025-08-29`, `驳回延期 #1`."""
    number = e.data.get("number", "")
    if e.trigger == "extension_requested":
        return f"申请延期 #{number} 至 {e.data.get('requested_due', '')}：{e.reason or ''}"
    if e.trigger == "extension_approved":
        return f"批准延期 #{number} 至 {e.data.get('due_on', '')}"
    if e.trigger == "extension_rejected":
        return f"驳回延期 #{number}"
    return None


def outcome_line(outcome: Outcome) -> str:
    """`成果：建章立制 2 项（《…》《…》），问责 3 人，挽回损失 12.5 万元` (what it counts)."""
    return "成果：" + (outcome_figures(outcome) or "无量化成果")


def outcome_figures(outcome: Outcome) -> str:
    """`建章立制 2 项（《…》《…》），问责 3 人，挽回损失 12.5 万元`; only what is not zero."""
    parts = []
    if outcome.rules:
        titles = "".join(f"《{title}》" for title in outcome.rules)
        parts.append(f"建章立制 {len(outcome.rules)} 项（{titles}）")
    if outcome.accountable:
        parts.append(f"问责 {outcome.accountable} 人")
    if outcome.funds:
        parts.append(f"挽回损失 {funds_text(outcome.funds)} 万元")
    return "，".join(parts)


def task_done_text(done: TaskChange) -> str:
    """`task done`: `task R/U/P01#1 done`, and what it achieved if it recorded anything."""
    recorded = done.change.event.data.get("outcome")
    shown = f": {outcome_line(Outcome.from_data(recorded))}" if recorded else ""
    return f"{done.key.label} done{shown}"


def outcome_recorded(change: Change) -> str:
    """`item outcome`: `item R/U/P01: 成果：…` (`replaced` when it corrects the one before)."""
    verb = "replaced" if change.event.trigger == "outcome_replaced" else "recorded"
    return (
        f"{change.key.label}: outcome {verb}: {outcome_line(Outcome.from_data(change.event.data))}"
    )


def facts_changed(changes: Mapping[str, object]) -> str:
    """The names of an item's changed facts, in the order the item lists them."""
    # The audit model (hashlib, the definition schema) costs `xunshi --help` 18 ms.
    from xunshi.workflow.audit import ITEM_FACTS

    order = {name: n for n, name in enumerate(ITEM_FACTS)}
    return ", ".join(sorted(changes, key=lambda name: order.get(name, len(order))))


# -- escalations ---------------------------------------------------------------------------


def escalations_table(views: Sequence[EscalationView], tz: ZoneInfo) -> str:
    """`escalate`, `escalations list`."""
    return table(
        ["编号", "案件", "阶段", "级别", "名称", "方式", "通知", "期限", "发出", "状态", "送达"],
        [
            [
                v.id,
                v.case,
                v.stage_title,
                v.level,
                v.title,
                f"{v.instrument} → {v.recipient}" if v.recipient else v.instrument,
                ", ".join(n for n in v.notify),
                due_text(v.due_on, v.provisional),
                business_time(v.raised_at, tz),
                v.status,
                ", ".join(d.label for d in v.deliveries),
            ]
            for v in views
        ],
    )


# -- items ---------------------------------------------------------------------------------


def items_table(views: Sequence[ItemView]) -> str:
    """`item list`."""
    if not views:
        return "No items."
    return table(
        ["编号", "问题", "标题", "类别", "状态", "任务", "超期"],
        [
            [
                v.id,
                v.key,
                v.title,
                f"{v.category_l1}/{v.category_l2}",
                v.state_title,
                f"{sum(t.status == 'done' for t in v.tasks)}/{len(v.tasks)}",
                "已撤销" if v.voided else ("超期" if v.overdue else ""),
            ]
            for v in views
        ],
    )


def item_text(view: ItemView, tz: ZoneInfo) -> str:
    """`item show`."""
    flags = [
        name
        for name, on in (
            ("重点问题", view.key_problem),
            ("共性问题", view.common_problem),
            ("立行立改", view.fix_now),
        )
        if on
    ]
    lines = [
        f"问题    {view.key}  #{view.id}  {view.title}",
        f"单位    {view.unit} {view.unit_name}  ({view.kind}, 巡视组 {view.group})",
        f"类别    {view.category_l1}/{view.category_l2}"
        + (f"  {' '.join(flags)}" if flags else ""),
        *([f"领域    {'、'.join(view.domain_tags)}"] if view.domain_tags else []),
        f"状态    {view.state_title} ({view.state})"
        + ("  暂停中 suspended" if view.suspended else "")
        + ("  已撤销 void" if view.voided else "")
        + (f"  期限 {due_text(view.due_on, view.provisional)}" if view.due_on else "")
        + ("  超期" if view.stage_overdue else ""),
    ]
    if view.voided is not None:
        lines.append(f"撤销    {void_text(view.voided, tz)}")
    late = [f"#{t.number}" for t in view.tasks if t.overdue]
    if late:
        # The stage's 期限 above is the item's own; a late task is named apart from it.
        lines.append(f"任务超期: {', '.join(late)}")
    if view.manifestations:
        lines.append(f"表现    {view.manifestations}")
    if view.root_cause:
        lines.append(f"根源    {view.root_cause}")
    if view.clues:
        lines.append(f"线索    {', '.join(view.clues)}")
    if view.recurs_from is not None:
        lines.append(f"屡改屡犯  {view.recurs_from} {view.recurs_from_title}")
    if view.outcome.achieved:
        lines.append(f"成果    {outcome_figures(view.outcome)}")
    if view.own_outcome is not None and view.own_outcome.evidence:
        lines.append(f"成果佐证  {view.own_outcome.evidence}")
    if view.milestones:
        lines.append("验收    " + ", ".join(sorted(view.milestones)))
    if view.tasks:
        lines.append("")
        lines.append(
            table(
                ["任务", "措施", "责任领导", "牵头部门", "责任人", "时限", "状态"],
                [
                    [
                        f"#{t.number}",
                        t.measure,
                        t.responsible_leader,
                        t.lead_department,
                        t.responsible_person,
                        "长期" if t.long_term else (t.due_on or ""),
                        task_status(t),
                    ]
                    for t in view.tasks
                ],
            )
        )
    lines.extend(extension_lines(view.tasks, tz))
    lines.append(f"版本    {view.version}")
    return "\n".join(lines)


# -- clues ---------------------------------------------------------------------------------


def clues_table(views: Sequence[ClueView]) -> str:
    """`clue list`."""
    if not views:
        return "No clues."
    return table(
        ["编号", "线索", "摘要", "移交", "处置", "状态", "期限", "超期"],
        [
            [
                v.id,
                v.key,
                v.summary,
                v.receiver_name,
                v.disposition,
                "已撤销" if v.voided is not None else v.state_title,
                due_text(v.due_on, v.provisional),
                "超期" if v.overdue else "",
            ]
            for v in views
        ],
    )


def clue_text(view: ClueView, tz: ZoneInfo) -> str:
    """`clue show`."""
    lines = [
        f"线索    {view.key}  #{view.id}",
        f"单位    {view.key.unit} {view.unit_name}  ({view.kind}, 巡视组 {view.group})",
        f"摘要    {view.summary}",
        f"状态    {view.state_title} ({view.state})"
        + ("  暂停中 suspended" if view.suspended else "")
        + (f"  期限 {due_text(view.due_on, view.provisional)}" if view.due_on else "")
        + ("  超期" if view.overdue else ""),
    ]
    if view.receiver:
        lines.append(f"移交    {view.receiver_name} ({view.receiver})")
    if view.disposition:
        lines.append(f"处置    {view.disposition}")
    if view.outcome:
        lines.append(f"结果    {view.outcome}")
    if view.items:
        lines.append(f"问题    {', '.join(view.items)}")
    if view.voided is not None:
        lines.append(f"撤销    {void_text(view.voided, tz)}")
    lines.append(f"版本    {view.version}")
    return "\n".join(lines)


def linked_text(change: Change) -> str:
    """`clue link`, `clue unlink`: `clue R/U:C01: linked to item R/U/P01`."""
    key = change.key
    item = f"{key.round}/{key.unit}/{change.event.data.get('code', '')}"
    verb = "linked to" if change.event.trigger == "item_linked" else "unlinked from"
    return f"{key.label}: {verb} item {item}"


# -- reports -------------------------------------------------------------------------------


def themes_table(themes: Sequence[Theme], units_shown: int = 3) -> str:
    """The thematic view for people (the first units named, the rest counted)."""
    # The column titles are defined with the figures; that module needs SQLAlchemy, which
    # `xunshi --help` must not import.
    from xunshi.read.themes import COLUMNS

    rows = []
    for theme in themes:
        row = list(theme.row().values())
        shown = "、".join(theme.units[:units_shown])
        more = len(theme.units) - units_shown
        row[-1] = f"{shown}等{len(theme.units)}个单位" if more > 0 else shown
        rows.append(row)
    return table(COLUMNS, rows)


def statistics_text(view: RoundStatistics) -> str:
    """`report statistics`: each table under its title."""
    parts = [f"{view.round.title} ({view.round.code}) 巡视工作统计 as of {view.as_of}"]
    for name, columns, rows in view.sections():
        parts.append(f"{name}:\n{table(columns, rows)}")
    return "\n\n".join(parts)


def round_report(overview: RoundOverview) -> str:
    """`report round`: stages by kind, every case, escalations by level, what is overdue."""
    sections = [
        f"{overview.round.title} ({overview.round.code}) as of {overview.as_of}",
        "",
        stage_matrix(overview),
        "",
        *(
            ["巡视工作量 workload: " + "; ".join(t.label for t in overview.workload), ""]
            if overview.workload
            else []
        ),
        *([outcome_summary(overview), ""] if overview.outcomes.any else []),
        table(
            ["案件", "单位", "类型", "阶段", "期限", "状态"],
            [
                [
                    v.key,
                    v.unit_name,
                    v.definition_title,
                    v.state_title,
                    due_text(v.due_on, v.provisional),
                    _status(v),
                ]
                for v in overview.cases
            ],
        ),
        "",
        escalation_summary(overview),
        "",
        *([clue_summary(overview), ""] if overview.clues else []),
        overdue_cases(overview),
        "",
        overdue_tasks(overview),
    ]
    return "\n".join(sections)


def outcome_summary(overview: RoundOverview) -> str:
    """`整改成果 outcomes: 建章立制 5 项，问责 3 人，挽回损失 12.5 万元；屡改屡犯 2 个问题`."""
    tally = overview.outcomes
    return (
        f"整改成果 outcomes: 建章立制 {tally.rules} 项，问责 {tally.accountable} 人，"
        f"挽回损失 {funds_text(tally.funds)} 万元；屡改屡犯 {tally.recurrences} 个问题"
    )


def stage_matrix(overview: RoundOverview) -> str:
    """Stage × kind: how many cases stand where."""
    kinds, matrix = overview.kinds, overview.matrix()
    rows: list[list[object]] = [
        [stage, *[matrix[stage].get(k, "") for k in kinds], sum(matrix[stage].values())]
        for stage in overview.stages
    ]
    totals = [sum(1 for v in overview.cases if v.definition_title == k) for k in kinds]
    rows.append(["合计", *totals, len(overview.cases)])
    return table(["阶段", *kinds, "合计"], rows)


def escalation_summary(overview: RoundOverview) -> str:
    """Escalations (level 1 and above) and reminders (level 0), by case and level.

    An item's or a task's count is under its case.
    """
    if not overview.escalations:
        return "No reminders or escalations."
    titles = overview.level_titles()
    counts = overview.by_level()
    above = ", ".join(f"{titles[level]} {n}" for level, n in counts.items() if level > 0)
    summary = f"督办 escalations: {overview.raised}" + (f" ({above})" if above else "")
    summary += f"; 提醒 reminders: {overview.reminders}"
    if overview.proposals:
        summary += f"; 待决定 proposals: {len(overview.proposals)}"
    names = {str(v.key): v.unit_name for v in overview.cases}
    per_case: dict[str, dict[int, int]] = {}
    for e in overview.escalations:
        tally = per_case.setdefault(str(e.key.case), {})
        tally[e.level] = tally.get(e.level, 0) + 1
    rows: list[list[object]] = [
        [key, names.get(key, ""), *[tally.get(level, "") for level in titles]]
        for key, tally in sorted(per_case.items())
    ]
    rows.append(["合计", "", *counts.values()])
    return summary + "\n" + table(["案件", "单位", *titles.values()], rows)


def clue_summary(overview: RoundOverview) -> str:
    """The round's 问题线索 by case and state (numbers only)."""
    totals = overview.clue_totals()
    states = overview.clue_states
    counted = ", ".join(f"{state} {n}" for state, n in totals.items())
    rows: list[list[object]] = [
        [t.key, t.unit_name, *[t.counts.get(state, "") for state in states]] for t in overview.clues
    ]
    rows.append(["合计", "", *totals.values()])
    head = f"问题线索 clues: {sum(totals.values())} ({counted})"
    return head + "\n" + table(["案件", "单位", *states], rows)


def overdue_cases(overview: RoundOverview) -> str:
    """The cases past due, with their open escalations."""
    overdue = overview.overdue
    if not overdue:
        return "No case is overdue."
    rows = [
        [
            v.key,
            v.unit_name,
            v.state_title,
            due_text(v.due_on, v.provisional),
            f"{-(v.days_left or 0)} 天",
            ", ".join(e.title for e in overview.escalations if e.key == v.key and e.open),
        ]
        for v in overdue
    ]
    return f"超期案件 overdue cases: {len(overdue)}\n" + table(
        ["案件", "单位", "阶段", "期限", "超期", "未解除督办"], rows
    )


def overdue_tasks(overview: RoundOverview) -> str:
    """The open tasks past due: the measure, who answers for it, how late."""
    late = overview.overdue_tasks
    if not late:
        return "No task is overdue."
    rows = [
        [
            t.key,
            t.unit_name,
            t.measure,
            t.lead_department,
            t.responsible_person,
            t.due_on,
            f"{t.days_overdue} 天",
        ]
        for t in late
    ]
    return f"超期任务 overdue tasks: {len(late)}\n" + table(
        ["任务", "单位", "整改措施", "牵头部门", "责任人", "完成时限", "超期"], rows
    )


def _status(view: CaseView) -> str:
    if view.final:
        return "已完成"
    if view.overdue:
        return f"超期 {-(view.days_left or 0)} 天"
    return f"还有 {view.days_left} 天" if view.days_left is not None else ""


# -- the calendar --------------------------------------------------------------------------

_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_DAY_KINDS = {"holiday": "节假日", "workday": "调休上班"}


def calendar_changed(changed: CalendarChanged) -> str:
    """`calendar load`, `calendar reset`: the year as it now is, and every deadline moved."""
    if changed.mode == "reset":
        head = f"Reset {changed.year} to the built-in data"
    else:
        head = f"Loaded {changed.year} from {changed.source} ({changed.mode})"
    if changed.has_data:
        days = (
            f"{plural(changed.holidays, 'holiday')}, "
            f"{plural(changed.workdays, 'make-up working day')}"
        )
    else:
        days = "no data (weekends only)"
    lines = [f"{head}: {days}; {plural(len(changed.rescheduled), 'deadline')} moved"]
    lines += [f"  {_moved_text(moved)}" for moved in changed.rescheduled]
    return "\n".join(lines)


def _moved_text(moved: Rescheduled) -> str:
    """`case 2025-R1/U01 (onsite): due 2025-10-09 → 2025-10-10`."""
    if moved.key.task is not None:
        old, new = moved.old_rung, moved.new_rung
        return f"{moved.key.label}: next rung {_rung_text(old)} → {_rung_text(new)}"
    where = f"{moved.key.label} ({moved.stage})"
    old_due = due_text(moved.old_due_on, moved.old_provisional) or "none"
    new_due = due_text(moved.new_due_on, moved.new_provisional) or "none"
    if old_due != new_due:
        return f"{where}: due {old_due} → {new_due}"
    return f"{where}: next rung {_rung_text(moved.old_rung)} → {_rung_text(moved.new_rung)}"


def _rung_text(rung: Rung | None) -> str:
    if rung is None:
        return "none"
    return f"level {rung.level} at {rung.fire_at.strftime('%Y-%m-%d %H:%M')}"


def calendar_year(shown: CalendarYear, tz: ZoneInfo) -> str:
    """`calendar show YEAR`: the year's special days with their sources, then its loads."""
    if not shown.loads:
        base = "the built-in data" if shown.builtin else "no built-in data, nothing loaded"
    else:
        on = "on the built-in data" if shown.builtin else "no built-in data"
        base = f"{plural(len(shown.loads), 'load')}, {on}"
    if shown.has_data:
        lines = [
            f"{shown.year}: {plural(shown.holidays, 'holiday')}, "
            f"{plural(shown.workdays, 'make-up working day')} ({base})",
            "",
            table(
                ["日期", "星期", "类别", "名称", "来源"],
                [
                    [
                        d.day.isoformat(),
                        _WEEKDAYS[d.day.weekday()],
                        _DAY_KINDS[d.kind],
                        d.title,
                        d.source if d.load is None else f"{d.source} ({d.load.loaded_by})",
                    ]
                    for d in shown.days
                ],
            ),
        ]
    else:
        lines = [
            f"{shown.year}: no data, weekends only: deadlines through it are 暂定 provisional "
            f"({base})"
        ]
    if shown.loads:
        lines += [
            "",
            table(
                ["载入", "时间", "载入人", "文件", "方式", "节假日", "调休上班", "平常日"],
                [
                    [
                        load.id,
                        business_time(load.loaded_at, tz),
                        load.loaded_by,
                        load.source or "-",
                        load.mode,
                        load.holidays,
                        load.workdays,
                        load.ordinary,
                    ]
                    for load in shown.loads
                ],
            ),
        ]
    return "\n".join(lines)


# -- the schema ----------------------------------------------------------------------------


def revisions_table(revisions: Sequence[RevisionInfo]) -> str:
    """`db history`."""
    return table(
        ["修订", "上一修订", "说明", "已应用"],
        [
            [
                r.id,
                r.down or "",
                r.title,
                "" if r.applied is None else ("是" if r.applied else "否"),
            ]
            for r in revisions
        ],
    )


# -- audit ---------------------------------------------------------------------------------


def verified_text(report: Report, sealed: bool) -> str:
    """The line of a passing `audit verify`."""
    match = " and match the seal" if sealed else ""
    return f"OK: {plural(report.chains, 'chain')}, {plural(report.events, 'event')} verified{match}"


def instant_text(instant: datetime, tz: ZoneInfo) -> str:
    """An instant as people read it."""
    return business_time(instant, tz)


# -- notifications -------------------------------------------------------------------------


def notify_answer(sent: TestSent) -> str:
    """`notify test`: where it went and what the platform answered."""
    to = f" to {', '.join(sent.to)}" if sent.to else ""
    return f"{sent.channel} ({sent.target}){to}: {sent.answer}"


# -- the round plan and round events -------------------------------------------------------

UNBATCHED = "未分批"


def round_plan(shown: RoundPlan) -> str:
    """`round show`: the round, then each batch with its dates, groups and units."""
    r = shown.round
    head = f"轮次  {r.code}  {r.title}  开始 {r.start_on.isoformat()}"
    rows = [*shown.batches] + ([shown.unbatched] if shown.unbatched is not None else [])
    if not rows:
        return f"{head}\nNo batches and no cases yet."
    body = table(
        ["批次", "进驻日期", "撤离日期", "巡视组", "单位"],
        [
            [
                UNBATCHED if b.code is None else b.code,
                b.move_in_on,
                b.leave_on,
                ", ".join(b.groups),
                ", ".join(b.units),
            ]
            for b in rows
        ],
    )
    return f"{head}\n\n{body}"


def plan_changed(changed: PlanChanged) -> str:
    """`round plan`: the batch's new dates, and every deadline they moved."""
    if changed.created:
        dates = ", ".join(
            f"{title} {day.isoformat()}"
            for title, day in (("进驻日期", changed.move_in.new), ("撤离日期", changed.leave.new))
            if day is not None
        )
        what = f"planned: {dates}"
    else:
        what = changed.changes()
    count = plural(len(changed.rescheduled), "deadline")
    lines = [
        f"Batch {changed.batch} of round {changed.round}: {what} "
        f"(round event {changed.round_event}); {count} moved"
    ]
    lines += [f"  {_moved_text(moved)}" for moved in changed.rescheduled]
    return "\n".join(lines)


def round_event_done(done: RoundEventDone) -> str:
    """`round event`, `round fire`: the round event, then what it did to each case."""
    verb = "recorded" if done.kind == "milestone" else "fired"
    scope = f" ({done.filter.describe()})" if done.filter.describe() else ""
    lines = [
        f"Round event {done.id}: {done.name} {verb} on {plural(len(done.changes), 'case')} "
        f"of round {done.round}{scope}"
    ]
    text = recorded_text if done.kind == "milestone" else moved_text
    lines += [f"  {text(c)}" for c in done.changes]
    return "\n".join(lines)


def round_events_table(events: Sequence[RoundEventView], tz: ZoneInfo) -> str:
    """`round events`."""
    if not events:
        return "No round events."
    return table(
        ["编号", "时间", "类型", "内容", "范围", "案件", "人员", "角色", "理由"],
        [
            [
                e.id,
                iso_time(e.occurred_at, tz),
                e.kind,
                _round_event_what(e),
                _scope(e.filters),
                e.count,
                e.actor,
                e.role or "",
                e.reason or "",
            ]
            for e in events
        ],
    )


def _round_event_what(event: RoundEventView) -> str:
    """The milestone or trigger; for a plan change, what moved (`撤离日期 … → …`); for a
    theme's change, what changed."""
    if event.kind == "theme":
        return str(event.data.get("summary", event.name))
    if event.kind != "plan":
        return event.name
    titles = {"move_in_on": "进驻日期", "leave_on": "撤离日期"}
    changes = []
    for key, title in titles.items():
        change = event.data.get(key) or {}
        old, new = change.get("old"), change.get("new")
        if old != new:
            changes.append(f"{title} {new}" if old is None else f"{title} {old} → {new}")
    return ", ".join(changes)


def _scope(filters: Mapping[str, Any]) -> str:
    """`batch B1, group G1, units U01, U02`, or 全轮 (the whole round) for every case."""
    parts = []
    if filters.get("batch"):
        parts.append(f"batch {filters['batch']}")
    if filters.get("group"):
        parts.append(f"group {filters['group']}")
    if filters.get("units"):
        parts.append(f"units {', '.join(filters['units'])}")
    return ", ".join(parts) or "全轮"
