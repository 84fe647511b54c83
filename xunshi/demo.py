"""`xunshi demo`: a sample round run on a virtual clock, then its report.

The sample plan (fictional units of 示例市, 8 groups, 36 units, every kind of inspection)
is imported into a fresh database; each working day the groups record their milestones and
move their cases on. Most keep to their limits, a few are deliberately slow, so the report
shows overdue stages too.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path

from sqlalchemy import select

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings
from xunshi.definitions.schema import Definition, Transition
from xunshi.display import plural, table
from xunshi.errors import BadInput, Refused
from xunshi.reports.themes import build_themes, themes_table
from xunshi.storage import queries as q
from xunshi.storage.db import Database
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.escalation import EscalationView, list_escalations
from xunshi.workflow.rectification import ItemFacts, TaskFacts
from xunshi.workflow.views import CaseView

DEMO_DB = "sqlite:///xunshi-demo.db"
ROUND = "2024-R2"
ROUND_TITLE = "2024年第二轮巡视"
ROUND_START = date(2024, 9, 2)
DEMO_END = date(2025, 2, 14)
# Units that fall behind: the stage they are slow in, and by how many working days.
LATE = {
    "U05": ("onsite", 4),
    "U12": ("reporting", 30),
    "U22": ("feedback", 25),
    "U29": ("onsite", 3),
    "U30": ("reporting", 40),
    "U33": ("rectification", 15),
    "U26": ("feedback", 4),
}
SENT_BACK = "U03"  # the leading group asks this group for more on-site work once
OFFICE_ACTOR = "巡视办值班员"
# Problems the groups find (title, category, key problem, common problem); several recur
# across units, which is what the thematic view brings out.
PROBLEMS = [
    ("贯彻落实上级决策部署打折扣", "政治建设/贯彻落实党中央决策部署不到位", True, True),
    ("意识形态阵地管理不严", "政治建设/落实意识形态工作责任制不到位", False, False),
    ("理论学习中心组学习流于形式", "思想建设/理论学习走过场", False, True),
    ("干部选拔任用程序不规范", "组织建设/选人用人不规范", True, False),
    ("基层支部组织生活不经常", "组织建设/基层党组织建设薄弱", False, True),
    ("文山会海问题突出", "作风建设/形式主义官僚主义", False, True),
    ("公务接待超标准", "作风建设/违反中央八项规定精神", True, False),
    ("“三重一大”事项未集体决策", "廉洁建设/“三重一大”决策制度执行不严", True, True),
    ("工程项目廉洁风险防控薄弱", "廉洁建设/重点领域廉洁风险防控不力", True, False),
    ("上轮巡视反馈问题整改不彻底", "巡视整改/上轮巡视整改不到位", True, True),
]
DEPARTMENTS = ["办公室", "组织人事处", "财务处", "机关党委", "业务处"]
ACCEPTANCE = (
    ("office_accepted", "office"),
    ("group_accepted", "group_leader"),
    ("unit_confirmed", "unit_liaison"),
)

Echo = Callable[[str], None]


@dataclass
class _Case:
    """What the simulation tracks for one case."""

    key: str
    unit: str
    leader: str
    definition: Definition
    needed: int = 0  # working days to spend in the current stage
    spent: int = 0
    sent_back: bool = False
    items: list[str] = field(default_factory=list)  # open problems (ROUND/UNIT/CODE)
    tasks: dict[str, date] = field(default_factory=dict)  # open task → day it gets done


def run_demo(settings: Settings, db_url: str | None, echo: Echo) -> None:
    """Run the sample round and print the report."""
    url = db_url or DEMO_DB
    if db_url is None:
        _remove_sqlite_file(url)
    clock = ManualClock(_at(ROUND_START, time(8, 0), settings))
    app = bootstrap(Settings(db_url=url, timezone=settings.timezone, actor=OFFICE_ACTOR), clock)
    try:
        _require_empty(app.db)
        app.init(OFFICE_ACTOR)
        categories = resources.files("xunshi") / "data" / "categories.yaml"
        app.rectification.load_categories(categories.read_text(encoding="utf-8"), "categories.yaml")
        echo(f"Demo database: {app.db.display_url}")
        app.inspection.create_round(ROUND, ROUND_TITLE, ROUND_START)
        plan = resources.files("xunshi") / "data" / "sample_plan.csv"
        clock.set(_at(ROUND_START, time(9, 0), settings))
        with resources.as_file(plan) as path:
            imported = app.inspection.import_plan(path, actor=OFFICE_ACTOR)
        echo(f"Imported the sample plan: {len(imported.cases)} cases in round {ROUND}")
        _simulate(app, clock, settings)
        _report(app, echo)
    finally:
        app.db.dispose()


def _remove_sqlite_file(url: str) -> None:
    path = Path(url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _require_empty(db: Database) -> None:
    if db.exists() and db.schema_version() is not None:
        with db.transaction() as conn:
            if conn.execute(select(q.rounds.c.id).limit(1)).first() is not None:
                raise BadInput(f"the demo needs an empty database; {db.display_url} has data")


def _at(day: date, moment: time, settings: Settings) -> datetime:
    return datetime.combine(day, moment, tzinfo=settings.tz)


def _simulate(app: App, clock: ManualClock, settings: Settings) -> None:
    rng = random.Random(2024)
    cases = _load_cases(app)
    day = ROUND_START
    for case in cases:
        _plan_stage(case, case.definition.initial, rng)
    cal = app.calendar()
    while day <= DEMO_END:
        # The scheduler's early sweep: reminders and overdue rungs of the night.
        clock.set(max(clock.now(), _at(day, time(7, 0), settings)))
        app.sweeper.sweep()
        app.deliverer.deliver()
        if cal.is_working_day(day):
            _work_day(app, clock, settings, cases, day, rng)
        day += timedelta(days=1)
    clock.set(_at(DEMO_END, time(18, 0), settings))
    app.sweeper.sweep()
    app.deliverer.deliver()


def _load_cases(app: App) -> list[_Case]:
    with app.db.transaction() as conn:
        views = app.views.many(conn, round_code=ROUND)
        return [
            _Case(
                v.key,
                v.unit,
                v.group_leader,
                app.registry.definition(conn, v.definition, v.definition_version),
            )
            for v in views
        ]


def _plan_stage(case: _Case, state: str, rng: random.Random) -> None:
    """How many working days the group will take in `state`."""
    due = case.definition.state(state).due
    if due is None:
        return
    limit = {"wd": due.amount, "d": due.amount * 5 // 7, "mo": due.amount * 21}[due.unit]
    case.needed = max(1, round(limit * rng.uniform(0.7, 1.0)))
    late = LATE.get(case.unit)
    if late is not None and late[0] == state:
        case.needed = limit + late[1]
    case.spent = 0


def _work_day(
    app: App,
    clock: ManualClock,
    settings: Settings,
    cases: list[_Case],
    day: date,
    rng: random.Random,
) -> None:
    clock.set(max(clock.now(), _at(day, time(9, 0), settings)))
    _rectify(app, cases, day, rng)
    ready = []
    for case in cases:
        view = _view(app, case)
        if view.final or view.entered_at.astimezone(settings.tz).date() == day:
            continue
        case.spent += 1
        if case.spent >= case.needed:
            ready.append((case, view))
    if not ready:
        return
    clock.set(_at(day, time(10, 0), settings))
    for case, view in ready:
        for milestone in view.milestones:
            if milestone.recorded_at is None and (milestone.required or rng.random() < 0.6):
                role = _milestone_role(case.definition, view.state, milestone.name)
                app.inspection.record_milestone(
                    case.key, milestone.name, actor=_actor(case, role), role=role
                )
    clock.set(_at(day, time(16, 0), settings))
    for case, view in ready:
        transition = _next(case, view)
        role = transition.roles[0] if transition.roles else "office"
        reason = "领导小组要求补充了解有关情况" if transition.trigger == "send_back" else None
        try:
            app.inspection.fire(
                case.key, transition.trigger, actor=_actor(case, role), role=role, reason=reason
            )
        except Refused:
            continue  # closing waits until every problem is 销号 or long-term
        if transition.trigger == "send_back":
            case.sent_back = True
        _plan_stage(case, transition.dest, rng)
        if transition.dest == "rectification":
            _add_problems(app, case, day, rng)


def _add_problems(app: App, case: _Case, day: date, rng: random.Random) -> None:
    """The office lists the case's problems (问题清单) and the unit its measures."""
    cal = app.calendar()
    liaison = _actor(case, "unit_liaison")
    for number in range(1, rng.randint(2, 4) + 1):
        title, category, key, common = rng.choice(PROBLEMS)
        code = f"P{number:02d}"
        app.rectification.add_item(
            case.key,
            ItemFacts(
                code=code,
                title=title,
                category=category,
                manifestations=f"{title}的具体表现（示例）",
                key_problem=key,
                common_problem=common,
                fix_now=rng.random() < 0.2,
                root_cause="制度执行不严、监督管理不到位",
            ),
            actor=OFFICE_ACTOR,
        )
        item = f"{case.key}/{code}"
        for task_number in range(1, rng.randint(1, 3) + 1):
            due = cal.add_working_days(day, rng.randint(15, 35))
            app.rectification.add_task(
                item,
                TaskFacts(
                    measure=f"{title}：整改措施{task_number}",
                    responsible_leader="分管负责同志",
                    lead_department=rng.choice(DEPARTMENTS),
                    responsible_person=f"{case.unit}责任人{task_number}",
                    due_on=due,
                ),
                actor=liaison,
                role="unit_liaison",
            )
            # Most measures are done on time; the late units' ones run over.
            late = case.unit in LATE
            finish = rng.randint(5, 40) if late else rng.randint(5, 30)
            case.tasks[f"{item}#{task_number}"] = cal.add_working_days(day, finish)
        app.rectification.fire(item, "plan", actor=liaison, role="unit_liaison")
        app.rectification.fire(item, "begin", actor=liaison, role="unit_liaison")
        case.items.append(item)


def _rectify(app: App, cases: list[_Case], day: date, rng: random.Random) -> None:
    """A working day of rectification: measures done, 销号 applied for and accepted."""
    for case in cases:
        liaison = _actor(case, "unit_liaison")
        for task, finish in list(case.tasks.items()):
            if finish <= day:
                app.rectification.complete_task(
                    task, evidence="整改报告及佐证材料", actor=liaison, role="unit_liaison"
                )
                del case.tasks[task]
        for item in list(case.items):
            if any(task.startswith(f"{item}#") for task in case.tasks):
                continue
            with app.db.transaction() as conn:
                state = app.rectification.resolve(conn, item).row["state"]  # type: ignore[index]
            if state == "rectifying" and rng.random() < 0.1:
                app.rectification.fire(item, "make_long_term", actor=OFFICE_ACTOR, role="office")
                case.items.remove(item)
            elif state == "rectifying":
                app.rectification.fire(item, "submit", actor=liaison, role="unit_liaison")
            elif state == "submitted":
                for milestone, role in ACCEPTANCE:
                    app.rectification.record_milestone(
                        item, milestone, actor=_actor(case, role), role=role
                    )
                app.rectification.fire(item, "accept", actor=OFFICE_ACTOR, role="office")
                case.items.remove(item)


def _view(app: App, case: _Case) -> CaseView:
    with app.db.transaction() as conn:
        return app.views.one(conn, app.inspection.resolve(conn, case.key))


def _next(case: _Case, view: CaseView) -> Transition:
    """The way forward from the current stage (or, once, back for more on-site work)."""
    defn = case.definition
    order = [s.name for s in defn.states]
    options = defn.transitions_from(view.state)
    if case.unit == SENT_BACK and not case.sent_back:
        for t in options:
            if t.trigger == "send_back":
                return t
    return max(options, key=lambda t: order.index(t.dest))


def _milestone_role(defn: Definition, state: str, name: str) -> str:
    milestone = defn.state(state).milestone(name)
    if milestone is not None and milestone.roles:
        return milestone.roles[0]
    stage_roles = [r for t in defn.transitions_from(state) for r in t.roles]
    return stage_roles[0] if stage_roles else "office"


def _actor(case: _Case, role: str) -> str:
    return {
        "group_leader": case.leader,
        "unit_liaison": f"{case.unit}联络员",
    }.get(role, OFFICE_ACTOR)


def _report(app: App, echo: Echo) -> None:
    with app.db.transaction() as conn:
        views = app.views.many(conn, round_code=ROUND)
    today = app.clock.now().astimezone(app.settings.tz).date()
    echo("")
    echo(f"{ROUND_TITLE} ({ROUND}) as of {today}")
    echo("")
    echo(_stage_summary(views))
    echo("")
    echo(
        table(
            ["案件", "单位", "类型", "阶段", "期限", "状态"],
            [
                [
                    v.key,
                    v.unit_name,
                    v.definition_title,
                    v.state_title,
                    "" if v.due_on is None else v.due_on.isoformat(),
                    _status(v),
                ]
                for v in views
            ],
        )
    )
    with app.db.transaction() as conn:
        raised = list_escalations(conn, app.engine, round_code=ROUND)
    echo("")
    echo(_escalation_summary(raised, views))
    overdue = [v for v in views if v.overdue]
    echo("")
    if overdue:
        echo(f"超期 overdue now: {len(overdue)}")
        echo(
            table(
                ["案件", "单位", "阶段", "期限", "超期", "未解除督办"],
                [
                    [
                        v.key,
                        v.unit_name,
                        v.state_title,
                        v.due_on,
                        f"{-(v.days_left or 0)} 天",
                        ", ".join(e.title for e in raised if e.case == v.key and e.open),
                    ]
                    for v in overdue
                ],
            )
        )
    else:
        echo("Nothing is overdue now.")
    themes = build_themes(app, ROUND)
    echo("")
    echo("专题汇总 thematic view (problems by category across units):")
    echo(themes_table(themes) if themes else "No problems listed yet.")
    report = app.auditor.verify()
    echo("")
    if report.ok:
        echo(f"audit verify: OK, {report.chains} chains, {report.events} events")
    else:
        for problem in report.problems:
            echo(f"audit verify: {problem}")
        raise BadInput(f"audit verify failed with {plural(len(report.problems), 'problem')}")


def _escalation_summary(raised: list[EscalationView], views: list[CaseView]) -> str:
    levels = sorted({(e.level, e.title) for e in raised})
    titles: dict[int, str] = {}
    for level, title in levels:
        titles.setdefault(level, title)
    header = [f"L{level} {title}" for level, title in titles.items()]
    names = {v.key: v.unit_name for v in views}
    per_unit: dict[str, dict[int, int]] = {}
    for e in raised:
        # A problem's (task's) escalations count under its case.
        counts = per_unit.setdefault("/".join(e.case.split("/")[:2]), {})
        counts[e.level] = counts.get(e.level, 0) + 1
    rows: list[list[object]] = [
        [key, names.get(key, ""), *[counts.get(level, "") for level in titles]]
        for key, counts in sorted(per_unit.items())
    ]
    rows.append(["合计", "", *[sum(1 for e in raised if e.level == level) for level in titles]])
    return f"督办 escalations raised: {len(raised)}\n" + table(["案件", "单位", *header], rows)


def _stage_summary(views: list[CaseView]) -> str:
    kinds = sorted({v.definition_title for v in views})
    stages: dict[str, dict[str, int]] = {}
    for v in views:
        counts = stages.setdefault(v.state_title, {})
        counts[v.definition_title] = counts.get(v.definition_title, 0) + 1
    order = list(dict.fromkeys(v.state_title for v in sorted(views, key=_stage_rank)))
    rows = [
        [stage, *[stages[stage].get(k, "") for k in kinds], sum(stages[stage].values())]
        for stage in order
    ]
    rows.append(
        ["合计", *[sum(1 for v in views if v.definition_title == k) for k in kinds], len(views)]
    )
    return table(["阶段", *kinds, "合计"], rows)


def _stage_rank(view: CaseView) -> int:
    order = [
        "preparation",
        "mobilization",
        "onsite",
        "communication",
        "reporting",
        "feedback",
        "rectification",
        "closed",
    ]
    return order.index(view.state) if view.state in order else len(order)


def _status(view: CaseView) -> str:
    if view.final:
        return "已完成"
    if view.overdue:
        return f"超期 {-(view.days_left or 0)} 天"
    return f"还有 {view.days_left} 天" if view.days_left is not None else ""
