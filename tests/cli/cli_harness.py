"""Running `xunshi` in-process for the CLI tests: exit codes, one-line errors, shared worlds.

Every command goes through `click.testing.CliRunner` with `--db` pointing at a SQLite file
in the test's own folder and a fixed environment (no `XUNSHI_*` leaking in from outside).
"""

from __future__ import annotations

import json
import re
import sqlite3
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from forward import forward_path

from xunshi.cli import cli
from xunshi.config import ENVIRONMENT

REPO = Path(__file__).resolve().parents[2]
BUILTIN = REPO / "xunshi" / "definitions" / "builtin"
INVALID = REPO / "tests" / "definitions" / "invalid"
VALID = REPO / "tests" / "definitions" / "valid"
SAMPLE_PLAN = REPO / "xunshi" / "data" / "sample_plan.csv"

ACTOR = "tester"
# Every XUNSHI_* variable the CLI reads, pinned so that the caller's environment never leaks in.
ENV: dict[str, str | None] = {name: None for name in ENVIRONMENT} | {"XUNSHI_ACTOR": ACTOR}
BUILTIN_NAMES = (
    "clue",
    "lookback",
    "mobile",
    "overseas",
    "rectification",
    "regular",
    "special",
)
# What each built-in drives (`subject`).
BUILTIN_SUBJECTS = {"clue": "clue", "rectification": "item"}

ROUND = "2024-R1"
KEY = f"{ROUND}/U01"
START = "2024-09-02T09:00"  # a Monday; the world's case starts then

# DESIGN §7: the keys of `case show --json` (and of each `case list --json` entry).
CASE_KEYS = {
    "id",
    "key",
    "definition",
    "definition_version",
    "state",
    "state_title",
    "entered_at",
    "due_on",
    "provisional",
    "overdue",
    "suspended",
    "milestones",
    "counts",
    "follows",
    "evaluation",  # null, or the latest 整改评估 (grade, score, dimensions, who and when)
    "version",
    "round",
    "unit",
    "group",
    "voided",  # null, or who voided the case (撤销), when and why
}
# DESIGN §7: the keys of each `case history --json` entry.
HISTORY_KEYS = {
    "seq",
    "kind",
    "trigger",
    "from",
    "to",
    "actor",
    "role",
    "reason",
    "occurred_at",
    "recorded_at",
    "hash",
}
HEX64 = re.compile(r"[0-9a-f]{64}")


def _describe(result: Result) -> str:
    text = f"\n--- stdout ---\n{result.stdout}--- stderr ---\n{result.stderr}"
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    if crashed and result.exc_info is not None:
        text += "--- exception ---\n" + "".join(traceback.format_exception(*result.exc_info))
    return text


def check_exit(result: Result, code: int) -> Result:
    """Assert the exit code; an exit 1 must be a deliberate `Error: …`, never a traceback.

    The `Error: …` line ends stderr, but for a refusal that names several cases (a round
    event): then each case follows it on a line of its own, indented.
    """
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, f"the command crashed (a traceback for the user){_describe(result)}"
    assert result.exit_code == code, f"exit {result.exit_code}, expected {code}{_describe(result)}"
    if code == 1:
        assert "Traceback" not in result.stderr, _describe(result)
        assert result.stderr.endswith("\n"), _describe(result)
        lines = result.stderr.splitlines()
        errors = [n for n, line in enumerate(lines) if line.startswith("Error: ")]
        assert errors, _describe(result)
        assert all(line.startswith("  ") for line in lines[errors[-1] + 1 :]), _describe(result)
    return result


@dataclass
class Cli:
    """`xunshi --db sqlite:///<path> …` for one test."""

    path: Path

    @property
    def url(self) -> str:
        """The `--db` URL (also how messages name the database)."""
        return f"sqlite:///{self.path}"

    def invoke(
        self,
        args: Sequence[str],
        env: Mapping[str, str | None] | None = None,
        input: str | None = None,
    ) -> Result:
        """Run `xunshi ARGS` exactly as given (no `--db` added), `input` on stdin."""
        runner = CliRunner(env={**ENV, **(env or {})})
        return runner.invoke(cli, list(args), prog_name="xunshi", input=input)

    def run(
        self,
        *args: str,
        code: int = 0,
        env: Mapping[str, str | None] | None = None,
        input: str | None = None,
    ) -> Result:
        """Run `xunshi --db URL ARGS`, asserting the exit code."""
        return check_exit(self.invoke(["--db", self.url, *args], env, input), code)

    def out(self, *args: str, env: Mapping[str, str | None] | None = None) -> str:
        """The stdout of a successful command; nothing may go to stderr."""
        result = self.run(*args, env=env)
        assert result.stderr == "", _describe(result)
        return result.stdout

    def json(self, *args: str, env: Mapping[str, str | None] | None = None) -> Any:
        """The parsed stdout of `xunshi --db URL --json ARGS`."""
        result = check_exit(self.invoke(["--db", self.url, "--json", *args], env), 0)
        assert result.stderr == "", _describe(result)
        return json.loads(result.stdout)

    def fail(self, *args: str, env: Mapping[str, str | None] | None = None) -> str:
        """Exit 1 with exactly one `Error: …` line and nothing on stdout; the message."""
        result = self.run(*args, code=1, env=env)
        assert result.stdout == "", _describe(result)
        lines = result.stderr.splitlines()
        assert len(lines) == 1, f"expected one line on stderr{_describe(result)}"
        return lines[0].removeprefix("Error: ")

    def usage(self, *args: str) -> str:
        """Exit 2 (a usage error from click); the last line of stderr."""
        result = self.run(*args, code=2)
        assert result.stdout == "", _describe(result)
        assert result.stderr.startswith("Usage: "), _describe(result)
        return result.stderr.splitlines()[-1]

    def files(self) -> list[str]:
        """The database file and its -wal/-shm companions that exist."""
        return sorted(p.name for p in self.path.parent.glob(self.path.name + "*"))

    def sql(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run SQL on the database file directly (to tamper with it), committing."""
        with sqlite3.connect(self.path) as conn:
            rows = conn.execute(statement, params).fetchall()
        conn.close()
        return rows


def build_world(cli: Cli) -> None:
    """Round 2024-R1 with group G1 (张三), units U01 and U02, case 2024-R1/U01 started at START."""
    cli.run("init")
    cli.run("round", "create", ROUND, "--title", "2024年第一轮巡视", "--start", "2024-09-02")
    cli.run("group", "add", ROUND, "G1", "--leader", "张三")
    cli.run("unit", "add", "U01", "--name", "示例市财政局", "--category", "市直机关")
    cli.run("unit", "add", "U02", "--name", "示例市审计局", "--category", "市直机关")
    start_case(cli, "U01")


def start_args(unit: str, definition: str = "regular", at: str | None = START) -> list[str]:
    """The arguments of `case start` in round 2024-R1, group G1."""
    args = ["case", "start", "--round", ROUND, "--unit", unit, "--group", "G1"]
    args += ["--definition", definition]
    return args if at is None else [*args, "--at", at]


def start_case(cli: Cli, unit: str, at: str | None = START, definition: str = "regular") -> Result:
    """`case start` in round 2024-R1, group G1."""
    return cli.run(*start_args(unit, definition, at))


def hours_after(start: str, first: int = 24) -> Iterator[str]:
    """`--at` values one hour apart, the first `first` hours after `start`."""
    moment = datetime.fromisoformat(start) + timedelta(hours=first)
    while True:
        yield moment.isoformat(timespec="minutes")
        moment += timedelta(hours=1)


def drive(cli: Cli, case: str, stages: int, times: Iterator[str], name: str = "regular") -> None:
    """Move a built-in case `stages` stages along, recording what each stage requires."""
    for step in forward_path(name)[:stages]:
        for need in step.needs:
            count = ["--count", "12"] if need.counted else []
            cli.run(
                "case", "milestone", case, need.name, "--actor", "张三", "--role", need.role,
                "--at", next(times), *count,
            )  # fmt: skip
        if step.evaluation is not None:
            cli.run(
                "case", "evaluate", case, *step.evaluation.options(), "--actor", "张三",
                "--at", next(times),
            )  # fmt: skip
        at = next(times)
        cli.run(
            "case", "fire", case, step.trigger, "--actor", "张三", "--role", step.role, "--at", at
        )


def expected_problems(path: Path) -> list[str]:
    """The `FILE:LINE:COL: message` lines an invalid fixture declares in `# expect:` comments."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("# expect: "):
            break
        lines.append(f"{path}:{line.removeprefix('# expect: ')}")
    return lines
