"""The demo's simulation: scenario.py's story run through the services on a virtual clock.

Everything happens through the same services the CLI uses, in time order: the runner keeps
an agenda of dated actions (a heap), sets the clock to each action's moment and runs it;
each working day starts with the scheduler's sweep. What an action leads to (a stage's
milestones, the next trigger, a measure done) is scheduled as further actions, drawn from
one seeded `random.Random`, so a seed gives the same database and the same report. The
runner keeps what it needs (stages, open problems and measures) in memory instead of
reading it back.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from importlib import resources
from pathlib import Path

from xunshi.bootstrap import Services, services
from xunshi.config import Settings
from xunshi.definitions.schema import Definition, Transition
from xunshi.demo import scenario as s
from xunshi.errors import BadInput, Refused
from xunshi.services.commands import (
    CaseFilter,
    ClueFire,
    Handover,
    ItemFacts,
    OutcomeFacts,
    TaskFacts,
)
from xunshi.services.themes import ThemeSpec
from xunshi.workflow.calendar import Calendar
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.clues import DISPOSITIONS

DEMO_DB = "sqlite:///xunshi-demo.db"
DEFAULT_SEED = 2025

Echo = Callable[[str], None]
Action = Callable[[], object]

# What the office's own stages take, in working days (a range drawn from).
DAYS = {
    "drafting": (8, 14),
    "office_review": (3, 8),
    "feedback": (3, 7),
    "publication": (3, 7),
}
# Roles whose actor is named after the unit; any other role acts as the office's actor.
UNIT_ROLES = {"unit_liaison": "联络员", "party_secretary": "党委书记"}
OTHER_ACTORS = {
    "discipline_group": "派驻纪检监察组",
    "organization_dept": "集团组织部",
    "leading_group": "巡视工作领导小组",
}
ACCEPTANCE = (
    ("secretary_signed", "party_secretary"),
    ("office_accepted", "office"),
    ("discipline_accepted", "discipline_group"),
)


@dataclass
class _Task:
    key: str
    item: _Item
    due: date | None  # None: long-term
    measure: str = ""


@dataclass
class _Item:
    key: str
    case: _Case
    problem: s.Problem
    fix_now: bool = False
    state: str = "identified"
    open_tasks: set[str] = field(default_factory=set)
    long_term_tasks: set[str] = field(default_factory=set)
    long_term: bool = False


@dataclass
class _Case:
    """What the simulation tracks of one case."""

    key: str
    unit: s.Unit
    leader: str
    definition: Definition
    batch: s.Batch | None
    state: str = "preparation"
    entered: date = date.min
    feedback_on: date | None = None
    evaluations: int = 0
    next_code: int = 1
    tasks_added: int = 0
    items: list[_Item] = field(default_factory=list)
    clues: list[str] = field(default_factory=list)
    recorded: set[str] = field(default_factory=set)  # the stage's milestones recorded
    sent_back: bool = False
    plan_revised: bool = False

    def code(self) -> str:
        """The next problem code of the case (P01, P02, …)."""
        code = f"P{self.next_code:02d}"
        self.next_code += 1
        return code


def run_demo(
    settings: Settings, db_url: str | None, echo: Echo, seed: int = DEFAULT_SEED
) -> Services:
    """Run the demo's round; the services on its database (the caller reports and closes)."""
    url = db_url or DEMO_DB
    if db_url is None:
        _remove_sqlite_file(url)
    clock = ManualClock(_at(s.EARLIER_START, time(8, 0), settings))
    demo = Settings(db_url=url, timezone=settings.timezone, actor=s.OFFICE_ACTOR, durable=False)
    app = services(demo, clock)
    try:
        if app.schema.initialised() and app.read.catalog.has_rounds():
            raise BadInput(f"the demo needs an empty database; {app.schema.database} has data")
        Simulation(app, clock, settings, random.Random(seed), echo).run()
    except BaseException:
        app.close()
        raise
    return app


def _remove_sqlite_file(url: str) -> None:
    path = Path(url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _at(day: date, moment: time, settings: Settings) -> datetime:
    return datetime.combine(day, moment, tzinfo=settings.tz)


class Simulation:
    """The agenda of dated actions and the cases it moves."""

    def __init__(
        self,
        app: Services,
        clock: ManualClock,
        settings: Settings,
        rng: random.Random,
        echo: Echo,
    ) -> None:
        self.app = app
        self.clock = clock
        self.settings = settings
        self.rng = rng
        self.echo = echo
        self.agenda: list[tuple[datetime, int, Action]] = []
        self.seq = 0
        self.cases: dict[str, _Case] = {}
        self.earlier: dict[str, str] = {}  # unit → its earlier case's key
        self.cal: Calendar
        self.for_hearing: dict[str, list[_Case]] = {"leading_group": [], "party": []}

    # -- the agenda -----------------------------------------------------------------

    def at(self, day: date, hour: int, action: Action) -> None:
        """Run `action` on `day` at `hour` o'clock (moved to the next working day)."""
        while not self.cal.is_working_day(day):
            day += timedelta(days=1)
        self.seq += 1
        heapq.heappush(self.agenda, (_at(day, time(hour), self.settings), self.seq, action))

    def after(self, day: date, days: int, hour: int, action: Action) -> None:
        """Run `action` `days` working days after `day`."""
        self.at(self.cal.add_working_days(day, days), hour, action)

    def draw(self, bounds: tuple[int, int]) -> int:
        """A number of days (or problems) within `bounds`."""
        return self.rng.randint(*bounds)

    def run(self) -> None:
        """Set up, then play the agenda day by day to the demo's end."""
        app = self.app
        app.definitions.init(s.OFFICE_ACTOR)
        self.cal = app.read.catalog.calendar()
        text = (resources.files("xunshi") / "data" / "demo_categories.yaml").read_text("utf-8")
        app.items.load_categories(text, "demo_categories.yaml")
        tags = "tags:\n" + "".join(f"  - {tag}\n" for tag in s.TAGS)
        app.items.load_tags(tags, "demo_tags.yaml")
        self.echo(f"Demo database: {app.schema.database}")
        self.earlier_round()
        self.play(s.EARLIER_START, s.ROUND_START - timedelta(days=1), weekly=False)
        closed = sum(1 for c in self.cases.values() if c.state == "closed")
        self.echo(
            f"[ 0] {s.EARLIER_TITLE} ({s.EARLIER_ROUND}): {closed} 个单位整改完成（回头看的前一轮）"
        )
        self.cases.clear()
        self.main_round()
        self.play(s.ROUND_START, s.DEMO_END, weekly=True)
        for person in s.DESK_USERS:
            self.app.users.add(
                person.name, person.role, person.password, group=person.group, unit=person.unit
            )

    def play(self, start: date, end: date, *, weekly: bool) -> None:
        """Every day from `start` to `end`: the morning sweep, then the day's actions."""
        fridays = [
            start + timedelta(days=n)
            for n in range((end - start).days + 1)
            if (start + timedelta(days=n)).weekday() == 4
        ]
        day = start
        while day <= end:
            if self.cal.is_working_day(day):
                self.clock.set(max(self.clock.now(), _at(day, time(7, 0), self.settings)))
                self.app.escalations.sweep()
                self.app.escalations.deliver()
            close = _at(day, time(23, 0), self.settings)
            while self.agenda and self.agenda[0][0] <= close:
                moment, _, action = heapq.heappop(self.agenda)
                self.clock.set(max(self.clock.now(), moment))
                action()
            if weekly and day in fridays:
                self.progress(fridays.index(day) + 1, len(fridays), day)
            day += timedelta(days=1)
        self.clock.set(max(self.clock.now(), _at(end, time(18, 0), self.settings)))
        self.app.escalations.sweep()
        self.app.escalations.deliver()

    def progress(self, week: int, weeks: int, day: date) -> None:
        """`[ 3/57] 2025-03-21  巡前准备 18，现场巡视 18；问题 40，已销号 2`."""
        any_case = next(iter(self.cases.values()))
        order = [state.name for state in any_case.definition.states]
        stages = Counter(case.state for case in self.cases.values())
        shown = "，".join(
            f"{any_case.definition.state(name).title} {stages[name]}"
            for name in sorted(stages, key=order.index)
        )
        items = [item for case in self.cases.values() for item in case.items]
        accepted = sum(1 for item in items if item.state == "accepted")
        self.echo(
            f"[{week:2d}/{weeks}] {day.isoformat()}  {shown}；问题 {len(items)}，已销号 {accepted}"
        )

    # -- rounds ---------------------------------------------------------------------

    def earlier_round(self) -> None:
        """2023-R2: the two units the 回头看 follow, inspected and rectified to the end."""
        app = self.app
        app.cases.create_round(s.EARLIER_ROUND, s.EARLIER_TITLE, s.EARLIER_START)
        group, leader = s.EARLIER_GROUP
        app.cases.add_group(s.EARLIER_ROUND, group, leader)
        for unit in s.UNITS:
            if unit.lookback:
                app.cases.add_unit(unit.code, unit.name, unit.kind)
                self.clock.set(_at(s.EARLIER_START, time(9, 0), self.settings))
                started = app.cases.start_case(
                    round_code=s.EARLIER_ROUND,
                    unit_code=unit.code,
                    group_code=group,
                    definition="regular",
                    actor=s.OFFICE_ACTOR,
                )
                earlier = s.Unit(unit.code, unit.name, unit.kind, 0, group)
                case = self.track(str(started.key), earlier, leader, None)
                self.earlier[unit.code] = case.key
                self.enter(case, "preparation", s.EARLIER_START)

    def main_round(self) -> None:
        """2025-R1: the plan in two batches, 8 groups, 36 cases; the batches' round events."""
        app = self.app
        self.clock.set(_at(s.ROUND_START, time(9, 0), self.settings))
        app.cases.create_round(s.ROUND, s.ROUND_TITLE, s.ROUND_START)
        self.at(s.THEMES_ON, 10, self.add_themes)
        for theme, number, status, day in s.THEME_PROGRESS:
            self.at(day, 16, partial(self.theme_measure, theme, number, status))
        for batch in s.BATCHES:
            app.rounds.plan(
                s.ROUND, batch.code, move_in=batch.move_in, leave=batch.leave, actor=s.OFFICE_ACTOR
            )
        for code, leader in s.GROUPS.items():
            app.cases.add_group(s.ROUND, code, leader)
        for unit in s.UNITS:
            if not unit.lookback:
                app.cases.add_unit(unit.code, unit.name, unit.kind)
            batch = s.BATCHES[unit.batch]
            started = app.cases.start_case(
                round_code=s.ROUND,
                unit_code=unit.code,
                group_code=unit.group,
                definition=unit.definition,
                actor=s.OFFICE_ACTOR,
                batch=batch.code,
                follows=self.earlier.get(unit.code),
            )
            case = self.track(str(started.key), unit, s.GROUPS[unit.group], batch)
            self.enter(case, "preparation", s.ROUND_START)
        self.echo(
            f"{s.ROUND_TITLE} ({s.ROUND}): {len(s.UNITS)} 个单位，{len(s.GROUPS)} 个巡视组，"
            f"{len(s.BATCHES)} 批"
        )
        for batch in s.BATCHES:
            self.batch_events(batch)

    def track(self, key: str, unit: s.Unit, leader: str, batch: s.Batch | None) -> _Case:
        """Start following a case the services started."""
        view = self.app.read.cases.one(key)
        defn = self.app.read.catalog.definition(view.definition, view.definition_version)
        case = _Case(key, unit, leader, defn.definition, batch)
        self.cases[key] = case
        return case

    def batch_events(self, batch: s.Batch) -> None:
        """What a batch does once for all its cases: briefings and training before it moves
        in, the 动员部署会 (the move-in), the 中期会商, leaving on the planned date."""
        cases = CaseFilter(batch=batch.code)
        rounds = self.app.rounds
        office = s.OFFICE_ACTOR

        def record(milestone: str, role: str, actor: str) -> Action:
            def action() -> None:
                done = rounds.record(s.ROUND, milestone, cases=cases, actor=actor, role=role)
                for changed in done.changes:
                    self.cases[str(changed.key)].recorded.add(milestone)

            return action

        self.after(batch.move_in, -10, 10, record("briefings_received", "office", office))
        self.after(batch.move_in, -5, 10, record("training_done", "office", office))

        def move_in() -> None:
            done = rounds.fire(
                s.ROUND, "move_in", cases=cases, actor=office, role="group_leader",
                reason="召开巡视动员部署会",
            )  # fmt: skip
            for changed in done.changes:
                self.entered(self.cases[str(changed.key)], changed.instance.state)

        self.at(batch.move_in, 9, move_in)
        midterm = self.cal.add_working_days(batch.move_in, 20)
        self.at(midterm, 10, record("midterm_consultation", "office", office))

        def leave() -> None:
            on_time = tuple(
                case.unit.code
                for case in self.cases.values()
                if case.batch == batch and s.LATE.get(case.unit.code, ("", 0))[0] != "onsite"
            )
            done = rounds.fire(
                s.ROUND, "leave_site", cases=CaseFilter(batch=batch.code, units=on_time),
                actor=office, role="group_leader",
            )  # fmt: skip
            for changed in done.changes:
                self.entered(self.cases[str(changed.key)], changed.instance.state)

        self.at(batch.leave, 16, leave)

    # -- moving cases ---------------------------------------------------------------

    def entered(self, case: _Case, state: str) -> None:
        """The case has just entered `state` (today): plan its work there."""
        self.enter(case, state, self.clock.now().astimezone(self.settings.tz).date())

    def enter(self, case: _Case, state: str, day: date) -> None:
        """Plan the work of `case` in `state`, entered on `day`."""
        case.state, case.entered = state, day
        case.recorded.clear()
        if case.definition.state(state).final:
            return
        getattr(self, f"stage_{state}", self.stage_default)(case, day)

    def fire(self, case: _Case, trigger: str, role: str, reason: str | None = None) -> None:
        """Fire `trigger` on the case and plan its work in the stage it enters."""
        done = self.app.cases.fire(
            case.key, trigger, actor=self.actor(case, role), role=role, reason=reason
        )
        self.entered(case, done.instance.state)

    def milestones(self, case: _Case, *, skip: tuple[str, ...] = (), optional: float = 0.5) -> None:
        """Record the stage's required milestones (and some optional ones) not yet recorded."""
        stage = case.definition.state(case.state)
        for milestone in stage.milestones:
            if milestone.name in skip or milestone.name in case.recorded:
                continue
            if milestone.name in stage.requires or self.rng.random() < optional:
                role = self.milestone_role(case, milestone.name)
                count = self.rng.randint(30, 180) if milestone.count else None
                self.record(case, milestone.name, role, count)

    def record(self, case: _Case, milestone: str, role: str, count: int | None = None) -> None:
        """Record a milestone of the case's stage."""
        self.app.cases.record_milestone(
            case.key, milestone, actor=self.actor(case, role), role=role, count=count
        )
        case.recorded.add(milestone)

    def forward(self, case: _Case) -> Transition:
        """The way forward from the case's stage (to the latest stage it may go to)."""
        defn = case.definition
        order = [state.name for state in defn.states]
        options = [t for t in defn.transitions_from(case.state) if t.dest != case.state]
        return max(options, key=lambda t: order.index(t.dest))

    def finish_stage(self, case: _Case, *, skip: tuple[str, ...] = ()) -> Action:
        """An action: the stage's milestones in the morning, its trigger forward at 16:00."""

        def action() -> None:
            self.milestones(case, skip=skip)
            day = self.clock.now().astimezone(self.settings.tz).date()
            transition = self.forward(case)
            self.at(day, 16, lambda: self.go(case, transition))

        return action

    def go(self, case: _Case, transition: Transition) -> None:
        self.fire(case, transition.trigger, transition.roles[0] if transition.roles else "office")

    def days(self, case: _Case, state: str, bounds: tuple[int, int]) -> int:
        """Working days the case spends in `state` (more for a unit late in it)."""
        late_state, late_days = s.LATE.get(case.unit.code, ("", 0))
        return self.draw(bounds) + (late_days if late_state == state else 0)

    def stage_default(self, case: _Case, day: date) -> None:
        """A stage moved on after a while: milestones, then forward."""
        bounds = DAYS.get(case.state, (3, 8))
        self.after(day, self.days(case, case.state, bounds), 10, self.finish_stage(case))

    def stage_preparation(self, case: _Case, day: date) -> None:
        if case.batch is None:  # the earlier round: no plan, the group moves in itself
            self.after(day, self.draw((8, 12)), 10, self.finish_stage(case))
            return
        batch_done = ("briefings_received", "training_done")
        self.after(case.batch.move_in, -3, 11, lambda: self.milestones(case, skip=batch_done))

    def stage_onsite(self, case: _Case, day: date) -> None:
        if case.sent_back:  # 补充巡视: more talks and documents, then leave again
            self.after(day, self.draw((8, 12)), 10, self.finish_stage(case))
            return
        self.after(day, 1, 10, self.reviewed(case, "contacts_published", "group_leader"))
        for _ in range(self.draw((1, 3)) if case.batch is not None else 0):
            self.after(day, self.draw((8, 25)), 14, lambda: self.fix_now(case))
        if case.batch is not None:
            for n in range(self.draw(s.CLUES_PER_UNIT)):
                self.after(day, self.draw((5, 30)), 15, partial(self.clue, case, n + 1))
        if case.batch is None:
            self.after(day, self.draw((20, 28)), 10, self.finish_stage(case))
            return
        leave = case.batch.leave
        self.after(leave, -1, 10, lambda: self.milestones(case))
        late = s.LATE.get(case.unit.code, ("", 0))
        if late[0] == "onsite":
            self.after(leave, late[1], 16, lambda: self.fire(case, "leave_site", "group_leader"))

    def stage_leading_group_hearing(self, case: _Case, day: date) -> None:
        self.hearing(case, day, "leading_group", "leading_group_heard", weekday=3)

    def stage_party_hearing(self, case: _Case, day: date) -> None:
        self.hearing(case, day, "party", "party_group_heard", weekday=1)

    def hearing(self, case: _Case, day: date, body: str, milestone: str, weekday: int) -> None:
        """The leading group (Thursdays) and the party group (Tuesdays) hear every report
        ready by their next meeting in one session: one round event for those cases."""
        waiting = self.for_hearing[body]
        waiting.append(case)
        if len(waiting) > 1:
            return  # the meeting is planned already
        meeting = self.cal.add_working_days(day, 2)
        while meeting.weekday() != weekday or not self.cal.is_working_day(meeting):
            meeting += timedelta(days=1)

        def session() -> None:
            cases = list(waiting)
            waiting.clear()
            by_round: dict[str, list[_Case]] = {}
            for heard in cases:
                by_round.setdefault(heard.key.split("/")[0], []).append(heard)
            for round_code, heard_cases in by_round.items():
                units = tuple(heard.unit.code for heard in heard_cases)
                self.app.rounds.record(
                    round_code, milestone, cases=CaseFilter(units=units),
                    actor=OTHER_ACTORS["leading_group"] if body == "leading_group" else "集团党组",
                    role="office",
                )  # fmt: skip
            for heard in cases:
                heard.recorded.add(milestone)
                self.after(meeting, 1, 10, partial(self.after_hearing, heard))

        self.at(meeting, 15, session)

    def after_hearing(self, case: _Case) -> None:
        back = case.unit.code == s.SENT_BACK and not case.sent_back
        if back and case.state == "leading_group_hearing":
            case.sent_back = True
            self.fire(case, "send_back", "office", "领导小组要求补充了解工程项目有关情况")
            return
        self.go(case, self.forward(case))

    def stage_feedback(self, case: _Case, day: date) -> None:
        meeting = self.days(case, "feedback", DAYS["feedback"])

        def feedback() -> None:
            case.feedback_on = self.clock.now().astimezone(self.settings.tz).date()
            self.milestones(case)
            self.after(case.feedback_on, self.draw((2, 4)), 16, self.start_rectification(case))

        self.after(day, meeting, 10, feedback)

    def start_rectification(self, case: _Case) -> Action:
        return lambda: self.go(case, self.forward(case))

    def stage_rectification_plan(self, case: _Case, day: date) -> None:
        if not any(not item.fix_now for item in case.items):
            self.after(day, 1, 10, lambda: self.problem_list(case))
        days = self.days(case, "rectification_plan", (6, 10))
        self.after(day, days, 10, lambda: self.submit_plan(case))

    def submit_plan(self, case: _Case) -> None:
        liaison = "unit_liaison"
        self.app.cases.record_milestone(
            case.key, "plan_submitted", actor=self.actor(case, liaison), role=liaison
        )
        day = self.clock.now().astimezone(self.settings.tz).date()
        if case.unit.code == s.PLAN_REVISED and not case.plan_revised:
            case.plan_revised = True
            reason = "整改措施针对性不强，责任不具体，退回修改"
            self.after(day, 3, 16, lambda: self.fire(case, "revise_plan", "office", reason))
            return
        for n, (milestone, role) in enumerate(
            (
                ("plan_reviewed_office", "office"),
                ("plan_reviewed_discipline", "discipline_group"),
                ("plan_reviewed_organization", "organization_dept"),
            )
        ):
            self.after(day, 2 + n, 10, self.reviewed(case, milestone, role))
        self.after(day, 5, 16, lambda: self.fire(case, "approve_plan", "office"))

    def reviewed(self, case: _Case, milestone: str, role: str) -> Action:
        """An action: record `milestone` (in `role`)."""
        return lambda: self.record(case, milestone, role)

    def stage_rectification(self, case: _Case, day: date) -> None:
        lists = self.reviewed(case, "three_lists", "party_secretary")
        meeting = self.reviewed(case, "democratic_life_meeting", "party_secretary")
        self.after(day, self.draw((2, 4)), 10, lists)
        if case.evaluations:  # 二次整改: a second 民主生活会, then the report
            self.after(day, self.draw((5, 8)), 10, meeting)
            self.after(day, self.draw((10, 14)), 16, self.to_report(case))
            return
        held = self.cal.add_working_days(day, self.draw((10, 20)))
        self.at(held, 10, meeting)
        ready = self.cal.add_working_days(self.report_due(case), -self.draw((12, 18)))
        self.after(max(ready, held), 2, 16, self.to_report(case))

    def report_due(self, case: _Case) -> date:
        """Two months after the feedback meeting."""
        assert case.feedback_on is not None
        return _add_months(case.feedback_on, 2)

    def to_report(self, case: _Case) -> Action:
        return lambda: self.go(case, self.forward(case))

    def stage_rectification_report(self, case: _Case, day: date) -> None:
        if case.evaluations:  # 二次整改: the unit reports once it has rectified again
            submit = self.cal.add_working_days(day, self.draw((3, 6)))
        else:
            late_state, late_days = s.LATE.get(case.unit.code, ("", 0))
            lateness = late_days if late_state == "rectification_report" else -self.draw((1, 8))
            submit = self.cal.add_working_days(self.report_due(case), lateness)
            submit = max(submit, self.cal.add_working_days(day, 2))

        def reports() -> None:
            self.milestones(case)
            today = self.clock.now().astimezone(self.settings.tz).date()
            accept = lambda: self.fire(case, "accept_report", "office")  # noqa: E731
            self.after(today, self.draw((3, 6)), 16, accept)

        self.at(submit, 10, reports)

    def stage_ongoing(self, case: _Case, day: date) -> None:
        if case.evaluations:  # after a 二次整改: report, then the second evaluation
            self.after(day, 5, 10, lambda: self.periodic(case, again=False))
        elif case.unit.code in s.GRADES or case.batch is None:
            self.after(day, self.draw((25, 40)), 10, lambda: self.periodic(case, again=False))
        else:
            self.after(day, self.draw((60, 90)), 10, lambda: self.periodic(case, again=True))

    def periodic(self, case: _Case, *, again: bool) -> None:
        """The unit's 常态化整改 progress report; then evaluation once everything is settled."""
        if case.state != "ongoing":
            return
        self.app.cases.fire(
            case.key, "periodic_report", actor=self.actor(case, "party_secretary"),
            role="party_secretary",
        )  # fmt: skip
        if not again:
            today = self.clock.now().astimezone(self.settings.tz).date()
            self.after(today, 5, 16, lambda: self.try_evaluation(case))

    def try_evaluation(self, case: _Case) -> None:
        if case.state != "ongoing":
            return
        try:
            self.fire(case, "to_evaluation", "office")
        except Refused:  # problems not yet all 销号 or long-term: the office waits
            today = self.clock.now().astimezone(self.settings.tz).date()
            self.after(today, 10, 16, lambda: self.try_evaluation(case))

    def stage_evaluation(self, case: _Case, day: date) -> None:
        self.after(day, self.draw((5, 10)), 10, lambda: self.evaluate(case))

    def evaluate(self, case: _Case) -> None:
        """整改评估: the office scores and grades; a 差 sends the case back (二次整改)."""
        if case.batch is None:
            grade = "较好"
        elif case.evaluations:
            grade = s.SECOND_GRADE
        else:
            grade = s.GRADES[case.unit.code]
        score, dimensions = self.scores(grade)
        case.evaluations += 1
        done = self.app.cases.evaluate(
            case.key, score=score, grade=grade, dimensions=dimensions,
            actor=s.OFFICE_ACTOR, role="office",
        )  # fmt: skip
        if done.sent_back is not None:
            self.entered(case, done.sent_back.instance.state)
            return
        today = self.clock.now().astimezone(self.settings.tz).date()
        self.after(today, self.draw((1, 3)), 16, lambda: self.fire(case, "close", "office"))

    def scores(self, grade: str) -> tuple[int, dict[str, int]]:
        """A score in the grade's band, deducted from 100 over the weighted dimensions."""
        score = self.draw(s.GRADE_BANDS[grade])
        left = 100 - score
        scores = dict(s.DIMENSIONS)
        names = list(scores)
        while left:
            name = self.rng.choice(names)
            if scores[name] > 0:
                scores[name] -= 1
                left -= 1
        return score, scores

    # -- problems and measures --------------------------------------------------------

    def problem_list(self, case: _Case) -> None:
        """The office lists the case's problems (问题清单); the unit adds its measures."""
        if case.batch is None:
            problems = [s.bank_problem(p.problem) for p in s.EARLIER_PROBLEMS[case.unit.code]]
        else:
            problems = self.draw_problems(case)
        for n, problem in enumerate(problems):
            clue = case.clues[0] if n == 0 and case.clues else None
            self.add_item(case, problem, fix_now=False, clue=clue)

    def draw_problems(self, case: _Case) -> list[s.Problem]:
        """10–25 problems by unit type (a 回头看 first finds its earlier problems again)."""
        used = {item.problem.title for item in case.items}
        chosen: list[s.Problem] = []
        if case.unit.lookback:
            total = self.draw(s.LOOKBACK_PROBLEMS)
            for earlier in s.EARLIER_PROBLEMS[case.unit.code]:
                if self.rng.random() < 0.7 and earlier.problem not in used:
                    chosen.append(s.bank_problem(earlier.problem))
        else:
            total = self.draw(s.PROBLEMS_PER_UNIT[case.unit.kind])
        pool = [
            p
            for p in s.BANK
            if case.unit.kind in p.kinds and p.title not in used and p not in chosen
        ]
        while len(chosen) + len(case.items) < total and pool:
            pick = self.rng.choices(pool, weights=[p.weight for p in pool])[0]
            pool.remove(pick)
            chosen.append(pick)
        return chosen

    def fix_now(self, case: _Case) -> None:
        """立行立改: a problem the group has the unit fix at once, while still on site."""
        used = {item.problem.title for item in case.items}
        pool = [p for p in s.BANK if case.unit.kind in p.kinds and p.title not in used]
        self.add_item(case, self.rng.choices(pool, weights=[p.weight for p in pool])[0], True)

    def add_item(
        self, case: _Case, problem: s.Problem, fix_now: bool, clue: str | None = None
    ) -> None:
        """Add a problem (the office), its measures (the unit), and begin rectifying."""
        app = self.app
        facts = self.item_facts(case, problem, case.code(), fix_now, clue is not None)
        started = app.items.add_item(
            case.key, facts, actor=s.OFFICE_ACTOR, role="office",
            clue=None if clue is None else clue.partition(":")[2],
        )  # fmt: skip
        item = _Item(str(started.key), case, problem, fix_now)
        case.items.append(item)
        today = self.clock.now().astimezone(self.settings.tz).date()
        measures = self.rng.sample(problem.measures, self.draw((1, len(problem.measures))))
        for measure in measures:
            self.add_task(case, item, measure, self.task_due(case, today, fix_now))
        if not fix_now and self.rng.random() < 0.06:
            self.add_task(case, item, f"{problem.title}：建立长效机制，长期坚持", None)
        liaison = self.actor(case, "unit_liaison")
        app.items.fire(item.key, "plan", actor=liaison, role="unit_liaison")
        app.items.fire(item.key, "begin", actor=liaison, role="unit_liaison")
        item.state = "rectifying"

    def task_due(self, case: _Case, today: date, fix_now: bool) -> date:
        """A measure's due date: days for 立行立改, else one to six months after feedback."""
        if fix_now:
            return self.cal.add_working_days(today, 10)
        months = (1, 2, 3, 4) if case.unit.code in s.GRADES else (1, 2, 3, 4, 6)
        return _add_months(case.feedback_on or today, self.rng.choice(months))

    def add_task(self, case: _Case, item: _Item, measure: str, due: date | None) -> None:
        """The unit's measure with who answers for it; its completion planned."""
        liaison = "unit_liaison"
        added = self.app.items.add_task(
            item.key,
            TaskFacts(
                measure=measure,
                responsible_leader=f"{case.unit.name}分管领导",
                lead_department=s.DEPARTMENTS[item.problem.tag],
                responsible_person=f"{s.DEPARTMENTS[item.problem.tag]}负责人",
                due_on=due,
                long_term=due is None,
            ),
            actor=self.actor(case, liaison),
            role=liaison,
        )
        task = _Task(str(added.key), item, due, measure)
        item.open_tasks.add(task.key)
        if due is None:
            item.long_term_tasks.add(task.key)
            return
        case.tasks_added += 1
        today = self.clock.now().astimezone(self.settings.tz).date()
        extension = next(
            (e for e in s.EXTENSIONS if e.unit == case.unit.code and e.nth == case.tasks_added),
            None,
        )
        if extension is not None and self.cal.add_working_days(due, -8) > today:
            self.extension(task, extension)
            return
        slow = case.unit.code in s.SLOW_TASKS and self.rng.random() < 0.35
        if slow:
            finish = self.cal.add_working_days(due, self.draw((3, 60)))
        else:
            finish = max(
                self.cal.add_working_days(due, -self.draw((0, 20))),
                self.cal.add_working_days(today, 3),
            )
        self.at(finish, 11, lambda: self.task_done(task))

    def task_done(self, task: _Task) -> None:
        """A measure done; the problem applies for 销号 once all are, or goes long-term
        when only its long-term measure is left."""
        item = task.item
        self.complete_task(task)
        item.open_tasks.discard(task.key)
        today = self.clock.now().astimezone(self.settings.tz).date()
        if not item.open_tasks:
            self.after(today, 1, 10, lambda: self.submit(item))
        elif not item.long_term and item.open_tasks <= item.long_term_tasks:
            item.long_term = True
            self.after(today, 2, 15, lambda: self.make_long_term(item))

    def submit(self, item: _Item) -> None:
        """The unit applies for 销号; the secretary signs, the office and the discipline
        group review, the office accepts."""
        case = item.case
        self.app.items.fire(
            item.key, "submit", actor=self.actor(case, "unit_liaison"), role="unit_liaison"
        )
        item.state = "submitted"
        today = self.clock.now().astimezone(self.settings.tz).date()
        self.after(today, self.draw((3, 8)), 10, lambda: self.accept(item))

    def accept(self, item: _Item) -> None:
        case = item.case
        for milestone, role in ACCEPTANCE:
            self.app.items.record_milestone(
                item.key, milestone, actor=self.actor(case, role), role=role
            )
        self.app.items.fire(item.key, "accept", actor=s.OFFICE_ACTOR, role="office")
        item.state = "accepted"

    def make_long_term(self, item: _Item) -> None:
        """The office turns a problem whose remaining measure is long-term into 长期整改,
        then reviews it every three months (定期复查)."""
        self.app.items.fire(item.key, "make_long_term", actor=s.OFFICE_ACTOR, role="office")
        item.state = "long_term"
        today = self.clock.now().astimezone(self.settings.tz).date()
        self.after(today, self.draw((55, 60)), 10, lambda: self.review(item))

    def review(self, item: _Item) -> None:
        self.app.items.fire(
            item.key, "review", actor=s.OFFICE_ACTOR, role="office", reason="定期复查：持续推进"
        )
        today = self.clock.now().astimezone(self.settings.tz).date()
        self.after(today, self.draw((55, 60)), 10, lambda: self.review(item))

    # -- clues ------------------------------------------------------------------------

    def clue(self, case: _Case, number: int) -> None:
        """A lead the group finds on site: registered, handed over, disposed, concluded."""
        app = self.app
        code = f"C{number:02d}"
        started = app.clues.add_clue(
            case.key, code=code, summary=self.rng.choice(s.CLUE_SUMMARIES),
            actor=case.leader, role="group_leader",
        )  # fmt: skip
        key = str(started.key)
        case.clues.append(key)
        today = self.clock.now().astimezone(self.settings.tz).date()
        if case.unit.code == s.WITHDRAWN_CLUE[0] and number == s.WITHDRAWN_CLUE[1]:
            reason = "经核实与已移交线索重复"
            self.after(today, 2, 15, lambda: self.clue_fire(key, "withdraw", "office", reason))
            return
        draw = self.rng.random()
        receiver = (
            Handover("discipline_group")
            if draw < 0.7
            else Handover("organization_dept")
            if draw < 0.9
            else Handover("other", s.OTHER_RECEIVER)
        )
        role = "office" if receiver.receiver == "other" else receiver.receiver

        def hand_over() -> None:
            self.clue_fire(key, "hand_over", "office", records=ClueFire(handover=receiver))
            if (case.unit.code, number) in s.UNANSWERED_CLUES:
                return  # the receiver never reports: the deadline escalates
            day = self.clock.now().astimezone(self.settings.tz).date()
            self.after(day, self.draw((20, 55)), 11, dispose)

        def dispose() -> None:
            disposition = self.rng.choice(DISPOSITIONS)
            self.clue_fire(key, "dispose", role, records=ClueFire(disposition=disposition))
            if disposition == "暂存待查" or self.rng.random() < 0.3:
                return
            day = self.clock.now().astimezone(self.settings.tz).date()
            self.after(day, self.draw((15, 40)), 11, lambda: conclude(disposition))

        def conclude(disposition: str) -> None:
            outcome = s.CLUE_OUTCOMES[disposition]
            self.clue_fire(key, "conclude", role, records=ClueFire(outcome=outcome))

        self.after(today, self.draw((3, 10)), 11, hand_over)

    def clue_fire(
        self, key: str, trigger: str, role: str, reason: str | None = None,
        records: ClueFire | None = None,
    ) -> None:  # fmt: skip
        actor = OTHER_ACTORS.get(role, s.OFFICE_ACTOR)
        self.app.clues.fire(key, trigger, actor=actor, role=role, reason=reason, records=records)

    # -- Domains, extensions, outcomes and themes ---------------------------------------

    def item_facts(
        self, case: _Case, problem: s.Problem, code: str, fix_now: bool, from_clue: bool
    ) -> ItemFacts:
        """A problem's facts: its category and business-domain tag, and for a 回头看 the
        earlier item it recurs from (屡改屡犯)."""
        earlier = self.recurs_from(case, problem)
        manifestations = (
            f"上轮巡视（{earlier}）指出的问题整改不彻底，问题反弹"
            if earlier
            else f"{case.unit.name}{problem.title}"
        )
        return ItemFacts(
            code=code,
            title=problem.title,
            category=problem.category,
            manifestations=manifestations,
            key_problem=problem.key,
            fix_now=fix_now,
            root_cause="制度执行不严、监督管理不到位",
            source="lead" if from_clue else "inspection",
            tags=(problem.tag,),
            recurs_from=earlier,
        )

    def recurs_from(self, case: _Case, problem: s.Problem) -> str | None:
        """The earlier item a 回头看's problem recurs from (屡改屡犯), if it is one."""
        if not case.unit.lookback or case.batch is None:
            return None
        earlier_case = self.earlier[case.unit.code]
        for earlier in s.EARLIER_PROBLEMS[case.unit.code]:
            if earlier.problem == problem.title:
                return f"{earlier_case}/{earlier.code}"
        return None

    def complete_task(self, task: _Task) -> None:
        """A measure done with its evidence and what it achieved (整改成果) by its domain
        (`s.OUTCOMES`): the domain's rule when the measure makes or revises one, people held
        accountable and funds recovered as drawn."""
        case = task.item.case
        outcome = s.OUTCOMES[task.item.problem.tag]
        probability, most = outcome.accountable
        accountable = self.draw((1, most)) if self.rng.random() < probability else 0
        funds = self.draw((0, outcome.funds)) if outcome.funds else 0
        makes_rule = any(word in task.measure for word in s.RULE_WORDS)
        self.app.items.complete_task(
            task.key,
            evidence=f"整改佐证材料：{outcome.rule}等" if makes_rule else "整改佐证材料",
            actor=self.actor(case, "unit_liaison"),
            role="unit_liaison",
            outcome=OutcomeFacts(
                rules=(outcome.rule,) if makes_rule else (),
                accountable=accountable or None,
                funds=str(funds) if funds else None,
            ),
        )

    def add_themes(self) -> None:
        """The office writes its four 专题报告 once the problems are listed: each takes in
        the round's problems of its business domain, across units."""
        for theme in s.THEMES:
            self.app.themes.add(
                s.ROUND,
                ThemeSpec(
                    code=theme.code,
                    title=theme.title,
                    department=theme.department,
                    tags=(theme.tag,),
                    measures=theme.measures,
                ),
                actor=s.OFFICE_ACTOR,
                role="office",
            )

    def theme_measure(self, code: str, number: int, status: str) -> None:
        """A department reports on one of its theme's mechanism measures."""
        self.app.themes.measure(s.ROUND, code, number, status, actor=s.OFFICE_ACTOR, role="office")

    def extension(self, task: _Task, extension: s.Extension) -> None:
        """A unit asks to extend a measure (`task extend`); the office approves it (the
        measure is then done before the new date) or rejects it (done late)."""
        assert task.due is not None
        case = task.item.case
        asked = self.cal.add_working_days(task.due, -6)
        new_due = self.cal.add_working_days(task.due, extension.days)

        def request() -> None:
            self.app.extensions.request(
                task.key,
                new_due,
                reason=extension.reason,
                actor=self.actor(case, "unit_liaison"),
                role="unit_liaison",
            )

        def answer() -> None:
            self.app.extensions.decide(
                task.key,
                approve=extension.approve,
                reason=extension.answer,
                actor=s.OFFICE_ACTOR,
                role="office",
            )

        self.at(asked, 10, request)
        self.after(asked, 2, 15, answer)
        if extension.approve:
            finish = self.cal.add_working_days(new_due, -self.draw((1, 5)))
        else:
            finish = self.cal.add_working_days(task.due, self.draw((5, 15)))
        self.at(finish, 11, lambda: self.task_done(task))

    # -- who acts -------------------------------------------------------------------

    def milestone_role(self, case: _Case, name: str) -> str:
        milestone = case.definition.state(case.state).milestone(name)
        if milestone is not None and milestone.roles:
            return milestone.roles[0]
        roles = [r for t in case.definition.transitions_from(case.state) for r in t.roles]
        return roles[0] if roles else "office"

    def actor(self, case: _Case, role: str) -> str:
        if role == "group_leader":
            return case.leader
        if role in UNIT_ROLES:
            return f"{case.unit.name}{UNIT_ROLES[role]}"
        return OTHER_ACTORS.get(role, s.OFFICE_ACTOR)


def _add_months(day: date, months: int) -> date:
    """The same day `months` later (the 28th at most, so that every month has it)."""
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, min(day.day, 28))
