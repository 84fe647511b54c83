"""`--request-id`: a state-changing command run again under the same id reports what it did
the first time and writes nothing; every event names the request that wrote it."""

from __future__ import annotations

import re

import pytest
from cli_harness import Cli

CASE = "2024-R1/U01"
BRIEFINGS = [
    "case", "milestone", CASE, "briefings_received",
    "--actor", "张三", "--role", "group_leader", "--at", "2024-09-03",
]  # fmt: skip


def requests_of(cli: Cli) -> list[tuple[int, str | None]]:
    """(seq, request id) of the case's events."""
    return [
        (seq, request)
        for seq, request in cli.sql(
            "SELECT seq, request_id FROM event WHERE instance_id = "
            "(SELECT c.id FROM inspection_case c JOIN unit u ON u.id = c.unit_id "
            "WHERE u.code = 'U01') ORDER BY seq"
        )
    ]


def test_every_write_gets_a_request_id_of_its_own(world: Cli) -> None:
    world.run(*BRIEFINGS)
    world.run("case", "milestone", CASE, "training_done", "--actor", "张三", "--role",
              "group_leader", "--at", "2024-09-03")  # fmt: skip
    ids = [request for _, request in requests_of(world)[-2:]]
    assert all(request is not None and re.fullmatch("[0-9a-f]{32}", request) for request in ids)
    assert ids[0] != ids[1]


def test_the_same_request_again_reports_the_earlier_result(world: Cli) -> None:
    first = world.out("--request-id", "script-07", *BRIEFINGS)
    assert first == f"case {CASE}: 听取有关部门情况通报 (briefings_received) recorded\n"
    again = world.out(*BRIEFINGS, "--request-id", "script-07")  # before or after: the same
    lines = again.splitlines()
    assert lines[0] == (
        "Already done: request script-07 (xunshi case milestone 2024-R1/U01 briefings_received "
        "--actor 张三 --role group_leader --at 2024-09-03) was carried out before; nothing was "
        "written now."
    )
    assert lines[1].split() == ["对象", "序号", "记录时间", "事件", "内容"]
    assert lines[2].split()[:4] == ["case", CASE, "2", lines[2].split()[3]]
    assert lines[2].split()[-2:] == ["milestone", "briefings_received"]
    assert requests_of(world)[1:] == [(2, "script-07")]


def test_the_json_of_a_request_run_again(world: Cli) -> None:
    earlier = world.json("--request-id", "script-08", *BRIEFINGS)
    again = world.json("--request-id", "script-08", *BRIEFINGS)
    assert again["already_done"] is True
    assert again["request_id"] == "script-08"
    assert again["command"].startswith("xunshi case milestone 2024-R1/U01 briefings_received")
    [event] = again["events"]
    assert (event["key"], event["seq"], event["kind"]) == (CASE, 2, "milestone")
    assert event["hash"] == earlier["hash"]  # the event the first run printed


def test_a_request_id_of_another_command_is_refused(world: Cli) -> None:
    world.run("--request-id", "script-09", *BRIEFINGS)
    message = world.fail(
        "--request-id", "script-09", "case", "milestone", CASE, "training_done",
        "--actor", "张三", "--role", "group_leader",
    )  # fmt: skip
    assert message.startswith("request id script-09 was already used by another command (")
    assert len(requests_of(world)) == 2


@pytest.mark.parametrize("value", ["a b", "x" * 65, "", "请求"])
def test_a_bad_request_id_is_one_line_and_writes_nothing(world: Cli, value: str) -> None:
    message = world.fail("--request-id", value, *BRIEFINGS)
    assert message.startswith(f"request id {value!r} is not valid")
    assert len(requests_of(world)) == 1
    message = world.fail(*BRIEFINGS, "--request-id", value)
    assert message.startswith(f"request id {value!r} is not valid")


def test_a_refused_command_keeps_its_request_id_free(world: Cli) -> None:
    # Refused: nothing written, so the same id may carry the corrected command.
    world.fail("--request-id", "script-10", "case", "fire", CASE, "leave_site",
               "--actor", "张三", "--role", "group_leader")  # fmt: skip
    world.run("--request-id", "script-10", *BRIEFINGS)
    assert requests_of(world)[-1] == (2, "script-10")


def test_the_request_id_is_listed_in_help(world: Cli) -> None:
    assert "--request-id ID" in world.out("case", "fire", "--help")
    assert "--request-id ID" in world.out("--help")


def test_a_sweep_is_not_a_request(world: Cli) -> None:
    # `escalate` is safe to run again by itself (leases, one escalation per rung): the same
    # id twice sweeps twice, and its timers' transactions store no request rows.
    for _ in range(2):
        assert "Already done" not in world.out("escalate", "--request-id", "sweep-1")
    assert world.sql("SELECT count(*) FROM command_request WHERE request_id = 'sweep-1'") == [(0,)]
