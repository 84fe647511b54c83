"""A progress line on a terminal: how many done so far and the rate (`audit verify`, …)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


class ProgressLine:
    """Rewrites one line of `stream` (`verified 120,000 events (105,000/s)`) as a service
    reports how many it has done; at most every `interval` seconds, and wiped at the end so
    the command's own output follows on a clean line."""

    def __init__(
        self,
        stream: TextIO,
        verb: str,
        *,
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.verb = verb
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.shown_at: float | None = None
        self.width = 0

    def __call__(self, done: int) -> None:
        """The service's callback: `done` events so far."""
        now = self.clock()
        if self.shown_at is not None and now - self.shown_at < self.interval:
            return
        self.shown_at = now
        self.stream.write("\r" + self.text(done, now).ljust(self.width))
        self.stream.flush()

    def text(self, done: int, now: float) -> str:
        """The line for `done` events at `now` (the rate since the start)."""
        elapsed = now - self.started
        line = f"{self.verb} {done:,} events"
        if elapsed > 0:
            line += f" ({done / elapsed:,.0f}/s)"
        self.width = max(self.width, len(line))
        return line

    def finish(self) -> None:
        """Wipe the line (if one was shown)."""
        if self.shown_at is not None:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def progress_line(verb: str, *, quiet: bool, stream: TextIO | None = None) -> ProgressLine | None:
    """A progress line on stderr (or `stream`) when it is a terminal and output is not
    `--json` (`quiet`); otherwise None: nothing is shown."""
    stream = sys.stderr if stream is None else stream
    if quiet or not stream.isatty():
        return None
    return ProgressLine(stream, verb)
