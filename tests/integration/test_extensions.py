"""Extension requests (延期申请, issue #10 part 3), on every backend.

An extension request moves nothing until approved; approval moves the due date and the
task's timers and is in the history; a rejected request changes nothing but is recorded.
Every refusal leaves the database as it was. The task is #1 of P01, due Thursday
2024-10-31, whose rungs (the rectification ladder: -5wd, 0, +5wd, …) fire 10-24, 11-01, ….
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from rectification_helpers import LIAISON, OFFICE, ROUND, Rectifying, shanghai, sweep
from sqlalchemy import select
from worlds import snapshot

from xunshi.bootstrap import App
from xunshi.errors import BadInput, Refused, XunshiError
from xunshi.services.commands import TaskChanges
from xunshi.services.results import TaskChange
from xunshi.storage import queries as q
from xunshi.workflow.clock import ManualClock

P01 = f"{ROUND}/U01/P01"
TASK = f"{P01}#1"
LABEL = f"item {P01}"
DUE = date(2024, 10, 31)
LATER = date(2024, 11, 29)


@pytest.fixture
def rect(app: App, clock: ManualClock) -> Rectifying:
    """Case 2024-R1/U01 with P01 rectifying and its task #1 due 2024-10-31; 10-10 09:00."""
    world = Rectifying(app, clock)
    world.case("U01")
    world.item("U01", "P01")
    world.task(P01, DUE)
    world.begin(P01)
    clock.set(shanghai(2024, 10, 10, 9))
    return world


def request(app: App, to: date = LATER, role: str = "unit_liaison", **extra: Any) -> TaskChange:
    """The unit liaison asks for `to`."""
    return app.services.extensions.request(
        TASK, to, reason="需协调外部单位", actor=LIAISON, role=role, **extra
    )


def decide(app: App, approve: bool, role: str = "office", task: str = TASK) -> TaskChange:
    """The office approves or rejects the pending request."""
    return app.services.extensions.decide(
        task, approve=approve, reason="理由充分" if approve else "理由不足", actor=OFFICE, role=role
    )


def timers(app: App) -> list[tuple[str, int, int, date]]:
    """(status, level, generation, due date) of the task's timers, by id."""
    t = q.timers
    with app.db.transaction() as conn:
        rows = conn.execute(
            select(t.c.status, t.c.level, t.c.generation, t.c.due_on)
            .where(t.c.task_id != 0)
            .order_by(t.c.id)
        )
        return [tuple(row) for row in rows]


def task_due(rect: Rectifying) -> date | None:
    """The task's due date as `item show` reads it."""
    due: date | None = rect.view(P01).tasks[0].due_on
    return due


def extension_events(rect: Rectifying) -> list[tuple[str | None, str, str | None, Any]]:
    """(trigger, actor, reason, data) of the item's extension events."""
    return [
        (e.trigger, e.actor, e.reason, e.data)
        for e in rect.history(P01)
        if (e.trigger or "").startswith("extension_")
    ]


def refused(app: App, command: Callable[[], Any], kind: type[XunshiError] = Refused) -> str:
    """Run `command`, expect `kind`, check that no table changed; the message."""
    before = snapshot(app)
    with pytest.raises(kind) as caught:
        command()
    assert snapshot(app) == before, "a refused command wrote something"
    return caught.value.message


# -- the life of a request ------------------------------------------------------------------


def test_a_request_moves_nothing_until_approved_then_the_due_date_and_timers_move(
    rect: Rectifying, app: App, clock: ManualClock
) -> None:
    task_id = rect.view(P01).tasks[0].id
    before = timers(app)
    assert before == [("pending", 0, 1, DUE)]
    asked = request(app)
    assert asked.to_json()["data"] == {
        "task": task_id,
        "number": 1,
        "extension": 1,
        "original_due": "2024-10-31",
        "requested_due": "2024-11-29",
    }
    assert task_due(rect) == DUE
    assert timers(app) == before
    (pending,) = app.services.read.extensions.many(pending=True)
    assert (pending.status, pending.original_due, pending.requested_due) == (
        "pending",
        DUE,
        LATER,
    )
    assert rect.view(P01).tasks[0].pending_extension == pending
    clock.set(shanghai(2024, 10, 12, 10))
    approved = decide(app, approve=True)
    assert approved.to_json()["data"] == {
        "task": task_id,
        "number": 1,
        "extension": 1,
        "previous_due": "2024-10-31",
        "due_on": "2024-11-29",
    }
    task = rect.view(P01).tasks[0]
    assert (task.due_on, task.original_due, task.pending_extension) == (LATER, DUE, None)
    assert timers(app) == [("superseded", 0, 1, DUE), ("pending", 0, 2, LATER)]
    assert extension_events(rect) == [
        (
            "extension_requested",
            LIAISON,
            "需协调外部单位",
            {
                "task": task_id,
                "number": 1,
                "extension": 1,
                "original_due": "2024-10-31",
                "requested_due": "2024-11-29",
            },
        ),
        (
            "extension_approved",
            OFFICE,
            "理由充分",
            {
                "task": task_id,
                "number": 1,
                "extension": 1,
                "previous_due": "2024-10-31",
                "due_on": "2024-11-29",
            },
        ),
    ]
    (done,) = app.services.read.extensions.many()
    assert (done.status, done.decided_by, done.decided_role, done.decision_reason) == (
        "approved",
        OFFICE,
        "office",
        "理由充分",
    )
    assert done.decided_at == shanghai(2024, 10, 12, 10)
    assert app.services.read.extensions.many(pending=True) == []
    assert app.services.audit.verify().ok


def test_after_approval_the_sweep_raises_against_the_new_date_not_the_old(
    rect: Rectifying, app: App, clock: ManualClock
) -> None:
    task_id = rect.view(P01).tasks[0].id
    request(app)
    decide(app, approve=True)
    clock.set(shanghai(2024, 11, 8))  # the old date's reminder, overdue and 督办 instants
    assert sweep(app, LABEL) == []
    clock.set(shanghai(2024, 11, 22))  # 5 working days before Friday 11-29
    assert sweep(app, LABEL) == [(task_id, 0, LATER)]
    clock.set(shanghai(2024, 11, 30))
    assert sweep(app, LABEL) == [(task_id, 1, LATER)]


def test_before_approval_the_sweep_still_raises_against_the_old_date(
    rect: Rectifying, app: App, clock: ManualClock
) -> None:
    task_id = rect.view(P01).tasks[0].id
    request(app)
    clock.set(shanghai(2024, 11, 1))
    assert sweep(app, LABEL) == [(task_id, 0, DUE), (task_id, 1, DUE)]


def test_a_rejected_request_changes_nothing_but_is_recorded(
    rect: Rectifying, app: App, clock: ManualClock
) -> None:
    task_id = rect.view(P01).tasks[0].id
    request(app)
    before = timers(app)
    decide(app, approve=False)
    assert task_due(rect) == DUE
    assert rect.view(P01).tasks[0].original_due is None
    assert timers(app) == before
    assert extension_events(rect)[-1] == (
        "extension_rejected",
        OFFICE,
        "理由不足",
        {"task": task_id, "number": 1, "extension": 1, "requested_due": "2024-11-29"},
    )
    (rejected,) = app.services.read.extensions.many()
    assert (rejected.status, rejected.decided_by, rejected.decision_reason) == (
        "rejected",
        OFFICE,
        "理由不足",
    )
    clock.set(shanghai(2024, 11, 1))
    assert sweep(app, LABEL) == [(task_id, 0, DUE), (task_id, 1, DUE)]
    # Rejected, the unit may ask again.
    request(app, to=date(2024, 11, 15))
    assert [e.status for e in app.services.read.extensions.many()] == ["rejected", "pending"]
    assert app.services.audit.verify().ok


def test_the_list_filters_by_round_and_pending_and_leaves_void_items_out(
    rect: Rectifying, app: App
) -> None:
    rect.item("U01", "P02")
    rect.task(f"{ROUND}/U01/P02", DUE)
    request(app)
    decide(app, approve=False)
    app.services.extensions.request(
        f"{ROUND}/U01/P02#1", LATER, reason="等待审计结论", actor=LIAISON, role="party_secretary"
    )
    listed = app.services.read.extensions.many(round_code=ROUND)
    assert [(str(v.task), v.status, v.requested_role) for v in listed] == [
        (TASK, "rejected", "unit_liaison"),
        (f"{ROUND}/U01/P02#1", "pending", "party_secretary"),
    ]
    assert [str(v.task) for v in app.services.read.extensions.many(pending=True)] == [
        f"{ROUND}/U01/P02#1"
    ]
    app.services.items.void(f"{ROUND}/U01/P02", actor=OFFICE, role="office", reason="重复录入")
    assert [str(v.task) for v in app.services.read.extensions.many()] == [TASK]
    assert len(app.services.read.extensions.many(include_void=True)) == 2
    with pytest.raises(XunshiError, match="round 2099-R9 does not exist"):
        app.services.read.extensions.many(round_code="2099-R9")


# -- refusals ----------------------------------------------------------------------------------


def test_a_date_not_after_the_due_date_is_refused(rect: Rectifying, app: App) -> None:
    for to in (DUE, date(2024, 10, 20)):
        assert refused(app, lambda to=to: request(app, to=to)) == (
            f"task {TASK}: --to {to.isoformat()} is not after its due date 2024-10-31"
        )


def test_a_date_before_the_request_itself_is_refused(
    rect: Rectifying, app: App, clock: ManualClock
) -> None:
    clock.set(shanghai(2024, 11, 20, 9))  # the task is overdue; 11-05 is after its due date
    assert refused(app, lambda: request(app, to=date(2024, 11, 5))) == (
        f"task {TASK}: --to 2024-11-05 is before the request itself (2024-11-20 09:00)"
    )


def test_a_long_term_task_a_done_task_and_a_settled_or_void_item_are_refused(
    rect: Rectifying, app: App
) -> None:
    long_term = rect.task(P01, None)
    assert refused(
        app,
        lambda: app.services.extensions.request(
            str(long_term.id), LATER, reason="r", actor=LIAISON, role="unit_liaison"
        ),
    ) == (f"task {P01}#2 is long-term (长期坚持): it has no due date to extend")
    rect.done(TASK)
    assert refused(app, lambda: request(app)) == (
        f"task {TASK} is done (on 2024-10-10); nothing more to extend"
    )
    rect.fire(P01, "make_long_term", "office")
    settled = rect.task(P01, DUE)
    assert refused(
        app,
        lambda: app.services.extensions.request(
            str(settled.id), LATER, reason="r", actor=LIAISON, role="unit_liaison"
        ),
    ) == (
        f"cannot extend task {P01}#3: item {P01} is 长期整改 (long_term), settled; its tasks' "
        "due dates are not extended"
    )
    rect.item("U01", "P02")
    rect.task(f"{ROUND}/U01/P02", DUE)
    app.services.items.void(f"{ROUND}/U01/P02", actor=OFFICE, role="office", reason="重复录入")
    assert refused(
        app,
        lambda: app.services.extensions.request(
            f"{ROUND}/U01/P02#1", LATER, reason="r", actor=LIAISON, role="unit_liaison"
        ),
    ) == (f"item {ROUND}/U01/P02 is void (撤销): 重复录入; nothing more can happen to it")


def test_a_second_request_while_one_is_pending_is_refused(rect: Rectifying, app: App) -> None:
    request(app)
    assert refused(app, lambda: request(app, to=date(2024, 12, 31))) == (
        f"task {TASK} already has a pending extension request (to 2024-11-29, by 李联络员); "
        "the office decides it first (task extension --approve|--reject)"
    )


def test_only_the_unit_and_the_office_request_and_only_the_office_decides(
    rect: Rectifying, app: App
) -> None:
    assert refused(app, lambda: request(app, role="group_leader")) == (
        f"task {TASK}: role group_leader (巡视组组长) may not request an extension; allowed: "
        "unit_liaison (被巡视单位联络员), party_secretary (被巡视党组织书记), office (巡视办)"
    )
    assert refused(app, lambda: decide(app, approve=True)) == (
        f"task {TASK} has no pending extension request"
    )
    request(app, role="office")
    for role, title in (
        ("unit_liaison", "被巡视单位联络员"),
        ("party_secretary", "被巡视党组织书记"),
    ):
        assert refused(app, lambda role=role: decide(app, approve=False, role=role)) == (
            f"task {TASK}: role {role} ({title}) may not reject an extension request; "
            "allowed: office (巡视办)"
        )
    assert refused(app, lambda: decide(app, approve=True, role="nobody")) == (
        f"task {TASK}: role nobody (nobody) may not approve an extension request; allowed: "
        "office (巡视办)"
    )


def test_a_blank_reason_is_bad_input(rect: Rectifying, app: App) -> None:
    refused(
        app,
        lambda: app.services.extensions.request(
            TASK, LATER, reason="  ", actor=LIAISON, role="unit_liaison"
        ),
        BadInput,
    )
    request(app)
    refused(
        app,
        lambda: app.services.extensions.decide(
            TASK, approve=True, reason="", actor=OFFICE, role="office"
        ),
        BadInput,
    )


def test_an_approval_after_the_office_moved_the_date_past_the_request_is_refused(
    rect: Rectifying, app: App
) -> None:
    request(app)
    app.services.items.update_task(
        TASK, TaskChanges(due_on=date(2024, 12, 31)), actor=OFFICE, role="office"
    )
    assert refused(app, lambda: decide(app, approve=True)) == (
        f"task {TASK}: the request asks for 2024-11-29, but the due date has changed since "
        "(now 2024-12-31); reject it instead"
    )
    decide(app, approve=False)
    assert task_due(rect) == date(2024, 12, 31)


def test_only_the_office_moves_a_due_date_directly(rect: Rectifying, app: App) -> None:
    for changes in (TaskChanges(due_on=LATER), TaskChanges(long_term=True)):
        assert refused(
            app,
            lambda changes=changes: app.services.items.update_task(
                TASK, changes, actor=LIAISON, role="unit_liaison"
            ),
        ) == (
            f"task {TASK}: role unit_liaison (被巡视单位联络员) may not change the due date; "
            "allowed: office (巡视办); ask for more time with `xunshi task extend`"
        )
    # Other facts and progress stay the unit's to change.
    app.services.items.update_task(
        TASK, TaskChanges(responsible_person="孙科员", progress="进行中"), actor=LIAISON,
        role="unit_liaison",
    )  # fmt: skip
    app.services.items.update_task(TASK, TaskChanges(due_on=LATER), actor=OFFICE, role="office")
    assert task_due(rect) == LATER


# -- the ledger and the audit ------------------------------------------------------------------


def ledger_cells(app: App) -> list[tuple[Any, Any, Any]]:
    """(完成时限, 原定完成时限, 延期情况) of each ledger row."""
    rows = app.services.read.ledger.of(ROUND).rows
    return [(r["完成时限"], r["原定完成时限"], r["延期情况"]) for r in rows]


def test_the_ledger_shows_the_original_and_approved_dates(
    rect: Rectifying, app: App, clock: ManualClock
) -> None:
    assert ledger_cells(app) == [(DUE, None, "")]
    request(app)
    assert ledger_cells(app) == [(DUE, None, "延期申请待审批")]
    decide(app, approve=False)
    assert ledger_cells(app) == [(DUE, None, "延期申请已驳回")]
    request(app, to=date(2024, 11, 15))
    decide(app, approve=True)
    assert ledger_cells(app) == [(date(2024, 11, 15), DUE, "已批准延期至 2024-11-15")]
    request(app, to=LATER)
    decide(app, approve=True)
    # The original date is the one before the first approved extension.
    assert ledger_cells(app) == [(LATER, DUE, "已批准延期至 2024-11-29")]
    request(app, to=date(2024, 12, 31))
    assert ledger_cells(app) == [(LATER, DUE, "延期申请待审批")]


def test_audit_verify_replays_the_requests_and_names_an_edited_row(
    rect: Rectifying, app: App
) -> None:
    request(app)
    decide(app, approve=False)
    assert app.services.audit.verify().ok
    rect.sql("UPDATE task_extensions SET status = 'approved'")
    problems = [str(p) for p in app.services.audit.verify().problems]
    assert problems == [
        f"item {P01} seq {len(rect.history(P01))}: extension request 1: row says status = "
        "'approved', history replays to 'rejected'"
    ]
    rect.sql("UPDATE task_extensions SET status = 'rejected'")
    rect.sql("UPDATE rectification_task SET due_on = '2024-11-29'")
    assert not app.services.audit.verify().ok
