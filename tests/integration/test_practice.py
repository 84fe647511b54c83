"""The round as practice runs it (#9): the leader talk before leaving, the office's own stages
never 约谈 a unit, and the counted milestones that reports add up. Both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from worlds import KEY, World

from xunshi.bootstrap import App
from xunshi.errors import BadInput, Refused
from xunshi.workflow.clock import ManualClock

HOUR = timedelta(hours=1)


def test_leaving_the_site_without_the_talk_with_the_main_leader_is_refused(
    app: App, world: World
) -> None:
    world.case()
    world.drive_to(KEY, "onsite", pace=HOUR)
    cases = app.services.cases
    cases.record_milestone(KEY, "contacts_published", actor="张组长", role="group_leader")
    cases.record_milestone(KEY, "individual_talks", actor="张组长", role="group_leader", count=40)
    cases.record_milestone(KEY, "midterm_consultation", actor="张组长", role="group_leader")
    before = world.snapshot()
    with pytest.raises(Refused) as refused:
        cases.fire(KEY, "leave_site", actor="张组长", role="group_leader")
    assert refused.value.message == (
        f"case {KEY} cannot leave_site: milestone leader_talk (与主要负责人沟通) not recorded"
    )
    assert world.snapshot() == before
    cases.record_milestone(KEY, "leader_talk", actor="张组长", role="group_leader")
    moved = cases.fire(KEY, "leave_site", actor="张组长", role="group_leader")
    assert moved.instance.state == "drafting"


def test_a_counted_milestone_needs_its_number_and_only_it_takes_one(app: App, world: World) -> None:
    world.case()
    world.drive_to(KEY, "onsite", pace=HOUR)
    record = app.services.cases.record_milestone
    with pytest.raises(BadInput, match=r"counted in 人次: give --count N"):
        record(KEY, "individual_talks", actor="张组长", role="group_leader")
    with pytest.raises(BadInput, match=r"--count must be a whole number from 0 to 1000000"):
        record(KEY, "individual_talks", actor="张组长", role="group_leader", count=1_000_001)
    with pytest.raises(BadInput, match=r"is not counted; drop --count"):
        record(KEY, "contacts_published", actor="张组长", role="group_leader", count=3)
    done = record(KEY, "individual_talks", actor="张组长", role="group_leader", count=40)
    assert done.event.data == {"milestone": "individual_talks", "count": 40}


def test_the_offices_late_stage_never_raises_a_talk_or_accountability(
    app: App, world: World, clock: ManualClock
) -> None:
    world.case()
    world.drive_to(KEY, "office_review", pace=HOUR)
    clock.advance(timedelta(days=200))  # the office sits on the report for months
    app.sweeper.sweep()
    raised = app.services.read.escalations.many()
    assert [(e.stage, e.level, e.instrument) for e in raised] == [
        ("office_review", 0, "提醒"),
        ("office_review", 1, "提醒"),
        ("office_review", 2, "提醒"),
    ]
    assert {role for e in raised for role in e.notify} == {"office", "leading_group"}
    assert all(e.decision is None for e in raised)


def test_report_round_adds_up_the_counted_milestones(app: App, world: World) -> None:
    for unit, talks, letters in (("U01", 40, 12), ("U02", 35, None)):
        key = f"2024-R1/{unit}"
        world.case(unit)
        world.drive_to(key, "onsite", pace=HOUR)
        record = app.services.cases.record_milestone
        record(key, "individual_talks", actor="张组长", role="group_leader", count=talks)
        if letters is not None:
            record(key, "petitions_received", actor="张组长", role="group_leader", count=letters)
    overview = app.services.read.overview.of("2024-R1")
    assert [t.label for t in overview.workload] == [
        "个别谈话 75 人次（2 个单位）",
        "受理信访举报 12 件（1 个单位）",
    ]
    assert overview.to_json(app.engine.tz)["workload"][0] == {
        "title": "个别谈话",
        "unit": "人次",
        "total": 75,
        "cases": 2,
    }
