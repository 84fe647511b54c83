"""`xunshi task extend | extension | extensions | show` (issue #10 part 3).

The CLI runs on the system clock, so every command here gives `--at` in 2024: task P02#1 is
due 2024-10-31; the liaison asks on 2024-10-10 for 2024-11-29.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from cli_harness import KEY, ROUND, Cli

P02 = f"{KEY}/P02"
TASK = f"{P02}#1"
CATEGORIES = """\
categories:
  业务工作: [财务管理]
"""
LIAISON = ["--actor", "李联络员", "--role", "unit_liaison"]
OFFICE = ["--actor", "王主任", "--role", "office"]


@pytest.fixture
def tasked(rectifying: Cli, tmp_path: Path) -> Cli:
    """U01 in 整改 with P02 rectifying and its task #1 due 2024-10-31 (财务处, 孙科长)."""
    world = rectifying
    (tmp_path / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    world.run("categories", "load", "categories.yaml")
    world.run(
        "item", "add", KEY, "--code", "P02", "--title", "财务审批不严",
        "--category", "业务工作/财务管理", "--actor", "王主任", "--at", "2024-09-03T11:00",
    )  # fmt: skip
    for trigger, at in (("plan", "2024-09-04T10:00"), ("begin", "2024-09-05T10:00")):
        world.run("item", "fire", P02, trigger, *LIAISON, "--at", at)
    world.run(
        "task", "add", P02, "--measure", "修订审批办法", "--leader", "钱副局长",
        "--department", "财务处", "--person", "孙科长", "--due", "2024-10-31",
        *LIAISON, "--at", "2024-09-05T11:00",
    )  # fmt: skip
    return world


def extend(cli: Cli, to: str = "2024-11-29", at: str = "2024-10-10T09:00") -> str:
    """The liaison asks for `to`; stdout."""
    return cli.out(
        "task", "extend", TASK, "--to", to, "--reason", "需协调外部单位", *LIAISON, "--at", at
    )


def decide(cli: Cli, verdict: str, at: str, *role: str) -> str:
    """`task extension TASK --approve|--reject` (as the office unless `role` given); stdout."""
    reason = "理由充分" if verdict == "--approve" else "理由不足"
    who = list(role) or OFFICE
    return cli.out("task", "extension", TASK, verdict, "--reason", reason, *who, "--at", at)


HEADER = (
    "编号  任务               单位          原定时限    申请延至    状态    申请人    "
    "申请时间          理由            审批人  审批时间          审批意见"
)


def test_request_approve_reject_history_and_lists(tasked: Cli) -> None:
    assert extend(tasked) == (
        f"task {TASK}: extension to 2024-11-29 requested, pending the office's decision\n"
    )
    shown = tasked.out("item", "show", P02)
    asked = "至 2024-11-29（李联络员 2024-10-10 09:00 申请：需协调外部单位）"
    assert f"延期    #1 延期申请待审批：{asked}\n" in shown
    pending = tasked.out("task", "extensions", "--pending", "--round", ROUND)
    assert pending.splitlines()[1].split() == [
        "1", TASK, "示例市财政局", "2024-10-31", "2024-11-29", "待审批", "李联络员",
        "2024-10-10", "09:00", "需协调外部单位",
    ]  # fmt: skip
    assert decide(tasked, "--approve", "2024-10-12T10:00") == (
        f"task {TASK}: extension approved, due 2024-11-29\n"
    )
    assert tasked.out("task", "extensions", "--pending") == "No extension requests.\n"
    shown = tasked.out("task", "show", TASK)
    assert shown.startswith(
        f"任务    {TASK}  #1  修订审批办法\n"
        f"问题    {P02}  财务审批不严  (整改中)\n"
        "责任    责任领导 钱副局长  牵头部门 财务处  责任人 孙科长\n"
        "时限    2024-11-29（原定 2024-10-31）\n"
    )
    assert (
        "延期    #1 已批准延期至 2024-11-29（原定 2024-10-31，王主任 2024-10-12 10:00 批准）\n"
        in (tasked.out("item", "show", P02))
    )
    extend(tasked, "2024-12-31", "2024-10-13T10:00")
    assert decide(tasked, "--reject", "2024-10-14T10:00") == (
        f"task {TASK}: extension to 2024-12-31 rejected\n"
    )
    history = tasked.out("item", "history", P02).splitlines()
    assert [re.split(r"\s{2,}", line)[3] for line in history[5:]] == [
        "申请延期 #1 至 2024-11-29：需协调外部单位",
        "批准延期 #1 至 2024-11-29",
        "申请延期 #1 至 2024-12-31：需协调外部单位",
        "驳回延期 #1",
    ]
    assert history[-1].endswith("王主任    office        理由不足")
    listed = tasked.out("task", "extensions").splitlines()
    assert listed[0] == HEADER
    assert [line.split()[5] for line in listed[1:]] == ["已批准", "已驳回"]
    as_json = tasked.json("task", "extensions")
    assert [(r["status"], r["original_due"], r["requested_due"]) for r in as_json] == [
        ("approved", "2024-10-31", "2024-11-29"),
        ("rejected", "2024-11-29", "2024-12-31"),
    ]
    assert as_json[1]["decided_at"] == "2024-10-14T10:00:00+08:00"
    task_json = tasked.json("task", "show", TASK)
    assert (task_json["due_on"], task_json["original_due_on"]) == ("2024-11-29", "2024-10-31")
    assert [e["status"] for e in task_json["extensions"]] == ["approved", "rejected"]
    assert tasked.json("audit", "verify")["ok"] is True


def test_the_ledger_export_has_the_original_date_and_the_extension(
    tasked: Cli, tmp_path: Path
) -> None:
    extend(tasked)
    decide(tasked, "--approve", "2024-10-12T10:00")
    tasked.run("ledger", "export", "--round", ROUND, "--format", "csv", "--out", "l.csv")
    rows = list(csv.DictReader((tmp_path / "l.csv").read_text(encoding="utf-8-sig").splitlines()))
    header = list(rows[0])
    assert header[header.index("完成时限") : header.index("完成时限") + 3] == [
        "完成时限", "原定完成时限", "延期情况",
    ]  # fmt: skip
    assert [(r["完成时限"], r["原定完成时限"], r["延期情况"]) for r in rows] == [
        ("2024-11-29", "2024-10-31", "已批准延期至 2024-11-29")
    ]


def test_refusals_are_one_line_and_write_nothing(tasked: Cli) -> None:
    events = tasked.sql("SELECT count(*) FROM event")
    args = ["task", "extend", TASK, "--reason", "r", "--at", "2024-10-10T09:00"]
    assert tasked.fail(*args, "--to", "2024-10-31", *LIAISON) == (
        f"task {TASK}: --to 2024-10-31 is not after its due date 2024-10-31"
    )
    assert tasked.fail(
        *args, "--to", "2024-11-29", "--actor", "张三", "--role", "group_leader"
    ) == (
        f"task {TASK}: role group_leader (巡视组组长) may not request an extension; allowed: "
        "unit_liaison (被巡视单位联络员), party_secretary (被巡视党组织书记), office (巡视办)"
    )
    assert tasked.fail(*args, "--to", "2024-13-01", *LIAISON).startswith("--to ")
    assert (
        tasked.fail("task", "extension", TASK, "--approve", "--reason", "r", *OFFICE)
        == f"task {TASK} has no pending extension request"
    )
    extend(tasked)
    again = [*args[:-1], "2024-10-11T09:00", "--to", "2024-12-31", *LIAISON]
    assert tasked.fail(*again) == (
        f"task {TASK} already has a pending extension request (to 2024-11-29, by 李联络员); "
        "the office decides it first (task extension --approve|--reject)"
    )
    decision = ["task", "extension", TASK, "--reason", "r"]
    assert tasked.fail(*decision, "--approve", *LIAISON) == (
        f"task {TASK}: role unit_liaison (被巡视单位联络员) may not approve an extension "
        "request; allowed: office (巡视办)"
    )
    for flags in ((), ("--approve", "--reject")):
        assert tasked.fail(*decision, *flags, *OFFICE) == (
            "give exactly one of --approve and --reject"
        )
    assert tasked.fail("task", "update", TASK, "--due", "2024-12-31", *LIAISON) == (
        f"task {TASK}: role unit_liaison (被巡视单位联络员) may not change the due date; "
        "allowed: office (巡视办); ask for more time with `xunshi task extend`"
    )
    assert tasked.fail("task", "update", TASK, "--long-term", *LIAISON).endswith(
        "ask for more time with `xunshi task extend`"
    )
    assert tasked.sql("SELECT count(*) FROM event")[0][0] == events[0][0] + 1  # the request
    assert tasked.sql("SELECT status FROM task_extensions") == [("pending",)]
    assert tasked.fail("task", "extensions", "--round", "2099-R9") == "round 2099-R9 does not exist"
