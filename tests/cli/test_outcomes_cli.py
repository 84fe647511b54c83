"""`task done --rule/--accountable/--funds`, `item outcome`, `item add --recurs-from` (issue
#10, part 4): what the CLI prints, one-line refusals, the history and the round report."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_harness import KEY, Cli
from test_items_cli import CATEGORIES

P02 = f"{KEY}/P02"

TASK = f"{P02}#1"
LIAISON = ("--actor", "李联络员", "--role", "unit_liaison")
OFFICE = ("--actor", "王主任", "--role", "office")
SHOWN = """\
问题    2024-R1/U01/P02  #3  财务审批不严
单位    U01 示例市财政局  (常规巡视, 巡视组 G1)
类别    业务工作/财务管理
状态    整改中 (rectifying)
成果    建章立制 2 项（《财务审批办法》《合同管理办法》），问责 3 人，挽回损失 13 万元
成果佐证  问责决定书

任务  措施          责任领导  牵头部门  责任人  时限        状态
#1    修订审批办法  钱副局长  财务处    孙科长  2024-10-31  已完成
版本    7
"""


@pytest.fixture
def items(rectifying: Cli, tmp_path: Path) -> Cli:
    """The world with U01 in 集中整改, the category list and P02 (rectifying, 业务工作/财务管理,
    #3) with task #1 due 2024-10-31."""
    (tmp_path / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    rectifying.run("categories", "load", "categories.yaml")
    rectifying.run(
        "item", "add", KEY, "--code", "P01", "--title", "理论学习不深入",
        "--category", "党的建设/政治建设", "--actor", "王主任", "--at", "2024-09-03T10:00",
    )  # fmt: skip
    rectifying.run(
        "item", "add", KEY, "--code", "P02", "--title", "财务审批不严",
        "--category", "业务工作/财务管理", "--actor", "王主任", "--at", "2024-09-03T11:00",
    )  # fmt: skip
    for trigger, at in (("plan", "2024-09-04T10:00"), ("begin", "2024-09-05T10:00")):
        rectifying.run("item", "fire", P02, trigger, *LIAISON, "--at", at)
    rectifying.run(
        "task", "add", P02, "--measure", "修订审批办法", "--leader", "钱副局长",
        "--department", "财务处", "--person", "孙科长", "--due", "2024-10-31", *LIAISON,
        "--at", "2024-09-05T11:00",
    )  # fmt: skip
    return rectifying


def done_with_outcome(cli: Cli) -> str:
    """`task done` of P02's task #1 with two rules, three people and 12.5 万元."""
    return cli.out(
        "task", "done", TASK, "--evidence", "审批办法", "--rule", "《财务审批办法》",
        "--rule", "合同管理办法", "--accountable", "3", "--funds", "12.5", *LIAISON,
        "--at", "2024-09-20T10:00",
    )  # fmt: skip


def test_task_done_prints_what_it_achieved(items: Cli) -> None:
    assert done_with_outcome(items) == (
        "task 2024-R1/U01/P02#1 done: 成果：建章立制 2 项（《财务审批办法》《合同管理办法》），"
        "问责 3 人，挽回损失 12.5 万元\n"
    )
    task = items.json("item", "show", P02)["tasks"][0]
    assert task["outcome"] == {
        "rules": ["财务审批办法", "合同管理办法"],
        "rule_count": 2,
        "accountable": 3,
        "funds": "12.50",
        "evidence": "",
    }


def test_item_outcome_records_replaces_and_shows(items: Cli) -> None:
    done_with_outcome(items)
    assert items.out(
        "item", "outcome", P02, "--accountable", "1", "--evidence", "问责决定", *OFFICE,
        "--at", "2024-09-21T10:00",
    ) == "item 2024-R1/U01/P02: outcome recorded: 成果：问责 1 人\n"  # fmt: skip
    assert items.fail("item", "outcome", P02, "--funds", "1", *OFFICE) == (
        "item 2024-R1/U01/P02 has its outcome recorded already; to correct it, give --replace "
        "and the reason (--reason)"
    )
    assert items.out(
        "item", "outcome", P02, "--funds", "0.5", "--evidence", "问责决定书", "--replace",
        "--reason", "统计有误", *OFFICE, "--at", "2024-09-22T10:00",
    ) == "item 2024-R1/U01/P02: outcome replaced: 成果：挽回损失 0.5 万元\n"  # fmt: skip

    assert items.out("item", "show", P02) == SHOWN
    history = items.out("item", "history", P02).splitlines()
    assert [line.split()[3:5] for line in history[5:]] == [
        ["task_done", "#1"],
        ["outcome_recorded", "成果：问责"],
        ["outcome_replaced", "成果：挽回损失"],
    ]
    assert "task_done #1 成果：建章立制 2 项（《财务审批办法》《合同管理办法》），问责 3 人，" \
        "挽回损失 12.5 万元" in history[5]  # fmt: skip
    assert history[7].rstrip().endswith("王主任    office        统计有误")
    assert items.out("audit", "verify").startswith("OK")


def test_report_round_sums_the_outcomes(items: Cli) -> None:
    done_with_outcome(items)
    items.run("item", "outcome", P02, "--funds", "0.5", "--accountable", "2", *OFFICE)
    report = items.out("report", "round", "2024-R1")
    assert (
        "整改成果 outcomes: 建章立制 2 项，问责 5 人，挽回损失 13 万元；屡改屡犯 0 个问题\n"
        in report
    )
    assert items.json("report", "round", "2024-R1")["outcomes"] == {
        "rules": 2, "accountable": 5, "funds": "13.00", "recurrences": 0,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--funds", "-1"), "--funds -1 is negative: give the amount recovered or saved, ≥ 0"),
        (("--funds", "十万"), "--funds '十万' is not an amount in 万元 (digits, e.g. 12.5)"),
        (("--funds", "0.001"), "--funds 0.001 has more than two decimal places (万元 to the 百元)"),
        (("--accountable", "3.5"), "--accountable '3.5' is not a number of people"),
        (("--accountable", "99999"), "--accountable 99999 is out of range (0 to 10000)"),
        (
            ("--rule", " "),
            "a rule title (--rule) is empty: give the rule's name, e.g. 合同管理办法",
        ),
        (("--rule", "办法", "--rule", "办法"), "--rule 《办法》 is given twice"),
    ],
)
def test_bad_outcomes_are_one_line_refusals_that_change_nothing(
    items: Cli, options: tuple[str, ...], message: str
) -> None:
    before = items.json("item", "show", P02)
    assert items.fail("task", "done", TASK, "--evidence", "审批办法", *options, *LIAISON) == message
    assert items.json("item", "show", P02) == before


def test_item_outcome_before_a_task_is_done_is_refused(items: Cli) -> None:
    assert items.fail("item", "outcome", P02, "--accountable", "1", *OFFICE) == (
        "item 2024-R1/U01/P02 has no outcome to record yet: none of its tasks is done and it is "
        "not accepted (销号)"
    )
    assert items.fail("item", "outcome", P02, *OFFICE) == (
        "nothing to record: give --rule, --accountable, --funds or --evidence"
    )


def test_recurs_from_needs_a_lookback_case(items: Cli) -> None:
    assert items.fail(
        "item", "add", KEY, "--code", "P09", "--title", "问题", "--category", "党的建设/政治建设",
        "--recurs-from", f"{KEY}/P01", "--actor", "王主任",
    ) == (
        "item 2024-R1/U01/P09 cannot recur from item 2024-R1/U01/P01: case 2024-R1/U01 follows "
        "no earlier case (a 回头看 started with --follows)"
    )  # fmt: skip
    assert items.fail(
        "item", "add", KEY, "--code", "P09", "--title", "问题", "--category", "党的建设/政治建设",
        "--recurs-from", "P01", "--actor", "王主任",
    ) == (
        "item 'P01' is not an item id or key: use the number or ROUND/UNIT/CODE, e.g. "
        "2024-R1/U01/P01"
    )  # fmt: skip
