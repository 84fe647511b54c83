"""The engine's contract, through the services, on every backend (DESIGN §4, §6)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Connection
from worlds import FORWARD, KEY, ROUND, World, shanghai

from xunshi.bootstrap import App
from xunshi.definitions.loader import builtin_sources
from xunshi.errors import BadInput, NotFound, Refused, XunshiError
from xunshi.read.cases import CaseView
from xunshi.storage import queries as q
from xunshi.workflow.calendar import calendar_for
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.guards import GuardContext, register_guard, unregister_guard
from xunshi.workflow.registry import Registration, parse
from xunshi.workflow.resolve import InstanceRef

REGULAR_SOURCE = dict(builtin_sources())["regular.yaml"]
CN = calendar_for("cn")
T0 = datetime(2024, 9, 2, 1, 0, tzinfo=UTC)  # the `clock` fixture's start


def assert_refused(
    world: World, call: Callable[[], object], error: type[XunshiError], message: str
) -> None:
    """`call` raises exactly `error(message)` and leaves every row and event as it was."""
    before = world.snapshot()
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error
    assert caught.value.message == message
    assert world.snapshot() == before


def fire(app: App, trigger: str, role: str, at: datetime | None = None) -> Callable[[], object]:
    """A deferred `case fire KEY TRIGGER`."""
    return lambda: app.services.cases.fire(KEY, trigger, actor="某人", role=role, at=at)


def milestone(app: App, name: str, role: str, at: datetime | None = None) -> Callable[[], object]:
    """A deferred `case milestone KEY NAME`."""
    return lambda: app.services.cases.record_milestone(KEY, name, actor="某人", role=role, at=at)


# -- the forward path ---------------------------------------------------------------------


def test_a_case_runs_the_forward_path_to_closed(app: App, world: World) -> None:
    ref = world.case()
    assert ref.key.label == "case 2024-R1/U01"

    world.drive_to(KEY, "closed", pace=timedelta(hours=3))

    history = list(app.services.read.history.of(KEY).events)
    transitions = [(e.trigger, e.from_state, e.to_state) for e in history if e.kind == "transition"]
    assert transitions == [
        ("move_in", "preparation", "onsite"),
        ("leave_site", "onsite", "drafting"),
        ("report", "drafting", "office_review"),
        ("approve_report", "office_review", "leading_group_hearing"),
        ("to_party_group", "leading_group_hearing", "party_hearing"),
        ("give_feedback", "party_hearing", "feedback"),
        ("start_rectification", "feedback", "rectification_plan"),
        ("approve_plan", "rectification_plan", "rectification"),
        ("to_report", "rectification", "rectification_report"),
        ("accept_report", "rectification_report", "publication"),
        ("to_ongoing", "publication", "ongoing"),
        ("to_evaluation", "ongoing", "evaluation"),
        ("close", "evaluation", "closed"),
    ]
    # 1 started + 20 required milestones (2 + 4 + 0 + 1 + 1 + 1 + 2 + 4 + 2 + 2 + 1 + 0 + 0),
    # 1 evaluation (整改评估) and 13 transitions.
    assert [e.seq for e in history] == list(range(1, 36))
    assert [e.kind for e in history].count("milestone") == 20
    assert [e.kind for e in history].count("evaluated") == 1
    assert history[0].kind == "started"
    assert history[0].data == {
        "definition": "regular",
        "definition_version": 1,
        "unit_name": "单位U01",
        "group_leader": "张组长",
    }
    assert history[0].role == "office"
    assert history[0].actor == "巡视办"
    assert all(e.prev_hash == p.hash for p, e in itertools.pairwise(history))
    view = app.services.read.cases.one(ref.key)
    assert (view.state, view.state_title, view.final) == ("closed", "完成", True)
    assert (view.version, view.due_on, view.triggers, view.milestones) == (35, None, (), ())
    assert view.entered_at == T0 + timedelta(hours=34 * 3)
    report = app.services.audit.verify()
    assert (report.ok, report.chains, report.events) == (True, 1, 35)


def test_each_command_appends_one_event_and_moves_the_row(app: App, world: World) -> None:
    world.case()
    outcome = app.services.cases.record_milestone(
        KEY, "training_done", actor="李四", role="office", reason="培训已完成"
    )
    event = outcome.event
    assert (event.seq, event.kind, event.trigger, event.from_state, event.to_state) == (
        2,
        "milestone",
        None,
        None,
        None,
    )
    assert (event.actor, event.role, event.reason, dict(event.data)) == (
        "李四",
        "office",
        "培训已完成",
        {"milestone": "training_done"},
    )
    row = world.row(InstanceRef(outcome.instance.id, "x"))
    assert row["version"] == 2
    assert row["state"] == "preparation"
    assert row["milestones"] == '{"training_done":"2024-09-02T01:00:00.000000Z"}'
    assert row["head_hash"] == event.hash


# -- refusals: exact message, nothing written -----------------------------------------------


REGULAR_ROLES = (
    "office, leading_group, group_leader, party_secretary, unit_liaison, discipline_group, "
    "organization_dept, functional_dept"
)
REGULAR_TRIGGERS = (
    "move_in, leave_site, report, revise_report, approve_report, send_back, to_party_group, "
    "give_feedback, start_rectification, revise_plan, approve_plan, to_report, accept_report, "
    "to_ongoing, periodic_report, to_evaluation, rerectify, close"
)


def test_unknown_trigger_is_refused(app: App, world: World) -> None:
    world.case()
    assert_refused(
        world,
        fire(app, "skip_ahead", "office"),
        Refused,
        f"case 2024-R1/U01 cannot skip_ahead: regular has no such trigger ({REGULAR_TRIGGERS})",
    )


def test_trigger_not_valid_from_the_state_lists_what_is_possible(app: App, world: World) -> None:
    world.case()
    assert_refused(
        world,
        fire(app, "close", "office"),
        Refused,
        "case 2024-R1/U01 cannot close from 巡前准备 (preparation); possible now: move_in",
    )
    world.drive_to(KEY, "leading_group_hearing")
    assert_refused(
        world,
        fire(app, "leave_site", "group_leader"),
        Refused,
        "case 2024-R1/U01 cannot leave_site from 领导小组听取汇报 (leading_group_hearing); "
        "possible now: send_back, to_party_group",
    )


def test_role_not_defined_by_the_definition_is_refused(app: App, world: World) -> None:
    world.case()
    world.milestones_of(KEY, "preparation")
    message = f"role secretary is not defined by regular (roles: {REGULAR_ROLES})"
    assert_refused(world, fire(app, "move_in", "secretary"), Refused, message)
    assert_refused(world, milestone(app, "training_done", "secretary"), Refused, message)


def test_role_not_allowed_for_the_transition_is_refused(app: App, world: World) -> None:
    world.case()
    world.milestones_of(KEY, "preparation")
    assert_refused(
        world,
        fire(app, "move_in", "office"),
        Refused,
        "case 2024-R1/U01 cannot move_in: role office (巡视办) may not; "
        "allowed: group_leader (巡视组组长)",
    )


def test_one_missing_milestone_is_named(app: App, world: World) -> None:
    world.case()
    world.drive_to(KEY, "onsite")
    for name, count in (
        ("contacts_published", None),
        ("individual_talks", 12),
        ("leader_talk", None),
    ):
        app.services.cases.record_milestone(
            KEY, name, actor="张组长", role="group_leader", count=count
        )
    assert_refused(
        world,
        fire(app, "leave_site", "group_leader"),
        Refused,
        "case 2024-R1/U01 cannot leave_site: "
        "milestone midterm_consultation (中期会商) not recorded",
    )


def test_several_missing_milestones_are_named_in_declaration_order(app: App, world: World) -> None:
    world.case()
    assert_refused(
        world,
        fire(app, "move_in", "group_leader"),
        Refused,
        "case 2024-R1/U01 cannot move_in: milestones briefings_received (听取有关部门情况通报), "
        "training_done (巡前培训) not recorded",
    )
    # The rectification plan is approved only once all three reviewers have recorded theirs.
    world.drive_to(KEY, "rectification_plan")
    app.services.cases.record_milestone(KEY, "plan_reviewed_office", actor="巡视办", role="office")
    assert_refused(
        world,
        fire(app, "approve_plan", "office"),
        Refused,
        "case 2024-R1/U01 cannot approve_plan: milestones plan_submitted (报送整改方案), "
        "plan_reviewed_discipline (纪检监察组审核整改方案), plan_reviewed_organization "
        "(组织部审核整改方案) not recorded",
    )


def test_milestone_of_another_stage_is_refused(app: App, world: World) -> None:
    world.case()
    assert_refused(
        world,
        milestone(app, "midterm_consultation", "group_leader"),
        Refused,
        "case 2024-R1/U01 cannot record midterm_consultation: stage 巡前准备 (preparation) has no "
        "such milestone (its milestones: briefings_received, training_done)",
    )


def test_milestone_already_recorded_is_refused(app: App, world: World, clock: ManualClock) -> None:
    world.case()
    clock.set(shanghai(2024, 9, 3, 14, 30))
    app.services.cases.record_milestone(KEY, "training_done", actor="李四", role="office")
    clock.advance(timedelta(days=1))
    assert_refused(
        world,
        milestone(app, "training_done", "office"),
        Refused,
        "case 2024-R1/U01: milestone training_done (巡前培训) was already recorded at "
        "2024-09-03 14:30",
    )


def test_milestone_role_not_allowed_is_refused(app: App, world: World) -> None:
    world.case()
    world.drive_to(KEY, "onsite")
    assert_refused(
        world,
        milestone(app, "midterm_consultation", "unit_liaison"),
        Refused,
        "case 2024-R1/U01 cannot record midterm_consultation (中期会商): role unit_liaison "
        "(被巡视单位联络员) may not; allowed: group_leader (巡视组组长), office (巡视办)",
    )


def test_nothing_more_happens_to_a_closed_case(app: App, world: World) -> None:
    world.case()
    world.drive_to(KEY, "closed")
    message = "case 2024-R1/U01 is 完成 (closed); nothing more can happen"
    assert_refused(world, fire(app, "close", "office"), Refused, message)
    assert_refused(world, fire(app, "move_in", "group_leader"), Refused, message)
    assert_refused(world, milestone(app, "three_lists", "office"), Refused, message)


def test_at_later_than_the_clock_is_refused(app: App, world: World) -> None:
    world.case()
    world.milestones_of(KEY, "preparation")
    later = shanghai(2024, 9, 2, 9, 1)
    message = (
        "time 2024-09-02 09:01 is later than now (2024-09-02 09:00); "
        "events cannot be recorded ahead of time"
    )
    assert_refused(world, fire(app, "move_in", "group_leader", at=later), BadInput, message)
    app.services.cases.fire(KEY, "move_in", actor="张组长", role="group_leader")
    assert_refused(
        world, milestone(app, "contacts_published", "group_leader", at=later), BadInput, message
    )


def test_at_earlier_than_the_previous_event_is_refused(
    app: App, world: World, clock: ManualClock
) -> None:
    world.case()
    clock.set(shanghai(2024, 9, 10, 16, 0))
    world.milestones_of(KEY, "preparation")
    clock.set(shanghai(2024, 9, 12))
    message = (
        "time 2024-09-10 15:59 is earlier than the last event of case 2024-R1/U01 "
        "(2024-09-10 16:00)"
    )
    earlier = shanghai(2024, 9, 10, 15, 59)
    assert_refused(world, fire(app, "move_in", "group_leader", at=earlier), BadInput, message)
    app.services.cases.fire(KEY, "move_in", actor="张组长", role="group_leader")
    clock.advance(timedelta(days=1))
    outcome = app.services.cases.record_milestone(
        KEY, "contacts_published", actor="张组长", role="group_leader", at=clock.now()
    )
    assert outcome.event.occurred_at == clock.now()
    assert_refused(
        world,
        milestone(app, "sinking_visits", "group_leader", at=clock.now() - timedelta(minutes=1)),
        BadInput,
        "time 2024-09-13 08:59 is earlier than the last event of case 2024-R1/U01 "
        "(2024-09-13 09:00)",
    )


def test_an_event_may_happen_at_the_same_instant_as_the_previous_one(
    app: App, world: World, clock: ManualClock
) -> None:
    world.case()
    world.milestones_of(KEY, "preparation")
    outcome = app.services.cases.fire(
        KEY, "move_in", actor="张组长", role="group_leader", at=clock.now()
    )
    assert outcome.event.occurred_at == clock.now()


@pytest.mark.parametrize(
    ("case", "error", "message"),
    [
        ("99", NotFound, "case #99 does not exist"),
        ("2024-R1/U99", NotFound, "case 2024-R1/U99 does not exist"),
        ("2023-R9/U01", NotFound, "case 2023-R9/U01 does not exist"),
        (
            "U01",
            BadInput,
            "case 'U01' is not a case id or key: use the number or ROUND/UNIT, e.g. 2024-R1/U01",
        ),
        (
            "2024/R1/U01",
            BadInput,
            "case '2024/R1/U01' is not a case id or key: use the number or ROUND/UNIT, "
            "e.g. 2024-R1/U01",
        ),
    ],
)
def test_unknown_case_or_bad_key_is_refused(
    app: App, world: World, case: str, error: type[XunshiError], message: str
) -> None:
    world.case()
    assert_refused(
        world,
        lambda: app.services.cases.fire(case, "move_in", actor="a", role="group_leader"),
        error,
        message,
    )
    assert_refused(
        world,
        lambda: app.services.cases.record_milestone(
            case, "training_done", actor="a", role="office"
        ),
        error,
        message,
    )


def test_a_case_is_named_by_id_or_by_key(app: App, world: World) -> None:
    ref = world.case()
    by_id = app.services.cases.record_milestone(
        str(ref.id), "training_done", actor="a", role="office"
    )
    by_key = app.services.cases.record_milestone(
        f" {ROUND} / U01 ", "briefings_received", actor="a", role="office"
    )
    assert (by_id.key, by_id.id) == (by_key.key, by_key.id) == (ref.key, ref.id)
    assert (by_id.event.seq, by_key.event.seq) == (2, 3)


# -- times ------------------------------------------------------------------------------------


def test_occurred_at_is_the_given_time_and_recorded_at_the_clock(
    app: App, world: World, clock: ManualClock
) -> None:
    world.case()
    clock.set(shanghai(2024, 9, 25, 10, 0))
    world.milestones_of(KEY, "preparation")
    clock.set(shanghai(2024, 9, 27, 18, 0))
    moved_in = shanghai(2024, 9, 27, 7, 0)  # 2024-09-26 23:00 UTC: the business date counts
    app.services.cases.fire(KEY, "move_in", actor="张组长", role="group_leader", at=moved_in)

    history = list(app.services.read.history.of(KEY).events)
    last = history[-1]
    assert last.occurred_at == datetime(2024, 9, 26, 23, 0, tzinfo=UTC)
    assert last.recorded_at == datetime(2024, 9, 27, 10, 0, tzinfo=UTC)
    assert last.occurred_at.tzinfo is not None and last.recorded_at.utcoffset() == timedelta(0)
    view = app.services.read.cases.one(KEY)
    assert view.entered_at == moved_in
    assert view.due_on == date(2024, 11, 13)  # 现场巡视: 30 working days
    # Without `at`, both are the clock.
    clock.advance(timedelta(minutes=5))
    outcome = app.services.cases.record_milestone(
        KEY, "contacts_published", actor="张组长", role="group_leader"
    )
    assert outcome.event.occurred_at == outcome.event.recorded_at == clock.now()


def test_due_dates_on_entry_follow_the_cn_calendar(
    app: App, world: World, clock: ManualClock
) -> None:
    ref = world.case()
    preparation_due = CN.add_working_days(date(2024, 9, 2), 15)
    assert preparation_due == date(2024, 9, 24)  # 09-14 is a make-up working day
    assert world.row(ref)["due_on"] == preparation_due

    clock.set(shanghai(2024, 9, 27, 10, 0))
    world.milestones_of(KEY, "preparation")
    outcome = app.services.cases.fire(KEY, "move_in", actor="张组长", role="group_leader")
    # 现场巡视 is due 30 working days on: over 国庆 (10-01..07) and the make-up Sundays
    # and Saturdays 09-29 and 10-12.
    assert (
        outcome.instance.due_on == date(2024, 11, 13) == CN.add_working_days(date(2024, 9, 27), 30)
    )
    assert world.row(ref)["due_on"] == date(2024, 11, 13)
    assert world.row(ref)["provisional"] is False
    # A milestone keeps the stage's due date.
    world.milestones_of(KEY, "onsite")
    assert world.row(ref)["due_on"] == date(2024, 11, 13)
    outcome = app.services.cases.fire(KEY, "leave_site", actor="张组长", role="group_leader")
    assert (
        outcome.instance.due_on == date(2024, 10, 23) == CN.add_working_days(date(2024, 9, 27), 15)
    )


def test_rectification_is_due_two_months_after_the_feedback_meeting(
    app: App, world: World, clock: ManualClock
) -> None:
    world.case()
    world.drive_to(KEY, "feedback")
    clock.set(shanghai(2024, 12, 31, 15, 0))
    world.milestones_of(KEY, "feedback")  # the feedback meeting: 2024-12-31
    clock.set(shanghai(2025, 1, 6, 9, 0))
    outcome = app.services.cases.fire(KEY, "start_rectification", actor="巡视办", role="office")
    assert outcome.instance.due_on == CN.add_working_days(date(2025, 1, 6), 15)  # 整改方案
    clock.set(shanghai(2025, 1, 20, 9, 0))
    world.milestones_of(KEY, "rectification_plan")
    outcome = app.services.cases.fire(KEY, "approve_plan", actor="巡视办", role="office")
    # Two months from the meeting (day clamped), not from the plan's approval.
    assert outcome.instance.due_on == date(2025, 2, 28)


def test_send_back_resets_the_milestones_of_the_reentered_stage(
    app: App, world: World, clock: ManualClock
) -> None:
    ref = world.case()
    world.drive_to(KEY, "leading_group_hearing", pace=timedelta(hours=1))
    world.milestones_of(KEY, "leading_group_hearing")
    clock.advance(timedelta(days=1))
    outcome = app.services.cases.fire(
        KEY, "send_back", actor="巡视办", role="office", reason="补充巡视"
    )
    assert (outcome.instance.state, outcome.instance.milestones) == ("onsite", {})
    assert outcome.instance.entered_at == clock.now()
    assert outcome.instance.due_on == CN.add_working_days(clock.now().date(), 30)
    view = app.services.read.cases.one(ref.key)
    assert [(m.name, m.recorded_at) for m in view.milestones] == [
        ("contacts_published", None),
        ("individual_talks", None),
        ("petitions_received", None),
        ("document_review", None),
        ("sinking_visits", None),
        ("midterm_consultation", None),
        ("audit_linkage", None),
        ("leader_talk", None),
    ]
    assert_refused(
        world,
        fire(app, "leave_site", "group_leader"),
        Refused,
        "case 2024-R1/U01 cannot leave_site: milestones contacts_published (公布联系方式), "
        "individual_talks (个别谈话), midterm_consultation (中期会商), "
        "leader_talk (与主要负责人沟通) not recorded",
    )
    # The milestones can be recorded again in the new stay.
    world.milestones_of(KEY, "onsite")
    outcome = app.services.cases.fire(KEY, "leave_site", actor="张组长", role="group_leader")
    assert outcome.instance.state == "drafting"
    assert app.services.audit.verify().ok


# -- case show --as-of -------------------------------------------------------------------------


def test_as_of_reconstructs_the_case_from_its_history(
    app: App, world: World, clock: ManualClock
) -> None:
    ref = world.case()  # 2024-09-02 09:00
    clock.set(shanghai(2024, 9, 3, 10, 0))
    app.services.cases.record_milestone(KEY, "briefings_received", actor="a", role="office")
    clock.set(shanghai(2024, 9, 4, 10, 0))
    app.services.cases.record_milestone(KEY, "training_done", actor="a", role="office")
    clock.set(shanghai(2024, 9, 27, 10, 0))
    app.services.cases.fire(KEY, "move_in", actor="张组长", role="group_leader")
    clock.set(shanghai(2024, 10, 8, 10, 0))
    app.services.cases.record_milestone(KEY, "contacts_published", actor="b", role="group_leader")

    def as_of(instant: datetime) -> CaseView:
        return app.services.read.cases.as_of(ref.key, instant)

    at_start = as_of(shanghai(2024, 9, 2, 9, 0))
    assert (at_start.state, at_start.version, at_start.due_on) == (
        "preparation",
        1,
        date(2024, 9, 24),
    )
    assert [m.recorded_at for m in at_start.milestones] == [None, None]

    after_briefing = as_of(shanghai(2024, 9, 3, 23, 59))
    assert after_briefing.version == 2
    assert [(m.name, m.recorded_at) for m in after_briefing.milestones] == [
        ("briefings_received", shanghai(2024, 9, 3, 10, 0)),
        ("training_done", None),
    ]

    late = as_of(shanghai(2024, 9, 26, 23, 59))
    assert (late.state, late.version, late.overdue, late.days_left) == (
        "preparation",
        3,
        True,
        -2,
    )

    moved = as_of(shanghai(2024, 9, 27, 10, 0))
    assert (moved.state, moved.state_title, moved.version) == ("onsite", "现场巡视", 4)
    assert (moved.entered_at, moved.due_on, moved.overdue) == (
        shanghai(2024, 9, 27, 10, 0),
        date(2024, 11, 13),
        False,
    )
    assert [m.recorded_at for m in moved.milestones] == [None] * 8

    current = app.services.read.cases.one(ref.key)
    now_view = app.services.read.cases.as_of(ref.key, clock.now())
    assert now_view == current


def test_as_of_before_the_case_existed_names_when_its_history_starts(
    app: App, world: World, clock: ManualClock
) -> None:
    ref = world.case()  # history starts 2024-09-02 09:00
    clock.set(shanghai(2024, 9, 27, 10, 0))
    world.milestones_of(KEY, "preparation")
    app.services.cases.fire(KEY, "move_in", actor="张组长", role="group_leader")
    with pytest.raises(BadInput) as caught:
        app.services.read.cases.as_of(ref.key, shanghai(2024, 9, 1, 12, 0))
    assert caught.value.message == (
        "case 2024-R1/U01 did not exist at 2024-09-01 12:00 (its history starts 2024-09-02 09:00)"
    )


# -- definition versions -----------------------------------------------------------------------


def register(app: App, source: str, name: str = "regular.yaml") -> Registration:
    """Load definition text as `definitions load --replace-builtin` would."""
    definition = parse(source, name)
    with app.db.transaction() as conn:
        return app.registry.register(
            conn,
            definition,
            source=source,
            source_name=name,
            loaded_by="tester",
            now=app.clock.now(),
            replace_builtin=True,
        )


def test_identical_content_registers_nothing_and_changed_content_is_version_2(
    app: App, world: World
) -> None:
    assert register(app, REGULAR_SOURCE) == Registration("regular", 1, created=False)
    # Comments and layout are not content.
    reformatted = "# 重新加载，内容未变\n" + REGULAR_SOURCE.replace("\n\n", "\n")
    assert register(app, reformatted) == Registration("regular", 1, created=False)
    v1_case = world.case("U01")

    changed = REGULAR_SOURCE.replace(
        "    requires: [briefings_received, training_done]\n", "", 1
    ).replace("title: 常规巡视\n", "title: 常规巡视（第二版）\n", 1)
    assert changed.count("requires:") == REGULAR_SOURCE.count("requires:") - 1
    assert register(app, changed) == Registration("regular", 2, created=True)
    assert register(app, changed) == Registration("regular", 2, created=False)
    with app.db.transaction() as conn:
        versions = app.registry.versions(conn, "regular")
    assert [(v.version, v.title) for v in versions] == [(1, "常规巡视"), (2, "常规巡视（第二版）")]
    assert versions[0].digest != versions[1].digest

    v2_case = world.case("U02")
    assert world.row(v1_case)["definition_version"] == 1
    assert world.row(v2_case)["definition_version"] == 2

    # v2 needs no preparation milestones; v1 still does, and still fires once they are there.
    app.services.cases.fire(f"{ROUND}/U02", "move_in", actor="张组长", role="group_leader")
    assert_refused(
        world,
        fire(app, "move_in", "group_leader"),
        Refused,
        "case 2024-R1/U01 cannot move_in: milestones briefings_received (听取有关部门情况通报), "
        "training_done (巡前培训) not recorded",
    )
    world.milestones_of(KEY, "preparation")
    outcome = app.services.cases.fire(KEY, "move_in", actor="张组长", role="group_leader")
    assert (outcome.instance.state, outcome.instance.definition_version) == ("onsite", 1)
    v1_view = app.services.read.cases.one(v1_case.key)
    v2_view = app.services.read.cases.one(v2_case.key)
    assert (v1_view.definition_version, v1_view.definition_title) == (1, "常规巡视")
    assert (v2_view.definition_version, v2_view.definition_title) == (2, "常规巡视（第二版）")
    assert set(app.registry._machines._compiled) == {("regular", 1), ("regular", 2)}
    assert app.services.audit.verify().ok


TINY = """\
name: tiny
title: 小流程
initial: open
roles: {office: 巡视办}
states:
  open: {title: 办理中}
  done: {title: 完成, final: true}
transitions:
  - {trigger: finish, source: open, dest: done}
"""


class Abandoned(Exception):
    """Raised to roll a transaction back."""


def test_a_rolled_back_version_leaves_no_stale_machine_behind(app: App, world: World) -> None:
    # Version 1 of `tiny` is registered and used in a transaction that is then rolled back...
    with pytest.raises(Abandoned), app.db.transaction() as conn:
        app.registry.register(
            conn,
            parse(TINY, "tiny.yaml"),
            source=TINY,
            source_name="tiny.yaml",
            loaded_by="tester",
            now=app.clock.now(),
        )
        app.engine.start(conn, subject="case", definition="tiny", actor="t", role="office")
        raise Abandoned
    # ...so the version 1 that is committed afterwards is other content, and must be what runs.
    renamed = TINY.replace("trigger: finish", "trigger: wrap_up")
    assert register(app, renamed, "tiny.yaml") == Registration("tiny", 1, created=True)
    world.case("U01", definition="tiny")
    outcome = app.services.cases.fire(KEY, "wrap_up", actor="巡视办", role="office")
    assert outcome.instance.state == "done"


def test_the_compiled_machine_is_cached_per_version_not_per_case(app: App, world: World) -> None:
    for n in range(200):
        world.case(f"U{n:03d}")
        app.services.cases.record_milestone(
            f"{ROUND}/U{n:03d}", "training_done", actor="a", role="office"
        )
    compiled = app.registry._machines._compiled
    assert list(compiled) == [("regular", 1)]
    assert compiled[("regular", 1)].machine.models == []
    assert app.services.audit.verify().events == 400


# -- guards -----------------------------------------------------------------------------------

GUARDED = """\
name: guarded
title: 守卫流程
subject: case
initial: open
roles: {office: 巡视办, group_leader: 巡视组组长}
states:
  open: {title: 办理中}
  done: {title: 完成, final: true}
transitions:
  - {trigger: finish, source: open, dest: done, roles: [office], guards: [test_papers_ready]}
"""


class PapersReady:
    """A test guard: refuses until `ready`, and remembers what it was shown."""

    def __init__(self) -> None:
        self.ready = False
        self.seen: list[tuple[int, str, str, str]] = []

    def __call__(self, context: GuardContext) -> str | None:
        self.seen.append(
            (context.instance_id, context.state, context.label, context.definition.name)
        )
        return None if self.ready else "the case papers are not filed yet"


@pytest.fixture
def papers_ready() -> Iterator[PapersReady]:
    """Guard `test_papers_ready`, registered for one test."""
    guard = PapersReady()
    register_guard("test_papers_ready")(guard)
    yield guard
    unregister_guard("test_papers_ready")


def start_guarded(app: App, conn: Connection, clock: ManualClock) -> int:
    """Start a `guarded` instance with its case row (round 2024-R1, unit U01, group G1)."""
    outcome = app.engine.start(
        conn, subject="case", definition="guarded", actor="巡视办", role="office"
    )
    ids = {
        "round_id": conn.execute(q.rounds.select()).mappings().one()["id"],
        "unit_id": conn.execute(q.units.select()).mappings().one()["id"],
        "group_id": conn.execute(q.groups.select()).mappings().one()["id"],
    }
    conn.execute(q.cases.insert(), {"id": outcome.instance.id, **ids})
    return outcome.instance.id


def test_a_failing_guard_refuses_with_its_reason_and_writes_nothing(
    app: App, world: World, clock: ManualClock, papers_ready: PapersReady
) -> None:
    app.services.cases.add_unit("U01", "单位一")
    with app.db.transaction() as conn:
        assert app.registry.register(
            conn,
            parse(GUARDED, "guarded.yaml"),
            source=GUARDED,
            source_name="guarded.yaml",
            loaded_by="tester",
            now=clock.now(),
        ) == Registration("guarded", 1, created=True)
        case_id = start_guarded(app, conn, clock)

    # Role checks come before the guard: it is not consulted for a role that may not fire.
    assert_refused(
        world,
        fire(app, "finish", "group_leader"),
        Refused,
        "case 2024-R1/U01 cannot finish: role group_leader (巡视组组长) may not; "
        "allowed: office (巡视办)",
    )
    assert papers_ready.seen == []
    assert_refused(
        world,
        fire(app, "finish", "office"),
        Refused,
        "case 2024-R1/U01 cannot finish: the case papers are not filed yet",
    )
    assert papers_ready.seen == [(case_id, "open", "case 2024-R1/U01", "guarded")]

    papers_ready.ready = True
    outcome = app.services.cases.fire(KEY, "finish", actor="巡视办", role="office")
    assert (outcome.instance.state, outcome.event.seq) == ("done", 2)
    assert app.services.audit.verify().ok


def test_forward_path_table_matches_the_builtin_definition() -> None:
    """The test world's path must be the definition's: every required milestone, every trigger."""
    definition = parse(REGULAR_SOURCE, "regular.yaml")
    for stage, steps in FORWARD:
        state = definition.state(stage)
        recorded = {s.name for s in steps if s.kind == "milestone"}
        assert recorded == set(state.requires), stage
        (trigger,) = [s for s in steps if s.kind == "fire"]
        transition = next(
            t for t in definition.transitions_from(stage) if t.trigger == trigger.name
        )
        assert trigger.role in transition.roles
