"""Deadlines, timers and the escalation sweep on both backends (DESIGN §5).

Every test runs on the virtual clock: `clock.set(...)` then `app.sweeper.sweep()`. The
cases run the `timed` definition of the escalation tests (escalation_helpers.TIMED_YAML),
not a built-in one, so that the arithmetic below stays put when the built-ins change. Its
ladder is -3wd (level 0 到期提醒), 0 (level 1 超期督办), +5wd (level 2 超期告诫) and +10wd
(level 3 问责约谈). A stage entry keeps one timer, its next rung: firing a rung moves the
same row on to the rung after it, and the last one leaves it `done`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from click.testing import CliRunner
from escalation_helpers import (
    CALENDAR_2027,
    KEY,
    ROUND,
    TIMED,
    TIMED_YAML,
    Snapshot,
    drive_to_closed,
    escalation_counts,
    escalations,
    instance,
    leave_stage,
    live_timer,
    load_timed,
    move_in,
    setup_round,
    sh,
    snapshot,
    start_case,
    timers,
)

from xunshi.bootstrap import App, bootstrap
from xunshi.cli import cli
from xunshi.config import Settings
from xunshi.errors import BadInput, NotFound, Refused, XunshiError
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.escalation import Raised, Sweeper
from xunshi.workflow.registry import parse

SECOND = timedelta(seconds=1)
# DESIGN §5: entered 2024-09-27, 5wd → 2024-10-10 (09-29 is a make-up working day, 10-01..07 off).
MOVED_IN = sh(2024, 9, 27, 10)
DUE = date(2024, 10, 10)


@pytest.fixture
def case(app: App) -> str:
    """Case 2024-R1/U01 of `timed`, started at the clock's T0 (2024-09-02 09:00)."""
    load_timed(app)
    setup_round(app)
    start_case(app, definition=TIMED)
    return KEY


@pytest.fixture
def moved_in(app: App, clock: ManualClock, case: str) -> str:
    """The case moved into mobilization at 2024-09-27 10:00 (due 2024-10-10)."""
    assert move_in(app, clock, case, MOVED_IN) == DUE
    return case


def sweep_at(app: App, clock: ManualClock, instant: datetime) -> list[Raised]:
    """Move the clock to `instant` and sweep once; what was raised."""
    clock.set(instant)
    result = app.sweeper.sweep()
    assert result.raised is not None
    return result.raised


def day_after(day: date) -> datetime:
    """The first instant of the day after `day`, in business time."""
    following = day + timedelta(days=1)
    return sh(following.year, following.month, following.day)


def levels(raised: list[Raised]) -> list[int]:
    """The levels raised, in the order the sweep raised them."""
    return [r.level for r in raised]


def unchanged(app: App, before: Snapshot) -> None:
    """Assert that no table changed since `before`."""
    assert before.changed(snapshot(app)) == []


def show_json(app: App, key: str) -> dict[str, object]:
    """`xunshi --json case show KEY` against the app's database (CLI on the system clock).

    The CLI closes its connections when the command ends: none is left for the garbage
    collector (which would be a ResourceWarning on PostgreSQL).
    """
    url = app.db.url.render_as_string(hide_password=False)
    env: dict[str, str | None] = {"XUNSHI_DB": None, "XUNSHI_TZ": None, "XUNSHI_DEBUG": None}
    result = CliRunner(env=env).invoke(cli, ["--db", url, "--json", "case", "show", key])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


# -- timing -----------------------------------------------------------------------------


def test_moving_in_on_2024_09_27_arms_the_ladder_on_the_working_day_calendar(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    row = instance(app, moved_in)
    cal = app.services.read.catalog.calendar()
    assert row["due_on"] == DUE
    assert not row["provisional"]
    assert cal.add_working_days(DUE, -3) == date(2024, 9, 30)
    assert cal.add_working_days(DUE, 5) == date(2024, 10, 16)
    assert cal.add_working_days(DUE, 10) == date(2024, 10, 23)

    # One timer per stage entry: its next rung, here the ladder's first.
    assert [(t["stage"], t["status"]) for t in timers(app, row["id"])] == [
        ("preparation", "superseded"),
        ("mobilization", "pending"),
    ]
    armed = live_timer(app, row["id"])
    assert (armed["level"], armed["generation"], armed["title"]) == (0, 1, "到期提醒")
    assert (armed["fire_at"], armed["due_on"], armed["provisional"]) == (
        sh(2024, 9, 30),
        DUE,
        False,
    )
    assert armed["dedup_key"] == f"{row['id']}:{row['stage_seq']}:0:0:1"

    # The rest of the ladder is armed rung by rung; a late sweep shows each rung's instant.
    raised = sweep_at(app, clock, sh(2024, 11, 30))

    assert [(r.stage, r.level, r.title, r.fire_at) for r in raised] == [
        ("mobilization", 0, "到期提醒", sh(2024, 9, 30)),
        ("mobilization", 1, "超期督办", sh(2024, 10, 11)),
        ("mobilization", 2, "超期告诫", sh(2024, 10, 17)),
        ("mobilization", 3, "问责约谈", sh(2024, 10, 24)),
    ]
    assert {r.due_on for r in raised} == {DUE}
    assert not any(r.provisional for r in raised)


def test_the_reminder_fires_at_the_first_instant_of_the_third_working_day_before(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    assert sweep_at(app, clock, sh(2024, 9, 30) - SECOND) == []

    raised = sweep_at(app, clock, sh(2024, 9, 30))

    assert levels(raised) == [0]
    reminder = raised[0]
    assert (reminder.label, reminder.stage, reminder.title) == (
        f"case {KEY}",
        "mobilization",
        "到期提醒",
    )
    assert reminder.notify == ("group_leader",)
    assert (reminder.due_on, reminder.fire_at, reminder.raised_at) == (
        DUE,
        sh(2024, 9, 30),
        sh(2024, 9, 30),
    )
    assert sweep_at(app, clock, sh(2024, 9, 30, 12)) == []


def test_overdue_from_the_first_instant_of_the_day_after_the_due_date(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    # The reminder is due by then; no level 1 a second before midnight.
    assert levels(sweep_at(app, clock, sh(2024, 10, 10, 23, 59, 59))) == [0]

    raised = sweep_at(app, clock, sh(2024, 10, 11))

    assert levels(raised) == [1]
    assert (raised[0].title, raised[0].notify) == ("超期督办", ("office",))
    assert sweep_at(app, clock, sh(2024, 10, 11)) == []
    stored = escalations(app)
    assert [(x["level"], x["stage"], x["due_on"], x["raised_at"]) for x in stored] == [
        (0, "mobilization", DUE, sh(2024, 10, 10, 23, 59, 59)),
        (1, "mobilization", DUE, sh(2024, 10, 11)),
    ]
    assert stored[1]["id"] == raised[0].id
    assert stored[1]["fire_at"] == sh(2024, 10, 11)
    assert json.loads(stored[1]["notify"]) == ["office"]


def test_the_later_rungs_fire_five_and_ten_working_days_after_the_due_date(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    cal = app.services.read.catalog.calendar()
    level2 = day_after(cal.add_working_days(DUE, 5))
    level3 = day_after(cal.add_working_days(DUE, 10))
    assert (level2, level3) == (sh(2024, 10, 17), sh(2024, 10, 24))
    assert levels(sweep_at(app, clock, sh(2024, 10, 11))) == [0, 1]

    assert sweep_at(app, clock, level2 - SECOND) == []
    assert levels(sweep_at(app, clock, level2)) == [2]
    assert sweep_at(app, clock, level3 - SECOND) == []
    raised = sweep_at(app, clock, level3)

    assert levels(raised) == [3]
    assert raised[0].title == "问责约谈"
    assert raised[0].notify == ("leading_group", "discipline", "organization")
    assert sweep_at(app, clock, sh(2024, 12, 31)) == []
    assert {t["status"] for t in timers(app) if t["stage"] == "mobilization"} == {"done"}


def test_a_sweep_with_an_earlier_now_raises_only_what_was_due_then(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    clock.set(sh(2024, 10, 20))

    result = app.sweeper.sweep(sh(2024, 10, 11))

    assert result.raised is not None
    assert levels(result.raised) == [0, 1]
    assert {r.raised_at for r in result.raised} == {sh(2024, 10, 11)}
    assert levels(sweep_at(app, clock, sh(2024, 10, 20))) == [2]


def test_a_sweep_ahead_of_the_clock_is_bad_input_and_writes_nothing(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    clock.set(sh(2024, 10, 10, 12))
    before = snapshot(app)

    with pytest.raises(BadInput) as info:
        app.sweeper.sweep(sh(2024, 10, 11))

    assert info.value.message == (
        "--now 2024-10-11 00:00 is later than the clock (2024-10-10 12:00); "
        "a sweep cannot run ahead of time"
    )
    unchanged(app, before)


# -- leaving a stage, catch-up ------------------------------------------------------------


def test_a_stage_left_before_its_timers_fire_never_escalates(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    row = instance(app, moved_in)
    clock.set(sh(2024, 9, 29, 16))  # a make-up working day, before the reminder
    leave_stage(app, moved_in, "mobilization")

    assert sweep_at(app, clock, sh(2024, 10, 25)) == []

    assert escalations(app) == []
    by_stage = {(t["stage"], t["status"]) for t in timers(app, row["id"])}
    assert by_stage == {
        ("preparation", "superseded"),
        ("mobilization", "superseded"),
        ("onsite", "pending"),
    }


def test_a_timer_claimed_before_the_stage_was_left_is_stale(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    clock.set(sh(2024, 10, 11, 9))
    claimed = app.sweeper.claim(clock.now())
    # Levels 0 and 1 are both due, but the stage has one timer: its next rung, level 0.
    assert [(t.stage, t.level) for t in claimed] == [("mobilization", 0)]
    leave_stage(app, moved_in, "mobilization")

    outcomes = [app.sweeper.fire(t, clock.now()) for t in claimed]

    assert not any(isinstance(o, Raised) for o in outcomes), outcomes
    assert escalations(app) == []
    statuses = {t["id"]: (t["status"], t["level"]) for t in timers(app)}
    assert [statuses[t.id] for t in claimed] == [("superseded", 0)]  # not moved to level 1
    assert sweep_at(app, clock, sh(2024, 11, 1)) == []


def sweeper(app: App, clock: ManualClock, worker: str) -> Sweeper:
    """Another sweeper on the same database, with a one-second lease."""
    return Sweeper(
        app.db,
        app.engine,
        app.schedule,
        clock,
        channels=app.settings.channels,
        worker=worker,
        lease=SECOND,
    )


def test_a_sweeper_whose_lease_expired_cannot_fire_what_another_took_over(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    slow, quick = sweeper(app, clock, "slow:1"), sweeper(app, clock, "quick:2")
    clock.set(sh(2024, 10, 11, 9))
    held = slow.claim(clock.now())
    assert [t.level for t in held] == [0]
    assert quick.claim(clock.now()) == []  # leased

    clock.advance(2 * SECOND)
    taken = quick.sweep()
    late = [slow.fire(timer, clock.now()) for timer in held]

    assert taken.raised is not None
    assert levels(taken.raised) == [0, 1]  # level 0 taken over, then the rung after it
    assert late == ["lost"]
    assert set(escalation_counts(app).values()) == {1}
    assert len(escalations(app)) == 2
    # The timer went on to level 2 under quick's claims; slow's late fire left it there.
    moved = live_timer(app, instance(app, moved_in)["id"])
    assert (moved["level"], moved["status"], moved["fire_at"]) == (2, "pending", sh(2024, 10, 17))


def test_a_sweeper_whose_lease_expired_unnoticed_still_fires(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    slow = sweeper(app, clock, "slow:1")
    clock.set(sh(2024, 10, 11, 9))
    held = slow.claim(clock.now())
    clock.advance(5 * SECOND)

    fired = [slow.fire(timer, clock.now()) for timer in held]

    # Nobody took the timer over: the claim is still slow's, so the fire goes through.
    assert [f.level for f in fired if isinstance(f, Raised)] == [0]
    row_id = instance(app, moved_in)["id"]
    moved = live_timer(app, row_id)
    assert (moved["level"], moved["status"], moved["locked_by"], moved["attempts"]) == (
        1,
        "pending",
        None,
        1,
    )
    rest = slow.sweep()
    assert rest.raised is not None
    assert levels(rest.raised) == [1]
    after = [(t["level"], t["status"]) for t in timers(app, row_id) if t["stage"] == "mobilization"]
    assert after == [(2, "pending")]
    assert set(escalation_counts(app).values()) == {1}


def test_catch_up_raises_every_missed_rung_once_in_ladder_order(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    raised = sweep_at(app, clock, sh(2024, 11, 30, 8))

    assert levels(raised) == [0, 1, 2, 3]
    assert [r.fire_at for r in raised] == sorted(r.fire_at for r in raised)
    assert {r.raised_at for r in raised} == {sh(2024, 11, 30, 8)}
    assert sweep_at(app, clock, sh(2024, 12, 1)) == []
    history = list(app.services.read.history.of(moved_in).events)
    fired = [e for e in history if e.kind == "escalation"]
    assert [(e.trigger, e.reason, e.data["level"]) for e in fired] == [
        ("level0", "到期提醒", 0),
        ("level1", "超期督办", 1),
        ("level2", "超期告诫", 2),
        ("level3", "问责约谈", 3),
    ]
    assert [e.data["escalation"] for e in fired] == [r.id for r in raised]
    assert history[-4:] == fired
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    assert app.services.audit.verify().ok


def test_catch_up_over_several_cases_keeps_each_case_in_ladder_order(
    app: App, clock: ManualClock, case: str
) -> None:
    clock.set(sh(2024, 9, 2, 10))
    start_case(app, "U02", definition=TIMED)
    clock.set(sh(2024, 9, 2, 11))
    start_case(app, "U03", definition=TIMED)

    raised = sweep_at(app, clock, sh(2024, 12, 2))

    assert len(raised) == 12
    for unit in ("U01", "U02", "U03"):
        history = list(app.services.read.history.of(f"{ROUND}/{unit}").events)
        assert [e.data["level"] for e in history if e.kind == "escalation"] == [0, 1, 2, 3]
    assert set(escalation_counts(app).values()) == {1}
    assert app.services.audit.verify().ok


# -- one timer per stage entry ----------------------------------------------------------------


def test_a_catch_up_fires_the_whole_ladder_on_one_timer_in_one_sweep(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    row = instance(app, moved_in)
    armed = live_timer(app, row["id"])
    clock.set(sh(2024, 11, 30, 8))  # the sweeper was down for every rung

    result = app.sweeper.sweep()

    assert result.raised is not None
    assert levels(result.raised) == [0, 1, 2, 3]
    assert (result.claimed, result.stale, result.lost, result.released) == (4, 0, 0, 0)
    stage = [t for t in timers(app, row["id"]) if t["stage"] == "mobilization"]
    assert len(stage) == 1
    done = stage[0]
    assert done["id"] == armed["id"]
    assert (done["status"], done["level"], done["generation"], done["attempts"]) == (
        "done",
        3,
        1,
        4,
    )
    assert (done["locked_by"], done["locked_until"]) == (None, None)
    assert done["dedup_key"] == f"{row['id']}:{row['stage_seq']}:0:3:1"
    assert {x["generation"] for x in escalations(app)} == {1}
    assert app.sweeper.sweep().claimed == 0


def test_a_fired_rung_leaves_its_timer_pending_at_the_next_rungs_instant(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    row = instance(app, moved_in)
    first = live_timer(app, row["id"])
    ladder = [
        (0, "到期提醒", ["group_leader"], sh(2024, 9, 30)),
        (1, "超期督办", ["office"], sh(2024, 10, 11)),
        (2, "超期告诫", ["leading_group"], sh(2024, 10, 17)),
        (3, "问责约谈", ["leading_group", "discipline", "organization"], sh(2024, 10, 24)),
    ]
    for attempt, (level, title, notify, fire_at) in enumerate(ladder, start=1):
        armed = live_timer(app, row["id"])
        assert armed["id"] == first["id"]  # the same row, moved on rung by rung
        assert (armed["level"], armed["title"], json.loads(armed["notify"])) == (
            level,
            title,
            notify,
        )
        assert (armed["status"], armed["fire_at"], armed["due_on"]) == ("pending", fire_at, DUE)
        assert (armed["locked_by"], armed["locked_until"]) == (None, None)
        assert armed["attempts"] == attempt - 1
        assert armed["dedup_key"] == f"{row['id']}:{row['stage_seq']}:0:{level}:1"
        assert sweep_at(app, clock, fire_at - SECOND) == []

        assert levels(sweep_at(app, clock, fire_at)) == [level]

    [last] = [t for t in timers(app, row["id"]) if t["stage"] == "mobilization"]
    assert (last["id"], last["status"], last["level"], last["attempts"]) == (
        first["id"],
        "done",
        3,
        4,
    )
    assert set(escalation_counts(app).values()) == {1}


def test_a_claim_lost_to_another_sweeper_can_neither_fire_nor_move_the_timer(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    row = instance(app, moved_in)
    slow, quick = sweeper(app, clock, "slow:1"), sweeper(app, clock, "quick:2")
    clock.set(sh(2024, 10, 11, 9))  # levels 0 and 1 are due
    [held] = slow.claim(clock.now())
    clock.advance(2 * SECOND)  # slow's lease runs out
    [taken] = quick.claim(clock.now())
    assert (taken.id, taken.level, taken.attempts) == (held.id, 0, 2)
    assert isinstance(quick.fire(taken, clock.now()), Raised)
    moved = live_timer(app, row["id"])  # quick moved it on to level 1, not claimed yet
    assert (moved["level"], moved["status"], moved["attempts"]) == (1, "pending", 2)
    history = list(app.services.read.history.of(moved_in).events)

    assert slow.fire(held, clock.now()) == "lost"

    assert live_timer(app, row["id"]) == moved  # not fired again, not moved on to level 2
    # slow claims the timer anew: its old claim (an earlier attempt) is still fenced off.
    [again] = slow.claim(clock.now())
    assert (again.id, again.level, again.attempts) == (held.id, 1, 3)
    reclaimed = live_timer(app, row["id"])

    assert slow.fire(held, clock.now()) == "lost"

    assert live_timer(app, row["id"]) == reclaimed
    assert levels([r for r in [slow.fire(again, clock.now())] if isinstance(r, Raised)]) == [1]
    assert [(x["level"], x["generation"]) for x in escalations(app)] == [(0, 1), (1, 1)]
    after = list(app.services.read.history.of(moved_in).events)
    assert [e.data["level"] for e in after[len(history) :]] == [1]
    assert live_timer(app, row["id"])["level"] == 2
    assert app.services.audit.verify().ok


def test_a_claim_lost_while_firing_rolls_the_whole_fire_back(
    app: App, clock: ManualClock, moved_in: str, db_url: str
) -> None:
    # slow has checked its claim and written the escalation when its lease runs out and
    # quick claims the timer. Moving the timer on is fenced: on PostgreSQL slow's fire then
    # rolls back whole and quick raises the rung; SQLite serialises the two, so slow's fire
    # commits first and quick claims the next rung.
    row = instance(app, moved_in)
    other = bootstrap(Settings(db_url=db_url, actor="tester"), clock=clock)
    try:
        slow, quick = sweeper(app, clock, "slow:1"), sweeper(other, clock, "quick:2")
        clock.set(sh(2024, 10, 11, 9))
        [held] = slow.claim(clock.now())
        taken: list[Any] = []
        racer: list[threading.Thread] = []
        original = app.engine.execute

        def execute(*args: Any, **kwargs: Any) -> Any:
            recorded = original(*args, **kwargs)
            if not racer:
                claim = partial(quick.claim, clock.now() + 2 * SECOND)
                racer.append(threading.Thread(target=lambda: taken.extend(claim())))
                racer[0].start()
                # SQLite: quick waits for slow's write lock, so go on; PostgreSQL: it must not.
                racer[0].join(timeout=1.0 if app.db.is_sqlite else 30.0)
            return recorded

        app.engine.execute = execute  # type: ignore[method-assign]
        try:
            outcome = slow.fire(held, clock.now())
        finally:
            for thread in racer:
                thread.join(timeout=30)
            del app.engine.execute

        assert [(t.id, t.attempts) for t in taken] == [(held.id, 2)]
        if app.db.is_sqlite:
            assert isinstance(outcome, Raised) and outcome.level == 0
            assert taken[0].level == 1
        else:
            assert outcome == "lost"
            assert escalations(app) == []  # the escalation, event and outbox rolled back
            assert live_timer(app, row["id"])["level"] == 0  # not moved on by slow
            assert taken[0].level == 0
        clock.advance(2 * SECOND)
        fired = quick.fire(taken[0], clock.now())
        assert isinstance(fired, Raised) and fired.level == taken[0].level
        rest = quick.sweep()
        assert rest.raised is not None
        assert [x["level"] for x in escalations(app)] == [0, 1]
        assert set(escalation_counts(app).values()) == {1}
        assert live_timer(app, row["id"])["level"] == 2
        assert app.services.audit.verify().ok
    finally:
        other.db.dispose()


# -- suspend and resume -------------------------------------------------------------------


def test_suspension_stops_the_clock_and_resume_moves_the_due_date(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    row = instance(app, moved_in)
    assert levels(sweep_at(app, clock, sh(2024, 9, 30))) == [0]
    waiting = live_timer(app, row["id"])
    assert (waiting["level"], waiting["generation"], waiting["fire_at"]) == (1, 1, sh(2024, 10, 11))
    clock.set(sh(2024, 10, 8, 10))
    app.services.cases.suspend(moved_in, actor="王主任", role="office", reason="巡视组临时召回")

    suspended = [t for t in timers(app, row["id"]) if t["stage"] == "mobilization"]
    assert [(t["id"], t["level"], t["status"]) for t in suspended] == [
        (waiting["id"], 1, "superseded")
    ]
    assert sweep_at(app, clock, sh(2024, 10, 14, 12)) == []  # past the old due date

    clock.set(sh(2024, 10, 15, 10))
    outcome = app.services.cases.resume(moved_in, actor="王主任", role="office")

    # (10-08, 10-15] holds six working days: 09, 10, 11, 12 (a make-up Saturday), 14, 15.
    cal = app.services.read.catalog.calendar()
    assert cal.count_working_days(date(2024, 10, 8), date(2024, 10, 15)) == 6
    new_due = date(2024, 10, 17)
    assert cal.add_working_days(DUE, 6) == new_due
    assert outcome.instance.due_on == new_due
    assert outcome.event.data == {"due_on": "2024-10-17"}
    assert instance(app, moved_in)["due_on"] == new_due
    # One new timer, next generation: the first rung not raised yet, on the moved due date.
    resumed = live_timer(app, row["id"])
    assert resumed["id"] != waiting["id"]
    assert (resumed["level"], resumed["generation"], resumed["status"]) == (1, 2, "pending")
    assert (resumed["due_on"], resumed["fire_at"]) == (new_due, sh(2024, 10, 18))

    assert sweep_at(app, clock, sh(2024, 10, 17, 23, 59, 59)) == []
    raised = sweep_at(app, clock, sh(2024, 10, 18))

    assert levels(raised) == [1]
    assert raised[0].due_on == new_due
    moved = live_timer(app, row["id"])
    assert (moved["id"], moved["level"], moved["generation"]) == (resumed["id"], 2, 2)
    later = sweep_at(app, clock, sh(2024, 11, 1))
    assert [(r.level, r.fire_at, r.due_on) for r in later] == [
        (2, sh(2024, 10, 25), new_due),
        (3, sh(2024, 11, 1), new_due),
    ]
    assert {t["status"] for t in timers(app, row["id"]) if t["stage"] == "mobilization"} == {
        "done",
        "superseded",
    }
    assert set(escalation_counts(app).values()) == {1}
    assert {x["generation"] for x in escalations(app) if x["level"] > 0} == {2}
    history = list(app.services.read.history.of(moved_in).events)
    assert [e.kind for e in history if e.kind in ("suspended", "resumed")] == [
        "suspended",
        "resumed",
    ]
    assert app.services.audit.verify().ok


def test_suspending_and_resuming_on_the_same_day_keeps_the_due_date(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    clock.set(sh(2024, 10, 9, 9))
    app.services.cases.suspend(moved_in, actor="王主任", role="office", reason="会议")
    clock.set(sh(2024, 10, 9, 17))
    app.services.cases.resume(moved_in, actor="王主任", role="office")

    assert instance(app, moved_in)["due_on"] == DUE
    assert levels(sweep_at(app, clock, sh(2024, 10, 11))) == [0, 1]


def test_a_timer_claimed_before_a_suspension_is_not_raised_again_after_resume(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    # A sweeper claims the due rungs and dies (or is slow); meanwhile the case is
    # suspended and resumed. The old claim must not add a second escalation per rung.
    clock.set(sh(2024, 10, 11, 9))
    claimed = app.sweeper.claim(clock.now())
    assert [t.level for t in claimed] == [0]  # the stage's one timer, at its next rung
    app.services.cases.suspend(moved_in, actor="王主任", role="office", reason="召回")
    clock.set(sh(2024, 10, 11, 9, 30))
    app.services.cases.resume(moved_in, actor="王主任", role="office")
    fresh = live_timer(app, instance(app, moved_in)["id"])
    assert (fresh["level"], fresh["generation"]) == (0, 2)

    outcomes = [app.sweeper.fire(timer, clock.now()) for timer in claimed]
    clock.set(sh(2024, 10, 11, 10))
    result = app.sweeper.sweep()

    assert not any(isinstance(o, Raised) for o in outcomes), outcomes
    assert result.raised is not None
    assert [(r.level, r.due_on) for r in result.raised] == [(0, DUE), (1, DUE)]
    counts = escalation_counts(app)
    assert sorted(level for *_, level in counts) == [0, 1], counts
    assert set(counts.values()) == {1}, f"raised twice per rung: {counts}"
    assert {x["generation"] for x in escalations(app)} == {2}


def _assert_refused(app: App, call: Callable[[], object], message: str) -> None:
    """`call()` is refused with exactly `message`, and no table changes."""
    before = snapshot(app)
    with pytest.raises(Refused) as info:
        call()
    assert info.value.message == message
    unchanged(app, before)


def test_suspending_a_suspended_case_is_refused(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    clock.set(sh(2024, 10, 8, 10))
    app.services.cases.suspend(moved_in, actor="王主任", role="office", reason="召回")
    clock.set(sh(2024, 10, 9, 10))

    _assert_refused(
        app,
        lambda: app.services.cases.suspend(moved_in, actor="王主任", role="office", reason="again"),
        f"case {KEY} is already suspended (since 2024-10-08 10:00)",
    )


def test_resuming_a_running_case_is_refused(app: App, moved_in: str) -> None:
    _assert_refused(
        app,
        lambda: app.services.cases.resume(moved_in, actor="王主任", role="office"),
        f"case {KEY} is not suspended",
    )


def test_suspending_a_closed_case_is_refused(app: App, clock: ManualClock, moved_in: str) -> None:
    clock.set(sh(2024, 10, 9, 10))
    drive_to_closed(app, moved_in)
    assert instance(app, moved_in)["state"] == "closed"

    _assert_refused(
        app,
        lambda: app.services.cases.suspend(moved_in, actor="王主任", role="office", reason="x"),
        f"case {KEY} is 完成 (closed); it cannot be suspended",
    )


@pytest.mark.parametrize("action", ["suspend", "resume"])
def test_a_role_not_allowed_to_suspend_is_refused(
    app: App, clock: ManualClock, moved_in: str, action: str
) -> None:
    options: dict[str, str] = {"actor": "张组长", "role": "group_leader"}
    if action == "resume":
        app.services.cases.suspend(moved_in, actor="王主任", role="office", reason="召回")
    else:
        options["reason"] = "召回"

    _assert_refused(
        app,
        partial(getattr(app.services.cases, action), moved_in, **options),
        f"case {KEY} cannot {action}: role group_leader (巡视组组长) may not; "
        "allowed: office (巡视办)",
    )


def test_a_definition_names_its_own_suspend_roles(app: App, clock: ManualClock) -> None:
    source = TIMED_YAML.replace("name: timed\n", "name: timed_lg\n", 1).replace(
        "initial: preparation\n", "initial: preparation\nsuspend_roles: [leading_group]\n", 1
    )
    definition = parse(source, "timed_lg.yaml")
    app.db.run(
        lambda conn: app.registry.register(
            conn,
            definition,
            source=source,
            source_name="timed_lg.yaml",
            loaded_by="t",
            now=clock.now(),
        )
    )
    setup_round(app)
    app.services.cases.add_unit("U09", "单位U09")
    app.services.cases.start_case(
        round_code=ROUND, unit_code="U09", group_code="G1", definition="timed_lg", actor="巡视办"
    )
    key = f"{ROUND}/U09"

    _assert_refused(
        app,
        lambda: app.services.cases.suspend(key, actor="王主任", role="office", reason="召回"),
        f"case {key} cannot suspend: role office (巡视办) may not; "
        "allowed: leading_group (巡视工作领导小组)",
    )
    app.services.cases.suspend(key, actor="李组长", role="leading_group", reason="召回")
    assert instance(app, key)["suspended"]


# -- calendar: provisional years ----------------------------------------------------------


@pytest.fixture
def case_into_2027(app: App, clock: ManualClock) -> str:
    """A case entered 2026-12-20 (a Sunday) with 15wd: due in 2027, which has no data."""
    clock.set(sh(2026, 12, 20, 9))
    load_timed(app)
    setup_round(app, "2026-R9", date(2026, 12, 20))
    start_case(app, "U01", round_code="2026-R9", definition=TIMED)
    return "2026-R9/U01"


def test_a_due_date_in_a_year_without_data_is_provisional(
    app: App, clock: ManualClock, case_into_2027: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = instance(app, case_into_2027)
    cal = app.services.read.catalog.calendar()
    assert not cal.has_data(2027)
    # Weekends only: Dec 21-25, 28-31, Jan 1 (a Friday), Jan 4-8.
    assert (row["due_on"], row["provisional"]) == (date(2027, 1, 8), True)
    shown = show_json(app, case_into_2027)
    assert (shown["due_on"], shown["provisional"]) == ("2027-01-08", True)
    assert {t["provisional"] for t in timers(app, row["id"])} == {True}

    raised = sweep_at(app, clock, sh(2027, 1, 5))

    assert levels(raised) == [0]
    assert raised[0].provisional
    assert [x["provisional"] for x in escalations(app)] == [True]


def test_loading_the_year_recomputes_the_due_date_and_the_pending_timers(
    app: App, clock: ManualClock, case_into_2027: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = instance(app, case_into_2027)
    assert levels(sweep_at(app, clock, sh(2027, 1, 5))) == [0]

    loaded = app.services.calendar.load(CALENDAR_2027, "cal2027.yaml", "tester")

    assert (loaded.year, loaded.mode, loaded.holidays, loaded.workdays) == (2027, "replace", 24, 3)
    assert [str(moved.key) for moved in loaded.rescheduled] == [case_into_2027]
    cal = app.services.read.catalog.calendar()
    assert cal.has_data(2027)
    # Jan 1-3 are now holidays: the 15th working day after 2026-12-20 is Jan 11.
    assert cal.add_working_days(date(2026, 12, 20), 15) == date(2027, 1, 11)
    after = instance(app, case_into_2027)
    assert (after["due_on"], after["provisional"]) == (date(2027, 1, 11), False)
    shown = show_json(app, case_into_2027)
    assert (shown["due_on"], shown["provisional"]) == ("2027-01-11", False)
    # The timer had moved on to level 1 (provisional, 01-09); it is superseded, and one
    # timer of the next generation takes level 1 on the recomputed due date.
    rows = timers(app, row["id"])
    assert [(t["level"], t["generation"], t["status"], t["provisional"]) for t in rows] == [
        (1, 1, "superseded", True),
        (1, 2, "pending", False),
    ]
    assert rows[0]["fire_at"] == sh(2027, 1, 9)
    assert (rows[1]["due_on"], rows[1]["fire_at"]) == (date(2027, 1, 11), sh(2027, 1, 12))
    assert escalations(app)[0]["provisional"]  # what was raised stays as it was

    assert sweep_at(app, clock, sh(2027, 1, 11, 23, 59, 59)) == []
    raised = sweep_at(app, clock, sh(2027, 1, 12))
    assert levels(raised) == [1]
    assert not raised[0].provisional
    # The later rungs are armed on the loaded calendar too.
    later = sweep_at(app, clock, sh(2027, 1, 26))
    assert [(r.level, r.fire_at, r.due_on, r.provisional) for r in later] == [
        (2, sh(2027, 1, 19), date(2027, 1, 11), False),
        (3, sh(2027, 1, 26), date(2027, 1, 11), False),
    ]
    assert set(escalation_counts(app).values()) == {1}


def test_loading_a_year_recomputes_provisional_rungs_of_a_stage_due_the_year_before(
    app: App, clock: ManualClock
) -> None:
    # Due 2026-12-22 (known); the +10wd rung falls in 2027 and is provisional until
    # 2027 is loaded, after which Jan 1 is a holiday and the rung moves a day.
    clock.set(sh(2026, 12, 1, 9))
    load_timed(app)
    setup_round(app, "2026-R8", date(2026, 12, 1))
    ref = start_case(app, "U01", round_code="2026-R8", definition=TIMED)
    # Levels 0..2 fire in 2026; then the stage's timer waits on level 3, in 2027.
    raised = sweep_at(app, clock, sh(2026, 12, 31))
    assert [(r.level, r.provisional) for r in raised] == [(0, False), (1, False), (2, False)]
    waiting = live_timer(app, ref.id)
    assert (waiting["level"], waiting["due_on"], waiting["fire_at"], waiting["provisional"]) == (
        3,
        date(2026, 12, 22),
        sh(2027, 1, 6),
        True,
    )

    loaded = app.services.calendar.load(CALENDAR_2027, "cal2027.yaml", "tester")

    assert [(str(m.key), m.old_due_on, m.new_due_on) for m in loaded.rescheduled] == [
        ("2026-R8/U01", date(2026, 12, 22), date(2026, 12, 22))  # only the rung moved
    ]
    moved = live_timer(app, ref.id)
    assert (moved["level"], moved["generation"], moved["fire_at"], moved["provisional"]) == (
        3,
        2,
        sh(2027, 1, 7),
        False,
    )
    assert instance(app, "2026-R8/U01")["due_on"] == date(2026, 12, 22)
    assert sweep_at(app, clock, sh(2027, 1, 7) - SECOND) == []
    last = sweep_at(app, clock, sh(2027, 1, 7))
    assert [(r.level, r.fire_at, r.provisional) for r in last] == [(3, sh(2027, 1, 7), False)]
    assert set(escalation_counts(app).values()) == {1}


def test_a_rung_armed_after_the_year_was_loaded_uses_its_data(app: App, clock: ManualClock) -> None:
    # The same stage, but 2027 is loaded while the timer still waits on level 0: the
    # level-3 rung is computed when the timer moves on to it, on the loaded calendar.
    clock.set(sh(2026, 12, 1, 9))
    load_timed(app)
    setup_round(app, "2026-R8", date(2026, 12, 1))
    ref = start_case(app, "U01", round_code="2026-R8", definition=TIMED)
    app.services.calendar.load(CALENDAR_2027, "cal2027.yaml", "tester")
    assert live_timer(app, ref.id)["level"] == 0

    raised = sweep_at(app, clock, sh(2027, 1, 7) - SECOND)

    assert [(r.level, r.provisional) for r in raised] == [(0, False), (1, False), (2, False)]
    armed = live_timer(app, ref.id)
    assert (armed["level"], armed["generation"], armed["fire_at"], armed["provisional"]) == (
        3,
        1,
        sh(2027, 1, 7),
        False,
    )
    last = sweep_at(app, clock, sh(2027, 1, 7))
    assert [(r.level, r.fire_at, r.provisional) for r in last] == [(3, sh(2027, 1, 7), False)]


BAD_CALENDARS = [
    pytest.param("year: 2027\nholidays: [2027-01-01\n", "not valid YAML", id="yaml"),
    pytest.param("year: 2027\nholidays: []\n", "missing key workdays", id="missing-key"),
    pytest.param(
        "year: 2027\nholidays: []\nworkdays: [2027-01-04]\n",
        "make-up working day 2027-01-04 is a Monday, not a Saturday or Sunday",
        id="weekday-workday",
    ),
    pytest.param(
        "year: 2027\nholidays: [2026-12-31]\nworkdays: []\n",
        "holiday 2026-12-31 is not in 2027",
        id="other-year",
    ),
    pytest.param(
        "year: 2027\nholidays: [2027-13-01]\nworkdays: []\n",
        "holiday 2027-13-01 is not a date (YYYY-MM-DD)",
        id="bad-date",
    ),
    pytest.param(
        "year: 2027\nholidays: [2027-01-02]\nworkdays: [2027-01-02]\n",
        "2027-01-02 is both a holiday and a make-up working day",
        id="both",
    ),
]


@pytest.mark.parametrize(("text", "problem"), BAD_CALENDARS)
def test_a_bad_calendar_file_is_one_line_and_stores_nothing(
    app: App, case_into_2027: str, text: str, problem: str
) -> None:
    before = snapshot(app)

    with pytest.raises(BadInput) as info:
        app.services.calendar.load(text, "cal2027.yaml", "tester")

    message = info.value.message
    assert "\n" not in message
    assert message.startswith("cal2027.yaml: ")
    assert problem in message
    unchanged(app, before)
    assert not app.services.read.catalog.calendar().has_data(2027)


# -- acknowledging, listing -----------------------------------------------------------------


def test_acknowledging_writes_a_note_into_the_case_history(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    raised = sweep_at(app, clock, sh(2024, 10, 11))
    level1 = next(r for r in raised if r.level == 1)
    clock.set(sh(2024, 10, 11, 9, 30))

    done = app.services.escalations.acknowledge(level1.id, "王主任")

    assert (done.label, done.level) == (f"case {KEY}", 1)
    row = next(x for x in escalations(app) if x["id"] == level1.id)
    assert (row["acked_by"], row["acked_at"]) == ("王主任", sh(2024, 10, 11, 9, 30))
    history = list(app.services.read.history.of(moved_in).events)
    note = history[-1]
    assert (note.kind, note.actor, note.role) == ("note", "王主任", None)
    assert note.reason == f"acknowledged escalation {level1.id}: 超期督办"
    assert dict(note.data) == {"acknowledged": level1.id, "level": 1}
    assert note.occurred_at == sh(2024, 10, 11, 9, 30)
    assert app.services.audit.verify().ok


def test_acknowledging_an_unknown_escalation_is_not_found(app: App, moved_in: str) -> None:
    before = snapshot(app)

    with pytest.raises(NotFound) as info:
        app.services.escalations.acknowledge(999, "王主任")

    assert info.value.message == "escalation 999 does not exist"
    unchanged(app, before)


def test_acknowledging_twice_is_refused_and_writes_nothing(
    app: App, clock: ManualClock, moved_in: str
) -> None:
    raised = sweep_at(app, clock, sh(2024, 10, 11))
    first = raised[0].id
    clock.set(sh(2024, 10, 11, 9, 30))
    app.services.escalations.acknowledge(first, "王主任")
    clock.set(sh(2024, 10, 11, 10))
    before = snapshot(app)

    with pytest.raises(XunshiError) as info:
        app.services.escalations.acknowledge(first, "李四")

    assert info.value.message == (
        f"escalation {first} was already acknowledged by 王主任 at 2024-10-11 09:30"
    )
    unchanged(app, before)
    # DESIGN/errors.py: a command not allowed in the current state is Refused.
    assert isinstance(info.value, Refused), type(info.value).__name__


def test_listing_filters_by_open_round_and_level(app: App, clock: ManualClock, case: str) -> None:
    setup_round(app, "2024-R2", date(2024, 9, 2))
    start_case(app, "U02", round_code="2024-R2", definition=TIMED)  # preparation, due 09-24
    moved_in = case
    move_in(app, clock, moved_in, MOVED_IN)
    sweep_at(app, clock, sh(2024, 10, 11))
    clock.set(sh(2024, 10, 11, 10))
    leave_stage(app, moved_in, "mobilization")

    every = app.services.read.escalations.many()
    open_ = app.services.read.escalations.many(open_only=True)
    round1 = app.services.read.escalations.many(round_code=ROUND)
    level1 = app.services.read.escalations.many(level=1)

    assert sorted((v.case, v.stage, v.level, v.open) for v in every) == [
        ("2024-R1/U01", "mobilization", 0, False),
        ("2024-R1/U01", "mobilization", 1, False),
        ("2024-R2/U02", "preparation", 0, True),
        ("2024-R2/U02", "preparation", 1, True),
        ("2024-R2/U02", "preparation", 2, True),
    ]
    assert [v.id for v in every] == sorted(v.id for v in every)
    assert sorted((v.case, v.level) for v in open_) == [("2024-R2/U02", lv) for lv in (0, 1, 2)]
    assert sorted((v.case, v.level) for v in round1) == [(KEY, 0), (KEY, 1)]
    assert sorted((v.case, v.level) for v in level1) == [(KEY, 1), ("2024-R2/U02", 1)]
    mobilization = [v for v in every if v.case == KEY]
    assert {v.stage_title for v in mobilization} == {"动员部署"}
    data = mobilization[1].to_json(app.settings.tz)
    assert {
        "id",
        "case",
        "stage",
        "level",
        "title",
        "notify",
        "due_on",
        "raised_at",
        "provisional",
    } <= set(data)
    assert (data["case"], data["level"], data["due_on"]) == (KEY, 1, "2024-10-10")
    assert data["raised_at"] == "2024-10-11T00:00:00+08:00"


# -- a transition racing the sweep ----------------------------------------------------------


def test_a_transition_racing_a_firing_rung_wins_cleanly_or_conflicts(
    app: App, clock: ManualClock, moved_in: str, db_url: str
) -> None:
    # Another process fires start_onsite after the sweeper checked that mobilization is
    # still current but before it appended the escalation. The escalation must then either
    # come first (and the transition get a conflict error) or not be raised at all; it may
    # never be recorded for a stage the history already left.
    clock.set(sh(2024, 10, 11, 9))
    for name in ("mobilization_meeting", "contacts_published"):
        app.services.cases.record_milestone(moved_in, name, actor="张组长", role="group_leader")
    other = bootstrap(Settings(db_url=db_url, actor="tester"), clock=clock)
    outcomes: list[str] = []

    def move_on() -> None:
        try:
            other.services.cases.fire(moved_in, "start_onsite", actor="张组长", role="group_leader")
            outcomes.append("moved")
        except Exception as exc:  # a conflict, or the database breaking a deadlock
            outcomes.append(type(exc).__name__)

    original = app.engine.execute
    racer: list[threading.Thread] = []

    def execute(*args: Any, **kwargs: Any) -> Any:
        if not racer:
            racer.append(threading.Thread(target=move_on))
            racer[0].start()
            racer[0].join(timeout=1.0)  # a correct sweeper may hold a lock: go on then
        return original(*args, **kwargs)

    app.engine.execute = execute  # type: ignore[method-assign]
    try:
        app.sweeper.sweep()
    finally:
        for thread in racer:
            thread.join(timeout=30)
        other.db.dispose()

    history = list(app.services.read.history.of(moved_in).events)
    kinds = [(e.kind, e.trigger) for e in history]
    if ("transition", "start_onsite") in kinds:
        left = kinds.index(("transition", "start_onsite"))
        late = [e.data for e in history[left:] if e.kind == "escalation"]
        assert late == [], f"escalations after the stage was left ({outcomes}): {late}"
    assert app.services.audit.verify().ok
    # DESIGN §8: of two writers on one case one wins, the other gets a conflict error.
    assert set(outcomes) <= {"moved", "Conflict"}, outcomes
