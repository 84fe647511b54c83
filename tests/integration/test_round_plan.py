"""The round plan drives due dates; round-wide events reach every matching case or none.

Issue #9 (1, 2), on every backend. The world: round 2025-R1 starts Monday 2025-03-03; a
plan sheet puts U01, U02 (group G1) and U03 (G2) in batch B1 (moves in 2025-03-10, leaves
2025-04-18), U04 and U05 in batch B2 (2025-05-12 to 2025-06-20), and U06 in no batch, all
on `regular_planned`: the built-in `regular` with 巡前准备 due on the batch's move-in date
and 现场巡视 on its leave date (else 15wd and 30wd from entry).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from escalation_helpers import SHANGHAI, instance, live_timer, sh, timers
from sqlalchemy import select
from worlds import snapshot

from xunshi.bootstrap import App
from xunshi.errors import BadInput, NotFound, Refused
from xunshi.services.commands import CaseFilter
from xunshi.services.rounds import RoundEventRefused
from xunshi.storage import queries as q
from xunshi.workflow.audit import Event
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.schedule import Rung

BUILTIN = Path(__file__).parents[2] / "xunshi" / "definitions" / "builtin"
ROUND = "2025-R1"
HEADER = (
    "轮次",
    "巡视组",
    "组长",
    "单位代码",
    "单位名称",
    "巡视类型",
    "批次",
    "进驻日期",
    "撤离日期",
)
# group, leader, unit, its name, batch, move-in, leave: on `regular_planned` in the round.
_ROWS = (
    ("G1", "组长甲", "U01", "示例市财政局", "B1", "2025-03-10", "2025-04-18"),
    ("G1", "组长甲", "U02", "示例市审计局", "B1", "", ""),
    ("G2", "组长乙", "U03", "示例市统计局", "B1", "2025/3/10", ""),
    ("G1", "组长甲", "U04", "示例市人民医院", "B2", "2025-05-12", "2025-06-20"),
    ("G2", "组长乙", "U05", "示例市某某区", "B2", "", ""),
    ("G2", "组长乙", "U06", "示例市某某县", "", "", ""),
)
PLAN_ROWS = [
    (ROUND, g, leader, u, name, "regular_planned", *plan) for g, leader, u, name, *plan in _ROWS
]
B1 = ("U01", "U02", "U03")


# The first built-in `regular` (xunshi 0.1: 巡前准备, 动员部署, 现场巡视, …): the plan's
# mechanics are tested on its stages, whatever the built-ins become.
REGULAR_V1 = Path(__file__).resolve().parents[1] / "fixtures" / "v1" / "regular.yaml"


def planned_definition() -> str:
    """The first `regular` with its first and on-site stages due on the round plan's dates."""
    text = REGULAR_V1.read_text(encoding="utf-8")
    text = text.replace("\nname: regular\n", "\nname: regular_planned\n")
    text = text.replace("    due: 15wd\n", "    due: {plan: move_in, else: 15wd}\n", 1)
    text = text.replace("    due: 30wd\n", "    due: {plan: leave, else: 30wd}\n", 1)
    assert text.count("plan:") == 2
    return text


def write_plan(path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> Path:
    """A plan sheet (CSV) with `rows` under `header`."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def planned(app: App, clock: ManualClock, tmp_path: Path) -> App:
    """The world of the module docstring, imported on 2025-03-03 09:00."""
    clock.set(sh(2025, 3, 3, 9))
    app.services.definitions.load(planned_definition(), "regular_planned.yaml", "巡视办")
    app.services.cases.create_round(ROUND, "2025年第一轮巡视", date(2025, 3, 3))
    imported = app.services.cases.import_plan(
        write_plan(tmp_path / "plan.csv", PLAN_ROWS), actor="巡视办"
    )
    assert (len(imported.cases), imported.batches) == (6, 2)
    return app


def key(unit: str) -> str:
    """The case of `unit` in the round."""
    return f"{ROUND}/{unit}"


def due(app: App, unit: str) -> date:
    """The due date of the case's current stage."""
    found = instance(app, key(unit))["due_on"]
    assert isinstance(found, date)
    return found


def history(app: App, unit: str) -> list[Event]:
    """The case's history."""
    return list(app.services.read.history.of(key(unit), "case").events)


def move_onsite(app: App, batch: str, actor: str = "组长甲") -> None:
    """Take every case of `batch` from 巡前准备 to 现场巡视 with round-wide events."""
    rounds, only = app.services.rounds, CaseFilter(batch=batch)
    for milestone in ("briefings_received", "training_done"):
        rounds.record(ROUND, milestone, cases=only, actor="巡视办", role="office")
    rounds.fire(ROUND, "move_in", cases=only, actor=actor, role="group_leader")
    for milestone in ("mobilization_meeting", "contacts_published"):
        rounds.record(ROUND, milestone, cases=only, actor=actor, role="group_leader")
    rounds.fire(ROUND, "start_onsite", cases=only, actor=actor, role="group_leader")


def onsite_raised(app: App, at: datetime) -> list[tuple[str, int, date]]:
    """Sweep at `at`: the (case, level, due date) of each on-site rung raised."""
    clock = app.clock
    assert isinstance(clock, ManualClock)
    clock.set(at)
    result = app.services.escalations.sweep()
    return sorted((str(r.key), r.level, r.due_on) for r in result.raised if r.stage == "onsite")


# -- the plan drives due dates ----------------------------------------------------------------


def test_a_plan_sheet_with_two_batches_dates_each_case_from_its_batch(planned: App) -> None:
    app = planned
    # 巡前准备 is due when the batch moves in; a case in no batch counts 15wd from entry.
    assert [due(app, u) for u in ("U01", "U02", "U03", "U04", "U05")] == [date(2025, 3, 10)] * 3 + [
        date(2025, 5, 12)
    ] * 2
    assert due(app, "U06") == date(2025, 3, 24)
    assert live_timer(app, instance(app, key("U01"))["id"])["fire_at"] == sh(2025, 3, 5)

    shown = app.services.read.rounds.plan(ROUND)
    assert [(b.code, b.move_in_on, b.leave_on, b.groups, b.units) for b in shown.batches] == [
        ("B1", date(2025, 3, 10), date(2025, 4, 18), ("G1", "G2"), B1),
        ("B2", date(2025, 5, 12), date(2025, 6, 20), ("G1", "G2"), ("U04", "U05")),
    ]
    assert shown.unbatched is not None
    assert (shown.unbatched.groups, shown.unbatched.units) == (("G2",), ("U06",))

    app.clock.set(sh(2025, 3, 11, 9))  # type: ignore[attr-defined]
    move_onsite(app, "B1")
    # 现场巡视 is due on the batch's leave date: the date itself, its first rung -3wd.
    assert [due(app, u) for u in B1] == [date(2025, 4, 18)] * 3
    assert live_timer(app, instance(app, key("U01"))["id"])["fire_at"] == sh(2025, 4, 15)


def test_changing_a_batchs_leave_date_moves_its_onsite_deadlines_timers_and_sweep(
    planned: App, clock: ManualClock
) -> None:
    app = planned
    clock.set(sh(2025, 3, 11, 9))
    move_onsite(app, "B1")
    old_timers = {u: live_timer(app, instance(app, key(u))["id"]) for u in B1}
    untouched = {u: instance(app, key(u)) for u in ("U04", "U05", "U06")}

    clock.set(sh(2025, 3, 20, 10))
    changed = app.services.rounds.plan(
        ROUND, "B1", leave=date(2025, 4, 25), actor="巡视办", reason="延长现场巡视"
    )

    assert (changed.leave.old, changed.leave.new, changed.created) == (
        date(2025, 4, 18),
        date(2025, 4, 25),
        False,
    )
    assert [str(m.key) for m in changed.rescheduled] == [key(u) for u in B1]
    for unit in B1:
        assert due(app, unit) == date(2025, 4, 25)
        row = instance(app, key(unit))
        timer = live_timer(app, row["id"])
        assert (timer["level"], timer["fire_at"], timer["due_on"]) == (
            0,
            sh(2025, 4, 22),
            date(2025, 4, 25),
        )
        old = [t for t in timers(app, row["id"]) if t["id"] == old_timers[unit]["id"]]
        assert old[0]["status"] == "superseded"
        [moved] = [e for e in history(app, unit) if e.kind == "deadline"]
        assert (moved.trigger, moved.actor, moved.role) == ("plan", "巡视办", None)
        assert moved.occurred_at == sh(2025, 3, 20, 10)
        assert moved.data == {
            "round": ROUND,
            "batch": "B1",
            "round_event": changed.round_event,
            "stage": "onsite",
            "due_on": {"old": "2025-04-18", "new": "2025-04-25"},
            "provisional": {"old": False, "new": False},
            "rung": {
                "old": {"level": 0, "fire_at": "2025-04-15T00:00:00+08:00", "provisional": False},
                "new": {"level": 0, "fire_at": "2025-04-22T00:00:00+08:00", "provisional": False},
            },
        }
        assert moved.reason == (
            "plan of round 2025-R1, batch B1 撤离日期 2025-04-18 → 2025-04-25: "
            "due 2025-04-18 → 2025-04-25, next rung level 0 at 2025-04-15 00:00 → "
            "level 0 at 2025-04-22 00:00"
        )
    # Other batches, cases in no batch, and stages not due on the leave date stay.
    assert {u: instance(app, key(u)) for u in ("U04", "U05", "U06")} == untouched

    [plan_event] = [
        e for e in app.services.read.rounds.events(ROUND) if e.id == changed.round_event
    ]
    assert (plan_event.kind, plan_event.name, plan_event.count) == ("plan", "B1", 3)
    assert plan_event.data == {
        "created": False,
        "move_in_on": {"old": "2025-03-10", "new": "2025-03-10"},
        "leave_on": {"old": "2025-04-18", "new": "2025-04-25"},
    }
    assert (plan_event.actor, plan_event.reason) == ("巡视办", "延长现场巡视")

    # The sweep follows the new dates: nothing at the old ones, each rung at the new ones.
    assert onsite_raised(app, sh(2025, 4, 21, 12)) == []
    assert onsite_raised(app, sh(2025, 4, 22, 1)) == [(key(u), 0, date(2025, 4, 25)) for u in B1]
    assert onsite_raised(app, sh(2025, 4, 25, 23)) == []
    assert onsite_raised(app, sh(2025, 4, 26, 1)) == [(key(u), 1, date(2025, 4, 25)) for u in B1]
    assert app.services.audit.verify().ok


def test_changing_a_move_in_date_moves_the_preparation_deadlines_of_its_batch(
    planned: App, clock: ManualClock
) -> None:
    clock.set(sh(2025, 3, 20, 10))
    changed = planned.services.rounds.plan(ROUND, "B2", move_in=date(2025, 5, 19), actor="巡视办")

    assert [(str(m.key), m.stage, m.old_due_on, m.new_due_on) for m in changed.rescheduled] == [
        (key("U04"), "preparation", date(2025, 5, 12), date(2025, 5, 19)),
        (key("U05"), "preparation", date(2025, 5, 12), date(2025, 5, 19)),
    ]
    assert (due(planned, "U01"), due(planned, "U06")) == (date(2025, 3, 10), date(2025, 3, 24))


def test_a_suspended_case_keeps_its_pause_on_top_of_the_new_plan_date(
    planned: App, clock: ManualClock
) -> None:
    app = planned
    clock.set(sh(2025, 3, 11, 9))
    move_onsite(app, "B1")
    clock.set(sh(2025, 3, 24, 9))
    app.services.cases.suspend(key("U02"), actor="巡视办", role="office", reason="召回")
    clock.set(sh(2025, 3, 31, 9))
    app.services.cases.resume(key("U02"), actor="巡视办", role="office")
    cal = app.services.read.catalog.calendar()
    assert due(app, "U02") == cal.add_working_days(date(2025, 4, 18), 5)

    clock.set(sh(2025, 4, 1, 9))
    app.services.rounds.plan(ROUND, "B1", leave=date(2025, 4, 25), actor="巡视办")

    assert due(app, "U02") == cal.add_working_days(date(2025, 4, 25), 5)
    assert due(app, "U01") == date(2025, 4, 25)


def test_a_new_batch_is_planned_and_a_case_started_in_it(planned: App, clock: ManualClock) -> None:
    app = planned
    changed = app.services.rounds.plan(
        ROUND, "B3", move_in=date(2025, 7, 1), leave=date(2025, 8, 15), actor="巡视办"
    )
    assert (changed.created, changed.rescheduled) == (True, ())
    app.services.cases.add_unit("U07", "示例市市场监督管理局")

    app.services.cases.start_case(
        round_code=ROUND,
        unit_code="U07",
        group_code="g1",
        definition="regular_planned",
        actor="巡视办",
        batch="b3",
    )

    assert due(app, "U07") == date(2025, 7, 1)
    assert [b.units for b in app.services.read.rounds.plan(ROUND).batches][-1] == ("U07",)


def test_a_stage_due_on_a_date_the_plan_lacks_is_not_entered(app: App, clock: ManualClock) -> None:
    clock.set(sh(2025, 3, 3, 9))
    strict = (
        planned_definition()
        .replace("name: regular_planned", "name: regular_strict")
        .replace("due: {plan: leave, else: 30wd}", "due: plan.leave")
    )
    app.services.definitions.load(strict, "regular_strict.yaml", "巡视办")
    cases = app.services.cases
    cases.create_round(ROUND, "2025年第一轮巡视", date(2025, 3, 3))
    cases.add_group(ROUND, "G1", "组长甲")
    app.services.rounds.plan(ROUND, "B1", move_in=date(2025, 3, 10), actor="巡视办")
    for unit, batch in (("U01", None), ("U02", "B1")):
        cases.add_unit(unit, f"单位{unit}")
        cases.start_case(
            round_code=ROUND,
            unit_code=unit,
            group_code="G1",
            definition="regular_strict",
            actor="巡视办",
            batch=batch,
        )
    clock.set(sh(2025, 3, 11, 9))
    app.services.rounds.record(ROUND, "briefings_received", actor="巡视办", role="office")
    app.services.rounds.record(ROUND, "training_done", actor="巡视办", role="office")
    app.services.rounds.fire(ROUND, "move_in", actor="组长甲", role="group_leader")
    app.services.rounds.record(ROUND, "mobilization_meeting", actor="组长甲", role="group_leader")
    app.services.rounds.record(ROUND, "contacts_published", actor="组长甲", role="group_leader")
    before = snapshot(app)

    with pytest.raises(RoundEventRefused) as refused:
        app.services.rounds.fire(ROUND, "start_onsite", actor="组长甲", role="group_leader")

    assert refused.value.message.splitlines() == [
        "2 of 2 cases of round 2025-R1 cannot start_onsite; nothing was written:",
        "  case 2025-R1/U01 cannot start_onsite: 现场巡视 (onsite) is due on the plan's 撤离日期 "
        "(plan.leave), and the case is in no batch of its round's plan",
        "  case 2025-R1/U02 cannot start_onsite: 现场巡视 (onsite) is due on the plan's 撤离日期 "
        "(plan.leave), and its batch B1 has no 撤离日期 yet (set it with `xunshi round plan`)",
    ]
    assert snapshot(app) == before

    app.services.rounds.plan(ROUND, "B1", leave=date(2025, 4, 18), actor="巡视办")
    app.services.cases.fire(key("U02"), "start_onsite", actor="组长甲", role="group_leader")
    assert due(app, "U02") == date(2025, 4, 18)


def test_plan_changes_that_cannot_be_are_refused_and_write_nothing(
    planned: App, clock: ManualClock
) -> None:
    app = planned
    clock.set(sh(2025, 3, 11, 9))
    move_onsite(app, "B1")
    before = snapshot(app)
    plan = app.services.rounds.plan

    refusals = [
        (Refused, lambda: plan(ROUND, "B1", leave=date(2025, 4, 18), actor="甲")),
        (BadInput, lambda: plan(ROUND, "B1", leave=date(2025, 3, 1), actor="甲")),
        (BadInput, lambda: plan(ROUND, "B9", move_in=date(2025, 3, 1), actor="甲")),
        (BadInput, lambda: plan(ROUND, "B1", actor="甲")),
        (NotFound, lambda: plan("2025-R9", "B1", leave=date(2025, 4, 25), actor="甲")),
        (
            BadInput,
            lambda: plan(ROUND, "B1", leave=date(2025, 4, 25), actor="甲", at=sh(2025, 3, 10)),
        ),
    ]
    messages = []
    for kind, attempt in refusals:
        with pytest.raises(kind) as refused:
            attempt()
        messages.append(refused.value.message)

    assert messages == [
        "batch B1 of round 2025-R1 is already planned with 进驻日期 2025-03-10, 撤离日期 "
        "2025-04-18: nothing to change",
        "batch B1 would leave on 2025-03-01, before it moves in (2025-03-10)",
        "batch B9 would move in on 2025-03-01, before round 2025-R1 starts (2025-03-03)",
        "nothing to plan: give --move-in, --leave or both",
        "round 2025-R9 does not exist",
        "time 2025-03-10 00:00 is earlier than the last event of case 2025-R1/U01 "
        "(2025-03-11 09:00)",
    ]
    assert snapshot(app) == before


# -- round-wide events ------------------------------------------------------------------------


@pytest.fixture
def eighteen(app: App, clock: ManualClock, tmp_path: Path) -> App:
    """Round 2025-R1 with 18 cases of the first `regular` (as `regular_v1`) in batch B1
    (groups G1-G3) and 2 in B2."""
    clock.set(sh(2025, 3, 3, 9))
    first = REGULAR_V1.read_text(encoding="utf-8").replace(
        "\nname: regular\n", "\nname: regular_v1\n"
    )
    app.services.definitions.load(first, "regular_v1.yaml", "巡视办")
    app.services.cases.create_round(ROUND, "2025年第一轮巡视", date(2025, 3, 3))
    rows = [
        (
            ROUND,
            f"G{n % 3 + 1}",
            f"组长{n % 3 + 1}",
            f"U{n:02d}",
            f"单位{n:02d}",
            "regular_v1",
            "B1",
        )
        for n in range(1, 19)
    ] + [(ROUND, "G1", "组长1", f"U{n:02d}", f"单位{n:02d}", "regular_v1", "B2") for n in (19, 20)]
    header = HEADER[:7]
    app.services.cases.import_plan(write_plan(tmp_path / "plan.csv", rows, header), actor="巡视办")
    clock.set(sh(2025, 3, 4, 9))
    return app


def round_event_ids(app: App, unit: str) -> list[Any]:
    """The `round_event` of each event in the case's history (None where there is none)."""
    return [e.data.get("round_event") for e in history(app, unit)]


def test_a_round_event_on_a_batch_of_18_cases_writes_18_events_with_one_id(
    eighteen: App,
) -> None:
    app = eighteen
    done = app.services.rounds.record(
        ROUND,
        "briefings_received",
        cases=CaseFilter(batch="B1"),
        actor="巡视办",
        role="office",
        at=sh(2025, 3, 4, 8),
        reason="巡前通报会",
    )

    assert len(done.changes) == 18
    assert [str(c.key) for c in done.changes] == [key(f"U{n:02d}") for n in range(1, 19)]
    e = q.events
    with app.db.transaction() as conn:
        rows = conn.execute(select(e.c.instance_id, e.c.data).where(e.c.kind == "milestone")).all()
    assert len(rows) == 18
    assert all(f'"round_event":{done.id}' in row.data for row in rows)
    for change in done.changes:
        event = change.event
        assert (event.kind, event.actor, event.role, event.reason) == (
            "milestone",
            "巡视办",
            "office",
            "巡前通报会",
        )
        assert event.data == {"milestone": "briefings_received", "round_event": done.id}
        assert event.occurred_at == sh(2025, 3, 4, 8)
    assert round_event_ids(app, "U19") == [None]  # B2 is not touched
    [listed] = app.services.read.rounds.events(ROUND)
    assert (listed.id, listed.kind, listed.name, listed.count) == (
        done.id,
        "milestone",
        "briefings_received",
        18,
    )
    assert listed.filters == {"batch": "B1", "group": None, "units": []}
    assert (listed.role, listed.reason, listed.occurred_at) == (
        "office",
        "巡前通报会",
        sh(2025, 3, 4, 8),
    )
    assert app.services.audit.verify().ok


def test_if_one_of_18_cases_cannot_take_it_nothing_is_written_and_it_is_named(
    eighteen: App,
) -> None:
    app = eighteen
    app.services.cases.record_milestone(
        key("U07"), "briefings_received", actor="巡视办", role="office"
    )
    before = snapshot(app)

    with pytest.raises(RoundEventRefused) as refused:
        app.services.rounds.record(
            ROUND, "briefings_received", cases=CaseFilter(batch="B1"), actor="巡视办", role="office"
        )

    assert refused.value.message == (
        "1 of 18 cases of round 2025-R1 cannot record briefings_received; nothing was written:\n"
        "  case 2025-R1/U07: milestone briefings_received (听取有关部门情况通报) was already "
        "recorded at 2025-03-04 09:00"
    )
    assert refused.value.refusals == (
        "case 2025-R1/U07: milestone briefings_received (听取有关部门情况通报) was already "
        "recorded at 2025-03-04 09:00",
    )
    assert snapshot(app) == before
    assert app.services.read.rounds.events(ROUND) == ()


def test_a_round_fire_moves_every_matching_case_with_one_id(eighteen: App) -> None:
    app = eighteen
    rounds = app.services.rounds
    g2 = CaseFilter(batch="B1", group="G2")
    for milestone in ("briefings_received", "training_done"):
        rounds.record(ROUND, milestone, cases=g2, actor="巡视办", role="office")

    done = rounds.fire(ROUND, "move_in", cases=g2, actor="组长2", role="group_leader")

    assert [str(c.key) for c in done.changes] == [
        key(f"U{n:02d}") for n in range(1, 19) if n % 3 == 1
    ]
    for change in done.changes:
        assert (change.event.kind, change.event.trigger, change.instance.state) == (
            "transition",
            "move_in",
            "mobilization",
        )
        assert change.event.data == {"round_event": done.id}
    assert [e.count for e in rounds_events(app)] == [6, 6, 6]


def rounds_events(app: App) -> list[Any]:
    """The round's events."""
    return list(app.services.read.rounds.events(ROUND))


def test_a_round_fire_names_each_case_that_cannot_take_it(eighteen: App) -> None:
    app = eighteen
    units = CaseFilter(units=("U01", "u02", "U19"))
    app.services.rounds.record(ROUND, "briefings_received", cases=units, actor="甲", role="office")
    app.services.cases.record_milestone(key("U02"), "training_done", actor="甲", role="office")
    before = snapshot(app)

    with pytest.raises(RoundEventRefused) as refused:
        app.services.rounds.fire(ROUND, "move_in", cases=units, actor="甲", role="group_leader")

    assert refused.value.refusals == (
        "case 2025-R1/U01 cannot move_in: milestone training_done (巡前培训) not recorded",
        "case 2025-R1/U19 cannot move_in: milestone training_done (巡前培训) not recorded",
    )
    assert refused.value.message.splitlines()[0] == (
        "2 of 3 cases of round 2025-R1 cannot move_in; nothing was written:"
    )
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("cases", "message"),
    [
        (CaseFilter(batch="B9"), "batch B9 does not exist in round 2025-R1"),
        (CaseFilter(group="G9"), "group G9 does not exist in round 2025-R1"),
        (CaseFilter(units=("U01", "U99")), "unit U99 has no case in round 2025-R1"),
        (CaseFilter(batch="B2", group="G2"), "no case of round 2025-R1 matches batch B2, group G2"),
    ],
)
def test_a_filter_that_names_nothing_is_refused(
    eighteen: App, cases: CaseFilter, message: str
) -> None:
    before = snapshot(eighteen)

    with pytest.raises(NotFound) as refused:
        eighteen.services.rounds.record(
            ROUND, "briefings_received", cases=cases, actor="甲", role="office"
        )

    assert refused.value.message == message
    assert snapshot(eighteen) == before


def test_a_round_event_ahead_of_now_is_refused_once(eighteen: App) -> None:
    with pytest.raises(BadInput) as refused:
        eighteen.services.rounds.record(
            ROUND, "briefings_received", actor="甲", role="office", at=sh(2025, 3, 5)
        )

    assert refused.value.message == (
        "time 2025-03-05 00:00 is later than now (2025-03-04 09:00); "
        "events cannot be recorded ahead of time"
    )


def test_the_plan_dates_and_rungs_are_stored_as_the_models_say(planned: App) -> None:
    # The batch's dates round-trip as dates on every backend; a live rung is a Rung.
    b = q.batches
    with planned.db.transaction() as conn:
        rows = conn.execute(select(b.c.code, b.c.move_in_on, b.c.leave_on).order_by(b.c.id)).all()
    assert [tuple(r) for r in rows] == [
        ("B1", date(2025, 3, 10), date(2025, 4, 18)),
        ("B2", date(2025, 5, 12), date(2025, 6, 20)),
    ]
    timer = live_timer(planned, instance(planned, key("U04"))["id"])
    assert Rung(timer["level"], timer["fire_at"], timer["provisional"]) == Rung(
        0, datetime(2025, 5, 7, tzinfo=SHANGHAI), False
    )


def test_a_stage_on_its_fallback_takes_the_plan_date_once_the_plan_has_it(
    planned: App, clock: ManualClock
) -> None:
    app = planned
    app.services.rounds.plan(ROUND, "B3", move_in=date(2025, 3, 10), actor="巡视办")
    app.services.cases.add_unit("U07", "示例市市场监督管理局")
    app.services.cases.start_case(
        round_code=ROUND,
        unit_code="U07",
        group_code="G1",
        definition="regular_planned",
        actor="巡视办",
        batch="B3",
    )
    clock.set(sh(2025, 3, 11, 9))
    move_onsite(app, "B3")
    assert due(app, "U07") == app.services.read.catalog.calendar().add_working_days(
        date(2025, 3, 11), 30
    )

    clock.set(sh(2025, 3, 12, 9))
    changed = app.services.rounds.plan(ROUND, "B3", leave=date(2025, 4, 11), actor="巡视办")

    assert [(m.stage, m.new_due_on) for m in changed.rescheduled] == [("onsite", date(2025, 4, 11))]
    assert due(app, "U07") == date(2025, 4, 11)


def test_a_calendar_load_keeps_a_plan_date_and_moves_its_rungs(
    planned: App, clock: ManualClock
) -> None:
    app = planned
    clock.set(sh(2025, 3, 11, 9))
    move_onsite(app, "B1")
    clock.set(sh(2025, 3, 12, 9))

    loaded = app.services.calendar.load(
        "year: 2025\nholidays: [2025-04-15]\nworkdays: []\n", "cal2025.yaml", "巡视办"
    )

    moved = [m for m in loaded.rescheduled if m.stage == "onsite"]
    assert [(str(m.key), m.old_due_on, m.new_due_on) for m in moved] == [
        (key(u), date(2025, 4, 18), date(2025, 4, 18)) for u in B1
    ]
    # -3wd of 2025-04-18 without 04-15 as a working day: 04-14.
    assert [m.new_rung for m in moved] == [Rung(0, sh(2025, 4, 14), False)] * 3
    assert [due(app, u) for u in B1] == [date(2025, 4, 18)] * 3
