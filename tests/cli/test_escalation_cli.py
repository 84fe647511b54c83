"""`xunshi escalate | escalations list|ack | case suspend|resume | calendar load|workdays` (§7).

The CLI runs on the system clock, so the cases are built with `--at` in the past: the world's
case 2024-R1/U01 started 2024-09-02 09:00 in preparation (due 2024-09-24), so all three rungs
of its ladder (the default one: reminders to the office, then to the leading group) are due
today. Escalations are raised "now": the tests mask that one column.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cli_harness import KEY, ROUND, Cli, start_case
from forward import forward_path, steps_to

ESCALATION_KEYS = {
    "id",
    "case",
    "stage",
    "level",
    "title",
    "notify",
    "due_on",
    "raised_at",
    "provisional",
    "instrument",
    "recipient",
    "decision",
}
STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
NOW = "YYYY-MM-DD HH:MM"  # as wide as a stamp, so the table keeps its alignment

RAISED_TABLE = """\
编号  案件         阶段      级别  名称              方式                  通知           期限        发出              状态    送达
1     2024-R1/U01  巡前准备  0     到期提醒          提醒 → office         office         2024-09-24  YYYY-MM-DD HH:MM  待处理  log 已送达
2     2024-R1/U01  巡前准备  1     超期提醒          提醒 → office         office         2024-09-24  YYYY-MM-DD HH:MM  待处理  log 已送达
3     2024-R1/U01  巡前准备  2     超期报告领导小组  提醒 → leading_group  leading_group  2024-09-24  YYYY-MM-DD HH:MM  待处理  log 已送达
"""  # noqa: E501

CALENDAR_2027 = """\
year: 2027
holidays:
  - {from: 2027-01-01, to: 2027-01-03, title: 元旦}
  - {from: 2027-02-06, to: 2027-02-13, title: 春节}
  - 2027-04-05
  - {from: 2027-05-01, to: 2027-05-05, title: 劳动节}
  - {from: 2027-10-01, to: 2027-10-07, title: 国庆节}
workdays: [2027-02-20, 2027-09-26, 2027-10-09]
"""


def masked(text: str) -> str:
    """`text` with every `YYYY-MM-DD HH:MM` stamp (the sweep's "now") masked."""
    return STAMP.sub(NOW, text)


def act(cli: Cli, command: str, *args: str) -> str:
    """`case COMMAND KEY ARGS`; its stdout."""
    return cli.out("case", command, KEY, *args)


def suspend_args(role: str = "office", at: str | None = None) -> list[str]:
    """Options of `case suspend`."""
    args = ["--actor", "王主任", "--role", role, "--reason", "巡视组临时召回"]
    return [*args, "--at", at] if at else args


def business_now(text: str) -> datetime:
    """An ISO instant from `--json` output."""
    return datetime.fromisoformat(text)


# -- escalate ----------------------------------------------------------------------------


def test_escalate_prints_the_escalations_it_raised(world: Cli) -> None:
    text = world.out("escalate")

    assert masked(text) == RAISED_TABLE
    assert world.out("escalate") == "No escalation due.\n"


def test_escalate_json(world: Cli) -> None:
    before = datetime.now().astimezone()
    raised = world.json("escalate")
    after = datetime.now().astimezone()

    assert isinstance(raised, list)
    assert [set(r) >= ESCALATION_KEYS for r in raised] == [True] * 3
    assert [(r["id"], r["case"], r["stage"], r["level"], r["title"]) for r in raised] == [
        (1, KEY, "preparation", 0, "到期提醒"),
        (2, KEY, "preparation", 1, "超期提醒"),
        (3, KEY, "preparation", 2, "超期报告领导小组"),
    ]
    assert [(r["instrument"], r["recipient"], r["notify"], r["decision"]) for r in raised] == [
        ("提醒", "office", ["office"], None),
        ("提醒", "office", ["office"], None),
        ("提醒", "leading_group", ["leading_group"], None),
    ]
    assert {(r["due_on"], r["provisional"]) for r in raised} == {("2024-09-24", False)}
    stamps = {business_now(r["raised_at"]) for r in raised}
    assert len(stamps) == 1
    assert before.replace(microsecond=0) <= stamps.pop() <= after
    assert raised[0]["raised_at"].endswith("+08:00")
    assert world.json("escalate") == []


def test_escalate_as_of_an_earlier_time(world: Cli) -> None:
    # Due 2024-09-24: level 0 at the start of the third working day before it (09-19), level 1
    # when the stage becomes overdue (09-25), level 2 at the start of the day after the fifth
    # working day past it (09-30, counting the make-up Sunday 09-29): 10-01.
    raised = world.json("escalate", "--now", "2024-09-25")

    assert [(r["level"], r["raised_at"]) for r in raised] == [
        (0, "2024-09-25T00:00:00+08:00"),
        (1, "2024-09-25T00:00:00+08:00"),
    ]
    assert world.json("escalate", "--now", "2024-09-30T23:59") == []
    raised = world.json("escalate", "--now", "2024-10-01")
    assert [(r["level"], r["raised_at"]) for r in raised] == [(2, "2024-10-01T00:00:00+08:00")]
    assert world.json("escalate") == []


def test_escalate_ahead_of_the_clock_is_refused(world: Cli) -> None:
    message = world.fail("escalate", "--now", "2999-01-01T09:00")

    assert re.fullmatch(
        r"--now 2999-01-01 09:00 is later than the clock \(\d{4}-\d\d-\d\d \d\d:\d\d\); "
        r"a sweep cannot run ahead of time",
        message,
    ), message
    assert world.json("escalations", "list") == []


def test_escalate_with_a_bad_time(world: Cli) -> None:
    assert world.fail("escalate", "--now", "tomorrow") == (
        "--now 'tomorrow' is not an ISO 8601 time (e.g. 2024-09-27 or 2024-09-27T09:30)"
    )


def test_escalate_delivers_to_the_notification_file(world: Cli, tmp_path: Path) -> None:
    path = tmp_path / "notify.jsonl"

    raised = world.json("escalate", env={"XUNSHI_NOTIFY_FILE": str(path)})

    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(n["escalation"], n["level"], n["case"]) for n in lines] == [
        (r["id"], r["level"], KEY) for r in raised
    ]
    assert [n["idempotency_key"] for n in lines] == [
        f"xunshi-escalation-1-{r['id']}" for r in raised
    ]
    assert world.json("escalate", env={"XUNSHI_NOTIFY_FILE": str(path)}) == []
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3


# -- escalations list / ack ----------------------------------------------------------------


def test_escalations_list_and_its_filters(world: Cli) -> None:
    world.run("round", "create", "2024-R2", "--title", "2024年第二轮巡视", "--start", "2024-09-02")
    world.run("group", "add", "2024-R2", "G1", "--leader", "李四")
    args = ["case", "start", "--round", "2024-R2", "--unit", "U02", "--group", "G1"]
    world.run(*args, "--definition", "regular", "--at", "2024-09-02T09:00")
    for name, at in (("briefings_received", "2024-09-03T10:00"), ("training_done", "2024-09-04")):
        act(world, "milestone", name, "--actor", "张三", "--role", "group_leader", "--at", at)
    at = "2024-09-27T10:00"
    act(world, "fire", "move_in", "--actor", "张三", "--role", "group_leader", "--at", at)
    assert len(world.json("escalate")) == 6
    # U01 leaves onsite now: its three escalations are resolved (no longer open).
    onsite = forward_path()[steps_to("onsite")]
    for need in onsite.needs:
        count = ["--count", "12"] if need.counted else []
        act(world, "milestone", need.name, "--actor", "张三", "--role", need.role, *count)
    act(world, "fire", onsite.trigger, "--actor", "张三", "--role", onsite.role)

    every = world.json("escalations", "list")
    open_ = world.json("escalations", "list", "--open")
    round1 = world.json("escalations", "list", "--round", ROUND)
    level1 = world.json("escalations", "list", "--level", "1")
    both = world.json("escalations", "list", "--open", "--round", "2024-R2", "--level", "2")

    assert [set(e) >= ESCALATION_KEYS for e in every] == [True] * 6
    assert sorted((e["case"], e["stage"], e["level"]) for e in every) == [
        (KEY, "onsite", 0),
        (KEY, "onsite", 1),
        (KEY, "onsite", 2),
        ("2024-R2/U02", "preparation", 0),
        ("2024-R2/U02", "preparation", 1),
        ("2024-R2/U02", "preparation", 2),
    ]
    assert [e["id"] for e in every] == sorted(e["id"] for e in every)
    assert {e["case"] for e in open_} == {"2024-R2/U02"}
    assert len(open_) == 3
    # 现场巡视 is due 30 working days after 2024-09-27 (国庆 off, 09-29 and 10-12 worked).
    assert {(e["case"], e["due_on"]) for e in round1} == {(KEY, "2024-11-13")}
    assert len(round1) == 3
    assert sorted(e["case"] for e in level1) == [KEY, "2024-R2/U02"]
    assert [(e["case"], e["level"]) for e in both] == [("2024-R2/U02", 2)]
    text = masked(world.out("escalations", "list", "--level", "1"))
    lines = text.splitlines()
    assert lines[0].split() == [
        "编号",
        "案件",
        "阶段",
        "级别",
        "名称",
        "方式",
        "通知",
        "期限",
        "发出",
        "状态",
        "送达",
    ]
    # The last two cells are the delivery on the default channel, the log ("log 已送达").
    assert {line.split()[1]: line.split()[-3] for line in lines[1:]} == {
        KEY: "已解除",
        "2024-R2/U02": "待处理",
    }
    assert "现场巡视" in text


def test_escalations_list_of_an_unknown_round(world: Cli) -> None:
    assert world.fail("escalations", "list", "--round", "NOPE") == "round NOPE does not exist"


def test_escalations_list_when_there_are_none(world: Cli) -> None:
    assert world.out("escalations", "list") == "No escalations.\n"
    assert world.json("escalations", "list", "--level", "2") == []


def test_ack_records_who_and_writes_a_note(world: Cli) -> None:
    world.out("escalate")

    text = world.out("escalations", "ack", "2", "--actor", "王主任")

    assert text == f"Escalation 2 (case {KEY}, level 1) acknowledged by 王主任\n"
    listed = {e["id"]: e for e in world.json("escalations", "list")}
    assert listed[2]["acked_by"] == "王主任"
    assert listed[1]["acked_by"] is None
    history = world.json("case", "history", KEY)
    note = history[-1]
    assert (note["kind"], note["actor"], note["role"]) == ("note", "王主任", None)
    assert note["reason"] == "acknowledged escalation 2: 超期提醒"
    lines = masked(world.out("escalations", "list", "--level", "1")).splitlines()
    assert lines[1].endswith("已确认  log 已送达")
    assert world.out("audit", "verify").startswith("OK: ")


def test_ack_json(world: Cli) -> None:
    world.out("escalate")

    assert world.json("escalations", "ack", "3", "--actor", "王主任") == {
        "id": 3,
        "case": KEY,
        "acked_by": "王主任",
    }


def test_ack_twice_is_refused(world: Cli) -> None:
    world.out("escalate")
    world.out("escalations", "ack", "2", "--actor", "王主任")
    events = len(world.json("case", "history", KEY))

    message = world.fail("escalations", "ack", "2", "--actor", "李四")

    assert re.fullmatch(
        r"escalation 2 was already acknowledged by 王主任 at \d{4}-\d\d-\d\d \d\d:\d\d", message
    ), message
    assert len(world.json("case", "history", KEY)) == events


@pytest.mark.parametrize(
    ("ident", "message"),
    [
        ("999", "escalation 999 does not exist"),
        ("x1", "escalation id 'x1' is not a number"),
    ],
)
def test_ack_of_an_unknown_escalation(world: Cli, ident: str, message: str) -> None:
    world.out("escalate")

    assert world.fail("escalations", "ack", ident, "--actor", "王主任") == message


def test_ack_takes_the_actor_from_xunshi_actor(world: Cli) -> None:
    # Issue #8, defect 7: --actor falls back to $XUNSHI_ACTOR (here the harness's `tester`).
    assert world.fail("escalations", "ack", "1") == "escalation 1 does not exist"
    assert world.fail("escalations", "ack", "1", env={"XUNSHI_ACTOR": " "}) == (
        "actor must not be empty"
    )


# -- case suspend / resume ---------------------------------------------------------------------


def test_suspend_and_resume_move_the_due_date(world: Cli) -> None:
    suspended = act(world, "suspend", *suspend_args(at="2024-09-10T10:00"))

    assert suspended == f"case {KEY}: suspended\n"
    shown = world.json("case", "show", KEY)
    assert (shown["suspended"], shown["overdue"]) == (True, False)
    assert world.json("escalate") == []  # the clock is stopped

    resumed = act(
        world, "resume", "--actor", "王主任", "--role", "office", "--at", "2024-09-17T10:00"
    )

    # (09-10, 09-17] holds four working days: 11, 12, 13 and 14 (a make-up Saturday);
    # 15-17 is the Mid-Autumn holiday. 09-24 + 4wd = 09-29 (a make-up Sunday).
    assert world.out("calendar", "workdays", "2024-09-24", "4") == "2024-09-29\n"
    assert resumed == f"case {KEY}: resumed, due 2024-09-29\n"
    shown = world.json("case", "show", KEY)
    assert (shown["suspended"], shown["due_on"]) == (False, "2024-09-29")
    raised = world.json("escalate")
    assert [(r["level"], r["due_on"]) for r in raised] == [(n, "2024-09-29") for n in range(3)]
    kinds = [e["kind"] for e in world.json("case", "history", KEY)]
    assert kinds == ["started", "suspended", "resumed"] + ["escalation"] * 3


def test_suspend_json_is_the_event(world: Cli) -> None:
    event = world.json("case", "suspend", KEY, *suspend_args(at="2024-09-10T10:00"))

    assert (event["kind"], event["trigger"], event["role"]) == ("suspended", "suspend", "office")
    assert event["reason"] == "巡视组临时召回"
    assert event["occurred_at"] == "2024-09-10T10:00:00+08:00"


def test_suspend_refusals_write_nothing(world: Cli) -> None:
    act(world, "suspend", *suspend_args(at="2024-09-10T10:00"))
    history = world.json("case", "history", KEY)

    twice = world.fail("case", "suspend", KEY, *suspend_args())
    by_leader = world.fail("case", "resume", KEY, "--actor", "张三", "--role", "group_leader")

    assert twice == f"case {KEY} is already suspended (since 2024-09-10 10:00)"
    assert by_leader == (
        f"case {KEY} cannot resume: role group_leader (巡视组组长) may not; "
        "allowed: office (巡视办)"
    )
    assert world.json("case", "history", KEY) == history


def test_a_suspended_case_offers_no_trigger(world: Cli) -> None:
    # Issue #8, defect 11: `case show` listed move_in as 可执行 while nothing could be fired.
    for name, at in (("briefings_received", "2024-09-03"), ("training_done", "2024-09-04")):
        world.run("case", "milestone", KEY, name, "--role", "office", "--at", at)
    assert world.out("case", "show", KEY).splitlines()[-2] == "可执行  move_in"
    act(world, "suspend", *suspend_args(at="2024-09-10T10:00"))

    shown = world.out("case", "show", KEY).splitlines()

    assert shown[4].startswith("阶段    巡前准备 (preparation)  暂停中 suspended  since ")
    assert shown[5] == "期限    2024-09-24  暂停"
    assert shown[-2] == "可执行  暂停中：先恢复 (case resume)"
    assert "move_in" not in "\n".join(shown)
    assert world.fail("case", "fire", KEY, "move_in", "--role", "group_leader") == (
        f"case {KEY} is suspended since 2024-09-10 10:00; resume it first"
    )
    act(world, "resume", "--actor", "王主任", "--role", "office")
    assert world.out("case", "show", KEY).splitlines()[-2] == "可执行  move_in"


@pytest.mark.parametrize("kind", ["case", "item"])
@pytest.mark.parametrize("verb", ["suspend", "resume"])
def test_suspend_help_names_the_roles_that_may(cli: Cli, kind: str, verb: str) -> None:
    # Issue #8, defect 11: the help offered group_leader, whom every built-in refuses.
    text = " ".join(cli.out(kind, verb, "--help").split())

    gerund = {"suspend": "suspending", "resume": "resuming"}[verb]
    assert (
        f"--role TEXT The role you act in; {gerund} needs one of the definition's "
        "suspend_roles (built-in definitions: office). [required]"
    ) in text
    assert "group_leader" not in text


def test_resume_of_a_running_case_is_refused(world: Cli) -> None:
    message = world.fail("case", "resume", KEY, "--actor", "王主任", "--role", "office")

    assert message == f"case {KEY} is not suspended"


def test_suspend_by_a_role_that_may_not(world: Cli) -> None:
    assert world.fail("case", "suspend", KEY, *suspend_args("group_leader")) == (
        f"case {KEY} cannot suspend: role group_leader (巡视组组长) may not; "
        "allowed: office (巡视办)"
    )


def test_suspend_needs_a_reason(world: Cli) -> None:
    assert "Missing option '--reason'" in world.usage(
        "case", "suspend", KEY, "--actor", "王主任", "--role", "office"
    )


# -- calendar -------------------------------------------------------------------------------


def test_calendar_workdays(ready: Cli) -> None:
    assert ready.out("calendar", "workdays", "2024-09-27", "5") == "2024-10-10\n"
    assert ready.out("calendar", "workdays", "2024-10-10", "-3") == "2024-09-30\n"
    assert ready.json("calendar", "workdays", "2024-09-27", "5") == {
        "from": "2024-09-27",
        "n": 5,
        "date": "2024-10-10",
        "provisional": False,
    }
    assert ready.out("calendar", "workdays", "2026-12-31", "1") == (
        "2027-01-01  (暂定 provisional: no calendar data)\n"
    )


def test_calendar_workdays_without_a_database(cli: Cli) -> None:
    assert cli.out("calendar", "workdays", "2024-09-27", "5") == "2024-10-10\n"
    assert not cli.path.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("2024-13-01", "5"), "FROM '2024-13-01' is not a date (YYYY-MM-DD)"),
        (("2024-09-27", "five"), "N 'five' is not a whole number"),
    ],
)
def test_calendar_workdays_bad_input(ready: Cli, args: tuple[str, str], message: str) -> None:
    assert ready.fail("calendar", "workdays", *args) == message


def test_calendar_load_adds_a_year(ready: Cli, tmp_path: Path) -> None:
    path = tmp_path / "cal2027.yaml"
    path.write_text(CALENDAR_2027, encoding="utf-8")

    text = ready.out("calendar", "load", str(path))

    assert text == (
        "Loaded 2027 from cal2027.yaml (replace): 24 holidays, 3 make-up working days;"
        " 0 deadlines moved\n"
    )
    assert ready.json("calendar", "workdays", "2026-12-31", "1") == {
        "from": "2026-12-31",
        "n": 1,
        "date": "2027-01-04",
        "provisional": False,
    }


def test_calendar_load_json(ready: Cli, tmp_path: Path) -> None:
    path = tmp_path / "cal2027.yaml"
    path.write_text(CALENDAR_2027, encoding="utf-8")

    assert ready.json("calendar", "load", str(path)) == {
        "year": 2027,
        "mode": "replace",  # no built-in data for 2027: the file is the year
        "load": 1,
        "source": "cal2027.yaml",
        "loaded_by": "tester",
        "has_data": True,
        "holidays": 24,
        "workdays": 3,
        "rescheduled": [],
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("year: 2027\nholidays: [2027-01-01\n", r"cal2027\.yaml: not valid YAML: .+"),
        ("year: 2027\nholidays: []\n", r"cal2027\.yaml: missing key workdays"),
        (
            "- 2027-01-01\n",
            r"cal2027\.yaml: expected a mapping with keys year, holidays, workdays.*",
        ),
        (
            "year: 2027\nholidays: []\nworkdays: [2027-01-05]\n",
            r"cal2027\.yaml: make-up working day 2027-01-05 is a Tuesday, not a Saturday or Sunday",
        ),
    ],
)
def test_calendar_load_of_a_bad_file_is_one_line(
    ready: Cli, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "cal2027.yaml"
    path.write_text(text, encoding="utf-8")

    assert re.fullmatch(message, ready.fail("calendar", "load", str(path)))
    # Nothing stored: 2027 is still without data.
    shown: Any = ready.json("calendar", "workdays", "2026-12-31", "1")
    assert shown["provisional"] is True


def test_calendar_load_of_a_missing_file(ready: Cli, tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"

    assert ready.fail("calendar", "load", str(path)) == f"{path}: no such file"


# -- settings and delivery failures (#8.4) --------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["not-a-url", "ftp://hooks.example/x", "http://", "http://host:99999/x", "file:///tmp/x"],
)
def test_a_bad_webhook_url_is_refused_before_anything_is_written(world: Cli, url: str) -> None:
    before = world.sql("SELECT count(*) FROM escalation")

    message = world.fail("escalate", env={"XUNSHI_WEBHOOK_URL": url})

    assert message == "XUNSHI_WEBHOOK_URL is not an http(s) URL"
    assert world.sql("SELECT count(*) FROM escalation") == before == [(0,)]


def test_an_unwritable_notification_file_never_fails_the_sweep(world: Cli, tmp_path: Path) -> None:
    path = tmp_path / "missing" / "notify.jsonl"
    env = {"XUNSHI_NOTIFY_FILE": str(path)}

    result = world.run("escalate", env=env)

    assert masked(result.stdout).splitlines()[1].startswith("1     2024-R1/U01")
    assert result.stderr.splitlines() == [
        f"warning: 3 notifications not delivered to file: cannot write {path}: "
        "No such file or directory"
    ]
    listed = world.json("escalations", "list", env=env)
    assert len(listed) == 3
    deliveries = [d for e in listed for d in e["deliveries"]]
    states = {(d["channel"], d["status"], d["attempts"]) for d in deliveries}
    assert states == {("file", "pending", 1)}
    assert {d["last_error"] for e in listed for d in e["deliveries"]} == {
        f"cannot write {path}: No such file or directory"
    }
    assert "file 重试中(1)" in world.out("escalations", "list", env=env)


def test_a_webhook_nobody_answers_never_fails_the_sweep(world: Cli) -> None:
    import socket  # a port that was free a moment ago: nothing listens on it

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hook"

    result = world.run("escalate", env={"XUNSHI_WEBHOOK_URL": url})

    assert len(world.json("escalations", "list")) == 3
    [line] = result.stderr.splitlines()
    assert line.startswith(f"warning: 3 notifications not delivered to webhook: cannot reach {url}")
    listed = world.json("escalations", "list")
    assert {d["status"] for e in listed for d in e["deliveries"]} == {"pending"}


GRADED_YAML = """\
name: graded
title: 分级督办
initial: work
roles: {office: 巡视办, party_secretary: 被巡视党组织书记, unit_liaison: 联络员}
states:
  work:
    title: 整改
    due: 5wd
    escalation:
      - {at: 0, level: 1, title: 超期预警, instrument: 预警, to: unit_liaison, notify: [unit_liaison]}
      - {at: 2wd, level: 2, title: 约谈书记, instrument: 约谈, to: party_secretary,
         notify: [party_secretary], decision: true}
  done: {title: 完成, final: true}
transitions:
  - {trigger: finish, source: work, dest: done, roles: [office]}
"""  # noqa: E501


def test_a_proposal_waits_for_the_office_then_notifies(world: Cli, tmp_path: Path) -> None:
    (tmp_path / "graded.yaml").write_text(GRADED_YAML, encoding="utf-8")
    world.run("definitions", "load", str(tmp_path / "graded.yaml"))
    start_case(world, "U02", definition="graded")
    key = f"{ROUND}/U02"
    raised = world.json("escalate")
    mine = [r for r in raised if r["case"] == key]
    assert [(r["level"], r["instrument"], r["recipient"], r["decision"]) for r in mine] == [
        (1, "预警", "unit_liaison", None),
        (2, "约谈", "party_secretary", "pending"),
    ]
    assert [d["channel"] for d in mine[0]["deliveries"]] == ["log"]
    assert mine[1]["deliveries"] == []
    proposal = str(mine[1]["id"])

    listed = masked(world.out("escalations", "list", "--pending-decision"))
    assert listed.splitlines()[1:] == [
        f"{proposal}     2024-R1/U02  整改  2     约谈书记  约谈 → party_secretary  "
        "party_secretary  2024-09-09  YYYY-MM-DD HH:MM  待决定"
    ]
    assert world.fail(
        "escalations", "decide", proposal, "--confirm", "--reason", "x", "--role", "unit_liaison"
    ) == (
        f"case {key}: role unit_liaison (联络员) may not decide on an escalation; "
        "allowed: office (巡视办)"
    )
    assert world.usage("escalations", "decide", proposal, "--reason", "x").endswith(
        "give --confirm or --dismiss"
    )
    out = world.out(
        "escalations", "decide", proposal, "--confirm", "--reason", "两次督办未见整改",
        "--actor", "李主任",
    )  # fmt: skip
    assert out == (
        f"Escalation {proposal} (case {key}, level 2 约谈) confirmed by 李主任; "
        "notifying party_secretary\n"
    )
    decided = world.json("escalations", "list", "--level", "2", "--round", ROUND)
    mine = next(e for e in decided if e["case"] == key)
    assert (mine["decision"], mine["decided_by"], mine["decision_reason"]) == (
        "confirmed",
        "李主任",
        "两次督办未见整改",
    )
    assert [d["status"] for d in mine["deliveries"]] == ["pending"]
    assert world.out("escalations", "list", "--pending-decision") == "No escalations.\n"
    history = world.out("case", "history", key)
    decision = rf"decision +confirm #{proposal} 约谈 +李主任 +office +两次督办未见整改"
    assert re.search(decision, history)
    assert world.fail(
        "escalations", "decide", proposal, "--dismiss", "--reason", "晚了"
    ) == f"escalation {proposal} was already confirmed by 李主任 at " + mine["decided_at"][
        :16
    ].replace("T", " ")


RECTIFYING_TABLE = """\
编号  案件         阶段      级别  名称            方式                        通知                                                  期限        发出              状态    送达
1     2024-R1/U01  集中整改  0     整改期限提醒    提醒 → unit_liaison         unit_liaison, party_secretary                         2024-11-03  2024-10-21 00:00  待处理  log 已送达
2     2024-R1/U01  集中整改  1     整改超期预警    预警 → unit_liaison         unit_liaison, office                                  2024-11-03  2024-11-04 00:00  待处理  log 已送达
3     2024-R1/U01  集中整改  2     整改督办        督办函 → party_secretary    party_secretary, office, discipline_group             2024-11-03  2024-11-09 00:00  待处理  log 已送达
4     2024-R1/U01  集中整改  3     约谈主要负责人  约谈 → party_secretary      party_secretary, discipline_group, organization_dept  2024-11-03  2024-11-16 00:00  待决定
5     2024-R1/U01  集中整改  4     问责建议        问责建议 → party_secretary  leading_group, discipline_group, organization_dept    2024-11-03  2024-11-30 00:00  待决定
"""  # noqa: E501


def test_rectification_climbs_the_unit_s_ladder_to_proposals(rectifying: Cli) -> None:
    # 集中整改 is due two months after the feedback meeting (2024-09-03): 2024-11-03, a Sunday.
    # Its own ladder: level 0 at the start of the tenth working day before (10-21), level 1
    # when it is overdue (11-04), levels 2, 3 and 4 the day after the fifth, tenth and
    # twentieth working day past it (11-08, 11-15, 11-29): 11-09, 11-16 and 11-30.
    def raised(now: str) -> list[tuple[int, str]]:
        return [(r["level"], r["raised_at"]) for r in rectifying.json("escalate", "--now", now)]

    assert raised("2024-10-20T23:59") == []
    assert raised("2024-10-21") == [(0, "2024-10-21T00:00:00+08:00")]
    assert raised("2024-11-03T23:59") == []
    assert raised("2024-11-04") == [(1, "2024-11-04T00:00:00+08:00")]
    assert raised("2024-11-08T23:59") == []
    assert raised("2024-11-09") == [(2, "2024-11-09T00:00:00+08:00")]
    assert raised("2024-11-15T23:59") == []
    assert raised("2024-11-16") == [(3, "2024-11-16T00:00:00+08:00")]
    assert raised("2024-11-29T23:59") == []
    assert raised("2024-11-30") == [(4, "2024-11-30T00:00:00+08:00")]
    assert rectifying.json("escalate") == []

    # Levels 3 (约谈) and 4 (问责建议) are proposals: nobody is notified until the office decides.
    assert rectifying.out("escalations", "list") == RECTIFYING_TABLE
    listed = rectifying.json("escalations", "list")
    assert [(e["instrument"], e["recipient"], e["decision"]) for e in listed] == [
        ("提醒", "unit_liaison", None),
        ("预警", "unit_liaison", None),
        ("督办函", "party_secretary", None),
        ("约谈", "party_secretary", "pending"),
        ("问责建议", "party_secretary", "pending"),
    ]
    assert [[d["channel"] for d in e["deliveries"]] for e in listed] == [["log"]] * 3 + [[], []]
    pending = rectifying.out("escalations", "list", "--pending-decision").splitlines()
    assert pending == RECTIFYING_TABLE.splitlines()[:1] + RECTIFYING_TABLE.splitlines()[4:]

    assert rectifying.fail(
        "escalations", "decide", "4", "--dismiss", "--reason", "x", "--role", "party_secretary"
    ) == (
        f"case {KEY}: role party_secretary (被巡视党组织书记) may not decide on an escalation; "
        "allowed: office (巡视办)"
    )
    dismissed = rectifying.out(
        "escalations", "decide", "4", "--dismiss", "--reason", "已约谈", "--actor", "李主任"
    )
    assert dismissed == f"Escalation 4 (case {KEY}, level 3 约谈) dismissed by 李主任\n"
    reason = "逾期二十个工作日"
    confirmed = rectifying.out(
        "escalations", "decide", "5", "--confirm", "--reason", reason, "--actor", "李主任"
    )
    assert confirmed == (
        f"Escalation 5 (case {KEY}, level 4 问责建议) confirmed by 李主任; "
        "notifying leading_group, discipline_group, organization_dept\n"
    )
    decided = {e["id"]: e for e in rectifying.json("escalations", "list")}
    assert (decided[4]["decision"], decided[4]["deliveries"]) == ("dismissed", [])
    assert decided[5]["decision"] == "confirmed"
    assert [(d["channel"], d["status"]) for d in decided[5]["deliveries"]] == [("log", "pending")]
    states = [line.split("  ")[-1] for line in rectifying.out("escalations", "list").splitlines()]
    assert states[4:] == ["已驳回", "log 待发送"]
    assert rectifying.out("escalations", "list", "--pending-decision") == "No escalations.\n"
    # The next sweep delivers the confirmed notification; the dismissed one is never sent.
    assert rectifying.out("escalate") == "No escalation due.\n"
    decided = {e["id"]: e for e in rectifying.json("escalations", "list")}
    assert [d["status"] for d in decided[5]["deliveries"]] == ["delivered"]
    assert decided[4]["deliveries"] == []
    history = rectifying.json("case", "history", KEY)[-2:]
    assert [(e["kind"], e["actor"], e["role"], e["reason"]) for e in history] == [
        ("decision", "李主任", "office", "已约谈"),
        ("decision", "李主任", "office", "逾期二十个工作日"),
    ]
