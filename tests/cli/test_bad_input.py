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
