"""`xunshi demo`: a sample round run on a virtual clock (the CLI then prints its report).

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

from xunshi.bootstrap import Services, services
from xunshi.config import Settings
from xunshi.definitions.durations import MilestoneDue, PlanDue
from xunshi.definitions.schema import Definition, Transition
from xunshi.errors import BadInput, Refused
from xunshi.read.cases import CaseView
from xunshi.services.commands import ItemFacts, TaskFacts
from xunshi.workflow.clock import ManualClock

DEMO_DB = "sqlite:///xunshi-demo.db"
ROUND = "2024-R2"  # the round the demo runs
ROUND_TITLE = "2024年第二轮巡视"
ROUND_START = date(2024, 9, 2)
DEMO_END = date(2025, 2, 14)
# Units that fall behind: the stage they are slow in, and by how many working days.
LATE = {
    "U05": ("onsite", 4),
    "U12": ("office_review", 30),
    "U22": ("feedback", 45),
    "U29": ("onsite", 3),
    "U30": ("party_hearing", 40),
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
    ("secretary_signed", "party_secretary"),
    ("office_accepted", "office"),
    ("discipline_accepted", "discipline_group"),
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


def run_demo(settings: Settings, db_url: str | None, echo: Echo) -> Services:
    """Run the sample round; the services on its database (the caller reports and closes)."""
    url = db_url or DEMO_DB
    if db_url is None:
        _remove_sqlite_file(url)
    clock = ManualClock(_at(ROUND_START, time(8, 0), settings))
    app = services(Settings(db_url=url, timezone=settings.timezone, actor=OFFICE_ACTOR), clock)
    try:
        _require_empty(app)
        app.definitions.init(OFFICE_ACTOR)
        categories = resources.files("xunshi") / "data" / "categories.yaml"
        app.items.load_categories(categories.read_text(encoding="utf-8"), "categories.yaml")
        echo(f"Demo database: {app.schema.database}")
        app.cases.create_round(ROUND, ROUND_TITLE, ROUND_START)
        plan = resources.files("xunshi") / "data" / "sample_plan.csv"
        clock.set(_at(ROUND_START, time(9, 0), settings))
        with resources.as_file(plan) as path:
            imported = app.cases.import_plan(path, actor=OFFICE_ACTOR)
        echo(f"Imported the sample plan: {len(imported.cases)} cases in round {ROUND}")
        _simulate(app, clock, settings)
    except BaseException:
        app.close()
        raise
    return app


def _remove_sqlite_file(url: str) -> None:
    path = Path(url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _require_empty(app: Services) -> None:
    if app.schema.initialised() and app.read.catalog.has_rounds():
        raise BadInput(f"the demo needs an empty database; {app.schema.database} has data")


def _at(day: date, moment: time, settings: Settings) -> datetime:
    return datetime.combine(day, moment, tzinfo=settings.tz)


def _simulate(app: Services, clock: ManualClock, settings: Settings) -> None:
    rng = random.Random(2024)
    cases = _load_cases(app)
    day = ROUND_START
    for case in cases:
        _plan_stage(case, case.definition.initial, rng)
    cal = app.read.catalog.calendar()
    while day <= DEMO_END:
        # The scheduler's early sweep: reminders and overdue rungs of the night.
        clock.set(max(clock.now(), _at(day, time(7, 0), settings)))
        app.escalations.sweep()
        app.escalations.deliver()
        if cal.is_working_day(day):
            _work_day(app, clock, settings, cases, day, rng)
        day += timedelta(days=1)
    clock.set(_at(DEMO_END, time(18, 0), settings))
    app.escalations.sweep()
    app.escalations.deliver()


def _load_cases(app: Services) -> list[_Case]:
    catalog = app.read.catalog
    return [
        _Case(
            str(v.key),
            v.unit,
            v.group_leader,
            catalog.definition(v.definition, v.definition_version).definition,
        )
        for v in app.read.cases.many(round_code=ROUND)
    ]


def _plan_stage(case: _Case, state: str, rng: random.Random) -> None:
    """How many working days the group will take in `state`."""
    due = case.definition.state(state).due
    if isinstance(due, PlanDue):
        # The demo's sample plan has no batches: such a stage runs on its fallback limit.
        due = due.fallback
    elif isinstance(due, MilestoneDue):
        due = due.after
    if due is None:
        return
    limit = {"wd": due.amount, "d": due.amount * 5 // 7, "mo": due.amount * 21}[due.unit]
    case.needed = max(1, round(limit * rng.uniform(0.7, 1.0)))
    late = LATE.get(case.unit)
    if late is not None and late[0] == state:
        case.needed = limit + late[1]
    case.spent = 0


def _work_day(
    app: Services,
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
                declared = case.definition.state(view.state).milestone(milestone.name)
                count = rng.randint(20, 120) if declared is not None and declared.count else None
                app.cases.record_milestone(
                    case.key, milestone.name, actor=_actor(case, role), role=role, count=count
                )
    clock.set(_at(day, time(16, 0), settings))
    for case, view in ready:
        transition = _next(case, view)
        role = transition.roles[0] if transition.roles else "office"
        reason = "领导小组要求补充了解有关情况" if transition.trigger == "send_back" else None
        try:
            app.cases.fire(
                case.key, transition.trigger, actor=_actor(case, role), role=role, reason=reason
            )
        except Refused:
            continue  # closing waits until every problem is 销号 or long-term
        if transition.trigger == "send_back":
            case.sent_back = True
        _plan_stage(case, transition.dest, rng)
        if transition.dest == "rectification":
            _add_problems(app, case, day, rng)


def _add_problems(app: Services, case: _Case, day: date, rng: random.Random) -> None:
    """The office lists the case's problems (问题清单) and the unit its measures."""
    cal = app.read.catalog.calendar()
    liaison = _actor(case, "unit_liaison")
    for number in range(1, rng.randint(2, 4) + 1):
        title, category, key, _common = rng.choice(PROBLEMS)
        code = f"P{number:02d}"
        app.items.add_item(
            case.key,
            ItemFacts(
                code=code,
                title=title,
                category=category,
                manifestations=f"{title}的具体表现（示例）",
                key_problem=key,
                fix_now=rng.random() < 0.2,
                root_cause="制度执行不严、监督管理不到位",
            ),
            actor=OFFICE_ACTOR,
        )
        item = f"{case.key}/{code}"
        for task_number in range(1, rng.randint(1, 3) + 1):
            due = cal.add_working_days(day, rng.randint(15, 35))
            app.items.add_task(
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
        app.items.fire(item, "plan", actor=liaison, role="unit_liaison")
        app.items.fire(item, "begin", actor=liaison, role="unit_liaison")
        case.items.append(item)


def _rectify(app: Services, cases: list[_Case], day: date, rng: random.Random) -> None:
    """A working day of rectification: measures done, 销号 applied for and accepted."""
    for case in cases:
        liaison = _actor(case, "unit_liaison")
        for task, finish in list(case.tasks.items()):
            if finish <= day:
                app.items.complete_task(
                    task, evidence="整改报告及佐证材料", actor=liaison, role="unit_liaison"
                )
                del case.tasks[task]
        for item in list(case.items):
            if any(task.startswith(f"{item}#") for task in case.tasks):
                continue
            state = app.read.items.one(item).state
            if state == "rectifying" and rng.random() < 0.1:
                app.items.fire(item, "make_long_term", actor=OFFICE_ACTOR, role="office")
                case.items.remove(item)
            elif state == "rectifying":
                app.items.fire(item, "submit", actor=liaison, role="unit_liaison")
            elif state == "submitted":
                for milestone, role in ACCEPTANCE:
                    app.items.record_milestone(item, milestone, actor=_actor(case, role), role=role)
                app.items.fire(item, "accept", actor=OFFICE_ACTOR, role="office")
                case.items.remove(item)


def _view(app: Services, case: _Case) -> CaseView:
    return app.read.cases.one(case.key)


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
        "party_secretary": f"{case.unit}党组织书记",
        "discipline_group": "纪检监察组",
    }.get(role, OFFICE_ACTOR)
