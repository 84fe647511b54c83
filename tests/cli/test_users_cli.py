"""`xunshi user …`: adding people of the web desk, listing, disabling, API tokens."""

from __future__ import annotations

import json

import pytest
from cli_harness import Cli

PASSWORD = "correct horse battery"


def add(cli: Cli, *args: str, password: str = PASSWORD, code: int = 0) -> str:
    """`user add ARGS --password-stdin` with `password`; stdout, or the error line."""
    result = cli.run("user", "add", *args, "--password-stdin", input=password + "\n", code=code)
    if code:
        assert result.stdout == ""
        [line] = result.stderr.splitlines()
        return line.removeprefix("Error: ")
    return result.stdout


def test_users_are_added_listed_and_disabled(world: Cli) -> None:
    assert add(world, "李明", "--role", "office") == "Added user 李明 (office).\n"
    assert add(world, "王组长", "--role", "group_leader", "--group", "2024-R1/G1") == (
        "Added user 王组长 (group_leader, 2024-R1/G1).\n"
    )
    assert add(world, "赵联络员", "--role", "unit_liaison", "--unit", "U02") == (
        "Added user 赵联络员 (unit_liaison, U02).\n"
    )
    assert world.out("user", "disable", "赵联络员") == "Disabled user 赵联络员.\n"

    assert world.out("user", "list") == (
        "用户      角色          巡视组      单位  状态\n"
        "李明      office                          启用\n"
        "王组长    group_leader  2024-R1/G1        启用\n"
        "赵联络员  unit_liaison              U02   停用\n"
    )
    listed = world.json("user", "list")
    assert [(u["name"], u["role"], u["group"], u["unit"], u["disabled"]) for u in listed] == [
        ("李明", "office", None, None, False),
        ("王组长", "group_leader", "2024-R1/G1", None, False),
        ("赵联络员", "unit_liaison", None, "U02", True),
    ]
    assert "password" not in json.dumps(listed)


def test_the_password_is_asked_for_twice_hidden(world: Cli) -> None:
    result = world.run("user", "add", "李明", "--role", "office", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert PASSWORD not in result.output
    assert result.stdout.endswith("Added user 李明 (office).\n")

    mismatch = world.invoke(
        ["--db", world.url, "user", "add", "王", "--role", "office"],
        input=f"{PASSWORD}\n{PASSWORD}x\n",
    )
    assert mismatch.exit_code == 1
    assert mismatch.stderr.splitlines()[-1] == (
        "Error: no password was typed: type it twice, or give --password-stdin"
    )
    assert [u["name"] for u in world.json("user", "list")] == ["李明"]


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (("--role", "office"), "short", "the password must have at least 10 characters"),
        (("--role", "office"), "", "the password must have at least 10 characters"),
        (
            ("--role", "boss"),
            PASSWORD,
            "role 'boss' is not known: use one of office, leading_group, group_leader, "
            "party_secretary, unit_liaison, discipline_group, organization_dept, "
            "functional_dept",
        ),
        (
            ("--role", "group_leader"),
            PASSWORD,
            "a group_leader needs --group ROUND/G: the group they lead",
        ),
        (
            ("--role", "unit_liaison"),
            PASSWORD,
            "a unit_liaison needs --unit U: the unit they act for",
        ),
        (
            ("--role", "party_secretary"),
            PASSWORD,
            "a party_secretary needs --unit U: the unit they act for",
        ),
        (
            ("--role", "group_leader", "--group", "2024-R1/G7"),
            PASSWORD,
            "group G7 does not exist in round 2024-R1",
        ),
        (("--role", "unit_liaison", "--unit", "U77"), PASSWORD, "unit U77 does not exist"),
        (
            ("--role", "office", "--unit", "U01"),
            PASSWORD,
            "--unit is only for unit_liaison, party_secretary, not office",
        ),
        (
            ("--role", "office", "--group", "2024-R1/G1"),
            PASSWORD,
            "--group is only for group_leader, not office",
        ),
    ],
)
def test_bad_users_are_refused_in_one_line(
    world: Cli, args: tuple[str, ...], password: str, message: str
) -> None:
    assert add(world, "某人", *args, password=password, code=1) == message
    assert world.out("user", "list") == "No users.\n"


def test_a_duplicate_name_is_refused(world: Cli) -> None:
    add(world, "李明", "--role", "office")
    assert add(world, "李明", "--role", "leading_group", code=1) == "user 李明 already exists"


def test_a_token_is_printed_once_and_stored_only_as_its_hash(world: Cli) -> None:
    add(world, "李明", "--role", "office")
    token = world.out("user", "token", "李明").strip()
    again = world.json("user", "token", "李明")

    assert len(token) == 43 and again["user"] == "李明" and again["token"] != token
    stored = [row[0] for row in world.sql("SELECT token_hash FROM api_token")]
    assert len(stored) == 2 and token not in stored
    assert world.fail("user", "token", "某人") == "user 某人 does not exist"
    assert world.fail("user", "disable", "某人") == "user 某人 does not exist"
    world.run("user", "disable", "李明")
    assert world.fail("user", "disable", "李明") == "user 李明 is already disabled"
    assert world.fail("user", "token", "李明") == (
        "user 李明 is disabled: a disabled user gets no token"
    )
