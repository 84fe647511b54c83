"""Rectification items on every backend: the lifecycle, its refusals, the case guard, audit.

An item runs identified → planned → rectifying → submitted → accepted → archived, with
`long_term` (reviewed every three months) and `reopen`. Every refusal names what is
missing and writes nothing (all tables compared before and after); every item and task
change is an event of the item's chain, which `audit verify` replays.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from rectification_helpers import (
    ACCEPTANCE,
    ACTOR_OF,
    LIAISON,
    OFFICE,
    ROUND,
    Rectifying,
    event_summary,
    shanghai,
    sweep,
    task_facts,
    task_rows,
)
from sqlalchemy import Connection, insert, select, text, update
from worlds import snapshot

from xunshi.bootstrap import App
from xunshi.definitions.schema import canonical_json
from xunshi.errors import AlreadyExists, BadInput, Conflict, NotFound, Refused, XunshiError
from xunshi.keys import parse_reference
from xunshi.services.commands import ItemFacts, TaskChanges
from xunshi.services.results import Change
from xunshi.storage import queries as q
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.resolve import resolve_item

P01 = f"{ROUND}/U01/P01"
LABEL = f"item {P01}"


@pytest.fixture
def rect(app: App, clock: ManualClock) -> Rectifying:
    """Round 2024-R1, the category list, case 2024-R1/U01 and its item P01 (identified)."""
    world = Rectifying(app, clock)
    world.case("U01", "示例市财政局")
    world.item("U01", "P01", key_problem=True)
    return world


def refused(rect: Rectifying, command: Callable[[], Any], kind: type[XunshiError] = Refused) -> str:
    """Run `command`, expect `kind`, check that no table changed; the message."""
    before = snapshot(rect.app)
    with pytest.raises(kind) as caught:
        command()
    assert snapshot(rect.app) == before, "a refused command wrote something"
    return caught.value.message


def fire(rect: Rectifying, trigger: str, role: str, item: str = P01) -> Callable[[], Any]:
    """A deferred `fire`."""
    return lambda: rect.svc.fire(item, trigger, actor="某人", role=role)


def milestone(rect: Rectifying, name: str, role: str, item: str = P01) -> Callable[[], Any]:
    """A deferred `record_milestone`."""
    return lambda: rect.svc.record_milestone(item, name, actor="某人", role=role)


# -- the lifecycle ------------------------------------------------------------------------


def test_a_new_item_is_identified_with_its_facts_and_a_ten_working_day_limit(
    rect: Rectifying, app: App
) -> None:
    view = rect.view(P01)
    # 2024-09-02 + 10 working days: 09-14 is a make-up working day (Mid-Autumn festival).
    assert view.to_json(app.settings.tz) == {
        "id": rect.ref(P01).id,
        "key": P01,
        "case": f"{ROUND}/U01",
        "round": ROUND,
        "unit": "U01",
        "group": "G1",
        "code": "P01",
        "title": "问题P01",
        "manifestations": "P01的具体表现",
        "category": "党的建设/政治建设",
        "tags": [],
        "key_problem": True,
        "common_problem": False,
        "fix_now": False,
        "root_cause": "P01的问题根源",
        "source": "inspection",
        "definition": "rectification",
        "definition_version": 1,
        "state": "identified",
        "state_title": "问题确认",
        "entered_at": "2024-09-02T09:00:00+08:00",
        "due_on": "2024-09-14",
        "provisional": False,
        "overdue": False,
        "suspended": False,
        "milestones": {},
        "version": 1,
        "tasks": [],
        "voided": None,
        "clues": [],
        "outcome": {
            "rules": [],
            "rule_count": 0,
            "accountable": 0,
            "funds": "0.00",
            "evidence": "",
        },
        "own_outcome": None,
        "recurs_from": None,
    }
    assert (view.unit_name, view.kind) == ("示例市财政局", "常规巡视")


def test_an_item_goes_from_identified_to_archived_with_the_right_roles(
    rect: Rectifying, app: App
) -> None:
    steps: list[tuple[str, str, str]] = [
        ("plan", "unit_liaison", "planned"),
        ("begin", "office", "rectifying"),
    ]
    for trigger, role, state in steps:
        rect.advance()
        assert rect.fire(P01, trigger, role) == state
    first = rect.task(P01, date(2024, 10, 31))
    second = rect.task(P01, date(2024, 11, 29), person="孙科员")
    rect.advance()
    rect.done(f"{P01}#{first.number}")
    rect.done(str(second.id), evidence="整改报告")
    rect.advance()
    assert rect.fire(P01, "submit", "unit_liaison") == "submitted"
    for name, role in ACCEPTANCE:
        rect.advance()
        rect.milestone(P01, name, role)
    assert set(rect.view(P01).milestones) == {
        "secretary_signed",
        "office_accepted",
        "discipline_accepted",
    }
    rect.advance()
    assert rect.fire(P01, "accept", "office") == "accepted"
    assert rect.view(P01).milestones == {}
    rect.advance()
    assert rect.fire(P01, "archive", "office") == "archived"

    assert event_summary(rect.history(P01)) == [
        (1, "started", None, "identified"),
        (2, "transition", "plan", "planned"),
        (3, "transition", "begin", "rectifying"),
        (4, "task", "task_added", None),
        (5, "task", "task_added", None),
        (6, "task", "task_done", None),
        (7, "task", "task_done", None),
        (8, "transition", "submit", "submitted"),
        (9, "milestone", None, None),
        (10, "milestone", None, None),
        (11, "milestone", None, None),
        (12, "transition", "accept", "accepted"),
        (13, "transition", "archive", "archived"),
    ]
    roles = [(e.seq, e.actor, e.role) for e in rect.history(P01) if e.kind == "milestone"]
    assert roles == [
        (9, ACTOR_OF["party_secretary"], "party_secretary"),
        (10, OFFICE, "office"),
        (11, ACTOR_OF["discipline_group"], "discipline_group"),
    ]
    # archived is final: nothing more can happen.
    message = refused(rect, fire(rect, "reopen", "office"))
    assert message == f"{LABEL} is 归档 (archived); nothing more can happen"
    assert app.services.audit.verify().ok


def test_refusals_before_rectification_name_what_is_wrong_and_write_nothing(
    rect: Rectifying,
) -> None:
    assert refused(rect, fire(rect, "plan", "group_leader")) == (
        f"{LABEL} cannot plan: role group_leader (巡视组组长) may not; "
        "allowed: unit_liaison (被巡视单位联络员), party_secretary (被巡视党组织书记), "
        "functional_dept (职能部门), office (巡视办)"
    )
    assert refused(rect, fire(rect, "accept", "office")) == (
        f"{LABEL} cannot accept from 问题确认 (identified); possible now: plan"
    )
    assert refused(rect, fire(rect, "close", "office")) == (
        f"{LABEL} cannot close: rectification has no such trigger "
        "(plan, begin, submit, make_long_term, review, accept, reopen, archive)"
    )
    assert refused(rect, fire(rect, "plan", "auditor")) == (
        "role auditor is not defined by rectification "
        "(roles: office, leading_group, group_leader, party_secretary, unit_liaison, "
        "discipline_group, organization_dept, functional_dept)"
    )
    assert refused(rect, fire(rect, "submit", "unit_liaison")) == (
        f"{LABEL} cannot submit from 问题确认 (identified); possible now: plan"
    )
    rect.begin(P01)
    assert refused(rect, fire(rect, "make_long_term", "unit_liaison")) == (
        f"{LABEL} cannot make_long_term: role unit_liaison (被巡视单位联络员) may not; "
        "allowed: office (巡视办)"
    )
    assert refused(rect, fire(rect, "submit", "unit_liaison")) == (
        f"{LABEL} cannot submit: it has no tasks (add its measures with `xunshi task add`)"
    )
    assert rect.state(P01) == "rectifying"


def test_submit_is_refused_while_tasks_are_open_and_the_message_lists_them(
    rect: Rectifying,
) -> None:
    rect.begin(P01)
    tasks = [rect.task(P01, date(2024, 10, 31)) for _ in range(4)]
    rect.done(str(tasks[1].id))
    rect.done(str(tasks[3].id))
    assert refused(rect, fire(rect, "submit", "unit_liaison")) == (
        f"{LABEL} cannot submit: tasks #1, #3 not done"
    )
    rect.done(str(tasks[0].id))
    assert refused(rect, fire(rect, "submit", "unit_liaison")) == (
        f"{LABEL} cannot submit: task #3 not done"
    )
    rect.done(str(tasks[2].id))
    # The right role is still needed once every task is done.
    assert refused(rect, fire(rect, "submit", "office")) == (
        f"{LABEL} cannot submit: role office (巡视办) may not; "
        "allowed: unit_liaison (被巡视单位联络员), party_secretary (被巡视党组织书记)"
    )
    assert rect.fire(P01, "submit", "unit_liaison") == "submitted"


def test_acceptance_needs_all_three_parties_each_in_its_own_role(rect: Rectifying) -> None:
    rect.begin(P01)
    rect.task(P01, date(2024, 10, 31))
    rect.submit_all(P01)
    missing_all = (
        f"{LABEL} cannot accept: milestones secretary_signed (党组织书记签字), "
        "office_accepted (巡视办审核), discipline_accepted (纪检监察组审核) not recorded"
    )
    assert refused(rect, fire(rect, "accept", "office")) == missing_all
    # Each acceptance milestone may be recorded by its party only: the liaison cannot sign
    # for the secretary, nor the office for the discipline inspection group.
    assert refused(rect, milestone(rect, "secretary_signed", "unit_liaison")) == (
        f"{LABEL} cannot record secretary_signed (党组织书记签字): role unit_liaison "
        "(被巡视单位联络员) may not; allowed: party_secretary (被巡视党组织书记)"
    )
    assert refused(rect, milestone(rect, "office_accepted", "discipline_group")) == (
        f"{LABEL} cannot record office_accepted (巡视办审核): role discipline_group (纪检监察组) "
        "may not; allowed: office (巡视办)"
    )
    assert refused(rect, milestone(rect, "discipline_accepted", "office")) == (
        f"{LABEL} cannot record discipline_accepted (纪检监察组审核): role office (巡视办) "
        "may not; allowed: discipline_group (纪检监察组)"
    )
    assert refused(rect, milestone(rect, "leader_talk", "office")) == (
        f"{LABEL} cannot record leader_talk: stage 申请销号 (submitted) has no such milestone "
        "(its milestones: secretary_signed, office_accepted, discipline_accepted)"
    )
    rect.milestone(P01, "office_accepted", "office")
    assert refused(rect, milestone(rect, "office_accepted", "office")) == (
        f"{LABEL}: milestone office_accepted (巡视办审核) was already recorded at 2024-09-02 09:00"
    )
    assert refused(rect, fire(rect, "accept", "office")) == (
        f"{LABEL} cannot accept: milestones secretary_signed (党组织书记签字), "
        "discipline_accepted (纪检监察组审核) not recorded"
    )
    rect.milestone(P01, "secretary_signed", "party_secretary")
    assert refused(rect, fire(rect, "accept", "office")) == (
        f"{LABEL} cannot accept: milestone discipline_accepted (纪检监察组审核) not recorded"
    )
    rect.milestone(P01, "discipline_accepted", "discipline_group")
    assert refused(rect, fire(rect, "accept", "discipline_group")) == (
        f"{LABEL} cannot accept: role discipline_group (纪检监察组) may not; "
        "allowed: office (巡视办)"
    )
    # Tasks are frozen while the item waits for acceptance.
    frozen = (
        f"cannot add a task to {LABEL}: it is submitted; tasks change only while an item is "
        "identified, planned, rectifying, long_term (reopen it first)"
    )
    assert refused(rect, lambda: rect.task(P01, date(2024, 12, 31))) == frozen
    assert rect.fire(P01, "accept", "office") == "accepted"


def test_task_commands_refuse_bad_input_and_write_nothing(rect: Rectifying) -> None:
    rect.begin(P01)
    task = rect.task(P01, date(2024, 10, 31))
    svc = rect.svc
    assert refused(
        rect,
        lambda: svc.add_task(
            P01, task_facts(date(2024, 10, 31), long_term=True), actor=LIAISON, role="unit_liaison"
        ),
        BadInput,
    ) == ("a task is either long-term or has a due date (--due), not both")
    assert refused(
        rect,
        lambda: svc.add_task(
            P01, task_facts(date(2024, 10, 31), person=" "), actor="x", role="office"
        ),
        BadInput,
    ) == ("responsible person must not be empty")
    assert refused(
        rect,
        lambda: svc.update_task(f"{P01}#9", TaskChanges(progress="进展"), actor="x", role="office"),
        NotFound,
    ) == (f"{LABEL} has no task #9")
    assert refused(
        rect,
        lambda: svc.update_task("99", TaskChanges(progress="进展"), actor="x", role="office"),
        NotFound,
    ) == ("task #99 does not exist")
    assert refused(
        rect,
        lambda: svc.update_task("P01", TaskChanges(progress="进展"), actor="x", role="office"),
        BadInput,
    ) == ("task 'P01' is not a task id or key: use the number or ITEM#N, e.g. 2024-R1/U01/P01#1")
    assert refused(
        rect,
        lambda: svc.update_task(
            str(task.id), TaskChanges(due_on=date(2024, 10, 31)), actor="x", role="office"
        ),
        BadInput,
    ) == (f"nothing changes for task {P01}#1")
    assert refused(
        rect,
        lambda: svc.update_task(str(task.id), TaskChanges(), actor="x", role="office"),
        BadInput,
    ) == ("nothing to update: give a new value or --progress")
    # A task has no field `owner`: the command cannot even be written down.
    with pytest.raises(TypeError, match="owner"):
        TaskChanges(owner="x")  # type: ignore[call-arg]
    assert refused(
        rect,
        lambda: svc.complete_task(str(task.id), evidence=" ", actor="x", role="office"),
        BadInput,
    ) == ("evidence must not be empty")
    rect.done(str(task.id))
    assert refused(
        rect, lambda: svc.complete_task(str(task.id), evidence="再次", actor="x", role="office")
    ) == (f"task {P01}#1 is done (on 2024-09-02); nothing more to complete")
    assert refused(
        rect, lambda: svc.fire("2024-R1/U01/P09", "plan", actor="x", role="office"), NotFound
    ) == ("item 2024-R1/U01/P09 does not exist")
    assert refused(rect, lambda: svc.fire("P09", "plan", actor="x", role="office"), BadInput) == (
        "item 'P09' is not an item id or key: use the number or ROUND/UNIT/CODE, "
        "e.g. 2024-R1/U01/P01"
    )


def test_a_task_needs_a_due_date_or_long_term_and_the_message_says_which_is_missing(
    rect: Rectifying,
) -> None:
    """Giving neither is not giving both: the refusal must not say `not both`."""
    message = refused(
        rect,
        lambda: rect.svc.add_task(P01, task_facts(None), actor=LIAISON, role="unit_liaison"),
        BadInput,
    )
    assert "--due" in message and "--long-term" in message
    assert "not both" not in message, message


def test_item_add_refuses_bad_facts_and_writes_nothing(rect: Rectifying) -> None:
    assert refused(rect, lambda: rect.item("U01", "P01"), AlreadyExists) == (
        f"item {P01} already exists"
    )
    assert refused(rect, lambda: rect.item("U01", "P02", "党的建设/纪律建设"), NotFound) == (
        "category 党的建设/纪律建设 is not in the category list (see `xunshi categories list`)"
    )
    assert refused(rect, lambda: rect.item("U01", "P02", "党的建设"), BadInput) == (
        "category '党的建设' must be written 一级类别/二级类别"
    )
    assert refused(rect, lambda: rect.item("U01", "P 2"), BadInput) == (
        "item code 'P 2' is not valid: use letters, digits, '.', '_' or '-' "
        "(at most 64, starting with a letter or digit)"
    )
    assert refused(rect, lambda: rect.item("U01", "P02", source="letters"), BadInput) == (
        "source 'letters' is not one of inspection, audit, lead "
        "(inspection 巡视发现, audit 巡审联动, lead 线索移交)"
    )
    assert refused(rect, lambda: rect.item("U09", "P02"), NotFound) == (
        "case 2024-R1/U09 does not exist"
    )


def test_long_term_review_restarts_the_three_month_clock_and_its_reminder(
    rect: Rectifying, app: App, clock: ManualClock
) -> None:
    rect.begin(P01)
    rect.task(P01, None)  # a long-term measure (长期坚持)
    clock.set(shanghai(2024, 9, 10, 9))
    assert rect.fire(P01, "make_long_term", "office") == "long_term"
    assert rect.view(P01).due_on == date(2024, 12, 10)  # 3 months from 2024-09-10
    assert _stage_timers(app, rect) == [
        ("long_term", "pending", 0, date(2024, 12, 10), shanghai(2024, 12, 3)),
    ]
    clock.set(shanghai(2024, 11, 20, 9))
    assert rect.fire(P01, "review", "office") == "long_term"
    view = rect.view(P01)
    assert (view.due_on, view.entered_at) == (date(2025, 2, 20), shanghai(2024, 11, 20, 9))
    assert _stage_timers(app, rect) == [
        ("long_term", "superseded", 0, date(2024, 12, 10), shanghai(2024, 12, 3)),
        ("long_term", "pending", 0, date(2025, 2, 20), shanghai(2025, 2, 13)),
    ]
    # The old reminder's day passes without an escalation; the new one's brings one.
    clock.set(shanghai(2024, 12, 31))
    assert sweep(app, LABEL) == []
    clock.set(shanghai(2025, 2, 13))
    assert sweep(app, LABEL) == [(0, 0, date(2025, 2, 20))]
    # A long-term item may still apply for closing once its tasks are done.
    rect.submit_all(P01)
    rect.accept_submitted(P01)
    assert rect.state(P01) == "accepted"
    assert app.services.audit.verify().ok


def _stage_timers(app: App, rect: Rectifying) -> list[tuple[str, str, int, date, datetime]]:
    t = q.timers
    with app.db.transaction() as conn:
        rows = conn.execute(
            select(t.c.stage, t.c.status, t.c.level, t.c.due_on, t.c.fire_at)
            .where(t.c.instance_id == rect.ref(P01).id, t.c.task_id == 0, t.c.stage == "long_term")
            .order_by(t.c.id)
        )
        return [tuple(row) for row in rows]


def test_reopen_from_accepted_goes_back_to_rectifying_and_needs_new_work(
    rect: Rectifying, app: App
) -> None:
    rect.begin(P01)
    rect.task(P01, date(2024, 10, 31))
    rect.accept(P01)
    assert refused(rect, fire(rect, "reopen", "unit_liaison")) == (
        f"{LABEL} cannot reopen: role unit_liaison (被巡视单位联络员) may not; "
        "allowed: office (巡视办), discipline_group (纪检监察组)"
    )
    assert rect.fire(P01, "reopen", "discipline_group") == "rectifying"
    rect.task(P01, date(2024, 12, 31), measure="巩固整改成果")
    assert refused(rect, fire(rect, "submit", "unit_liaison")) == (
        f"{LABEL} cannot submit: task #2 not done"
    )
    rect.accept(P01)
    assert [e.trigger for e in rect.history(P01) if e.kind == "transition"] == [
        "plan",
        "begin",
        "submit",
        "accept",
        "reopen",
        "submit",
        "accept",
    ]
    assert app.services.audit.verify().ok


def test_reopen_from_submitted_sends_a_rejected_application_back_without_acceptance(
    rect: Rectifying,
) -> None:
    """A submitted item that fails acceptance goes back to rectifying (重新整改).

    Reopening is what happens when acceptance is NOT given, so it cannot require the
    three acceptance milestones that only `accept` needs.
    """
    rect.begin(P01)
    rect.task(P01, date(2024, 10, 31))
    rect.submit_all(P01)
    rect.milestone(P01, "office_accepted", "office")  # the discipline group does not accept
    assert rect.fire(P01, "reopen", "discipline_group") == "rectifying"


# -- the case guard -------------------------------------------------------------------------


def test_closing_a_case_is_refused_while_items_are_open_then_allowed(
    rect: Rectifying, app: App
) -> None:
    case = f"{ROUND}/U01"
    p02, p03, p04 = (rect.item("U01", code) for code in ("P02", "P03", "P04"))
    for item in (P01, p02, p03, p04):
        rect.begin(item)
        rect.task(item, date(2024, 10, 31))
    rect.submit_all(p02)
    rect.accept(p03)
    rect.fire(p04, "make_long_term", "office")
    other_case = rect.case("U02")
    rect.item("U02", "P01")  # another case's open item does not count
    rect.close_case_ready(case)

    def close() -> Change:
        return app.services.cases.fire(case, "to_evaluation", actor=OFFICE, role="office")

    assert refused(rect, close) == (
        f"case {case} cannot to_evaluation: 2 items are neither accepted nor long-term: "
        "P01 (rectifying), P02 (submitted)"
    )
    rect.accept_submitted(p02)
    assert refused(rect, close) == (
        f"case {case} cannot to_evaluation: 1 item is neither accepted nor long-term: "
        "P01 (rectifying)"
    )
    rect.fire(P01, "make_long_term", "office")
    assert close().instance.state == "evaluation"
    rect.close_case(case)
    assert app.services.read.cases.one(case).state == "closed"
    assert app.services.read.cases.one(other_case).state == "rectification"


def test_an_item_cannot_be_added_to_a_closed_case(rect: Rectifying, app: App) -> None:
    """A closed case has no open items (the close guard); adding one afterwards breaks that."""
    rect.begin(P01)
    rect.task(P01, date(2024, 10, 31))
    rect.accept(P01)
    case = f"{ROUND}/U01"
    rect.close_case_ready(case)
    rect.close_case(case)
    message = refused(
        rect,
        lambda: rect.svc.add_item(
            case, ItemFacts(code="P02", title="新问题", category="党的建设/政治建设"), actor=OFFICE
        ),
    )
    assert case in message and "closed" in message, message


# -- history and audit ----------------------------------------------------------------------


def test_every_item_and_task_change_is_an_event_of_the_item(
    rect: Rectifying, app: App, clock: ManualClock
) -> None:
    rect.begin(P01)
    task = rect.task(P01, date(2024, 10, 31), cooperating="财务处")
    rect.advance()
    rect.svc.update_task(
        f"{P01}#1",
        TaskChanges(responsible_person="孙科员", due_on=date(2024, 11, 15), progress="已起草制度"),
        actor="王主任",
        role="office",
    )
    rect.advance()
    rect.svc.update_task(
        str(task.id), TaskChanges(progress="已印发"), actor=LIAISON, role="unit_liaison"
    )
    clock.set(shanghai(2024, 11, 11))  # 5 working days before 11-15: the reminder
    assert sweep(app, LABEL) == [(task.id, 0, date(2024, 11, 15))]
    rect.advance()
    rect.done(str(task.id), evidence="制度文件")
    history = rect.history(P01)
    tasks = [(e.seq, e.trigger, e.actor, e.role, dict(e.data)) for e in history if e.kind == "task"]
    assert tasks == [
        (
            4,
            "task_added",
            LIAISON,
            "unit_liaison",
            {
                "task": task.id,
                "number": 1,
                "measure": "建立健全制度",
                "responsible_leader": "赵副局长",
                "lead_department": "办公室",
                "cooperating_departments": "财务处",
                "responsible_person": "钱科长",
                "due_on": "2024-10-31",
                "long_term": False,
            },
        ),
        (
            5,
            "task_updated",
            "王主任",
            "office",
            {
                "task": task.id,
                "changes": {"responsible_person": "孙科员", "due_on": "2024-11-15"},
                "progress": "已起草制度",
            },
        ),
        (6, "task_updated", LIAISON, "unit_liaison", {"task": task.id, "progress": "已印发"}),
        (
            8,
            "task_done",
            LIAISON,
            "unit_liaison",
            {"task": task.id, "evidence": "制度文件", "completed_on": "2024-11-11"},
        ),
    ]
    escalation = history[6]
    assert (escalation.seq, escalation.kind, escalation.trigger, escalation.actor) == (
        7,
        "escalation",
        "level0",
        "xunshi",
    )
    assert escalation.data["task"] == task.id
    (row,) = task_rows(app, rect.ref(P01).id)
    assert {k: row[k] for k in ("responsible_person", "due_on", "progress", "status")} == {
        "responsible_person": "孙科员",
        "due_on": date(2024, 11, 15),
        "progress": "已印发",
        "status": "done",
    }
    assert (row["evidence"], row["completed_on"]) == ("制度文件", date(2024, 11, 11))
    report = app.services.audit.verify()
    assert report.ok, report.problems
    # One chain per case and per item; every event of both counted.
    case_events = len(app.services.read.history.of(f"{ROUND}/U01").events)
    assert (report.chains, report.events) == (2, case_events + len(history))


@pytest.fixture
def audited(rect: Rectifying) -> int:
    """P01 rectifying with tasks #1 (added at seq 4, updated at seq 6) and #2 (seq 5)."""
    rect.begin(P01)
    rect.task(P01, date(2024, 10, 31))
    rect.task(P01, date(2024, 11, 29), person="孙科员")
    rect.svc.update_task(
        f"{P01}#1", TaskChanges(progress="已起草"), actor=LIAISON, role="unit_liaison"
    )
    assert rect.app.services.audit.verify().ok
    return rect.ref(P01).id


def _problems(app: App) -> list[tuple[str, int, str]]:
    return [(p.label, p.seq, p.reason) for p in app.services.audit.verify().problems]


def _task_id(app: App, item_id: int, number: int) -> int:
    return int(next(t["id"] for t in task_rows(app, item_id) if t["number"] == number))


def test_a_tampered_task_row_is_reported_with_the_item_and_the_seq(
    rect: Rectifying, app: App, audited: int
) -> None:
    first, second = _task_id(app, audited, 1), _task_id(app, audited, 2)
    rect.sql("UPDATE rectification_task SET responsible_person = '周某' WHERE id = :id", id=first)
    rect.sql("UPDATE rectification_task SET status = 'done' WHERE id = :id", id=second)
    assert _problems(app) == [
        (
            LABEL,
            6,
            f"task {first}: row says responsible_person = '周某', history replays to '钱科长'",
        ),
        (LABEL, 5, f"task {second}: row says status = 'done', history replays to 'open'"),
    ]


def test_a_task_row_deleted_or_added_outside_xunshi_is_reported(
    rect: Rectifying, app: App, audited: int
) -> None:
    second = _task_id(app, audited, 2)
    with app.db.transaction() as conn:
        row = conn.execute(select(q.tasks).where(q.tasks.c.id == second)).mappings().one()
        conn.execute(q.tasks.delete().where(q.tasks.c.id == second))
        conn.execute(insert(q.tasks).values({**row, "id": second + 100, "number": 3}))
    assert _problems(app) == [
        (LABEL, 5, f"task {second} is in the history but its row is gone"),
        (LABEL, 6, f"task {second + 100} has no history (row added outside xunshi)"),
    ]


def test_a_tampered_task_event_is_reported_with_the_item_and_the_seq(
    rect: Rectifying, app: App, audited: int
) -> None:
    e = q.events
    with app.db.transaction() as conn:
        data = conn.execute(
            select(e.c.data).where(e.c.instance_id == audited, e.c.seq == 5)
        ).scalar_one()
        forged = {**json.loads(data), "responsible_person": "周某"}
        conn.execute(
            update(e)
            .where(e.c.instance_id == audited, e.c.seq == 5)
            .values(data=canonical_json(forged))
        )
    second = _task_id(app, audited, 2)
    assert _problems(app) == [
        (LABEL, 5, "hash mismatch: the stored event was altered"),
        (
            LABEL,
            5,
            f"task {second}: row says responsible_person = '孙科员', history replays to '周某'",
        ),
    ]


def test_verify_counts_item_chains_next_to_case_chains(rect: Rectifying, app: App) -> None:
    rect.case("U02")
    rect.item("U02", "P01")
    rect.item("U02", "P02")
    report = app.services.audit.verify()
    # Cases U01, U02: `started` and the 23 events that take each into 集中整改 (through 整改方案);
    # items U01/P01, U02/P01, U02/P02: one `started` event each.
    assert (report.ok, report.chains, report.events) == (True, 5, 2 * 24 + 3)
    started = [(e.seq, e.kind, e.actor, e.role) for e in rect.history(f"{ROUND}/U02/P02")]
    assert started == [(1, "started", OFFICE, "office")]


def test_item_timestamps_follow_the_clock(rect: Rectifying, clock: ManualClock) -> None:
    clock.advance(timedelta(days=1, hours=2))
    rect.fire(P01, "plan", "office")
    event = rect.history(P01)[-1]
    assert event.occurred_at == event.recorded_at == shanghai(2024, 9, 3, 11)


# -- concurrency ------------------------------------------------------------------------------


def _wait_until_a_writer_waits(app: App) -> None:
    """PostgreSQL: until some backend waits for a lock. SQLite cannot tell: a short pause."""
    if app.db.is_sqlite:
        time.sleep(0.2)
        return
    give_up = time.monotonic() + 10
    while time.monotonic() < give_up:
        with app.db.connect() as conn:
            waiting = conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
            if waiting.scalar_one():
                return
        time.sleep(0.01)
    pytest.fail("the second writer never waited for the first")


def _race(
    app: App, first: Callable[[Connection], object], second: Callable[[], object]
) -> tuple[type[BaseException] | None, str]:
    """Run `first` in an open transaction, start `second` in a thread, let it wait, commit.

    Return what `second` raised (None if nothing) and its message.
    """
    outcome: list[tuple[type[BaseException] | None, str]] = []

    def run_second() -> None:
        try:
            second()
        except Exception as exc:  # what the user would see (a traceback if not XunshiError)
            outcome.append((type(exc), str(exc).splitlines()[0]))
        else:
            outcome.append((None, ""))

    with app.db.transaction() as conn:
        first(conn)
        thread = threading.Thread(target=run_second)
        thread.start()
        _wait_until_a_writer_waits(app)
    thread.join(timeout=30)
    assert len(outcome) == 1, "the second writer did not finish"
    return outcome[0]


def test_two_writers_adding_tasks_to_one_item_get_a_task_each_or_a_conflict(
    rect: Rectifying, app: App
) -> None:
    """The second `task add` waits for the first; it may then add task #2 or be told of a
    conflict (one line, nothing written) — never fail with a database error."""
    rect.begin(P01)
    ref = rect.ref(P01)
    first = task_facts(date(2024, 10, 31)).checked()
    raised, message = _race(
        app,
        lambda conn: rect.svc._add_task(
            conn,
            resolve_item(conn, parse_reference(P01, "item")),
            first,
            LIAISON,
            "unit_liaison",
            None,
            None,
        ),
        lambda: rect.task(P01, date(2024, 11, 29)),
    )
    assert raised in (None, Conflict), f"{raised}: {message}"
    numbers = [t["number"] for t in task_rows(app, ref.id)]
    assert numbers == ([1, 2] if raised is None else [1])
    assert app.services.audit.verify().ok


def test_two_writers_adding_the_same_item_code_one_is_told_it_exists(
    rect: Rectifying, app: App
) -> None:
    facts = ItemFacts(code="P02", title="同一问题", category="党的建设/政治建设")
    raised, message = _race(
        app,
        lambda conn: rect.svc._add_item(
            conn,
            parse_reference(f"{ROUND}/U01", "case"),
            facts,
            OFFICE,
            "office",
            "rectification",
            None,
        ),
        lambda: rect.svc.add_item(f"{ROUND}/U01", facts, actor=OFFICE),
    )
    assert (raised, message) == (AlreadyExists, f"item {ROUND}/U01/P02 already exists")
    assert app.services.audit.verify().ok
