"""问题线索 on both backends: registration, the handover from the on-site stage on, the
three-month disposition deadline that escalates to the office, who sees a clue, who acts on
it, links to problems, audit verify, the sheet import.

The world: round 2024-R1, case 2024-R1/U01 (`regular`) started 2024-09-02 09:00; the clock
is Asia/Shanghai business time.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from rectification_helpers import CATEGORIES_YAML, POLITICS, shanghai
from sqlalchemy import select, text
from worlds import FORWARD, KEY, World

from xunshi.bootstrap import App
from xunshi.errors import AlreadyExists, BadInput, NotFound, Refused, XunshiError
from xunshi.services.commands import ClueFire, Handover, ItemFacts
from xunshi.storage import queries as q
from xunshi.workflow.clock import ManualClock

C01 = f"{KEY}:C01"
C02 = f"{KEY}:C02"
SUMMARY = "反映某处处长在项目审批中收受礼金"
TO_DISCIPLINE = ClueFire(Handover("discipline_group"))


@pytest.fixture
def onsite(app: App, world: World, clock: ManualClock) -> App:
    """Case 2024-R1/U01 on site since 2024-09-02 12:00 (one step an hour), clue C01 registered
    at 09:00 by the group, while the case was still preparing."""
    world.case()
    app.services.clues.add_clue(
        KEY, code="C01", summary=SUMMARY, actor="张组长", role="group_leader"
    )
    world.drive_to(KEY, "onsite", pace=timedelta(hours=1))
    return app


def hand_over(app: App, clue: str = C01, records: ClueFire = TO_DISCIPLINE) -> Any:
    """Hand `clue` over as the office, now."""
    return app.services.clues.fire(
        clue, "hand_over", actor="巡视办", role="office", records=records
    )


def drive_on(world: World, key: str, start: str, stage: str) -> None:
    """Move case `key`, now in `start`, along the forward path until it enters `stage`."""
    stages = [name for name, _ in FORWARD]
    for _name, steps in FORWARD[stages.index(start) : stages.index(stage)]:
        world.run(key, steps)


def clue_row(app: App, code: str = "C01") -> dict[str, Any]:
    """The stored clue row."""
    with app.db.transaction() as conn:
        found = conn.execute(select(q.clues).where(q.clues.c.code == code)).mappings().one()
        return dict(found)


def refused(call: Any) -> str:
    """The message of the XunshiError `call()` raises."""
    with pytest.raises(XunshiError) as caught:
        call()
    return caught.value.message


# -- registering and handing over ---------------------------------------------------------


def test_a_clue_registers_with_its_facts_in_its_first_event(onsite: App) -> None:
    view = onsite.services.read.clues.one(C01, role="office")

    assert (view.state, view.state_title, view.summary) == ("registered", "登记", SUMMARY)
    assert (view.receiver, view.disposition, view.outcome, view.items) == ("", "", "", ())
    assert view.due_on is None  # registration has no deadline: the handover starts one
    first = onsite.services.read.clues.history(C01, role="office").events[0]
    assert (first.kind, first.actor, first.role) == ("started", "张组长", "group_leader")
    assert first.data["facts"] == {
        "code": "C01",
        "summary": SUMMARY,
        "receiver": "",
        "receiver_name": "",
        "disposition": "",
        "outcome": "",
        "items": [],
    }


def test_registration_refuses_a_summary_with_personal_numbers_and_codes_taken(
    onsite: App, world: World
) -> None:
    before = world.snapshot()
    clues = onsite.services.clues

    def add(code: str, summary: str, role: str = "office") -> Any:
        return lambda: clues.add_clue(KEY, code=code, summary=summary, actor="甲", role=role)

    person = "describe the person by role (e.g. 某处处长), never by name or number"
    assert refused(add("C02", "某科长，身份证号11010119900307123X")) == (
        "clue summary must not hold personal details and this looks like an ID card number: "
        + person
    )
    assert refused(add("C02", "联系电话 138-1234-5678 的某科长")) == (
        "clue summary must not hold personal details and this looks like a telephone number: "
        + person
    )
    assert refused(add("C02", "x" * 201)) == "clue summary is 201 characters long; at most 200"
    assert refused(add("c01", SUMMARY)) == f"clue {KEY}:c01 already exists (as C01)"
    assert refused(add("C02", SUMMARY, "unit_liaison")) == (
        "role unit_liaison may not register clues; allowed: office, group_leader"
    )
    assert refused(add("C 2", SUMMARY)).startswith("clue code 'C 2' is not valid")
    assert world.snapshot() == before


def test_a_handover_is_refused_before_the_on_site_stage(
    app: App, world: World, clock: ManualClock
) -> None:
    world.case()
    app.services.clues.add_clue(KEY, code="C01", summary=SUMMARY, actor="巡视办", role="office")
    before = world.snapshot()

    assert refused(lambda: hand_over(app)) == (
        f"clue {C01} cannot hand_over: case {KEY} is in 巡前准备 (preparation); clues are "
        "handed over from 现场巡视 (onsite) on"
    )
    assert world.snapshot() == before


def test_a_handover_dated_before_the_case_was_on_site_is_refused(
    onsite: App, world: World, clock: ManualClock
) -> None:
    clock.advance(timedelta(days=1))
    before = world.snapshot()
    early = shanghai(2024, 9, 2, 10)  # the case was preparing then

    with pytest.raises(Refused) as caught:
        onsite.services.clues.fire(
            C01, "hand_over", actor="巡视办", role="office", at=early, records=TO_DISCIPLINE
        )
    assert caught.value.message == (
        f"clue {C01} cannot hand_over at 2024-09-02 10:00: case {KEY} was in 巡前准备 "
        "(preparation); clues are handed over from 现场巡视 (onsite) on"
    )
    assert world.snapshot() == before
    # On site then: taken, dated as given.
    moved = onsite.services.clues.fire(
        C01,
        "hand_over",
        actor="巡视办",
        role="office",
        at=shanghai(2024, 9, 2, 13),
        records=TO_DISCIPLINE,
    )
    assert (moved.instance.state, moved.instance.due_on) == ("handed_over", date(2024, 12, 2))


def test_a_handover_needs_its_receiver_and_records_it(onsite: App, world: World) -> None:
    before = world.snapshot()
    assert refused(lambda: hand_over(onsite, records=ClueFire())) == (
        f"clue {C01}: hand_over hands it over: give the receiver (--to discipline_group, --to "
        "organization_dept or --to-other NAME)"
    )
    assert refused(
        lambda: hand_over(onsite, records=ClueFire(TO_DISCIPLINE.handover, disposition="初步核实"))
    ) == (f"clue {C01}: hand_over does not report a disposition; drop --disposition")
    assert refused(lambda: hand_over(onsite, records=ClueFire(Handover("leading_group")))) == (
        "receiver 'leading_group' is not one of discipline_group, organization_dept, other"
    )
    assert world.snapshot() == before

    moved = hand_over(onsite, records=ClueFire(Handover("other", "市审计局")))

    assert moved.event.data == {"facts": {"receiver": "other", "receiver_name": "市审计局"}}
    row = clue_row(onsite)
    assert (row["receiver"], row["receiver_name"]) == ("other", "市审计局")


# -- the disposition deadline -------------------------------------------------------------


def test_a_clue_handed_over_on_site_escalates_to_the_office_three_months_after_handover(
    onsite: App, world: World, clock: ManualClock
) -> None:
    clues = onsite.services.clues
    clues.add_clue(
        KEY, code="C02", summary="反映某科长违规兼职", actor="张组长", role="group_leader"
    )
    clock.set(shanghai(2024, 9, 3, 10))
    hand_over(onsite)
    hand_over(onsite, C02)
    # C02's receiver reports its disposition in time: its deadline is met.
    clock.set(shanghai(2024, 11, 1, 10))
    clues.fire(
        C02,
        "dispose",
        actor="纪检监察组",
        role="discipline_group",
        records=ClueFire(disposition="初步核实"),
    )
    assert onsite.services.read.clues.one(C01, role="office").due_on == date(2024, 12, 3)

    def raised_for_clues() -> list[tuple[str, int, str, str, tuple[str, ...]]]:
        found = onsite.sweeper.sweep().raised
        return [
            (str(r.key), r.level, r.instrument, r.recipient, r.notify)
            for r in found
            if r.key is not None and r.key.kind == "clue"
        ]

    # The last day of the three months: only the reminder (10 working days before).
    clock.set(shanghai(2024, 12, 3, 23, 59))
    assert raised_for_clues() == [(C01, 0, "提醒", "office", ("office",))]
    # The first instant after them: the office hears that the disposition is overdue.
    clock.set(shanghai(2024, 12, 4, 0, 0))
    assert raised_for_clues() == [(C01, 1, "预警", "office", ("office",))]

    listed = onsite.services.read.escalations.many(round_code="2024-R1", open_only=True)
    of_c01 = [(e.case, e.stage_title, e.level) for e in listed if e.key.kind == "clue"]
    assert of_c01 == [(C01, "移交", 0), (C01, "移交", 1)]
    # Disposing of it late still meets no new rung: leaving 移交 resolves its escalations.
    clues.fire(
        C01,
        "dispose",
        actor="纪检监察组",
        role="discipline_group",
        records=ClueFire(disposition="谈话函询"),
    )
    still_open = onsite.services.read.escalations.many(open_only=True)
    assert [e for e in still_open if e.key.kind == "clue"] == []
    assert onsite.services.audit.verify().ok


# -- who sees a clue, who acts on it --------------------------------------------------------


def test_a_unit_liaison_asking_for_a_clue_is_refused_and_lists_none(onsite: App) -> None:
    read = onsite.services.read.clues
    hand_over(onsite)

    message = f"role unit_liaison may not see clue {C01}'s summary"
    assert refused(lambda: read.one(C01, role="unit_liaison")) == message
    assert refused(lambda: read.history(C01, role="unit_liaison")) == message
    assert read.many(role="unit_liaison") == []
    assert read.many(role="group_leader") == []
    # The receiving body sees what was handed over to it, another body nothing.
    assert [v.code for v in read.many(role="discipline_group")] == ["C01"]
    assert read.one(C01, role="discipline_group").summary == SUMMARY
    assert read.many(role="organization_dept") == []
    assert refused(lambda: read.one(C01, role="organization_dept")) == (
        f"role organization_dept may not see clue {C01}'s summary"
    )
    assert refused(lambda: read.many(role="ofice")).startswith(
        "role ofice is not defined by any clue definition (roles: office, leading_group,"
    )


def test_before_its_handover_only_the_office_sees_a_clue(onsite: App) -> None:
    read = onsite.services.read.clues

    assert [v.code for v in read.many(role="office")] == ["C01"]
    assert read.many(role="discipline_group") == []
    assert refused(lambda: read.one(C01, role="discipline_group")) == (
        f"role discipline_group may not see clue {C01}'s summary"
    )


def test_only_the_receiver_acts_and_each_step_records_what_it_needs(
    onsite: App, world: World
) -> None:
    clues = onsite.services.clues
    hand_over(onsite)
    before = world.snapshot()

    def dispose(role: str, **records: Any) -> Any:
        return lambda: clues.fire(
            C01, "dispose", actor="某人", role=role, records=ClueFire(**records)
        )

    assert refused(dispose("organization_dept", disposition="初步核实")) == (
        f"clue {C01} was handed over to 纪检监察组; organization_dept (组织部) may not act on it"
    )
    assert refused(dispose("discipline_group")) == (
        f"clue {C01}: dispose reports the disposition: give --disposition (one of 谈话函询, "
        "初步核实, 暂存待查, 予以了结, 立案审查)"
    )
    assert refused(dispose("discipline_group", disposition="调查")) == (
        "disposition '调查' is not one of 谈话函询, 初步核实, 暂存待查, 予以了结, 立案审查"
    )
    assert refused(dispose("unit_liaison", disposition="初步核实")) == (
        f"clue {C01} cannot dispose: role unit_liaison (被巡视单位联络员) may not; allowed: "
        "discipline_group (纪检监察组), organization_dept (组织部), office (巡视办)"
    )
    assert world.snapshot() == before

    dispose("discipline_group", disposition="立案审查")()
    assert refused(lambda: clues.fire(C01, "conclude", actor="某人", role="discipline_group")) == (
        f"clue {C01}: conclude concludes it: give its outcome (--outcome)"
    )
    clues.fire(
        C01,
        "conclude",
        actor="某人",
        role="discipline_group",
        records=ClueFire(outcome="经审查，给予党内警告处分"),
    )

    view = onsite.services.read.clues.one(C01, role="discipline_group")
    assert (view.state_title, view.final) == ("办结", True)
    assert (view.receiver_name, view.disposition, view.outcome) == (
        "纪检监察组",
        "立案审查",
        "经审查，给予党内警告处分",
    )
    transitions = [
        (e.trigger, e.data)
        for e in onsite.services.read.clues.history(C01, role="office").events
        if e.kind == "transition"
    ]
    assert transitions == [
        ("hand_over", {"facts": {"receiver": "discipline_group", "receiver_name": "纪检监察组"}}),
        ("dispose", {"facts": {"disposition": "立案审查"}}),
        ("conclude", {"facts": {"outcome": "经审查，给予党内警告处分"}}),
    ]


def test_an_unhanded_clue_can_be_withdrawn_but_not_by_a_receiving_body(onsite: App) -> None:
    clues = onsite.services.clues
    assert refused(lambda: clues.fire(C01, "withdraw", actor="某人", role="discipline_group")) == (
        f"clue {C01} has not been handed over; discipline_group (纪检监察组) may not act on it"
    )

    clues.fire(C01, "withdraw", actor="张组长", role="group_leader", reason="并入其他线索")

    assert onsite.services.read.clues.one(C01, role="office").state_title == "撤回"


# -- links to problems ----------------------------------------------------------------------


@pytest.fixture
def rectifying(onsite: App, world: World) -> App:
    """The world's case in 整改 with problems P01 (linked to C01 as it is added) and P02."""
    hand_over(onsite)
    drive_on(world, KEY, "onsite", "rectification")
    items = onsite.services.items
    items.load_categories(CATEGORIES_YAML, "categories.yaml")
    for code in ("P01", "P02"):
        facts = ItemFacts(code=code, title=f"问题{code}", category=POLITICS, source="lead")
        items.add_item(KEY, facts, actor="巡视办", clue="C01" if code == "P01" else None)
    return onsite


def test_problems_link_to_the_clue_they_arose_from_in_its_history(rectifying: App) -> None:
    clues, read = rectifying.services.clues, rectifying.services.read

    clues.link(C01, f"{KEY}/P02", actor="巡视办", role="office")
    assert read.clues.one(C01, role="office").items == ("P01", "P02")
    assert read.items.one(f"{KEY}/P01").clues == ("C01",)
    assert read.items.one(f"{KEY}/P01").to_json(rectifying.engine.tz)["clues"] == [C01]

    assert refused(lambda: clues.link(C01, f"{KEY}/P02", actor="甲", role="office")) == (
        f"clue {C01} is already linked to item {KEY}/P02"
    )
    assert refused(lambda: clues.link(C01, f"{KEY}/P02", actor="甲", role="unit_liaison")) == (
        f"role unit_liaison may not link clue {C01}: only the office and the clue's receiver see it"
    )
    assert refused(
        lambda: clues.unlink(C01, f"{KEY}/P02", actor="甲", role="office", reason=" ")
    ) == ("unlinking a problem from a clue needs a reason (--reason)")

    clues.unlink(C01, f"{KEY}/P02", actor="巡视办", role="office", reason="关联错误")
    assert read.clues.one(C01, role="office").items == ("P01",)
    links = [
        (e.trigger, e.data, e.reason)
        for e in read.clues.history(C01, role="office").events
        if e.kind == "link"
    ]
    p01, p02 = (read.items.one(f"{KEY}/{code}").id for code in ("P01", "P02"))
    assert links == [
        ("item_linked", {"item": p01, "code": "P01"}, None),
        ("item_linked", {"item": p02, "code": "P02"}, None),
        ("item_unlinked", {"item": p02, "code": "P02"}, "关联错误"),
    ]
    assert rectifying.services.audit.verify().ok


def test_a_problem_of_another_case_or_an_unknown_clue_is_refused(
    rectifying: App, world: World
) -> None:
    world.case("U02")
    world.drive_to("2024-R1/U02", "rectification")
    facts = ItemFacts(code="P01", title="问题", category=POLITICS)
    rectifying.services.items.add_item("2024-R1/U02", facts, actor="巡视办")
    before = world.snapshot()

    assert refused(
        lambda: rectifying.services.clues.link(C01, "2024-R1/U02/P01", actor="甲", role="office")
    ) == (f"item 2024-R1/U02/P01 is not a problem of case {KEY}")
    with pytest.raises(NotFound, match="clue 2024-R1/U02:C01 does not exist"):
        facts = ItemFacts(code="P02", title="问题", category=POLITICS)
        rectifying.services.items.add_item("2024-R1/U02", facts, actor="巡视办", clue="C01")
    assert world.snapshot() == before


# -- the audit ----------------------------------------------------------------------------------


def test_audit_verify_names_a_clue_fact_or_link_edited_outside_xunshi(rectifying: App) -> None:
    audit = rectifying.services.audit
    assert audit.verify().ok
    clue_id = clue_row(rectifying)["id"]
    p02 = rectifying.services.read.items.one(f"{KEY}/P02").id

    with rectifying.db.transaction() as conn:
        conn.execute(text("UPDATE clue SET summary = '已删改' WHERE id = :id"), {"id": clue_id})
        conn.execute(
            text("INSERT INTO clue_item (clue_id, item_id) VALUES (:c, :i)"),
            {"c": clue_id, "i": p02},
        )
    reasons = [p.reason for p in audit.verify().problems if p.label == f"clue {C01}"]

    p01 = rectifying.services.read.items.one(f"{KEY}/P01").id
    assert reasons == [
        f"clue facts: row says summary = '已删改', history replays to '{SUMMARY}'",
        f"clue facts: row says items = [{p01}, {p02}], history replays to [{p01}]",
    ]


# -- the sheet --------------------------------------------------------------------------------

SHEET = """\
轮次,单位代码,线索编号,线索摘要,登记日期,移交对象,移交日期
2024-R1,U01,C02,反映某科长违规兼职取酬,,纪检监察组,
2024-R1,u01,C03,反映某处副处长选人用人问题,2024-09-03,组织部,2024-09-04
2024-R1,U01,C04,反映某站站长虚报冒领,,,
2024-R1,U01,C05,反映某所所长挪用公款,2024-09-04,市审计局,2024-09-05
"""


def test_a_sheet_registers_and_hands_over_clues_all_or_none(
    onsite: App, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    clock.set(shanghai(2024, 9, 5, 10))
    sheet = tmp_path / "线索.csv"
    bad = SHEET.replace("反映某所所长挪用公款", "某所所长，电话13812345678") + (
        "2024-R1,U01,C06,反映某科员,2024-09-03,,2024-09-04\n"
        "2024-R1,U09,C07,反映某科员,,,\n"
        "2024-R1,U01,c02,反映某科员,,,\n"
        "2024-R1,U01,C08,反映某科员,2024-09-01,,\n"
    )
    sheet.write_text(bad, encoding="utf-8")
    before = world.snapshot()

    with pytest.raises(BadInput) as caught:
        onsite.services.clues.import_clues(sheet, actor="巡视办")
    assert caught.value.message == (
        "线索.csv row 5, column 线索摘要: clue summary must not hold personal details and this "
        "looks like a telephone number: describe the person by role (e.g. 某处处长), never by "
        "name or number (and 4 more problems in rows 6, 7, 8, 9)"
    )
    assert [problem[:2] for problem in caught.value.problems] == [  # type: ignore[attr-defined]
        (5, "线索摘要"),
        (6, "移交日期"),
        (7, "单位代码"),
        (8, "线索编号"),
        (9, "登记日期"),
    ]
    assert world.snapshot() == before

    sheet.write_text(SHEET, encoding="utf-8")
    imported = onsite.services.clues.import_clues(sheet, actor="巡视办")

    assert (imported.clues, imported.handed_over) == (4, 3)
    views = {v.code: v for v in onsite.services.read.clues.many(role="office")}
    assert {code: (v.state, v.receiver, v.receiver_name) for code, v in views.items()} == {
        "C01": ("registered", "", ""),
        "C02": ("handed_over", "discipline_group", "纪检监察组"),
        "C03": ("handed_over", "organization_dept", "组织部"),
        "C04": ("registered", "", ""),
        "C05": ("handed_over", "other", "市审计局"),
    }
    # Dated rows happen at the start of their days, the others at the import's time.
    assert views["C03"].entered_at == shanghai(2024, 9, 4)
    assert (views["C03"].due_on, views["C02"].due_on) == (date(2024, 12, 4), date(2024, 12, 5))
    assert onsite.services.audit.verify().ok


def test_a_sheet_row_handed_over_while_its_case_prepared_names_its_handover_date(
    onsite: App, world: World, clock: ManualClock, tmp_path: Path
) -> None:
    world.case("U02")  # started 2024-09-02 12:00, still preparing
    clock.set(shanghai(2024, 9, 5, 10))
    sheet = tmp_path / "clues.csv"
    sheet.write_text(
        "round,unit_code,clue_code,summary,receiver,handed_over_on\n"
        "2024-R1,U02,C01,反映某科长违规兼职取酬,discipline_group,2024-09-04\n"
        "2024-R1,U02,C02,反映某科长违规兼职取酬,discipline_group,\n",
        encoding="utf-8",
    )

    assert refused(lambda: onsite.services.clues.import_clues(sheet, actor="巡视办")) == (
        "clues.csv row 2, column handed_over_on: clue 2024-R1/U02:C01 cannot hand_over at "
        "2024-09-04 00:00: case 2024-R1/U02 was in 巡前准备 (preparation); clues are handed "
        "over from 现场巡视 (onsite) on (and 1 more problem in row 3)"
    )


# -- the round's report ---------------------------------------------------------------------


def test_report_round_counts_the_clues_of_each_case_by_state(onsite: App) -> None:
    clues = onsite.services.clues
    clues.add_clue(KEY, code="C02", summary="反映某科长违规兼职", actor="巡视办", role="office")
    hand_over(onsite)

    overview = onsite.services.read.overview.of("2024-R1")

    assert overview.clue_states == ("登记", "移交")
    assert [(str(t.key), t.counts) for t in overview.clues] == [(KEY, {"登记": 1, "移交": 1})]
    assert overview.to_json(onsite.engine.tz)["clues"] == {
        "total": 2,
        "by_state": {"登记": 1, "移交": 1},
        "cases": [{"case": KEY, "unit_name": "单位U01", "counts": {"登记": 1, "移交": 1}}],
    }


def test_codes_are_one_per_case_whatever_their_case(onsite: App) -> None:
    with pytest.raises(AlreadyExists):
        onsite.services.clues.add_clue(
            KEY, code="c01", summary=SUMMARY, actor="巡视办", role="office"
        )
    # Found in any case too.
    assert onsite.services.read.clues.one(f"{KEY}:c01", role="office").code == "C01"


# -- older case definitions, calendar loads -------------------------------------------------

BUILTIN = Path(__file__).parents[2] / "xunshi" / "definitions" / "builtin"


def test_a_case_definition_without_clues_open_hands_clues_over_in_any_open_stage(
    app: App, world: World
) -> None:
    # As a case started on a version before the tag: no stage says, so every open one takes.
    untagged = (BUILTIN / "regular.yaml").read_text(encoding="utf-8")
    untagged = untagged.replace("\nname: regular\n", "\nname: regular_untagged\n")
    untagged = untagged.replace(", clues_open]", "]").replace("    tags: [clues_open]\n", "")
    untagged = untagged.replace("[clues_open, ", "[")
    assert "clues_open" not in untagged
    app.services.definitions.load(untagged, "regular_untagged.yaml", "巡视办")
    world.case(definition="regular_untagged")
    app.services.clues.add_clue(KEY, code="C01", summary=SUMMARY, actor="巡视办", role="office")

    assert hand_over(app).instance.state == "handed_over"  # the case is still preparing


def test_a_calendar_load_moves_a_clue_s_rungs_and_records_it_in_its_history(
    app: App, world: World, clock: ManualClock
) -> None:
    clock.set(shanghai(2025, 7, 1, 9))
    world.case()
    world.drive_to(KEY, "onsite", pace=timedelta(hours=1))
    clock.set(shanghai(2025, 7, 10, 10))
    app.services.clues.add_clue(KEY, code="C01", summary=SUMMARY, actor="巡视办", role="office")
    hand_over(app)  # due 2025-10-10: three months are calendar months, the rungs working days
    clock.set(shanghai(2025, 9, 1, 10))

    app.services.calendar.load(
        "year: 2025\nholidays: [2025-10-09]\nworkdays: []\n", "cal2025.yaml", "巡视办"
    )

    history = app.services.read.clues.history(C01, role="office").events
    moved = [e for e in history if e.kind == "deadline"]
    assert [(e.data["due_on"], e.data["rung"]["old"]["level"]) for e in moved] == [
        ({"old": "2025-10-10", "new": "2025-10-10"}, 0)
    ]
    old, new = moved[0].data["rung"]["old"]["fire_at"], moved[0].data["rung"]["new"]["fire_at"]
    assert new < old  # one working day fewer before the due date: the reminder comes earlier
    assert app.services.audit.verify().ok


# -- withdrawn by mistake (#9.7) -------------------------------------------------------------


def test_a_clue_voided_by_the_office_leaves_the_lists_stops_its_deadline_and_stays_audited(
    onsite: App, clock: ManualClock
) -> None:
    clock.set(shanghai(2024, 9, 3, 10))
    hand_over(onsite)
    clues, read = onsite.services.clues, onsite.services.read.clues
    with pytest.raises(Refused, match="cannot be voided: role discipline_group"):
        clues.void(C01, actor="纪检监察组", role="discipline_group", reason="误报")
    clock.set(shanghai(2024, 9, 4, 10))
    clues.void(C01, actor="王主任", role="office", reason="与另一线索重复")

    assert read.many(role="office") == []
    [shown] = read.many(role="office", include_void=True)
    assert (shown.voided is not None, shown.overdue) == (True, False)
    assert shown.voided is not None and shown.voided.reason == "与另一线索重复"
    with pytest.raises(Refused, match="is void"):
        clues.fire(
            C01,
            "dispose",
            actor="纪检监察组",
            role="discipline_group",
            records=ClueFire(disposition="初步核实"),
        )
    # Three months on, the void clue's disposition deadline raises nothing.
    clock.set(shanghai(2024, 12, 10, 10))
    raised = onsite.sweeper.sweep().raised
    assert [r for r in raised if r.key is not None and r.key.kind == "clue"] == []
    assert [e.kind for e in onsite.services.read.history.of(C01, "clue").events][-1] == "voided"
    assert onsite.services.audit.verify().ok
