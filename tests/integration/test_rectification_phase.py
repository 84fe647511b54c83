"""The rectification phase of the built-in case lifecycles (issue #10.1–2), on both backends.

整改方案 (reviewed by all three: office, discipline group, organisation department) → 集中整改
→ 整改报告 (due two months after the feedback meeting's own date) → 公开 → 常态化整改 →
整改评估 → 完成; a 差 sends the case back to 集中整改 (二次整改).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from escalation_helpers import live_timer
from rectification_helpers import Rectifying
from worlds import KEY, World

from xunshi.bootstrap import App
from xunshi.errors import XunshiError
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.deadlines import add_months

SHANGHAI_NINE = timedelta(hours=1)  # 09:00 in Shanghai is 01:00 UTC


def _at(day: date) -> datetime:
    """09:00 Shanghai on `day`, as an aware UTC instant."""
    from datetime import UTC

    return datetime(day.year, day.month, day.day, tzinfo=UTC) + SHANGHAI_NINE


def _milestone(app: App, name: str, role: str, at: datetime | None = None) -> None:
    app.services.cases.record_milestone(KEY, name, actor="某人", role=role, at=at)


def _fire(app: App, trigger: str, role: str = "office", at: datetime | None = None) -> str:
    return app.services.cases.fire(KEY, trigger, actor="某人", role=role, at=at).instance.state


def _refusal(action: object) -> str:
    with pytest.raises(XunshiError) as caught:
        action()  # type: ignore[operator]
    return caught.value.message


def _to_feedback(world: World, clock: ManualClock) -> None:
    world.case()
    world.drive_to(KEY, "feedback", pace=timedelta(hours=2))


def _through_plan(app: App) -> None:
    _milestone(app, "plan_submitted", "party_secretary")
    for name, role in (
        ("plan_reviewed_office", "office"),
        ("plan_reviewed_discipline", "discipline_group"),
        ("plan_reviewed_organization", "organization_dept"),
    ):
        _milestone(app, name, role)
    assert _fire(app, "approve_plan") == "rectification"


def _to_evaluation(app: App) -> None:
    for name in ("three_lists", "democratic_life_meeting"):
        _milestone(app, name, "party_secretary")
    assert _fire(app, "to_report", "party_secretary") == "rectification_report"
    _milestone(app, "rectification_report", "unit_liaison")
    _milestone(app, "leader_report", "party_secretary")
    assert _fire(app, "accept_report") == "publication"
    _milestone(app, "progress_published", "unit_liaison")
    assert _fire(app, "to_ongoing") == "ongoing"
    assert _fire(app, "to_evaluation") == "evaluation"


FULL = {"组织领导": 20, "整改落实": 40, "建章立制": 20, "成果运用": 20}


def _evaluate(app: App, score: int, grade: str, dims: dict[str, int], **kw: object) -> object:
    return app.services.cases.evaluate(
        KEY,
        score=score,
        grade=grade,
        dimensions=dims,
        actor="巡视办王五",
        role=str(kw.pop("role", "office")),
        **kw,  # type: ignore[arg-type]
    )


def test_the_two_month_report_counts_from_the_feedback_meetings_date(
    app: App, world: World, clock: ManualClock
) -> None:
    _to_feedback(world, clock)
    # The feedback meeting was held on 2024-10-15 (recorded later, with its own date); the
    # office starts the rectification weeks afterwards.
    meeting = date(2024, 10, 15)
    clock.set(_at(date(2024, 10, 16)))
    _milestone(app, "feedback_meeting", "office", at=_at(meeting))
    _milestone(app, "individual_feedback", "office")
    clock.set(_at(date(2024, 11, 4)))
    assert _fire(app, "start_rectification") == "rectification_plan"
    # The plan is due 15 working days from entering 整改方案 (no holidays in Nov 2024).
    assert app.services.read.cases.one(KEY).due_on == date(2024, 11, 25)
    clock.set(_at(date(2024, 11, 20)))
    _through_plan(app)
    two_months = add_months(meeting, 2)
    assert two_months == date(2024, 12, 15)
    view = app.services.read.cases.one(KEY)
    assert (view.state, view.due_on) == ("rectification", two_months)
    clock.set(_at(date(2024, 12, 2)))
    for name in ("three_lists", "democratic_life_meeting"):
        _milestone(app, name, "party_secretary")
    assert _fire(app, "to_report", "party_secretary") == "rectification_report"
    view = app.services.read.cases.one(KEY)
    # Not 2 months from the trigger (2025-02-02): from the meeting.
    assert view.due_on == two_months
    assert live_timer(app, view.id)["due_on"] == two_months
    # The as-of view replays the same date.
    past = app.services.read.cases.as_of(KEY, clock.now())
    assert past.due_on == two_months


def test_the_plan_review_needs_all_three_reviewers(
    app: App, world: World, clock: ManualClock
) -> None:
    world.case()
    world.drive_to(KEY, "rectification_plan", pace=timedelta(hours=2))
    _milestone(app, "plan_submitted", "unit_liaison")
    _milestone(app, "plan_reviewed_office", "office")
    message = _refusal(lambda: _fire(app, "approve_plan"))
    assert "plan_reviewed_discipline" in message and "plan_reviewed_organization" in message
    # Each reviewer records only their own review.
    assert "may not" in _refusal(lambda: _milestone(app, "plan_reviewed_discipline", "office"))
    _milestone(app, "plan_reviewed_discipline", "discipline_group")
    assert "plan_reviewed_organization" in _refusal(lambda: _fire(app, "approve_plan"))
    _milestone(app, "plan_reviewed_organization", "organization_dept")
    assert _fire(app, "approve_plan") == "rectification"


def test_the_case_cannot_close_before_evaluation(
    app: App, world: World, clock: ManualClock
) -> None:
    world.case()
    world.drive_to(KEY, "ongoing", pace=timedelta(hours=2))
    # There is no way to close from 常态化整改: only through 整改评估.
    assert "possible now" in _refusal(lambda: _fire(app, "close"))
    assert _fire(app, "to_evaluation") == "evaluation"
    assert "has not been evaluated" in _refusal(lambda: _fire(app, "close"))
    done = _evaluate(
        app, 86, "较好", {"组织领导": 18, "整改落实": 34, "建章立制": 16, "成果运用": 18}
    )
    assert done.sent_back is None  # type: ignore[attr-defined]
    view = app.services.read.cases.one(KEY)
    assert view.evaluation is not None
    assert (view.evaluation.scores.grade, view.evaluation.scores.score) == ("较好", 86)
    assert _fire(app, "close") == "closed"
    assert app.services.audit.verify().ok


def test_the_periodic_report_restarts_the_ongoing_clock(
    app: App, world: World, clock: ManualClock
) -> None:
    world.case()
    world.drive_to(KEY, "ongoing", pace=timedelta(hours=2))
    first = app.services.read.cases.one(KEY).due_on
    assert first is not None
    clock.advance(timedelta(days=60))
    assert _fire(app, "periodic_report", "party_secretary") == "ongoing"
    second = app.services.read.cases.one(KEY).due_on
    assert second is not None and second > first


@pytest.mark.parametrize(
    ("score", "grade", "dims", "message"),
    [
        (86, "较好", {"组织领导": 18, "整改落实": 34, "建章立制": 16, "人员": 18},
         "unknown dimension '人员' (dimensions and weights: 组织领导 (20), 整改落实 (40), "
         "建章立制 (20), 成果运用 (20))"),
        (68, "一般", {"组织领导": 18, "整改落实": 34, "建章立制": 16},
         "every dimension is scored: missing 成果运用"),
        (96, "好", {"组织领导": 21, "整改落实": 39, "建章立制": 16, "成果运用": 20},
         "dimension 组织领导 scores from 0 to its weight 20, not 21"),
        (90, "好", {"组织领导": 18, "整改落实": 34, "建章立制": 16, "成果运用": 18},
         "the dimension scores add up to 86, not --score 90"),
        (86, "好", {"组织领导": 18, "整改落实": 34, "建章立制": 16, "成果运用": 18},
         "a score of 86 is graded 较好 (80–89), not 好"),
        (86, "优秀", {"组织领导": 18, "整改落实": 34, "建章立制": 16, "成果运用": 18},
         "unknown grade '优秀' (grades: 好、较好、一般、差)"),
        (101, "好", FULL, "--score must be a whole number from 0 to 100"),
    ],
)  # fmt: skip
def test_evaluation_scores_outside_the_declaration_are_refused(
    app: App, world: World, score: int, grade: str, dims: dict[str, int], message: str
) -> None:
    world.case()
    world.drive_to(KEY, "evaluation", pace=timedelta(hours=2))
    before = world.snapshot()
    assert message in _refusal(lambda: _evaluate(app, score, grade, dims))
    assert world.snapshot() == before


def test_evaluation_happens_in_its_stage_by_its_roles(app: App, world: World) -> None:
    world.case()
    world.drive_to(KEY, "ongoing", pace=timedelta(hours=2))
    assert "it is evaluated in 整改评估 (evaluation)" in _refusal(
        lambda: _evaluate(app, 100, "好", FULL)
    )
    _fire(app, "to_evaluation")
    assert "cannot be evaluated by role party_secretary" in _refusal(
        lambda: _evaluate(app, 100, "好", FULL, role="party_secretary")
    )
    _evaluate(app, 100, "好", FULL)
    # A second evaluation in the stage corrects the first: it needs a reason.
    assert "give --reason" in _refusal(lambda: _evaluate(app, 100, "好", FULL))
    _evaluate(
        app, 84, "较好", {"组织领导": 16, "整改落实": 32, "建章立制": 16, "成果运用": 20},
        reason="复核后调整整改落实得分",
    )  # fmt: skip
    view = app.services.read.cases.one(KEY)
    assert view.evaluation is not None and view.evaluation.scores.score == 84
    assert view.evaluation.reason == "复核后调整整改落实得分"


def test_a_poor_grade_sends_the_case_back_and_the_history_says_why(
    app: App, world: World, clock: ManualClock
) -> None:
    world.case()
    world.drive_to(KEY, "evaluation", pace=timedelta(hours=2))
    clock.advance(timedelta(days=3))
    poor = {"组织领导": 10, "整改落实": 20, "建章立制": 10, "成果运用": 10}
    done = _evaluate(app, 50, "差", poor)
    assert done.sent_back is not None  # type: ignore[attr-defined]
    view = app.services.read.cases.one(KEY)
    assert view.state == "rectification"
    # 二次整改: the milestone's two months are spent; the stage's period runs from re-entry.
    assert view.due_on == add_months(clock.now().astimezone(app.settings.tz).date(), 2)
    assert view.evaluation is not None and view.evaluation.scores.on_poor == "rerectify"
    events = list(app.services.read.history.of(KEY).events)
    evaluated, back = events[-2], events[-1]
    assert (evaluated.kind, evaluated.data["grade"], evaluated.data["score"]) == (
        "evaluated",
        "差",
        50,
    )
    assert (back.kind, back.trigger, back.from_state, back.to_state) == (
        "transition",
        "rerectify",
        "evaluation",
        "rectification",
    )
    assert back.reason == "整改评估为差（50分），二次整改"
    assert back.data == {"evaluation": evaluated.seq}
    assert app.services.audit.verify().ok


def test_a_long_term_problem_keeps_its_review_timer_after_its_case_closes(
    app: App, clock: ManualClock
) -> None:
    # A long-term (长期整改) problem lets its case go on to 整改评估 but not around it, and
    # its own review deadline (three months in 长期整改) outlives the case.
    rect = Rectifying(app, clock)
    case = rect.case("U01")
    item = rect.item("U01", "P01")
    rect.begin(item)
    assert rect.fire(item, "make_long_term", "office") == "long_term"
    rect.close_case_ready(case)
    assert _fire_on(app, case, "to_evaluation") == "evaluation"
    assert "has not been evaluated" in _refusal(lambda: _fire_on(app, case, "close"))
    rect.close_case(case)
    assert app.services.read.cases.one(case).state == "closed"

    view = rect.view(item)
    assert (view.state, view.due_on) == ("long_term", add_months(view.entered_at.date(), 3))
    timer = live_timer(app, rect.ref(item).id)
    assert timer["status"] == "pending"
    clock.set(_at(view.due_on + timedelta(days=30)))
    raised = app.sweeper.sweep().raised
    assert [(r.label, r.level) for r in raised if r.label == f"item {item}"][:1] == [
        (f"item {item}", 0)
    ]


def _fire_on(app: App, case: str, trigger: str) -> str:
    return app.services.cases.fire(case, trigger, actor="某人", role="office").instance.state
