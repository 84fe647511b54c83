"""A stop request for the daemon, taken from its very first moment.

`scheduler run` is stopped with SIGINT or SIGTERM. Python turns an early SIGINT into a
KeyboardInterrupt wherever the process happens to be (importing modules, opening the
database) and click prints `Aborted!` with exit 1. The console entry point therefore calls
`catch_early()` for that one command before importing anything heavy: from then on a signal
only sets `STOP`, which the scheduler reads when it starts and while it runs.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from types import FrameType

STOP = threading.Event()
_CAUGHT = threading.Event()  # set once catch_early() ran in this process

# Options of the root group that take a value (`--db URL`); the others are flags.
_VALUED = frozenset({"--db"})


def is_daemon(args: Sequence[str]) -> bool:
    """Whether `xunshi ARGS` is `scheduler run` (global options may come first)."""
    words: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _VALUED:
            skip = True
        elif not arg.startswith("-"):
            words.append(arg)
            if len(words) == 2:
                break
    return words == ["scheduler", "run"]


def catch_early() -> None:
    """SIGINT and SIGTERM set STOP instead of interrupting (main thread only).

    A SIGINT the parent chose to ignore (a shell's background job, `nohup`) stays ignored.
    """

    def handle(_signum: int, _frame: FrameType | None) -> None:
        STOP.set()

    for signum in stop_signals():
        signal.signal(signum, handle)
    _CAUGHT.set()


def stop_signals() -> list[signal.Signals]:
    """SIGTERM, and SIGINT unless it is ignored."""
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    return [signal.SIGTERM] if ignored else [signal.SIGTERM, signal.SIGINT]


def stop_event() -> threading.Event:
    """STOP when the entry point caught signals early; else a fresh event (in-process runs)."""
    return STOP if _CAUGHT.is_set() else threading.Event()
