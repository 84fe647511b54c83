"""The desk's round page reads: `overview.glance` and `history.stage_entries` say what
`overview.of` and each case's `history.of` say, in a few statements whatever the round's size.

The round is `test_round_report`'s (read on 2024-10-10 10:00): three reminders, six
escalations, two 约谈 proposals pending, case U03 and task U01/P01#1 overdue.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from rectification_helpers import FINANCE, OFFICE, POLITICS, ROUND, Rectifying, shanghai
from sqlalchemy import event
from sqlalchemy.engine import Engine

from xunshi.bootstrap import App
from xunshi.errors import NotFound
from xunshi.workflow.clock import ManualClock

AS_OF = shanghai(2024, 10, 10, 10)


@pytest.fixture
def round_world(app: App, clock: ManualClock) -> Rectifying:
    """The round of test_round_report, swept at 2024-10-10 10:00."""
    rect = Rectifying(app, clock)
    rect.case("U01", "示例市财政局")
    rect.case("U03", "示例市统计局", stage="preparation")
    planned = rect.item("U01", "P01", POLITICS)
    rect.begin(planned)
    rect.task(
        planned, date(2024, 9, 13), measure="修订议事规则", department="办公室", person="李某"
    )
    rect.task(planned, date(2024, 10, 31))
    rect.item("U01", "P02", FINANCE)
    clock.set(shanghai(2024, 10, 8, 9))
    rect.case("U02", "示例市审计局", stage="preparation")
    clock.set(AS_OF)
    app.sweeper.sweep()
    return rect


def test_the_glance_says_what_the_overview_says(round_world: Rectifying, app: App) -> None:
    read = app.services.read
    views = read.cases.many(round_code=ROUND)
    overview = read.overview.of(ROUND)
    glance = read.overview.glance(ROUND, views)
    assert (glance.round, glance.as_of) == (overview.round, overview.as_of)
    assert glance.stages == overview.stages == ("巡前准备", "集中整改")
    assert glance.overdue_tasks == overview.overdue_tasks
    assert [str(t.key) for t in glance.overdue_tasks] == [f"{ROUND}/U01/P01#1"]
    assert glance.level_titles() == overview.level_titles()
    by_level: Counter[int] = Counter()
    for raised in glance.raised:
        by_level[raised.level] += raised.count
    assert dict(by_level) == overview.by_level() == {0: 3, 1: 3, 2: 3}
    # The items' escalations count under their case's unit; pending proposals not at all.
    assert {(r.unit, r.level): r.count for r in glance.raised if r.level > 0} == {
        ("U01", 1): 2,
        ("U01", 2): 2,
        ("U03", 1): 1,
        ("U03", 2): 1,
    }


def test_a_confirmed_proposal_counts_a_dismissed_one_does_not(
    round_world: Rectifying, app: App
) -> None:
    first, second = app.services.read.overview.of(ROUND).proposals
    decide = app.services.escalations.decide
    decide(first.id, confirm=True, reason="两次督办未见整改", actor=OFFICE, role="office")
    decide(second.id, confirm=False, reason="已整改到位", actor=OFFICE, role="office")
    glance = app.services.read.overview.glance(ROUND, app.services.read.cases.many())
    assert [(r.unit, r.count) for r in glance.raised if r.level == 3] == [("U01", 1)]
    assert glance.level_titles() == app.services.read.overview.of(ROUND).level_titles()


def test_stage_entries_are_each_case_historys_stage_entries(
    round_world: Rectifying, app: App
) -> None:
    read = app.services.read
    views = read.cases.many(round_code=ROUND)
    found = read.history.stage_entries(ROUND)
    assert sorted(found) == sorted(v.id for v in views)
    for view in views:
        history = read.history.of(str(view.key))
        entries = found[view.id]
        assert entries.entered == tuple(
            (e.occurred_at, e.to_state) for e in history.events if e.to_state is not None
        )
        assert dict(entries.state_titles) == history.state_titles
    assert [state for _, state in found[views[0].id].entered][:2] == ["preparation", "onsite"]


def test_a_round_that_is_not_there_is_not_found(round_world: Rectifying, app: App) -> None:
    with pytest.raises(NotFound):
        app.services.read.history.stage_entries("2099-R9")
    with pytest.raises(NotFound):
        app.services.read.overview.glance("2099-R9", [])


def test_the_statements_do_not_grow_with_the_cases(round_world: Rectifying, app: App) -> None:
    read = app.services.read

    def statements() -> int:
        ran: list[str] = []

        def count(*args: object) -> None:
            ran.append(str(args[2]))

        event.listen(Engine, "before_cursor_execute", count)
        try:
            read.overview.glance(ROUND, read.cases.many(round_code=ROUND))
        finally:
            event.remove(Engine, "before_cursor_execute", count)
        return len(ran)

    before = statements()
    assert 3 < before < 15  # the round, the cases (a few), the stage entries, the counts
    for n in range(4, 14):
        round_world.case(f"U{n:02d}", stage="preparation")
    assert len(read.cases.many(round_code=ROUND)) == 13
    assert statements() == before
