"""The decision core without a database: refusals, events, deadlines, and random sequences.

`decide` is a pure function of (compiled definition, instance, command, now, situation);
these tests build instances in memory, fold each decision's event into the next instance
(`InstanceState.after`, the same fold `audit verify` replays with) and check the results.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from xunshi.definitions.loader import builtin_sources
from xunshi.errors import BadInput, Refused, XunshiError
from xunshi.workflow.audit import GENESIS_HASH, replay
from xunshi.workflow.calendar import calendar_for
from xunshi.workflow.deadlines import PlanDates
from xunshi.workflow.decide import (
    Command,
    Decision,
    InstanceState,
    Situation,
    decide,
    decide_start,
    started_event,
)
from xunshi.workflow.guards import ItemFact
from xunshi.workflow.machine import CompiledDefinition
from xunshi.workflow.registry import parse

TZ = ZoneInfo("Asia/Shanghai")
CN = calendar_for("cn")
REGULAR = CompiledDefinition(parse(dict(builtin_sources())["regular.yaml"], "regular.yaml"), 1)
DEFINITION = REGULAR.definition
LABEL = "case 2024-R1/U01"
# 2024-09-27 09:00 in Shanghai: a Friday before the National Day holidays.
START = datetime(2024, 9, 27, 1, 0, tzinfo=UTC)


def situation(**facts: object) -> Situation:
    """What a decision on the test case may look at."""
    return Situation(LABEL, TZ, CN, facts)


def started(at: datetime = START) -> InstanceState:
    """A `regular` case just started at `at` (as the engine would have stored it)."""
    occurred, first = decide_start(DEFINITION, "case", "office", None, at, situation())
    event = started_event(7, DEFINITION, 1, "巡视办", "office", occurred, at)
    row = InstanceState(
        id=7,
        subject="case",
        definition_name="regular",
        definition_version=1,
        state=DEFINITION.initial,
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


def run(instance: InstanceState, command: Command, now: datetime, **facts: object) -> Decision:
    """One decision on the regular definition."""
    return decide(REGULAR, instance, command, now, situation(**facts))


def fire(trigger: str, role: str = "group_leader", **kw: object) -> Command:
    """A `fire` command."""
    return Command("fire", "张组长", role, trigger, **kw)  # type: ignore[arg-type]


def milestone(name: str, role: str = "office", **kw: object) -> Command:
    """A `milestone` command."""
    return Command("milestone", "李四", role, name, **kw)  # type: ignore[arg-type]


def refusal(instance: InstanceState, command: Command, now: datetime, **facts: object) -> str:
    """The message `decide` refuses `command` with."""
    with pytest.raises(XunshiError) as caught:
        run(instance, command, now, **facts)
    return caught.value.message


# -- decisions ------------------------------------------------------------------------------


def test_a_start_is_due_on_the_working_day_calendar() -> None:
    case = started()
    assert (case.state, case.version, case.stage_seq) == ("preparation", 1, 1)
    assert case.due_on == CN.add_working_days(date(2024, 9, 27), 15)


def test_moving_in_makes_a_transition_event_with_the_new_stages_deadline() -> None:
    case = started()
    for name in ("briefings_received", "training_done"):
        case = case.after(*_event_and_deadline(run(case, milestone(name), START)))
    decision = run(case, fire("move_in", reason="进驻"), START + timedelta(hours=1))

    event = decision.event
    assert (event.kind, event.trigger, event.from_state, event.to_state) == (
        "transition",
        "move_in",
        "preparation",
        "onsite",
    )
    assert (event.seq, event.prev_hash, event.reason) == (4, case.head_hash, "进驻")
    assert event.hash == event.compute_hash()
    # Entered 2024-09-27, 30wd → 2024-11-13 (09-29 and 10-12 are worked, 10-01..07 are not).
    assert decision.deadline.due_on == date(2024, 11, 13)
    assert decision.effect == "enter"


def test_a_milestone_changes_nothing_but_the_milestones() -> None:
    case = started()
    decision = run(case, milestone("training_done"), START + timedelta(minutes=5))
    after = case.after(decision.event, decision.deadline)
    assert decision.effect == "none"
    assert (after.state, after.due_on, after.stage_seq) == (case.state, case.due_on, 1)
    assert set(after.milestones) == {"training_done"}


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (fire("move_in", role="mayor"), "role mayor is not defined by regular (roles: office, "
         "leading_group, group_leader, party_secretary, unit_liaison, discipline_group, "
         "organization_dept, functional_dept)"),
        (fire("nope"), f"{LABEL} cannot nope: regular has no such trigger (move_in, "
         "leave_site, report, revise_report, approve_report, send_back, to_party_group, "
         "give_feedback, start_rectification, revise_plan, approve_plan, to_report, "
         "accept_report, to_ongoing, periodic_report, to_evaluation, rerectify, close)"),
        (fire("leave_site"), f"{LABEL} cannot leave_site from 巡前准备 (preparation); "
         "possible now: move_in"),
        (fire("move_in", role="office"), f"{LABEL} cannot move_in: role office (巡视办) may not; "
         "allowed: group_leader (巡视组组长)"),
        (fire("move_in"), f"{LABEL} cannot move_in: milestones briefings_received "
         "(听取有关部门情况通报), training_done (巡前培训) not recorded"),
        (milestone("feedback_meeting"), f"{LABEL} cannot record feedback_meeting: stage 巡前准备 "
         "(preparation) has no such milestone (its milestones: briefings_received, training_done)"),
        (Command("resume", "巡视办", "office"), f"{LABEL} is not suspended"),
        (Command("suspend", "巡视办", "office", reason=" "), "a suspension needs a reason"),
        (Command("suspend", "张组长", "group_leader", reason="召回"), f"{LABEL} cannot suspend: "
         "role group_leader (巡视组组长) may not; allowed: office (巡视办)"),
        (milestone("training_done", at=START + timedelta(days=1)), "time 2024-09-28 09:00 is "
         "later than now (2024-09-27 09:00); events cannot be recorded ahead of time"),
        (milestone("training_done", at=START - timedelta(days=1)), "time 2024-09-26 09:00 is "
         f"earlier than the last event of {LABEL} (2024-09-27 09:00)"),
    ],
)  # fmt: skip
def test_refusals_name_what_is_missing(command: Command, message: str) -> None:
    assert refusal(started(), command, START) == message


def test_a_refusal_kind_is_refused_or_bad_input() -> None:
    with pytest.raises(Refused):
        run(started(), fire("leave_site"), START)
    with pytest.raises(BadInput):
        run(started(), Command("suspend", "巡视办", "office", reason=""), START)


def test_a_recorded_milestone_cannot_be_recorded_twice() -> None:
    case = started()
    decision = run(case, milestone("training_done"), START)
    case = case.after(decision.event, decision.deadline)
    assert refusal(case, milestone("training_done"), START) == (
        f"{LABEL}: milestone training_done (巡前培训) was already recorded at 2024-09-27 09:00"
    )


def test_a_suspended_case_refuses_everything_but_resume() -> None:
    case = started()
    decision = run(case, Command("suspend", "巡视办", "office", reason="召回"), START)
    assert decision.effect == "pause"
    case = case.after(decision.event, decision.deadline)
    message = f"{LABEL} is suspended since 2024-09-27 09:00; resume it first"
    assert refusal(case, milestone("training_done"), START) == message
    assert refusal(case, fire("move_in"), START) == message
    assert refusal(case, Command("suspend", "巡视办", "office", reason="再次"), START) == (
        f"{LABEL} is already suspended (since 2024-09-27 09:00)"
    )
    # Resumed on 10-08 after the holidays: the working days in (09-27, 10-08] are given back.
    back = datetime(2024, 10, 8, 1, 0, tzinfo=UTC)
    resumed = run(case, Command("resume", "巡视办", "office"), back)
    assert resumed.effect == "resume"
    given_back = CN.count_working_days(date(2024, 9, 27), date(2024, 10, 8))
    assert resumed.deadline.due_on == CN.add_working_days(case.due_on or date.min, given_back)
    assert resumed.event.data == {"due_on": resumed.deadline.due_on.isoformat()}  # type: ignore[union-attr]


def test_a_guard_decides_from_the_facts_it_was_given() -> None:
    case = _in_state("ongoing")
    open_item = [ItemFact("P01", "rectifying", settled=False), ItemFact("P02", "accepted", True)]
    assert refusal(case, fire("to_evaluation", "office"), START, case_items=open_item) == (
        f"{LABEL} cannot to_evaluation: 1 item is neither accepted nor long-term: P01 (rectifying)"
    )
    settled = [ItemFact("P01", "long_term", settled=True)]
    decision = run(case, fire("to_evaluation", "office"), START, case_items=settled)
    assert decision.event.to_state == "evaluation"


def test_a_case_closes_only_once_evaluated() -> None:
    case = _in_state("evaluation")
    assert refusal(case, fire("close", "office"), START, evaluation=[]) == (
        f"{LABEL} cannot close: its rectification has not been evaluated (整改评估: "
        "`xunshi case evaluate`)"
    )
    decision = run(case, fire("close", "office"), START, evaluation=[12])
    assert (decision.event.to_state, decision.deadline.due_on) == ("closed", None)


def test_the_report_is_due_two_months_after_the_feedback_meeting_not_the_trigger() -> None:
    case = _in_state("rectification")
    for name in ("three_lists", "democratic_life_meeting"):
        case = case.after(
            *_event_and_deadline(run(case, milestone(name, "party_secretary"), START))
        )
    # The meeting was held on 2024-09-03; the unit moves on weeks later.
    dates = PlanDates(None, milestones={"feedback_meeting": date(2024, 9, 3)})
    later = datetime(2024, 10, 21, 2, 0, tzinfo=UTC)
    decision = decide(
        REGULAR,
        case,
        fire("to_report", "party_secretary"),
        later,
        Situation(LABEL, TZ, CN, plan=dates),
    )
    assert (decision.event.to_state, decision.deadline.due_on) == (
        "rectification_report",
        date(2024, 11, 3),
    )
    # Without the meeting's date there is nothing to count from: refused, naming it.
    with pytest.raises(XunshiError) as caught:
        decide(REGULAR, case, fire("to_report", "party_secretary"), later, situation())
    assert caught.value.message == (
        f"{LABEL} cannot to_report: 整改报告 (rectification_report) is due 2mo after milestone "
        "feedback_meeting, which has not been recorded"
    )


def _in_state(state: str) -> InstanceState:
    """The started case, moved (without its history) into `state`."""
    case = started()
    return case._replace(state=state, milestones={}, due_on=None)


def _event_and_deadline(decision: Decision) -> tuple[object, object]:
    return decision.event, decision.deadline


# -- random sequences -----------------------------------------------------------------------

TRIGGERS = [t.trigger for t in DEFINITION.transitions]
MILESTONES = sorted({m.name for s in DEFINITION.states for m in s.milestones})
ROLES = [r.name for r in DEFINITION.roles] + ["mayor"]

commands = st.one_of(
    st.builds(fire, st.sampled_from(TRIGGERS), st.sampled_from(ROLES)),
    st.builds(milestone, st.sampled_from(MILESTONES), st.sampled_from(ROLES)),
    st.builds(
        lambda role, reason: Command("suspend", "巡视办", role, reason=reason),
        st.sampled_from(ROLES),
        st.sampled_from(["", "召回"]),
    ),
    st.builds(lambda role: Command("resume", "巡视办", role), st.sampled_from(ROLES)),
)


def plausible(case: InstanceState) -> st.SearchStrategy[Command]:
    """Commands that fit the case's stage (its milestones and triggers, their own roles)."""
    state = DEFINITION.state(case.state)
    options: list[st.SearchStrategy[Command]] = [commands]
    if state.milestones:
        options.append(
            st.builds(
                milestone,
                st.sampled_from([m.name for m in state.milestones]),
                st.sampled_from([*(state.milestones[0].roles or ("office",)), "group_leader"]),
            )
        )
    leaving = DEFINITION.transitions_from(case.state)
    if leaving:
        options.append(
            st.sampled_from(leaving).flatmap(
                lambda t: st.builds(fire, st.just(t.trigger), st.sampled_from(t.roles or ROLES))
            )
        )
    return st.one_of(*options)


@settings(max_examples=200, deadline=None)
@given(st.data(), st.integers(0, 60), st.booleans())
def test_random_sequences_keep_the_chain_and_replay_to_the_instance(
    data: st.DataObject, length: int, settled: bool
) -> None:
    case = started()
    events = [_first_event(case)]
    now = START
    items = [ItemFact("P01", "long_term" if settled else "rectifying", settled)]
    for _ in range(length):
        command = data.draw(plausible(case))
        now += timedelta(hours=data.draw(st.integers(0, 72)))
        before = case
        try:
            decision = run(case, command, now, case_items=items)
        except XunshiError:
            assert case == before  # pure: a refusal changes nothing
            continue
        appended = decision.event
        assert (appended.seq, appended.prev_hash) == (case.version + 1, case.head_hash)
        assert appended.hash == appended.compute_hash()
        if appended.kind == "transition":
            transition = REGULAR.transition(str(appended.trigger), case.state)
            assert transition is not None and transition.dest == appended.to_state
            assert command.role in transition.roles
            required = transition.required(DEFINITION.state(case.state))
            assert set(required) <= set(case.milestones)
            assert decision.effect == "enter"
        case = case.after(appended, decision.deadline)
        events.append(appended)
        assert DEFINITION.has_state(case.state)
        if appended.kind == "transition":
            assert case.milestones == {}
            due = DEFINITION.state(case.state).due
            assert (case.due_on is None) == (due is None)
    event(f"reached {case.state}")  # the statistics show how far the sequences get
    projection = replay(events)
    assert (projection.state, projection.version, projection.head_hash) == (
        case.state,
        case.version,
        case.head_hash,
    )
    assert projection.milestones == case.milestones
    assert projection.suspended == case.suspended
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    json.dumps([e.record() for e in events])  # every event has a JSON record


def _first_event(case: InstanceState) -> object:
    """The started event of `started()` (rebuilt: the instance keeps only its hash)."""
    occurred, _ = decide_start(DEFINITION, "case", "office", None, START, situation())
    event = started_event(7, DEFINITION, 1, "巡视办", "office", occurred, START)
    assert event.hash == case.head_hash
    return event
