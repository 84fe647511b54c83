"""Corrections are recorded, never erased (issue #9.7), on every backend.

A case or an item recorded by mistake is voided (撤销): a `voided` event with its reason,
after which it takes no command, escalates nothing and leaves every list, while its
history and `audit verify` still cover it. A unit's new name and a group's new leader are
events in the history of each case that shows them, so `audit verify` names a row edited
outside xunshi. Every refusal writes nothing (all tables compared before and after).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from rectification_helpers import OFFICE, ROUND, Rectifying, shanghai
from sqlalchemy import select, text
from worlds import snapshot

from xunshi.bootstrap import App
from xunshi.errors import BadInput, NotFound, Refused, XunshiError
from xunshi.storage import queries as q
from xunshi.workflow.audit import Event
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.voids import VoidRecord

U01 = f"{ROUND}/U01"
U02 = f"{ROUND}/U02"
P01 = f"{U01}/P01"
P02 = f"{U01}/P02"
REASON = "重复录入"
VOID_U02 = f"case {U02} is void (撤销): {REASON}; nothing more can happen to it"
T0 = shanghai(2024, 9, 2, 9)  # the clock of the world: every event below happens then


@pytest.fixture
def rect(app: App, clock: ManualClock) -> Rectifying:
    """Case 2024-R1/U01 (示例市财政局) in 整改 with problems P01 (a task due 2024-10-31) and
    P02; case 2024-R1/U02 (示例市审计局) in 巡前准备; one group, G1 (张组长)."""
    world = Rectifying(app, clock)
    world.case("U01", "示例市财政局")
    world.item("U01", "P01")
    world.task(P01, date(2024, 10, 31))
    world.item("U01", "P02")
    world.case("U02", "示例市审计局", stage="preparation")
    return world


def refused(app: App, command: Callable[[], Any], kind: type[XunshiError] = Refused) -> str:
    """Run `command`, expect `kind`, check that no table changed; the message."""
    before = snapshot(app)
    with pytest.raises(kind) as caught:
        command()
    assert snapshot(app) == before, "a refused command wrote something"
    return caught.value.message


def void(app: App, name: str, kind: str = "case", **options: Any) -> Any:
    """Void a case or an item as the office, for REASON."""
    service = app.services.cases if kind == "case" else app.services.items
    return service.void(name, actor=OFFICE, role="office", reason=REASON, **options)


def history(app: App, name: str, kind: str = "case") -> list[Event]:
    """Every event of a case or an item."""
    return list(app.services.read.history.of(name, kind).events)


def live_timers(app: App) -> list[tuple[int, int, int]]:
    """(instance, task, level) of every timer still waiting."""
    t = q.timers
    with app.db.transaction() as conn:
        rows = conn.execute(
            select(t.c.instance_id, t.c.task_id, t.c.level)
            .where(t.c.status.in_(("pending", "claimed")))
            .order_by(t.c.instance_id, t.c.task_id)
        )
        return [tuple(row) for row in rows]


def problems(app: App) -> list[tuple[str, int, str]]:
    """What `audit verify` reports, as (label, seq, reason)."""
    return [(p.label, p.seq, p.reason) for p in app.services.audit.verify().problems]


def sql(app: App, statement: str, **params: Any) -> None:
    """Tamper with the database (committed)."""
    with app.db.transaction() as conn:
        conn.execute(text(statement), params)


# -- void: hidden from lists, covered by the audit ------------------------------------------


def test_voiding_a_case_hides_it_from_lists_but_audit_verify_still_covers_it(
    rect: Rectifying, app: App
) -> None:
    read = app.services.read
    events_before = app.services.audit.verify().events

    voided = void(app, U02)

    assert (str(voided.key), voided.dependents) == (U02, ())
    assert (voided.change.event.kind, voided.change.event.reason) == ("voided", REASON)
    assert [str(v.key) for v in read.cases.many(round_code=ROUND)] == [U01]
    assert [str(v.key) for v in read.cases.many()] == [U01]
    assert [str(v.key) for v in read.overview.of(ROUND).cases] == [U01]
    listed = {str(v.key): v.voided for v in read.cases.many(include_void=True)}
    record = VoidRecord(T0, OFFICE, "office", REASON)
    assert listed == {U01: None, U02: record}
    shown = read.cases.one(U02)
    assert (shown.voided, shown.triggers, shown.overdue) == (record, (), False)
    assert shown.to_json(app.settings.tz)["voided"] == {
        "at": "2024-09-02T09:00:00+08:00",
        "actor": OFFICE,
        "role": "office",
        "reason": REASON,
    }
    assert [(e.seq, e.kind, e.trigger, e.actor, e.role, e.reason) for e in history(app, U02)][
        -1
    ] == (2, "voided", "void", OFFICE, "office", REASON)

    report = app.services.audit.verify()
    assert report.ok, report.problems
    assert report.chains == 4  # U01, its P01 and P02, and the void U02
    assert report.events == events_before + 1

    # The row of the void case is still checked against its history …
    sql(app, "UPDATE instance SET voided = :no WHERE id = :id", no=False, id=shown.id)
    assert problems(app) == [
        ("case 2024-R1/U02", 2, "row says voided = False, history replays to True")
    ]
    sql(app, "UPDATE instance SET voided = :yes WHERE id = :id", yes=True, id=shown.id)
    assert problems(app) == []
    # … and so is its `voided` event.
    sql(
        app, "UPDATE event SET reason = '另有原因' WHERE instance_id = :id AND seq = 2", id=shown.id
    )
    assert problems(app) == [("case 2024-R1/U02", 2, "hash mismatch: the stored event was altered")]


def test_a_void_case_takes_no_command_and_says_why(rect: Rectifying, app: App) -> None:
    void(app, U02)
    cases = app.services.cases

    for command in (
        lambda: cases.fire(U02, "move_in", actor="张组长", role="group_leader"),
        lambda: cases.record_milestone(U02, "training_done", actor="张组长", role="office"),
        lambda: cases.suspend(U02, actor=OFFICE, role="office", reason="召回"),
        lambda: cases.resume(U02, actor=OFFICE, role="office"),
        lambda: void(app, U02),
    ):
        assert refused(app, command) == VOID_U02


def test_only_the_office_voids_and_always_says_why(rect: Rectifying, app: App) -> None:
    cases = app.services.cases

    assert refused(
        app, lambda: cases.void(U02, actor="张组长", role="group_leader", reason=REASON)
    ) == (
        f"case {U02} cannot be voided: role group_leader (巡视组组长) may not; "
        "allowed: office (巡视办)"
    )
    assert refused(
        app, lambda: cases.void(U02, actor=OFFICE, role="office", reason="  "), BadInput
    ) == (f"voiding case {U02} needs a reason (--reason)")
    assert refused(
        app, lambda: cases.void(U02, actor=OFFICE, role="nobody", reason=REASON)
    ).startswith("role nobody is not defined by regular (roles: ")
    assert (
        refused(
            app,
            lambda: cases.void(f"{ROUND}/U09", actor=OFFICE, role="office", reason=REASON),
            NotFound,
        )
        == f"case {ROUND}/U09 does not exist"
    )


def test_a_case_with_problems_is_voided_only_together_with_them(rect: Rectifying, app: App) -> None:
    read = app.services.read
    assert refused(app, lambda: void(app, U01)) == (
        f"case {U01} has 2 problems not void (P01, P02): void them first, or the case with "
        "its problems (--with-items)"
    )

    void(app, P02, "item")
    assert refused(app, lambda: void(app, U01)) == (
        f"case {U01} has 1 problem not void (P01): void them first, or the case with its "
        "problems (--with-items)"
    )

    voided = void(app, U01, with_dependents=True)

    assert [str(dep.key) for dep in voided.dependents] == [P01]
    assert dict(voided.change.event.data) == {"dependents": [P01]}
    assert history(app, P01, "item")[-1].data == {"along_with": U01}
    assert [e.kind for e in history(app, P02, "item")].count("voided") == 1
    assert [str(v.key) for v in read.cases.many()] == [U02]
    assert read.items.many(round_code=ROUND) == []
    assert {str(v.key): v.voided is not None for v in read.items.many(include_void=True)} == {
        P01: True,
        P02: True,
    }
    assert read.ledger.of(ROUND).rows == ()
    assert read.themes.of(ROUND).themes == ()
    assert read.overview.of(ROUND).cases == (read.cases.one(U02),)
    assert problems(app) == []


def test_nothing_more_happens_to_a_void_problem_or_in_a_void_case(
    rect: Rectifying, app: App
) -> None:
    items = app.services.items
    void(app, P02, "item")
    void_p02 = f"item {P02} is void (撤销): {REASON}; nothing more can happen to it"

    assert refused(app, lambda: items.fire(P02, "plan", actor="联络员", role="unit_liaison")) == (
        void_p02
    )
    assert refused(app, lambda: rect.task(P02, date(2024, 12, 31))) == void_p02
    [task] = rect.view(P01).tasks
    void(app, U01, with_dependents=True)
    assert refused(app, lambda: rect.done(str(task.id))) == (
        f"item {P01} is void (撤销): {REASON}; nothing more can happen to it"
    )
    assert refused(app, lambda: rect.item("U01", "P03")) == (
        f"case {U01} is void (撤销): {REASON}; nothing more can happen to it"
    )


def test_a_void_problem_no_longer_holds_its_case_open(rect: Rectifying, app: App) -> None:
    rect.begin(P01)
    rect.accept(P01)
    rect.close_case_ready(U01)
    to_evaluation = lambda: app.services.cases.fire(  # noqa: E731
        U01, "to_evaluation", actor=OFFICE, role="office"
    )
    assert refused(app, to_evaluation) == (
        f"case {U01} cannot to_evaluation: 1 item is neither accepted nor long-term: "
        "P02 (identified)"
    )

    void(app, P02, "item")

    rect.close_case(U01)
    assert app.services.read.cases.one(U01).state == "closed"


# -- void: no timer, no escalation ----------------------------------------------------------


def test_a_void_case_and_its_problems_escalate_nothing(
    rect: Rectifying, app: App, clock: ManualClock
) -> None:
    read = app.services.read
    voided = {read.cases.one(U01).id, rect.ref(P01).id, rect.ref(P02).id}
    assert {t[0] for t in live_timers(app)} >= voided  # the case, both problems, P01's task
    assert any(task for instance, task, _level in live_timers(app) if instance in voided)

    def of_u01(views: list[Any]) -> list[tuple[str, int, bool]]:
        return [
            (str(v.key), v.level, v.open) for v in views if v.key.case == rect.ref(P01).key.case
        ]

    # P01 and P02 are due 2024-09-14: a week later each has its level 1 raised.
    clock.set(shanghai(2024, 9, 23, 9))
    app.sweeper.sweep()
    raised = [(P01, 0, True), (P02, 0, True), (P01, 1, True), (P02, 1, True)]
    assert sorted(of_u01(read.escalations.many(open_only=True))) == sorted(raised)

    void(app, U01, with_dependents=True)

    assert [t for t in live_timers(app) if t[0] in voided] == []
    assert of_u01(read.escalations.many(open_only=True)) == []
    assert of_u01(read.escalations.many()) == []
    assert of_u01(list(read.overview.of(ROUND).escalations)) == []
    kept = of_u01(read.escalations.many(include_void=True))
    assert sorted(kept) == sorted((key, level, False) for key, level, _open in raised)
    # Acknowledging one is an event of the void problem: refused like every other.
    first = next(e for e in read.escalations.many(include_void=True) if str(e.key) == P01)
    assert refused(app, lambda: app.services.escalations.acknowledge(first.id, OFFICE)) == (
        f"{first.key.label} is void (撤销): {REASON}; nothing more can happen to it"
    )
    # Half a year on, the void case, its problems and P01's task raise nothing.
    clock.set(shanghai(2025, 3, 3, 9))
    assert {r.label for r in app.sweeper.sweep().raised} == {f"case {U02}"}
    assert problems(app) == []


def test_the_calendar_feed_has_no_deadline_of_a_void_case_or_problem(
    rect: Rectifying, app: App
) -> None:
    def feed() -> list[tuple[str, str]]:
        return [(d.kind, str(d.key)) for d in app.services.read.deadlines.of(ROUND).deadlines]

    assert sorted(feed()) == sorted(
        [("case", U01), ("case", U02), ("item", P01), ("item", P02), ("task", f"{P01}#1")]
    )

    void(app, U02)
    void(app, P02, "item")
    assert sorted(feed()) == sorted([("case", U01), ("item", P01), ("task", f"{P01}#1")])

    void(app, U01, with_dependents=True)
    assert feed() == []


def test_a_calendar_load_moves_no_deadline_of_a_void_case(rect: Rectifying, app: App) -> None:
    before = app.services.read.cases.one(U02).due_on
    void(app, U02)
    events = len(history(app, U02))

    changed = app.services.calendar.load(
        "year: 2024\nholidays: [2024-09-10]\nworkdays: []\n", "cal2024.yaml", OFFICE
    )

    assert U02 not in {str(moved.key) for moved in changed.rescheduled}
    assert app.services.read.cases.one(U02).due_on == before
    assert len(history(app, U02)) == events
    assert [t for t in live_timers(app) if t[0] == app.services.read.cases.one(U02).id] == []


def test_a_case_shown_as_it_was_before_its_void_is_not_void(
    rect: Rectifying, app: App, clock: ManualClock
) -> None:
    clock.advance(timedelta(hours=2))
    void(app, U02)
    cases = app.services.read.cases

    assert cases.as_of(U02, T0 + timedelta(hours=1)).voided is None
    after = cases.as_of(U02, T0 + timedelta(hours=2))
    assert after.voided == VoidRecord(T0 + timedelta(hours=2), OFFICE, "office", REASON)
    assert after.triggers == ()


# -- a unit's name, a group's leader -------------------------------------------------------


def test_a_unit_renamed_is_an_event_of_each_of_its_cases(
    rect: Rectifying, app: App, clock: ManualClock
) -> None:
    cases = app.services.cases
    clock.set(shanghai(2025, 3, 3, 9))
    cases.create_round("2025-R1", "2025年第一轮巡视", date(2025, 3, 3))
    cases.add_group("2025-R1", "G1", "王组长")
    cases.start_case(
        round_code="2025-R1", unit_code="U01", group_code="G1", definition="mobile", actor=OFFICE
    )
    clock.advance(timedelta(hours=1))

    renamed = cases.rename_unit("u01", "示例市财政局（更名）", reason="机构改革", actor=OFFICE)

    assert renamed.to_json() == {
        "subject": "unit",
        "code": "U01",
        "old": "示例市财政局",
        "new": "示例市财政局（更名）",
        "cases": [U01, "2025-R1/U01"],
    }
    for key in (U01, "2025-R1/U01"):
        last = history(app, key)[-1]
        assert (last.kind, last.actor, last.role, last.reason) == (
            "unit_renamed",
            OFFICE,
            "office",
            "机构改革",
        )
        assert last.data == {"unit": "U01", "old": "示例市财政局", "new": "示例市财政局（更名）"}
        assert app.services.read.cases.one(key).unit_name == "示例市财政局（更名）"
    assert rect.view(P01).unit_name == "示例市财政局（更名）"
    assert [u.name for u in app.services.read.catalog.units()] == [
        "示例市财政局（更名）",
        "示例市审计局",
    ]
    assert problems(app) == []

    sql(app, "UPDATE unit SET name = '示例市财政厅' WHERE code = 'U01'")
    seqs = {key: len(history(app, key)) for key in (U01, "2025-R1/U01")}
    reason = "unit row says name = '示例市财政厅', history replays to '示例市财政局（更名）'"
    assert problems(app) == [
        ("case 2024-R1/U01", seqs[U01], reason),
        ("case 2025-R1/U01", seqs["2025-R1/U01"], reason),
    ]


def test_a_void_case_records_its_unit_renamed_too(rect: Rectifying, app: App) -> None:
    void(app, U02)

    renamed = app.services.cases.rename_unit(
        "U02", "示例市审计局（新）", reason="更名", actor=OFFICE
    )

    assert renamed.cases == (app.services.read.cases.one(U02).key,)
    assert [e.kind for e in history(app, U02)] == ["started", "voided", "unit_renamed"]
    assert problems(app) == []


def test_a_group_leader_changed_is_an_event_of_each_of_its_cases(
    rect: Rectifying, app: App
) -> None:
    # Never changed, the leader is checked against what each case recorded when it started.
    sql(app, "UPDATE inspection_group SET leader = '某人'")
    assert problems(app) == [
        ("case 2024-R1/U01", 1, "group row says leader = '某人', history replays to '张组长'"),
        ("case 2024-R1/U02", 1, "group row says leader = '某人', history replays to '张组长'"),
    ]
    sql(app, "UPDATE inspection_group SET leader = '张组长'")

    changed = app.services.cases.change_group_leader(
        "2024-r1", "g1", "李组长", reason="工作调动", actor=OFFICE
    )

    assert changed.to_json() == {
        "subject": "group",
        "code": "2024-R1/G1",
        "old": "张组长",
        "new": "李组长",
        "cases": [U01, U02],
    }
    for key in (U01, U02):
        last = history(app, key)[-1]
        assert (last.kind, last.reason) == ("leader_changed", "工作调动")
        assert last.data == {"group": "2024-R1/G1", "old": "张组长", "new": "李组长"}
        assert app.services.read.cases.one(key).group_leader == "李组长"
    assert [g.leader for g in app.services.read.catalog.groups(ROUND)] == ["李组长"]
    assert problems(app) == []


def test_a_unit_without_cases_is_renamed_with_nothing_to_record(app: App, rect: Rectifying) -> None:
    app.services.cases.add_unit("U09", "示例市档案馆")

    renamed = app.services.cases.rename_unit("U09", "示例市档案局", reason="更名", actor=OFFICE)

    assert renamed.cases == ()
    assert [u.name for u in app.services.read.catalog.units() if u.code == "U09"] == [
        "示例市档案局"
    ]


def test_renames_refuse_what_they_cannot_do_and_write_nothing(rect: Rectifying, app: App) -> None:
    cases = app.services.cases

    def rename(code: str, name: str, reason: str = "更名", **options: Any) -> Callable[[], Any]:
        return lambda: cases.rename_unit(code, name, reason=reason, actor=OFFICE, **options)

    def lead(round_code: str, group: str, leader: str, reason: str = "调动") -> Callable[[], Any]:
        return lambda: cases.change_group_leader(
            round_code, group, leader, reason=reason, actor=OFFICE
        )

    assert refused(app, rename("U99", "某单位"), NotFound) == "unit U99 does not exist"
    assert refused(app, rename("U01", "示例市财政局"), BadInput) == (
        "unit U01 is already called 示例市财政局"
    )
    assert refused(app, rename("U01", "新名", reason=" "), BadInput) == "reason must not be empty"
    assert refused(app, rename("U01", ""), BadInput) == "unit name must not be empty"
    assert refused(app, rename("U01", "新名", at=T0 - timedelta(hours=1)), BadInput) == (
        "time 2024-09-02 08:00 is earlier than the last event of case 2024-R1/U01 "
        "(2024-09-02 09:00)"
    )
    assert refused(app, lead("2024-R1", "G9", "某人"), NotFound) == (
        "group G9 does not exist in round 2024-R1"
    )
    assert refused(app, lead("2099-R9", "G1", "某人"), NotFound) == "round 2099-R9 does not exist"
    assert refused(app, lead("2024-R1", "G1", "张组长"), BadInput) == (
        "group 2024-R1/G1 is already led by 张组长"
    )
