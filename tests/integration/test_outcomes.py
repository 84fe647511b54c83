"""整改成果 and 屡改屡犯 (issue #10, part 4): what tasks and items achieved, problems found
again in a 回头看, and the ledger, round report and themes that add them up. Both backends."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from forward import forward_path
from rectification_helpers import (
    FINANCE,
    LIAISON,
    OFFICE,
    POLITICS,
    ROUND,
    STYLE,
    Rectifying,
    shanghai,
)
from sqlalchemy import select

from xunshi.bootstrap import App
from xunshi.errors import BadInput, NotFound, Refused, XunshiError
from xunshi.services.commands import ItemFacts, OutcomeFacts
from xunshi.storage import queries as q
from xunshi.workflow.clock import ManualClock

P01 = f"{ROUND}/U01/P01"
P02 = f"{ROUND}/U01/P02"
LATER = "2025-R1"
LOOKBACK = f"{LATER}/U01"


@pytest.fixture
def rect(app: App, clock: ManualClock) -> Rectifying:
    """Case 2024-R1/U01 in 集中整改 with P01 (rectifying, tasks #1 and #2 open) and P02
    (rectifying, no task)."""
    world = Rectifying(app, clock)
    world.case("U01", "示例市财政局")
    for item in (world.item("U01", "P01"), world.item("U01", "P02", STYLE)):
        world.begin(item)
    world.task(P01, date(2024, 10, 31))
    world.task(P01, date(2024, 11, 29), person="孙科员")
    return world


def task_id(rect: Rectifying, item: str, number: int) -> int:
    """The id of task #number of `item`."""
    return int(next(t.id for t in rect.view(item).tasks if t.number == number))


def done(
    rect: Rectifying,
    item: str,
    number: int,
    rules: tuple[str, ...] = (),
    accountable: int | str | None = None,
    funds: str | None = None,
) -> None:
    """Complete task #number of `item` with the outcome given."""
    rect.svc.complete_task(
        str(task_id(rect, item, number)),
        evidence="制度文件",
        actor=LIAISON,
        role="unit_liaison",
        outcome=OutcomeFacts(rules, accountable, funds),
    )


def record(
    rect: Rectifying,
    item: str,
    facts: OutcomeFacts,
    *,
    replace: bool = False,
    reason: str | None = None,
) -> None:
    """`item outcome` as the office."""
    rect.svc.record_outcome(
        item, facts, actor=OFFICE, role="office", replace=replace, reason=reason
    )


def outcome_rows(app: App) -> list[tuple[Any, ...]]:
    """Every stored outcome, by item and task."""
    o = q.outcomes
    with app.db.transaction() as conn:
        rows = conn.execute(select(o).order_by(o.c.item_id, o.c.task_id))
        return [tuple(row) for row in rows]


# -- tasks ------------------------------------------------------------------------------


def test_a_task_done_records_its_outcome_in_its_event_its_row_and_the_views(
    rect: Rectifying, app: App
) -> None:
    done(rect, P01, 1, ("《合同管理办法》", "采购管理规定"), "3", "12.5")

    event = rect.history(P01)[-1]
    assert (event.kind, event.trigger) == ("task", "task_done")
    assert event.data["outcome"] == {
        "rules": ["合同管理办法", "采购管理规定"],
        "accountable": 3,
        "funds": "12.50",
    }
    item_id = rect.view(P01).id
    first = task_id(rect, P01, 1)
    assert outcome_rows(app) == [(item_id, first, '["合同管理办法", "采购管理规定"]', 3, 1250, "")]
    view = rect.view(P01)
    task = next(t for t in view.tasks if t.number == 1)
    assert task.outcome is not None and task.outcome.rules == ("合同管理办法", "采购管理规定")
    assert (view.outcome.accountable, view.outcome.funds, view.own_outcome) == (3, 1250, None)
    assert view.to_json(app.engine.tz)["outcome"] == {
        "rules": ["合同管理办法", "采购管理规定"],
        "rule_count": 2,
        "accountable": 3,
        "funds": "12.50",
        "evidence": "",
    }
    assert app.services.audit.verify().ok


def test_a_task_done_without_an_outcome_records_none(rect: Rectifying, app: App) -> None:
    done(rect, P01, 1)
    done(rect, P01, 2, accountable=0, funds="0")  # zeros: nothing achieved, nothing stored

    assert all("outcome" not in e.data for e in rect.history(P01))
    assert outcome_rows(app) == []
    assert rect.view(P01).to_json(app.engine.tz)["tasks"][0]["outcome"] is None


@pytest.mark.parametrize(
    ("rules", "accountable", "funds", "message"),
    [
        ((), None, "-3", "--funds -3 is negative: give the amount recovered or saved, ≥ 0"),
        ((), None, "abc", "--funds 'abc' is not an amount in 万元 (digits, e.g. 12.5)"),
        ((), None, "1e3", "--funds '1e3' is not an amount in 万元 (digits, e.g. 12.5)"),
        ((), None, "１２", "--funds '１２' is not an amount in 万元 (digits, e.g. 12.5)"),
        ((), None, "", "--funds '' is not an amount in 万元 (digits, e.g. 12.5)"),
        ((), None, "1.234", "--funds 1.234 has more than two decimal places (万元 to the 百元)"),
        ((), None, "10000000.01", "--funds 10000000.01 is out of range (0 to 10000000 万元)"),
        ((), "-1", None, "--accountable '-1' is not a number of people"),
        ((), "两人", None, "--accountable '两人' is not a number of people"),
        ((), "20000", None, "--accountable 20000 is out of range (0 to 10000)"),
        ((), 20000, None, "--accountable 20000 is out of range (0 to 10000)"),
        (("",), None, None,
         "a rule title (--rule) is empty: give the rule's name, e.g. 合同管理办法"),
        (("《》",), None, None,
         "a rule title (--rule) is empty: give the rule's name, e.g. 合同管理办法"),
        (("甲\n乙",), None, None,
         "rule title (--rule) must be one line of text (no line breaks or control characters)"),
        (("办法", "《办法》"), None, None, "--rule 《办法》 is given twice"),
        (tuple(f"办法{n}" for n in range(51)), None, None,
         "at most 50 rules (--rule) are recorded at once"),
    ],
)  # fmt: skip
def test_bad_outcome_values_are_refused_and_nothing_changes(
    rect: Rectifying,
    app: App,
    rules: tuple[str, ...],
    accountable: str | int | None,
    funds: str | None,
    message: str,
) -> None:
    before = rect.world.snapshot()
    with pytest.raises(BadInput) as refused:
        done(rect, P01, 1, rules, accountable, funds)
    assert refused.value.message == message
    with pytest.raises(BadInput) as again:
        record(rect, P01, OutcomeFacts(rules, accountable, funds))
    assert again.value.message == message
    assert rect.world.snapshot() == before


# -- items ------------------------------------------------------------------------------


def test_an_item_records_its_outcome_once_a_task_is_done(rect: Rectifying, app: App) -> None:
    before = rect.world.snapshot()
    with pytest.raises(Refused) as refused:
        record(rect, P01, OutcomeFacts(accountable=2))
    assert refused.value.message == (
        "item 2024-R1/U01/P01 has no outcome to record yet: none of its tasks is done and it "
        "is not accepted (销号)"
    )
    assert rect.world.snapshot() == before

    done(rect, P01, 1)
    record(rect, P01, OutcomeFacts(("内控制度",), 2, "0.05", "问责决定书"))

    event = rect.history(P01)[-1]
    assert (event.kind, event.trigger, event.actor, event.role) == (
        "outcome", "outcome_recorded", OFFICE, "office"
    )  # fmt: skip
    assert event.data == {
        "rules": ["内控制度"],
        "accountable": 2,
        "funds": "0.05",
        "evidence": "问责决定书",
    }
    own = rect.view(P01).own_outcome
    assert own is not None and (own.rules, own.accountable, own.funds, own.evidence) == (
        ("内控制度",), 2, 5, "问责决定书"
    )  # fmt: skip
    assert app.services.audit.verify().ok


def test_an_accepted_item_records_its_outcome(rect: Rectifying, app: App) -> None:
    rect.accept(P01)
    record(rect, P01, OutcomeFacts(funds="100"))
    assert rect.view(P01).outcome.funds == 10000


def test_nothing_to_record_is_refused(rect: Rectifying) -> None:
    done(rect, P01, 1)
    with pytest.raises(BadInput) as refused:
        record(rect, P01, OutcomeFacts(evidence="  "))
    assert refused.value.message == (
        "nothing to record: give --rule, --accountable, --funds or --evidence"
    )


def test_a_second_outcome_is_refused_unless_it_replaces_the_first_with_a_reason(
    rect: Rectifying, app: App
) -> None:
    done(rect, P01, 1)
    with pytest.raises(Refused) as nothing:
        record(rect, P01, OutcomeFacts(accountable=1), replace=True, reason="更正")
    assert nothing.value.message == "item 2024-R1/U01/P01 has no outcome of its own to replace"
    record(rect, P01, OutcomeFacts(accountable=1, funds="3"))
    before = rect.world.snapshot()
    with pytest.raises(Refused) as twice:
        record(rect, P01, OutcomeFacts(accountable=4))
    assert twice.value.message == (
        "item 2024-R1/U01/P01 has its outcome recorded already; to correct it, give --replace "
        "and the reason (--reason)"
    )
    with pytest.raises(BadInput) as reasonless:
        record(rect, P01, OutcomeFacts(accountable=4), replace=True, reason=" ")
    assert reasonless.value.message == (
        "replacing an outcome corrects it: give the reason (--reason)"
    )
    assert rect.world.snapshot() == before

    record(rect, P01, OutcomeFacts(accountable=4), replace=True, reason="问责人数统计有误")

    outcomes = [e for e in rect.history(P01) if e.kind == "outcome"]
    assert [(e.trigger, e.data["accountable"], e.data["funds"], e.reason) for e in outcomes] == [
        ("outcome_recorded", 1, "3.00", None),
        ("outcome_replaced", 4, "0.00", "问责人数统计有误"),
    ]
    assert [(r[1], r[3], r[4]) for r in outcome_rows(app)] == [(0, 4, 0)]
    assert app.services.audit.verify().ok


def test_the_outcome_of_a_void_item_is_refused(rect: Rectifying) -> None:
    done(rect, P01, 1)
    rect.svc.void(P01, actor=OFFICE, role="office", reason="重复录入")
    with pytest.raises(Refused) as refused:
        record(rect, P01, OutcomeFacts(accountable=1))
    assert refused.value.message.startswith("item 2024-R1/U01/P01 is void (撤销): 重复录入")


def test_an_items_figures_add_its_tasks_and_its_own_each_rule_once(rect: Rectifying) -> None:
    done(rect, P01, 1, ("合同管理办法",), 1, "2.5")
    done(rect, P01, 2, ("采购管理规定", "合同管理办法"), 2, "10")
    record(rect, P01, OutcomeFacts(("采购管理规定", "印章管理办法"), 3, "0.25"))

    total = rect.view(P01).outcome
    assert total.rules == ("合同管理办法", "采购管理规定", "印章管理办法")
    assert (total.accountable, total.funds) == (1 + 2 + 3, 250 + 1000 + 25)


def test_audit_names_an_outcome_row_edited_added_or_deleted(rect: Rectifying, app: App) -> None:
    done(rect, P01, 1, ("合同管理办法",), 1, "2.5")
    done(rect, P01, 2)
    record(rect, P01, OutcomeFacts(accountable=2))
    item_id = rect.view(P01).id
    first, second = task_id(rect, P01, 1), task_id(rect, P01, 2)
    seqs = {e.trigger: e.seq for e in rect.history(P01)}

    rect.sql("UPDATE rectification_outcome SET funds = 25000 WHERE task_id = :t", t=first)
    rect.sql("DELETE FROM rectification_outcome WHERE task_id = 0")
    rect.sql(
        "INSERT INTO rectification_outcome (item_id, task_id, rules, accountable, funds, "
        "evidence) VALUES (:i, :t, '[]', 9, 0, '')",
        i=item_id,
        t=second,
    )

    problems = [str(p) for p in app.services.audit.verify().problems]
    task_done = max(e.seq for e in rect.history(P01) if e.trigger == "task_done")
    assert problems == [
        f"item 2024-R1/U01/P01 seq {seqs['outcome_recorded']}: the item's own outcome is in "
        "the history but its row is gone",
        f"item 2024-R1/U01/P01 seq {task_done - 1}: task {first}'s outcome: row says funds = "
        "25000, history replays to 250",
        f"item 2024-R1/U01/P01 seq {seqs['outcome_recorded']}: task {second}'s outcome has no "
        "history (row added outside xunshi)",
    ]


# -- 屡改屡犯 ----------------------------------------------------------------------------


@pytest.fixture
def lookback(rect: Rectifying, app: App, clock: ManualClock) -> Rectifying:
    """`rect`, U02's case 2024-R1/U02 with P01; round 2025-R1 a year later with a 回头看 of
    U01 following 2024-R1/U01 and a regular case of U02, both in 集中整改."""
    rect.case("U02", "示例市审计局")
    rect.item("U02", "P01")
    clock.set(shanghai(2025, 3, 3, 9))
    cases = app.services.cases
    cases.create_round(LATER, "2025年第一轮巡视", date(2025, 3, 3))
    cases.add_group(LATER, "G1", "李组长")
    cases.start_case(
        round_code=LATER, unit_code="U01", group_code="G1", definition="lookback",
        actor=OFFICE, follows=f"{ROUND}/U01",
    )  # fmt: skip
    cases.start_case(
        round_code=LATER, unit_code="U02", group_code="G1", definition="regular", actor=OFFICE
    )
    for key, name in ((LOOKBACK, "lookback"), (f"{LATER}/U02", "regular")):
        for step in forward_path(name):
            if step.stage == "rectification":
                break
            for need in step.needs:
                count = 12 if need.counted else None
                cases.record_milestone(key, need.name, actor="李组长", role=need.role, count=count)
            cases.fire(key, step.trigger, actor="李组长", role=step.role)
    return rect


def add_later(rect: Rectifying, unit: str, code: str, recurs_from: str | None) -> None:
    """Add item `code` to the unit's 2025-R1 case, recurring from `recurs_from`."""
    rect.svc.add_item(
        f"{LATER}/{unit}",
        ItemFacts(code=code, title="合同管理仍不规范", category=POLITICS, recurs_from=recurs_from),
        actor=OFFICE,
    )


def test_a_lookback_item_recurs_from_the_earlier_item(lookback: Rectifying, app: App) -> None:
    add_later(lookback, "U01", "P01", "2024-r1/u01/p01")

    view = lookback.view(f"{LATER}/U01/P01")
    assert (str(view.recurs_from), view.recurs_from_title) == (P01, "问题P01")
    assert view.to_json(app.engine.tz)["recurs_from"] == P01
    first = lookback.history(f"{LATER}/U01/P01")[0]
    assert first.data["facts"]["recurs_from"] == P01
    assert lookback.view(P01).recurs_from is None
    assert app.services.audit.verify().ok


@pytest.mark.parametrize(
    ("unit", "earlier", "error", "message"),
    [
        ("U02", P01, Refused,
         "item 2025-R1/U02/P09 cannot recur from item 2024-R1/U01/P01: case 2025-R1/U02 "
         "follows no earlier case (a 回头看 started with --follows)"),
        ("U01", f"{ROUND}/U02/P01", Refused,
         "item 2025-R1/U01/P09 cannot recur from item 2024-R1/U02/P01: case 2025-R1/U01 "
         "follows case 2024-R1/U01, not case 2024-R1/U02"),
        ("U01", f"{ROUND}/U01/P99", NotFound, "item 2024-R1/U01/P99 does not exist"),
        ("U01", "2024-R1/U01", BadInput, None),
    ],
)  # fmt: skip
def test_an_item_recurs_only_from_an_item_of_the_case_its_case_follows(
    lookback: Rectifying,
    unit: str,
    earlier: str,
    error: type[XunshiError],
    message: str | None,
) -> None:
    before = lookback.world.snapshot()
    with pytest.raises(error) as refused:
        add_later(lookback, unit, "P09", earlier)
    if message is not None:
        assert refused.value.message == message
    assert "\n" not in refused.value.message
    assert lookback.world.snapshot() == before


def test_a_void_item_is_no_earlier_item(lookback: Rectifying) -> None:
    lookback.svc.void(P02, actor=OFFICE, role="office", reason="重复录入")
    before = lookback.world.snapshot()
    with pytest.raises(Refused) as refused:
        add_later(lookback, "U01", "P09", P02)
    assert refused.value.message == (
        "item 2025-R1/U01/P09 cannot recur from item 2024-R1/U01/P02: it is void (撤销)"
    )
    assert lookback.world.snapshot() == before


def test_audit_names_a_recurrence_row_edited(lookback: Rectifying, app: App) -> None:
    add_later(lookback, "U01", "P01", P01)
    later = lookback.view(f"{LATER}/U01/P01").id
    lookback.sql(
        "UPDATE item_recurs_from SET earlier_item_id = :e WHERE item_id = :i",
        e=lookback.view(P02).id,
        i=later,
    )
    assert [str(p) for p in app.services.audit.verify().problems] == [
        "item 2025-R1/U01/P01 seq 1: item facts: row says recurs_from = '2024-R1/U01/P02', "
        "history replays to '2024-R1/U01/P01'"
    ]


def test_an_items_sheet_names_the_earlier_item(
    lookback: Rectifying, app: App, tmp_path: Path
) -> None:
    sheet = tmp_path / "items.csv"
    header = (
        "轮次,单位代码,问题编号,问题,一级类别,二级类别,整改措施,责任领导,牵头部门,责任人,"
        "长期整改,屡改屡犯来源"
    )
    common = "党的建设,政治建设,健全制度,赵副局长,办公室,钱科长,是"
    sheet.write_text(
        f"{header}\n{LATER},U01,P01,合同管理仍不规范,{common},{P01}\n"
        f"{LATER},U01,P02,作风问题反弹,{common},\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{header}\n{LATER},U02,P01,问题,{common},{P01}\n", encoding="utf-8")
    before = lookback.world.snapshot()
    with pytest.raises(BadInput) as refused:
        lookback.svc.import_items(bad, actor=OFFICE)
    assert refused.value.message == (
        "bad.csv row 2, column 屡改屡犯来源: item 2025-R1/U02/P01 cannot recur from item "
        "2024-R1/U01/P01: case 2025-R1/U02 follows no earlier case (a 回头看 started with "
        "--follows)"
    )
    assert lookback.world.snapshot() == before

    lookback.svc.import_items(sheet, actor=OFFICE)

    assert str(lookback.view(f"{LATER}/U01/P01").recurs_from) == P01
    assert lookback.view(f"{LATER}/U01/P02").recurs_from is None
    assert app.services.audit.verify().ok


# -- reports ------------------------------------------------------------------------------


@pytest.fixture
def achieved(lookback: Rectifying, app: App) -> Rectifying:
    """2024-R1: U01/P01 task #1 done (2 rules, 1 person, 2.5 万元), #2 done (1 rule again
    and 1 new, 2 people, 10 万元) and its own outcome (3 people, 0.25 万元); U01/P02 a task
    done and its own outcome (1 rule). 2025-R1: U01/P01 and P02 recur from them."""
    done(lookback, P01, 1, ("合同管理办法", "采购管理规定"), 1, "2.5")
    done(lookback, P01, 2, ("合同管理办法", "印章管理办法"), 2, "10")
    record(lookback, P01, OutcomeFacts(accountable=3, funds="0.25"))
    lookback.task(P02, date(2025, 6, 30))
    done(lookback, P02, 1)
    record(lookback, P02, OutcomeFacts(("公务接待管理办法",)))
    add_later(lookback, "U01", "P01", P01)
    lookback.svc.add_item(
        LOOKBACK,
        ItemFacts(code="P02", title="作风问题反弹", category=STYLE, recurs_from=P02),
        actor=OFFICE,
    )
    lookback.svc.add_item(
        LOOKBACK, ItemFacts(code="P03", title="新问题", category=FINANCE), actor=OFFICE
    )
    return lookback


def test_the_ledger_holds_the_recorded_outcomes(achieved: Rectifying, app: App) -> None:
    columns = ("问题", "建章立制（项）", "制度名称", "问责人数", "挽回损失（万元）", "屡改屡犯")
    earlier = app.services.read.ledger.of(ROUND).rows
    assert [tuple(r[c] for c in columns) for r in earlier] == [
        ("P01 问题P01", 3, "《合同管理办法》《采购管理规定》《印章管理办法》", 6, 12.75, ""),
        ("P01 问题P01", None, "", None, None, ""),
        ("P02 问题P02", 1, "《公务接待管理办法》", 0, 0, ""),
        ("P01 问题P01", 0, "", 0, 0, ""),  # U02
    ]
    later = app.services.read.ledger.of(LATER).rows
    assert [(r["问题"], r["屡改屡犯"]) for r in later] == [
        ("P01 合同管理仍不规范", P01),
        ("P02 作风问题反弹", P02),
        ("P03 新问题", ""),
    ]
    assert list(earlier[0])[-5:] == list(columns[1:])


def test_the_ledger_csv_writes_the_outcome_columns_last(achieved: Rectifying, app: App) -> None:
    from xunshi.reports.ledger import write_csv

    out = io.StringIO()
    write_csv(app.services.read.ledger.of(ROUND), out)
    lines = list(csv.reader(out.getvalue().splitlines()))
    assert lines[0][-6:] == [
        "备注",
        "建章立制（项）",
        "制度名称",
        "问责人数",
        "挽回损失（万元）",
        "屡改屡犯",
    ]
    assert lines[1][-5:] == [
        "3",
        "《合同管理办法》《采购管理规定》《印章管理办法》",
        "6",
        "12.75",
        "",
    ]
    assert lines[2][-5:] == ["", "", "", "", ""]


def test_the_round_report_adds_up_the_outcomes(achieved: Rectifying, app: App) -> None:
    earlier = app.services.read.overview.of(ROUND).outcomes
    # P01: 3 distinct rules, 1 + 2 + 3 people, 2.5 + 10 + 0.25 万元; P02: 1 rule.
    assert (earlier.rules, earlier.accountable, earlier.funds, earlier.recurrences) == (
        3 + 1, 6, 1275, 0
    )  # fmt: skip
    assert earlier.to_json() == {
        "rules": 4, "accountable": 6, "funds": "12.75", "recurrences": 0
    }  # fmt: skip
    later = app.services.read.overview.of(LATER).outcomes
    assert (later.rules, later.accountable, later.funds, later.recurrences) == (0, 0, 0, 2)


def test_the_themes_count_the_problems_found_again(achieved: Rectifying, app: App) -> None:
    themes = app.services.read.themes.of(LATER).themes
    assert [(t.level2, t.items, t.recurrences) for t in themes] == [
        ("政治建设", 1, 1),
        ("作风建设", 1, 1),
        ("财务管理", 1, 0),
    ]
    assert themes[0].row()["屡改屡犯"] == 1
    assert themes[0].to_json()["recurrences"] == 1
