"""Stages due on a date of the round plan (`due: plan.leave`), without a database.

The due date is the plan date itself; without it a declared fallback counts from entry,
and without a fallback the case cannot enter the stage (the refusal says why). Pauses
move a plan date like any due date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from xunshi.definitions.durations import Duration, PlanDue, parse_stage_due
from xunshi.definitions.schema import definition_from_dict
from xunshi.errors import Refused
from xunshi.workflow.audit import GENESIS_HASH
from xunshi.workflow.calendar import calendar_for
from xunshi.workflow.deadlines import NO_PLAN, PlanDates
from xunshi.workflow.decide import (
    Command,
    InstanceState,
    Situation,
    deadline,
    decide,
    decide_start,
    replayed_deadline,
    started_event,
)
from xunshi.workflow.machine import CompiledDefinition
from xunshi.workflow.registry import parse

TZ = ZoneInfo("Asia/Shanghai")
CN = calendar_for("cn")
PLANNED = parse(
    """\
name: planned
title: 按计划
initial: preparation
roles: {office: 巡视办, group_leader: 组长}
states:
  preparation: {title: 巡前准备, due: {plan: move_in, else: 15wd}}
  onsite: {title: 现场巡视, due: plan.leave}
  reporting: {title: 汇报, due: 15wd}
  closed: {title: 完成, final: true}
transitions:
  - {trigger: start_onsite, source: preparation, dest: onsite}
  - {trigger: report, source: onsite, dest: reporting}
  - {trigger: close, source: reporting, dest: closed}
""",
    "planned.yaml",
)
COMPILED = CompiledDefinition(PLANNED, 1)
LABEL = "case 2025-R1/U01"
# 2025-03-03 09:00 in Shanghai, a Monday.
MONDAY = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
B1 = PlanDates("B1", date(2025, 3, 10), date(2025, 4, 18))


def started(plan: PlanDates) -> InstanceState:
    """A case of `planned` started on MONDAY with `plan`."""
    occurred, first = decide_start(PLANNED, "case", "office", None, MONDAY, _situation(plan))
    event = started_event(7, PLANNED, 1, "巡视办", "office", occurred, MONDAY)
    row = InstanceState(
        id=7,
        subject="case",
        definition_name="planned",
        definition_version=1,
        state="preparation",
        entered_at=occurred,
        version=0,
        milestones={},
        suspended=False,
        suspended_at=None,
        due_on=first.due_on,
        provisional=first.provisional,
        last_occurred_at=occurred,
        head_hash=GENESIS_HASH,
        stage_seq=0,
    )
    return row.after(event, first)


def _situation(plan: PlanDates) -> Situation:
    return Situation(LABEL, TZ, CN, plan=plan)


def test_the_forms_parse_and_read_back() -> None:
    assert parse_stage_due("plan.leave") == PlanDue("leave")
    assert parse_stage_due({"plan": "move_in", "else": "15wd"}) == PlanDue(
        "move_in", Duration(15, "wd")
    )
    assert parse_stage_due("30wd") == Duration(30, "wd")
    assert str(PlanDue("leave", Duration(30, "wd"))) == "plan.leave, else 30wd"
    assert PLANNED.uses_plan
    states = PLANNED.to_dict()["states"]
    assert [s["due"] for s in states] == [
        {"plan": "move_in", "else": "15wd"},
        "plan.leave",
        "15wd",
        None,
    ]
    assert definition_from_dict(PLANNED.to_dict()) == PLANNED


def test_a_definition_without_plan_dates_does_not_use_the_plan() -> None:
    regular = parse(
        """\
name: plain
title: 普通
initial: open
roles: {office: 巡视办}
states:
  open: {title: 办理中, due: 5wd}
  done: {title: 完成, final: true}
transitions:
  - {trigger: finish, source: open, dest: done}
""",
        "plain.yaml",
    )

    assert not regular.uses_plan


def test_the_due_date_is_the_plan_date_itself() -> None:
    found = deadline(PLANNED, "onsite", MONDAY, CN, TZ, B1)

    assert found == (date(2025, 4, 18), False)


def test_a_stage_entered_after_its_plan_date_is_overdue_at_once() -> None:
    late = datetime(2025, 4, 21, 1, 0, tzinfo=UTC)

    assert deadline(PLANNED, "onsite", late, CN, TZ, B1) == (date(2025, 4, 18), False)


def test_without_the_date_the_fallback_counts_from_entry() -> None:
    assert started(NO_PLAN).due_on == CN.add_working_days(date(2025, 3, 3), 15)
    assert started(PlanDates("B2", None, date(2025, 6, 20))).due_on == CN.add_working_days(
        date(2025, 3, 3), 15
    )
    assert started(B1).due_on == date(2025, 3, 10)


@pytest.mark.parametrize(
    ("plan", "why"),
    [
        (NO_PLAN, "the case is in no batch of its round's plan"),
        (
            PlanDates("B2", date(2025, 5, 12), None),
            "its batch B2 has no 撤离日期 yet (set it with `xunshi round plan`)",
        ),
    ],
)
def test_without_the_date_or_a_fallback_the_stage_cannot_be_entered(
    plan: PlanDates, why: str
) -> None:
    case = started(plan)
    command = Command("fire", "组长甲", "group_leader", "start_onsite")

    with pytest.raises(Refused) as refused:
        decide(COMPILED, case, command, MONDAY, _situation(plan))

    assert refused.value.message == (
        f"{LABEL} cannot start_onsite: 现场巡视 (onsite) is due on the plan's 撤离日期 "
        f"(plan.leave), and {why}"
    )


def test_an_initial_stage_without_its_date_refuses_the_start() -> None:
    strict = parse(
        """\
name: strict
title: 严格
initial: preparation
roles: {office: 巡视办}
states:
  preparation: {title: 巡前准备, due: plan.move_in}
  closed: {title: 完成, final: true}
transitions:
  - {trigger: close, source: preparation, dest: closed}
""",
        "strict.yaml",
    )

    with pytest.raises(Refused) as refused:
        decide_start(strict, "case", "office", None, MONDAY, _situation(NO_PLAN))
    assert refused.value.message == (
        f"{LABEL} cannot start: 巡前准备 (preparation) is due on the plan's 进驻日期 "
        "(plan.move_in), and the case is in no batch of its round's plan"
    )


def test_entering_a_stage_due_on_the_plan_takes_the_batch_date() -> None:
    case = started(B1)
    command = Command("fire", "组长甲", "group_leader", "start_onsite")

    decision = decide(COMPILED, case, command, MONDAY, _situation(B1))

    assert decision.deadline == (date(2025, 4, 18), False)


def test_a_pause_moves_a_plan_date_like_any_due_date() -> None:
    entered = datetime(2025, 3, 11, 1, 0, tzinfo=UTC)
    pauses = [
        ("suspended", datetime(2025, 3, 24, 2, 0, tzinfo=UTC)),
        ("resumed", datetime(2025, 3, 31, 2, 0, tzinfo=UTC)),
    ]

    found = replayed_deadline(PLANNED, "onsite", entered, pauses, CN, TZ, B1)

    # 03-25..03-31: five working days paused.
    assert found == (CN.add_working_days(date(2025, 4, 18), 5), False)
    assert replayed_deadline(PLANNED, "onsite", entered, [], CN, TZ, B1) == (
        date(2025, 4, 18),
        False,
    )
