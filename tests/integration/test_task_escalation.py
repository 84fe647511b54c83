"""Task deadlines escalate up the rectification ladder, on every backend (DESIGN §5).

The `rectification` definition's default ladder, counted from each task's own due date:
level 0 at -5wd (整改到期提醒, 提醒), 1 at 0 (整改超期预警, 预警), 2 at +5wd (整改督办, 督办函),
3 at +10wd (约谈主要负责人) and 4 at +20wd (问责建议); levels 3 and 4 are decision rungs, raised
as proposals the office decides. For a task due Thursday 2024-10-31 the rungs fire at
(Asia/Shanghai): 10-24 00:00, 11-01 00:00, 11-08 00:00, 11-15 00:00 and 11-29 00:00.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from rectification_helpers import ROUND, Rectifying, shanghai, sweep
from sqlalchemy import select

from xunshi.bootstrap import App
from xunshi.services.commands import TaskChanges
from xunshi.services.rectification import TaskRef
from xunshi.storage import queries as q
from xunshi.workflow.clock import ManualClock

P01 = f"{ROUND}/U01/P01"
LABEL = f"item {P01}"
DUE = date(2024, 10, 31)
RUNGS = (
    (0, shanghai(2024, 10, 24)),
    (1, shanghai(2024, 11, 1)),
    (2, shanghai(2024, 11, 8)),  # +5wd: 11-07
    (3, shanghai(2024, 11, 15)),  # +10wd: 11-14
    (4, shanghai(2024, 11, 29)),  # +20wd: 11-28
)


@pytest.fixture
def rect(app: App, clock: ManualClock) -> Rectifying:
    """Case 2024-R1/U01 with item P01, identified (tasks are added before it is planned)."""
    world = Rectifying(app, clock)
    world.case("U01")
    world.item("U01", "P01")
    return world


@pytest.fixture
def task(rect: Rectifying) -> TaskRef:
    """Task #1 of P01, due 2024-10-31; the item then moves on to rectifying."""
    added = rect.task(P01, DUE)
    rect.begin(P01)  # leaving a stage retires the stage's timer, never a task's
    return added


def task_timers(app: App, task_id: int) -> list[tuple[str, int, int, date, Any]]:
    """(status, level, generation, due date, fire_at) of the task's timers, by id."""
    t = q.timers
    with app.db.transaction() as conn:
        rows = conn.execute(
            select(t.c.status, t.c.level, t.c.generation, t.c.due_on, t.c.fire_at)
            .where(t.c.task_id == task_id)
            .order_by(t.c.id)
        )
        return [tuple(row) for row in rows]


def item_escalations(app: App) -> list[tuple[str, str, str, int | None, int, date, bool]]:
    """(case, stage, stage title, task, level, due date, open) of the item escalations."""
    views = app.services.read.escalations.many()
    return [
        (v.case, v.stage, v.stage_title, v.task_id or None, v.level, v.due_on, v.open)
        for v in views
        if v.case.count("/") == 2
    ]


def test_a_task_escalates_once_per_rung_at_the_rung_instants(
    rect: Rectifying, app: App, clock: ManualClock, task: TaskRef
) -> None:
    assert task_timers(app, task.id) == [("pending", 0, 1, DUE, RUNGS[0][1])]
    clock.set(shanghai(2024, 10, 23, 23, 59))
    assert sweep(app, LABEL) == []
    for level, instant in RUNGS:
        clock.set(instant)
        assert sweep(app, LABEL) == [(task.id, level, DUE)], f"rung {level}"
        assert sweep(app, LABEL) == [], f"rung {level} raised twice"
    clock.set(shanghai(2025, 6, 30))
    assert sweep(app, LABEL) == []
    assert task_timers(app, task.id) == [("done", 4, 1, DUE, RUNGS[4][1])]
    assert item_escalations(app) == [
        (P01, "", "任务 #1", task.id, level, DUE, True) for level in range(5)
    ]
    escalations = [
        (e.kind, e.trigger, e.actor, e.reason, e.data["task"], e.data["level"])
        for e in rect.history(P01)
        if e.kind == "escalation"
    ]
    assert escalations == [
        ("escalation", "level0", "xunshi", "整改到期提醒", task.id, 0),
        ("escalation", "level1", "xunshi", "整改超期预警", task.id, 1),
        ("escalation", "level2", "xunshi", "整改督办", task.id, 2),
        ("escalation", "level3", "xunshi", "约谈主要负责人", task.id, 3),
        ("escalation", "level4", "xunshi", "问责建议", task.id, 4),
    ]
    # 约谈 and 问责建议 wait for the office's decision.
    rows = [v for v in app.services.read.escalations.many() if v.task_id == task.id]
    assert [(v.level, v.instrument, v.recipient, v.decision) for v in rows] == [
        (0, "提醒", "unit_liaison", None),
        (1, "预警", "unit_liaison", None),
        (2, "督办函", "party_secretary", None),
        (3, "约谈", "party_secretary", "pending"),
        (4, "问责建议", "party_secretary", "pending"),
    ]
    assert app.services.audit.verify().ok


def test_after_downtime_one_sweep_raises_every_missed_rung_once_in_ladder_order(
    rect: Rectifying, app: App, clock: ManualClock, task: TaskRef
) -> None:
    clock.set(shanghai(2025, 1, 6))
    assert sweep(app, LABEL) == [(task.id, level, DUE) for level in range(5)]
    assert sweep(app, LABEL) == []
    views = app.services.read.escalations.many(open_only=True, round_code=ROUND, level=2)
    assert [(v.case, v.task_id, v.title, v.notify) for v in views if v.case == P01] == [
        (P01, task.id, "整改督办", ("party_secretary", "office", "discipline_group"))
    ]


def test_a_task_done_before_its_due_date_never_escalates(
    rect: Rectifying, app: App, clock: ManualClock, task: TaskRef
) -> None:
    clock.set(shanghai(2024, 10, 20, 10))
    rect.done(str(task.id))
    assert task_timers(app, task.id) == [("superseded", 0, 1, DUE, RUNGS[0][1])]
    clock.set(shanghai(2025, 3, 31))
    assert sweep(app, LABEL) == []
    assert item_escalations(app) == []


def test_a_task_done_after_the_reminder_but_before_due_gets_only_the_reminder(
    rect: Rectifying, app: App, clock: ManualClock, task: TaskRef
) -> None:
    clock.set(shanghai(2024, 10, 24, 8))
    assert sweep(app, LABEL) == [(task.id, 0, DUE)]
    clock.set(shanghai(2024, 10, 31, 17))  # on the due date: in time
    rect.done(str(task.id))
    clock.set(shanghai(2025, 3, 31))
    assert sweep(app, LABEL) == []
    assert item_escalations(app) == [(P01, "", "任务 #1", task.id, 0, DUE, False)]


def test_completing_a_task_after_rung_one_stops_the_later_rungs_and_closes_its_escalations(
    rect: Rectifying, app: App, clock: ManualClock, task: TaskRef
) -> None:
    clock.set(shanghai(2024, 11, 1, 9))
    assert sweep(app, LABEL) == [(task.id, 0, DUE), (task.id, 1, DUE)]
    assert [row[-1] for row in item_escalations(app)] == [True, True]
    clock.set(shanghai(2024, 11, 5, 9))
    rect.done(str(task.id))
    clock.set(shanghai(2025, 3, 31))
    assert sweep(app, LABEL) == []
    assert item_escalations(app) == [
        (P01, "", "任务 #1", task.id, 0, DUE, False),
        (P01, "", "任务 #1", task.id, 1, DUE, False),
    ]
    assert [v for v in app.services.read.escalations.many(open_only=True) if v.task_id] == []


def test_moving_the_due_date_before_any_rung_reschedules_the_ladder(
    rect: Rectifying, app: App, clock: ManualClock, task: TaskRef
) -> None:
    clock.set(shanghai(2024, 10, 10, 9))
    rect.svc.update_task(
        str(task.id), TaskChanges(due_on=date(2024, 11, 29)), actor="王主任", role="office"
    )
    # 5 working days before Friday 11-29: Friday 11-22.
    assert task_timers(app, task.id) == [
        ("superseded", 0, 1, DUE, RUNGS[0][1]),
        ("pending", 0, 2, date(2024, 11, 29), shanghai(2024, 11, 22)),
    ]
    clock.set(shanghai(2024, 11, 21, 23, 59))
    assert sweep(app, LABEL) == []  # neither the old reminder nor the old overdue rung
    clock.set(shanghai(2024, 11, 22))
    assert sweep(app, LABEL) == [(task.id, 0, date(2024, 11, 29))]
    clock.set(shanghai(2024, 11, 30))
    assert sweep(app, LABEL) == [(task.id, 1, date(2024, 11, 29))]


def test_moving_the_due_date_after_a_rung_raises_only_the_rungs_not_raised_yet(
    rect: Rectifying, app: App, clock: ManualClock, task: TaskRef
) -> None:
    clock.set(shanghai(2024, 11, 4, 9))
    assert sweep(app, LABEL) == [(task.id, 0, DUE), (task.id, 1, DUE)]
    rect.svc.update_task(
        f"{P01}#1",
        TaskChanges(due_on=date(2024, 12, 31), progress="经批准延期"),
        actor="王主任",
        role="office",
    )
    clock.set(shanghai(2024, 12, 31, 18))
    assert sweep(app, LABEL) == []  # the reminder of 12-24 was raised already (for 10-31)
    clock.set(shanghai(2025, 1, 1))
    assert sweep(app, LABEL) == []  # so was the overdue rung
    # +5 working days after 2024-12-31 (01-01 is a holiday): 2025-01-08; the rung fires
    # at the first instant of the next day.
    clock.set(shanghai(2025, 1, 8, 23, 59))
    assert sweep(app, LABEL) == []
    clock.set(shanghai(2025, 1, 9))
    assert sweep(app, LABEL) == [(task.id, 2, date(2024, 12, 31))]


def test_a_long_term_task_has_no_timer_until_it_gets_a_due_date(
    rect: Rectifying, app: App, clock: ManualClock
) -> None:
    rect.begin(P01)
    task = rect.task(P01, None)
    assert task_timers(app, task.id) == []
    rect.svc.update_task(str(task.id), TaskChanges(due_on=DUE), actor="王主任", role="office")
    assert task_timers(app, task.id) == [("pending", 0, 1, DUE, RUNGS[0][1])]
    clock.set(RUNGS[1][1])
    assert sweep(app, LABEL) == [(task.id, 0, DUE), (task.id, 1, DUE)]


def test_each_task_of_an_item_climbs_its_own_ladder(
    rect: Rectifying, app: App, clock: ManualClock, task: TaskRef
) -> None:
    later = rect.task(P01, date(2024, 11, 29))
    done = rect.task(P01, date(2024, 11, 1))
    rect.done(str(done.id))
    clock.set(shanghai(2024, 11, 30))
    # Each pass of the sweep claims every task's next rung (one timer per task), so the
    # rungs of one task come in ladder order and the tasks take turns.
    assert sweep(app, LABEL) == [
        (task.id, 0, DUE),
        (later.id, 0, date(2024, 11, 29)),
        (task.id, 1, DUE),
        (later.id, 1, date(2024, 11, 29)),
        (task.id, 2, DUE),
        (task.id, 3, DUE),
        (task.id, 4, DUE),
    ]
    assert [(row[2], row[3], row[4]) for row in item_escalations(app)] == [
        ("任务 #1", task.id, 0),
        ("任务 #2", later.id, 0),
        ("任务 #1", task.id, 1),
        ("任务 #2", later.id, 1),
        ("任务 #1", task.id, 2),
        ("任务 #1", task.id, 3),
        ("任务 #1", task.id, 4),
    ]
