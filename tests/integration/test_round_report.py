"""`report round`: a round at a glance, against a hand-computed round on the virtual clock.

Read on Thursday 2024-10-10 10:00 (after the National Day holidays, 10-01..07; 09-29 and
10-12 are make-up working days):

| what                     | due        | rungs raised by then (each at 00:00 of) |
|--------------------------|------------|-----------------------------------------|
| case U01, 集中整改 (at once) | 2024-11-02 | none (its -10wd reminder is at 10-21)   |
| item U01/P01 task #1     | 2024-09-13 | L0 09-06, L1 09-14, L2 09-24, L3 09-30  |
| item U01/P01 task #2     | 2024-10-31 | none (its reminder is at 10-24)         |
| item U01/P02, identified | 2024-09-14 | L0 09-09, L1 09-15, L2 09-25, L3 10-01  |
| case U02, started 10-08  | 2024-10-28 | none                                    |
| case U03, preparation    | 2024-09-24 | L0 09-19, L1 09-25, L2 10-01 (the last) |

The items and tasks climb the rectification ladder (-5wd 整改到期提醒, 0 整改超期预警, +5wd
整改督办, then +10wd 约谈主要负责人 and +20wd 问责建议, which are proposals for the office);
U03's stage climbs the regular default ladder (-3wd 到期提醒, 0 超期提醒, +5wd
超期报告领导小组). Both L4 rungs (10-18, 10-19) are still ahead. So three reminders, six
escalations (the items' under case U01, the stage's under U03) and two 约谈 proposals, not
counted until the office confirms them; one case and one task overdue. U01 went through
现场巡视 recording 12 人次 of 个别谈话.

A level's column is titled by the instruments its rungs use, in the built-ins' order: level
1 is U03's 提醒 and the items' 预警 (`L1 提醒/预警`), level 2 U03's 提醒 and the items' 督办函.
"""

from __future__ import annotations

from datetime import date

import pytest
from rectification_helpers import FINANCE, POLITICS, ROUND, Rectifying, shanghai

from xunshi.bootstrap import App
from xunshi.cli.render import round_report
from xunshi.errors import NotFound
from xunshi.read.overview import level_title
from xunshi.workflow.clock import ManualClock

AS_OF = shanghai(2024, 10, 10, 10)


@pytest.fixture
def round_world(app: App, clock: ManualClock) -> Rectifying:
    """The round of the table above, swept at 2024-10-10 10:00."""
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


def test_the_overview_counts_reminders_apart_and_lists_overdue_cases_and_tasks(
    round_world: Rectifying, app: App
) -> None:
    overview = app.services.read.overview.of(ROUND)
    assert (overview.round.title, overview.as_of) == ("2024年第一轮巡视", date(2024, 10, 10))
    assert (overview.reminders, overview.raised) == (3, 6)
    assert overview.by_level() == {0: 3, 1: 3, 2: 3}
    assert overview.level_titles() == {0: "L0 提醒", 1: "L1 提醒/预警", 2: "L2 提醒/督办函"}
    assert [(str(p.key), p.level, p.title, p.decision) for p in overview.proposals] == [
        (f"{ROUND}/U01/P01", 3, "约谈主要负责人", "pending"),
        (f"{ROUND}/U01/P02", 3, "约谈主要负责人", "pending"),
    ]
    assert [t.label for t in overview.workload] == ["个别谈话 12 人次（1 个单位）"]
    assert [str(v.key) for v in overview.overdue] == [f"{ROUND}/U03"]
    ((task),) = overview.overdue_tasks
    assert task.to_json() == {
        "task": f"{ROUND}/U01/P01#1",
        "unit_name": "示例市财政局",
        "measure": "修订议事规则",
        "lead_department": "办公室",
        "responsible_person": "李某",
        "due_on": "2024-09-13",
        "days_overdue": 27,
    }
    shape = overview.to_json(app.settings.tz)
    keys = ("levels", "reminders", "raised", "workload", "overdue_cases")
    assert {k: shape[k] for k in keys} == {
        "levels": [
            {"level": 0, "title": "L0 提醒", "count": 3},
            {"level": 1, "title": "L1 提醒/预警", "count": 3},
            {"level": 2, "title": "L2 提醒/督办函", "count": 3},
        ],
        "reminders": 3,
        "raised": 6,
        "workload": [{"title": "个别谈话", "unit": "人次", "total": 12, "cases": 1}],
        "overdue_cases": [f"{ROUND}/U03"],
    }
    assert shape["pending_decisions"] == [p.id for p in overview.proposals]
    assert shape["overdue_tasks"] == [task.to_json()]
    assert shape["kinds"] == ["常规巡视"]
    assert shape["matrix"] == {"巡前准备": {"常规巡视": 2}, "集中整改": {"常规巡视": 1}}


def test_the_report_titles_columns_by_level_not_by_any_ladders_rung_titles(
    round_world: Rectifying, app: App
) -> None:
    text = round_report(app.services.read.overview.of(ROUND))
    sections = text.split("\n\n")
    assert sections[0] == "2024年第一轮巡视 (2024-R1) as of 2024-10-10"
    assert sections[1] == (
        "阶段      常规巡视  合计\n"
        "巡前准备  2         2\n"
        "集中整改  1         1\n"
        "合计      3         3"
    )  # fmt: skip
    assert sections[2] == "巡视工作量 workload: 个别谈话 12 人次（1 个单位）"
    assert sections[3].splitlines()[1:] == [
        "2024-R1/U01  示例市财政局  常规巡视  集中整改  2024-11-02  还有 23 天",
        "2024-R1/U02  示例市审计局  常规巡视  巡前准备  2024-10-28  还有 18 天",
        "2024-R1/U03  示例市统计局  常规巡视  巡前准备  2024-09-24  超期 16 天",
    ]
    assert sections[4] == (
        "督办 escalations: 6 (L1 提醒/预警 3, L2 提醒/督办函 3); 提醒 reminders: 3; "
        "待决定 proposals: 2\n"
        "案件         单位          L0 提醒  L1 提醒/预警  L2 提醒/督办函\n"
        "2024-R1/U01  示例市财政局  2        2             2\n"
        "2024-R1/U03  示例市统计局  1        1             1\n"
        "合计                       3        3             3"
    )
    assert sections[5] == (
        "超期案件 overdue cases: 1\n"
        "案件         单位          阶段      期限        超期   未解除督办\n"
        "2024-R1/U03  示例市统计局  巡前准备  2024-09-24  16 天  "
        "到期提醒, 超期提醒, 超期报告领导小组"
    )
    assert sections[6] == (
        "超期任务 overdue tasks: 1\n"
        "任务               单位          整改措施      牵头部门  责任人  完成时限    超期\n"
        "2024-R1/U01/P01#1  示例市财政局  修订议事规则  办公室    李某    2024-09-13  27 天"
    )


def test_a_round_without_escalations_or_anything_overdue(app: App, clock: ManualClock) -> None:
    rect = Rectifying(app, clock)
    rect.case("U01", "示例市财政局")
    overview = app.services.read.overview.of(ROUND)
    assert (overview.reminders, overview.raised, overview.levels) == (0, 0, ())
    assert round_report(overview).split("\n\n")[4:] == [
        "No reminders or escalations.",
        "No case is overdue.",
        "No task is overdue.",
    ]
    with pytest.raises(NotFound) as caught:
        app.services.read.overview.of("2099-R9")
    assert caught.value.message == "round 2099-R9 does not exist"


def test_levels_are_titled_by_their_number() -> None:
    assert [level_title(n) for n in range(6)] == [
        "L0 提醒",
        "L1 督办",
        "L2 告诫",
        "L3 问责",
        "L4 升级",
        "L5 升级",
    ]
