"""`case show --as-of` replays the history exactly as the live path moved the case.

Issue #8, defect 3: a case suspended and resumed showed, as of a time after the resume, its
pre-suspension due date and a false 超期. And an as-of time later than today is refused.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from worlds import FORWARD, KEY, World, shanghai

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings
from xunshi.errors import BadInput, XunshiError
from xunshi.workflow.clock import ManualClock

OFFICE = "巡视办"


def test_a_resumed_case_shows_its_moved_due_date_as_of_after_the_resume(
    app: App, world: World, clock: ManualClock
) -> None:
    world.case()
    clock.set(shanghai(2024, 9, 27, 10))
    world.milestones_of(KEY, "preparation")
    app.services.cases.fire(KEY, "move_in", actor="张组长", role="group_leader")
    clock.set(shanghai(2024, 9, 30, 10))
    app.services.cases.suspend(KEY, actor=OFFICE, role="office", reason="巡视组临时召回")
    clock.set(shanghai(2024, 10, 14, 10))
    resumed = app.services.cases.resume(KEY, actor=OFFICE, role="office")
    clock.set(shanghai(2024, 11, 15, 10))  # after the old due date, before the moved one

    live = app.services.read.cases.one(KEY)
    past = app.services.read.cases.as_of(KEY, clock.now())

    assert live.due_on == resumed.instance.due_on != date(2024, 11, 13)
    assert (past.due_on, past.overdue, past.suspended) == (live.due_on, False, False)
    assert past == live
    # While suspended, as of then: the old due date, suspended, not overdue.
    during = app.services.read.cases.as_of(KEY, shanghai(2024, 10, 11, 12))
    assert (during.due_on, during.suspended, during.overdue) == (date(2024, 11, 13), True, False)


def test_as_of_a_later_day_is_refused_and_the_end_of_today_is_now(
    app: App, world: World, clock: ManualClock
) -> None:
    world.case()
    cases = app.services.read.cases
    with pytest.raises(BadInput) as caught:
        cases.as_of(KEY, shanghai(2099, 1, 1, 0))
    assert caught.value.message == (
        "--as-of 2099-01-01 00:00 is later than now (2024-09-02 09:00); a case can be shown "
        "only as it was"
    )
    end_of_today = shanghai(2024, 9, 2, 23, 59)
    assert cases.as_of(KEY, end_of_today) == cases.one(KEY)


# -- live and as-of agree at every event instant ----------------------------------------------

MILESTONES = {stage: [s.name for s in steps if s.kind == "milestone"] for stage, steps in FORWARD}
TRIGGERS = {stage: next(s for s in steps if s.kind == "fire") for stage, steps in FORWARD}

step = st.one_of(
    st.tuples(st.just("milestone"), st.integers(0, 3)),
    st.tuples(st.just("fire"), st.just(0)),
    st.tuples(st.just("suspend"), st.just(0)),
    st.tuples(st.just("resume"), st.just(0)),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.tuples(step, st.integers(1, 24 * 9)), min_size=1, max_size=30))
def test_live_and_as_of_agree_at_every_event_instant(
    sqlite_url: str, steps: list[tuple[tuple[str, int], int]]
) -> None:
    clock = ManualClock(shanghai(2024, 9, 2, 9))
    app = bootstrap(Settings(db_url=sqlite_url, actor="tester"), clock)
    try:
        _check_sequence(app, clock, steps)
    finally:
        app.db.dispose()
        _drop(sqlite_url)


def _check_sequence(app: App, clock: ManualClock, steps: list[tuple[tuple[str, int], int]]) -> None:
    app.services.definitions.init("tester")
    world = World(app, clock)
    world.case()
    cases = app.services.read.cases
    seen: list[tuple[datetime, object]] = []
    for (kind, pick), hours in steps:
        clock.advance(timedelta(hours=hours))
        view = cases.one(KEY)
        try:
            if kind == "milestone":
                names = MILESTONES.get(view.state, [])
                if not names:
                    continue
                role = "unit_liaison" if view.state == "rectification" else "group_leader"
                app.services.cases.record_milestone(
                    KEY, names[pick % len(names)], actor="某人", role=role
                )
            elif kind == "fire":
                trigger = TRIGGERS.get(view.state)
                if trigger is None:
                    continue
                app.services.cases.fire(KEY, trigger.name, actor="某人", role=trigger.role)
            elif kind == "suspend":
                app.services.cases.suspend(KEY, actor=OFFICE, role="office", reason="暂停")
            else:
                app.services.cases.resume(KEY, actor=OFFICE, role="office")
        except XunshiError:
            continue
        now = clock.now()
        live = cases.one(KEY)
        assert cases.as_of(KEY, now) == live, (kind, now)
        seen.append((now, live))
    # Later events do not change what the history says about an earlier instant.
    for instant, live in seen:
        assert cases.as_of(KEY, instant) == live, instant


def _drop(url: str) -> None:
    from pathlib import Path

    path = Path(url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
