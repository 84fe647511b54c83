"""Bad input of every kind is one `Error:` line and leaves the data as it was (issue #8).

Each test here pins one defect the CLI fuzz test (`test_fuzz.py`) found; the fuzz test keeps
looking for the next.
"""

from __future__ import annotations

import pytest
from cli_harness import Cli
from fuzz_world import dump


@pytest.mark.parametrize(
    ("argument", "shown"),
    [
        ("a\x00b", r"argument 'a\x00b' contains a NUL character"),
        # Bytes that are not UTF-8 reach Python as surrogates (surrogateescape).
        ("caf\udce9", r"argument 'caf\xe9' is not UTF-8 text (is the terminal's encoding UTF-8?)"),
        ("\ud800", r"argument '\ud800' is not UTF-8 text (is the terminal's encoding UTF-8?)"),
    ],
)
def test_an_argument_that_is_not_text_is_refused(world: Cli, argument: str, shown: str) -> None:
    before = dump(world.path)
    assert world.fail("unit", "add", "U09", "--name", argument) == shown
    assert world.fail("categories", "load", argument) == shown
    assert dump(world.path) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("unit", "add", "U09", "a\nb", "--name", "x"), r"Got unexpected extra argument (a\nb)"),
        (("case", "sh\now"), r"No such command 'sh\now'."),
        (("case", "list", "--bogus\r"), r"No such option '--bogus\r'."),
    ],
)
def test_a_usage_error_quoting_the_input_is_one_line(
    world: Cli, args: tuple[str, ...], message: str
) -> None:
    assert world.usage(*args).startswith(f"Error: {message}")


def test_a_refusal_quoting_the_input_is_one_line(world: Cli) -> None:
    # The group's round is looked up as typed; the message names it, escaped.
    assert world.fail("group", "list", "2024\n-R9") == r"round 2024\n-R9 does not exist"


def test_an_option_without_its_value_is_a_usage_error(world: Cli) -> None:
    for args in (("case", "show", "2024-R1/U01", "--as-of"), ("--db",), ("case", "list", "--db")):
        result = world.run(*args, code=2)
        assert result.stderr.splitlines()[-1].startswith("Error: Option '--"), result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("case", "show", "１２"), "case '１２' is not a case id or key"),
        (("case", "show", "²"), "case '²' is not a case id or key"),
        (("case", "show", "99999999999999999999"), "case number 99999999999999999999 is out of"),
        (("case", "history", "#2147483648"), "case number 2147483648 is out of range"),
        (("item", "show", str(2**64)), f"item number {2**64} is out of range (0 to 2147483647)"),
        (("task", "done", "1#99999999999999999999", "--evidence", "x", "--role", "office"),
         "task number 99999999999999999999 is out of range"),
        (("task", "done", "2024-R1/U01/P01#１", "--evidence", "x", "--role", "office"),
         "task '2024-R1/U01/P01#１' is not a task id or key"),
        (("escalations", "ack", "9223372036854775808"), "escalation id 9223372036854775808 is out"),
        (("escalations", "ack", "１"), "escalation id '１' is not a number"),
        (("calendar", "workdays", "2024-09-27", "１２"), "N '１２' is not a whole number"),
        (("calendar", "workdays", "2024-09-27", "1_000"), "N '1_000' is not a whole number"),
    ],
)  # fmt: skip
def test_a_number_is_ascii_digits_the_database_can_hold(
    world: Cli, args: tuple[str, ...], message: str
) -> None:
    before = dump(world.path)
    assert world.fail(*args).startswith(message)
    assert dump(world.path) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("escalations", "list", "--level", "１"), "'１' is not a whole number"),
        (("escalations", "list", "--level", str(2**64)), f"{2**64} is out of range"),
        (("definitions", "show", "regular", "--version", str(2**63)), f"{2**63} is out of range"),
        (("definitions", "diagram", "regular", "--version", "-1"), "'-1' is not a whole number"),
    ],
)
def test_a_numeric_option_is_ascii_digits_the_database_can_hold(
    world: Cli, args: tuple[str, ...], message: str
) -> None:
    option = args[-2]
    assert world.usage(*args).startswith(f"Error: Invalid value for '{option}': {message}")


def test_a_numeric_option_in_range_still_works(world: Cli) -> None:
    assert world.json("definitions", "show", "regular", "--version", "1")["version"] == 1
    assert world.json("escalations", "list", "--level", "0") == []


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (("escalate", "--now", "9999-12-31T23:00-01:00"), "--now '9999-12-31T23:00-01:00'"),
        (("case", "show", "2024-R1/U01", "--as-of", "0001-01-01T07:30"),
         "--as-of '0001-01-01T07:30'"),
        (("case", "milestone", "2024-R1/U01", "training_done", "--role", "office",
          "--at", "0001-01-01T00:00+01:00"), "--at '0001-01-01T00:00+01:00'"),
    ],
)  # fmt: skip
def test_a_time_that_cannot_be_converted_is_out_of_range(
    world: Cli, args: tuple[str, ...], text: str
) -> None:
    before = dump(world.path)
    assert world.fail(*args) == f"{text} is out of range (years 1 to 9999 in UTC)"
    assert dump(world.path) == before


def test_a_time_in_the_year_one_reads_with_four_digits(world: Cli) -> None:
    assert world.fail("case", "show", "2024-R1/U01", "--as-of", "0001-01-01") == (
        "case 2024-R1/U01 did not exist at 0001-01-01 23:59 (its history starts 2024-09-02 09:00)"
    )


@pytest.mark.parametrize("raw", ["nan", "inf", "1e309"])
def test_a_numeric_setting_that_is_not_finite_is_one_line(world: Cli, raw: str) -> None:
    before = dump(world.path)
    assert world.fail("escalate", env={"XUNSHI_LEASE": raw}) == (
        f"XUNSHI_LEASE must be a positive number of at most 1000000000, not {raw}"
    )
    assert dump(world.path) == before


@pytest.mark.parametrize(
    ("interval", "message"),
    [
        ("nan", "nan is not a number."),
        ("inf", "inf is not in the range 0.1<=x<=1000000000.0."),
        ("1e15", "1000000000000000.0 is not in the range 0.1<=x<=1000000000.0."),
        ("0.05", "0.05 is not in the range 0.1<=x<=1000000000.0."),
    ],
)
def test_a_scheduler_interval_is_a_sane_number(world: Cli, interval: str, message: str) -> None:
    # Refused before the daemon starts: APScheduler would fail on it with a traceback.
    assert world.usage("scheduler", "run", "--interval", interval) == (
        f"Error: Invalid value for '--interval': {message}"
    )
