"""The README's tour runs as written, top to bottom, on a fresh database (issue #8, 13).

The tour is every ```sh block of README.md on the line right after `<!-- tour -->`. The
blocks run in the order they appear, against one database, from a folder that holds a copy
of `examples/` (the README runs the tour from the repository's root), with a fixed
XUNSHI_ACTOR and XUNSHI_DB. Inside a block, as in a shell:

- `xunshi …` is a command; a line ending in `\\` goes on on the next line, and an unquoted
  `#` at the start of a word starts a comment (`P01#1` is one word);
- `NAME=$(xunshi …)` runs the command and keeps what it prints for `$NAME` later on;
- `source .venv/bin/activate` is the one other command allowed; other `#` lines are comments;
- `# → TEXT` lines right under a command say what it prints. `# → Error: …` (one line): the
  command exits 1 with exactly that line on stderr. Otherwise the command exits 0 and prints
  each TEXT as a whole line, in that order (`…` stands for any text). A command without
  them must exit 0.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cli_harness import ENV, REPO, Cli, check_exit
from click.testing import CliRunner, Result

from xunshi.cli import cli as xunshi_cli

README = REPO / "README.md"
EXAMPLES = REPO / "examples"
MARK = "<!-- tour -->"
ACTIVATE = "source .venv/bin/activate"
ARROW = "# → "
ASSIGNMENT = re.compile(r"([A-Za-z_]\w*)=\$\((.*)\)")
VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
# Examples the tour does not read: the plan as a workbook (test_examples.py checks it is the
# CSV's plan) and the script that writes the workbooks.
NOT_IN_TOUR = {"plan.xlsx", "make_xlsx.py"}


@dataclass
class Step:
    """One command of the tour: where it is, what it says, what it must print."""

    line: int
    command: str
    expected: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        """`README.md:LINE: COMMAND`, for messages."""
        return f"README.md:{self.line}: {self.command}"


def tour_blocks(markdown: str) -> list[list[tuple[int, str]]]:
    """The lines of every block marked as part of the tour, each with its line number."""
    lines = markdown.splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if line.strip() != MARK:
            continue
        assert lines[index + 1 : index + 2] == ["```sh"], (
            f"README.md:{index + 1}: {MARK} must be followed by a ```sh block"
        )
        body = []
        for number in range(index + 3, len(lines) + 1):
            if lines[number - 1] == "```":
                break
            body.append((number, lines[number - 1]))
        else:
            pytest.fail(f"README.md:{index + 2}: the block never closes")
        blocks.append(body)
    return blocks


def without_comment(line: str) -> str:
    """The line up to a shell comment: an unquoted `#` at the start of a word."""
    quote = ""
    for position, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (position == 0 or line[position - 1].isspace()):
            return line[:position].rstrip()
    return line.rstrip()


def logical_lines(block: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """A block's lines with continuations (a trailing `\\`) joined, numbered by their first."""
    joined: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in block:
        text = raw.strip() if pending is None else pending[1] + raw.strip()
        first = number if pending is None else pending[0]
        if text.endswith("\\"):
            pending = (first, text[:-1].rstrip() + " ")
        else:
            pending = None
            joined.append((first, text.strip()))
    assert pending is None, f"README.md:{block[-1][0]}: a `\\` continues past the block"
    return joined


def tour_steps(markdown: str) -> list[Step]:
    """Every command of the tour in order, with the output lines the README shows under it."""
    steps: list[Step] = []
    for block in tour_blocks(markdown):
        last: Step | None = None  # the command the next `# →` line belongs to
        for number, line in logical_lines(block):
            if line.startswith(ARROW):
                assert last is not None, f"README.md:{number}: `{ARROW}` under no command"
                last.expected.append(line.removeprefix(ARROW))
                continue
            command = without_comment(line)
            last = Step(number, command) if command else None
            if last is not None:
                steps.append(last)
    return steps


def expand(command: str, variables: Mapping[str, str]) -> str:
    """`$NAME` and `${NAME}` replaced by what an earlier `NAME=$(…)` kept."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        assert name in variables, f"${name} is used before the tour sets it"
        return variables[name]

    return VARIABLE.sub(value, command)


def printed(text: str) -> re.Pattern[str]:
    """A whole line as the README shows it, `…` standing for any text."""
    return re.compile(".*".join(re.escape(part) for part in text.split("…")))


def check(step: Step, result: Result) -> None:
    """Assert that `result` is what the README says of `step`."""
    failing = bool(step.expected) and step.expected[0].startswith("Error: ")
    try:
        check_exit(result, 1 if failing else 0)
    except AssertionError as exc:
        raise AssertionError(f"{step.where}\n{exc}") from None
    if failing:
        assert len(step.expected) == 1, f"{step.where}: an error is one line"
        assert result.stderr == step.expected[0] + "\n", f"{step.where}\n{result.stderr}"
        return
    lines = iter(result.stdout.splitlines())
    for text in step.expected:
        pattern = printed(text)
        assert any(pattern.fullmatch(line) for line in lines), (
            f"{step.where}: does not print {text!r} (in this order)\n{result.stdout}"
        )


def run(step: Step, env: Mapping[str, str | None], variables: dict[str, str]) -> None:
    """Run one step of the tour as a shell would, in-process, and check it."""
    if step.command == ACTIVATE:
        return
    assignment = ASSIGNMENT.fullmatch(step.command)
    command = assignment.group(2) if assignment else step.command
    words = shlex.split(expand(command, variables))
    assert words[0] == "xunshi", f"{step.where}: the tour runs only xunshi and `{ACTIVATE}`"
    result = CliRunner(env=dict(env)).invoke(xunshi_cli, words[1:], prog_name="xunshi")
    check(step, result)
    if assignment:
        variables[assignment.group(1)] = result.stdout.rstrip("\n")


def tour_env(cli: Cli) -> dict[str, str | None]:
    """The pinned environment, with the database in the test's folder."""
    return {**ENV, "XUNSHI_DB": cli.url}


@pytest.mark.slow
def test_the_tour_runs_as_written(cli: Cli, tmp_path: Path) -> None:
    # The `cli` fixture runs the test in tmp_path, where the tour finds examples/.
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    steps = tour_steps(README.read_text(encoding="utf-8"))
    assert len(steps) > 50, "the README's tour blocks are not marked"
    env = tour_env(cli)
    variables: dict[str, str] = {}
    for step in steps:
        run(step, env, variables)
    assert cli.path.exists()


def test_the_tour_reads_every_example() -> None:
    steps = tour_steps(README.read_text(encoding="utf-8"))
    read = {
        Path(word).name
        for step in steps
        for word in shlex.split(step.command)
        if word.startswith("examples/")
    }
    shipped = {path.name for path in EXAMPLES.iterdir() if path.is_file()} - NOT_IN_TOUR
    assert read == shipped
    assert all((EXAMPLES / name).is_file() for name in NOT_IN_TOUR)


def test_the_lifecycle_the_readme_shows_is_the_example() -> None:
    markdown = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", markdown, re.DOTALL)
    shown = [block for block in blocks if block.startswith("name: our_rectification\n")]
    assert shown == [(EXAMPLES / "our_rectification.yaml").read_text(encoding="utf-8")]


# -- the reading and the checking themselves ------------------------------------------------

SAMPLE = """\
Text.

<!-- tour -->
```sh
source .venv/bin/activate
xunshi task done 2025-R1/U01/P05#1 --evidence "a # in quotes"   # a comment
# → task 2025-R1/U01/P05#1 done
# a comment
xunshi item add 2025-R1/U01 --code P05 \\
    --title 标题
SEAL=$(xunshi audit seal)
```

```sh
xunshi not part of the tour
```
"""


def test_the_reading_follows_the_shell() -> None:
    steps = tour_steps(SAMPLE)
    assert [(s.line, s.command, s.expected) for s in steps] == [
        (5, ACTIVATE, []),
        (
            6,
            'xunshi task done 2025-R1/U01/P05#1 --evidence "a # in quotes"',
            ["task 2025-R1/U01/P05#1 done"],
        ),
        (9, "xunshi item add 2025-R1/U01 --code P05 --title 标题", []),
        (11, "SEAL=$(xunshi audit seal)", []),
    ]


def test_an_output_line_needs_its_command_right_above() -> None:
    with pytest.raises(AssertionError, match="under no command"):
        tour_steps(f"{MARK}\n```sh\nxunshi init\n# note\n{ARROW}Initialised\n```\n")


def test_a_variable_must_be_set_first() -> None:
    assert expand('verify --seal "$SEAL"', {"SEAL": "ab"}) == 'verify --seal "ab"'
    with pytest.raises(AssertionError, match=r"\$SEAL is used before"):
        expand("verify --seal $SEAL", {})


@pytest.mark.parametrize(
    ("shown", "code"),
    [
        (["2024-10-11"], 0),  # prints something else
        (["Error: no such thing"], 0),  # succeeds where the README says it fails
        ([], 1),  # fails where the README shows no error
        (["Error: '2024-13-01' is not a date"], 1),  # fails with another message
    ],
)
def test_a_tour_that_says_otherwise_fails(cli: Cli, shown: list[str], code: int) -> None:
    day = "2024-09-27" if code == 0 else "2024-13-01"
    step = Step(1, f"xunshi calendar workdays {day} 5", shown)
    with pytest.raises(AssertionError):
        run(step, tour_env(cli), {})


def test_a_tour_that_says_so_passes(cli: Cli) -> None:
    env: dict[str, str | None] = tour_env(cli)
    run(Step(1, "xunshi calendar workdays 2024-09-27 5", ["2024-10-…"]), env, {})
    variables: dict[str, str] = {}
    run(Step(2, "DAY=$(xunshi calendar workdays 2024-09-27 5)"), env, variables)
    assert variables == {"DAY": "2024-10-10"}
    failing = Step(3, "xunshi calendar workdays $DAY x")
    failing.expected.append("Error: N 'x' is not a whole number")
    run(failing, env, variables)
