"""The progress line of `audit verify` and `audit export --out`: on a terminal only, never
with `--json`, and rendered from the service's callback (events done, rate)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from cli_harness import KEY, Cli, drive, hours_after, start_case

from xunshi.cli import audit as audit_cli
from xunshi.cli.progress import ProgressLine, progress_line


class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class Clock:
    """Seconds on demand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_line_shows_events_and_rate_at_most_every_interval() -> None:
    stream, clock = io.StringIO(), Clock()
    line = ProgressLine(stream, "verified", interval=0.2, clock=clock)
    clock.now = 0.5
    line(1000)
    clock.now = 0.6
    line(1500)  # too soon after the last one: not shown
    clock.now = 1.0
    line(120_000)
    assert stream.getvalue() == (
        "\rverified 1,000 events (2,000/s)\rverified 120,000 events (120,000/s)"
    )
    line.finish()
    width = len("verified 120,000 events (120,000/s)")
    assert stream.getvalue().endswith("\r" + " " * width + "\r")


def test_a_shorter_line_covers_the_longer_one_before_it() -> None:
    stream, clock = io.StringIO(), Clock()
    line = ProgressLine(stream, "exported", interval=0, clock=clock)
    clock.now = 1.0
    line(1_000_000)
    clock.now = 1000.0
    line(1_000_001)
    shown = stream.getvalue().split("\r")[1:]
    assert shown[0] == "exported 1,000,000 events (1,000,000/s)"
    assert shown[1] == "exported 1,000,001 events (1,000/s)".ljust(len(shown[0]))


def test_nothing_is_wiped_when_nothing_was_shown() -> None:
    stream = io.StringIO()
    ProgressLine(stream, "verified").finish()
    assert stream.getvalue() == ""


def test_a_line_only_on_a_terminal_and_never_quiet() -> None:
    assert progress_line("verified", quiet=False, stream=io.StringIO()) is None
    assert progress_line("verified", quiet=True, stream=Terminal()) is None
    terminal = Terminal()
    line = progress_line("verified", quiet=False, stream=terminal)
    assert isinstance(line, ProgressLine) and line.stream is terminal


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> list[Terminal]:
    """Make the audit commands see a terminal on stderr; the terminals they drew on."""
    drawn: list[Terminal] = []

    def on_terminal(verb: str, *, quiet: bool, stream: Any = None) -> ProgressLine | None:
        screen = Terminal()
        drawn.append(screen)
        return progress_line(verb, quiet=quiet, stream=screen)

    monkeypatch.setattr(audit_cli, "progress_line", on_terminal)
    return drawn


def _two_cases(world: Cli) -> Cli:
    drive(world, KEY, 1, hours_after("2024-09-02T09:00"))
    start_case(world, "U02")
    return world


def test_verify_draws_its_progress_on_a_terminal_and_wipes_it(
    world: Cli, terminal: list[Terminal]
) -> None:
    out = _two_cases(world).out("audit", "verify")
    assert out == "OK: 2 chains, 5 events verified\n"
    [screen] = terminal
    drawn = screen.getvalue()
    assert drawn.startswith("\rverified 5 events (")
    *_, shown, wiped, after = drawn.split("\r")
    assert shown.endswith("/s)") and wiped == " " * len(shown) and after == ""


def test_verify_is_quiet_with_json_even_on_a_terminal(world: Cli, terminal: list[Terminal]) -> None:
    assert _two_cases(world).json("audit", "verify")["events"] == 5
    assert [screen.getvalue() for screen in terminal] == [""]


def test_export_to_a_file_draws_progress_but_not_to_stdout(
    world: Cli, terminal: list[Terminal], tmp_path: Path
) -> None:
    _two_cases(world)
    world.run("audit", "export", "--out", str(tmp_path / "h.jsonl"))
    assert "\rexported 5 events (" in terminal[-1].getvalue()
    lines = world.out("audit", "export").splitlines()
    assert len(lines) == 5 and terminal[-1].getvalue() == ""


def test_no_progress_when_stderr_is_not_a_terminal(world: Cli) -> None:
    result = _two_cases(world).run("audit", "verify")
    assert result.stderr == "" and result.stdout == "OK: 2 chains, 5 events verified\n"
