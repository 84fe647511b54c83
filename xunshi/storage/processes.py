"""Read-only work over windows of a database, shared with helper processes, results in order.

`audit verify` checks each window of instances on its own (a chain never spans two), so
several processes can share the windows: each takes the next window nobody has taken yet
(one shared counter), this process included, and the results are handed back in window
order, so that whatever is built from them is the same as from one process alone.

A helper process is spawned, not forked: a SQLite connection must not cross a fork, and this
process has one open. Each helper opens its own connection and reads all its windows in one
transaction. On PostgreSQL (read committed) each statement already saw the newest committed
rows; on SQLite each process reads one snapshot of its own, so with writers running, windows
read by different processes may see the database at different moments (a chain is always
checked against one moment's rows: its window is read in one transaction).
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import Connection

from xunshi.errors import StorageError
from xunshi.storage.db import ConnectionSettings, Database

if TYPE_CHECKING:
    from multiprocessing.connection import Connection as Pipe
    from multiprocessing.context import SpawnProcess
    from multiprocessing.sharedctypes import Synchronized

T = TypeVar("T")
# An id range [lo, hi) (None: open on that side).
Window = tuple[int | None, int | None]
# What a helper process does with a window: module level, so that it can be sent to one.
HelperWork = Callable[[Connection, int | None, int | None], T]


def available_cpus() -> int:
    """The CPUs this process may run on (the default number of processes to share work)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass
class _Helper(Generic[T]):
    """A helper process and the pipe its results come back on."""

    process: SpawnProcess
    results: Pipe
    heard: bool = False  # it sent something, so it took a window
    ended: bool = False  # its pipe is closed: it sent everything it will


def in_window_order(
    db: Database,
    windows: Sequence[Window],
    here: Callable[[int | None, int | None], T],
    helper_work: HelperWork[T],
    processes: int,
) -> Iterator[T]:
    """The result of each window, in window order: `here(lo, hi)` computes one in this
    process (in its transaction), `helper_work(conn, lo, hi)` in a helper. With more than
    one process (and window), `processes - 1` helpers share the windows with this one."""
    if processes <= 1 or len(windows) <= 1:
        for lo, hi in windows:
            yield here(lo, hi)
        return
    # Only a command that spreads its work needs multiprocessing (9 ms to import).
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    counter = context.Value("q", 0)
    url = db.url.render_as_string(hide_password=False)
    helpers: list[_Helper[T]] = []
    finished = False
    try:
        for _ in range(min(processes, len(windows)) - 1):
            results, sender = context.Pipe(duplex=False)
            process = context.Process(
                target=_helper,
                args=(url, db.connection, windows, counter, sender, helper_work),
                daemon=True,
            )
            process.start()
            sender.close()  # the helper's end: once it closes it, reading ends
            helpers.append(_Helper(process, results))
        yield from _merged(windows, counter, here, helpers)
        finished = True
    finally:
        _stop(helpers, finished)


def _merged(
    windows: Sequence[Window],
    counter: Synchronized[int],
    here: Callable[[int | None, int | None], T],
    helpers: list[_Helper[T]],
) -> Iterator[T]:
    """Work through the windows alongside the helpers; yield the results in window order."""
    done: dict[int, T] = {}  # results that arrived before the ones ahead of them
    for index in range(len(windows)):
        while index not in done:
            taken = _take(counter)
            if taken < len(windows):
                done[taken] = here(*windows[taken])
                _receive(helpers, done, wait_for_one=False)
            else:
                _receive(helpers, done, wait_for_one=True)
        yield done.pop(index)


def _receive(helpers: list[_Helper[T]], done: dict[int, T], *, wait_for_one: bool) -> None:
    """Collect what the helpers have sent (`wait_for_one`: wait until one sends or ends)."""
    from multiprocessing.connection import wait  # imported with multiprocessing above

    open_pipes = {helper.results: helper for helper in helpers if not helper.ended}
    if not open_pipes:
        if wait_for_one:  # every helper ended and a window they took never came back
            codes = ", ".join(str(helper.process.exitcode) for helper in helpers)
            raise StorageError(f"a helper process ended before its work was done (exit {codes})")
        return
    for ready in wait(list(open_pipes), timeout=None if wait_for_one else 0):
        helper = open_pipes[ready]  # type: ignore[index]
        try:
            index, result = helper.results.recv()
        except EOFError:
            helper.ended = True
            continue
        helper.heard = True
        if index < 0:  # the helper failed: its error
            raise result
        done[index] = result


def _stop(helpers: list[_Helper[T]], finished: bool) -> None:
    """End the helpers: wait for those that worked; a helper that never took a window (still
    starting) is stopped, as is every one when the work did not finish."""
    for helper in helpers:
        if helper.process.is_alive() and (not finished or not helper.heard):
            helper.process.terminate()
    for helper in helpers:
        helper.process.join()
        helper.results.close()


def _take(counter: Synchronized[int]) -> int:
    """The next window nobody has taken (past the last one: none left)."""
    with counter.get_lock():
        index: int = counter.value
        counter.value = index + 1
    return index


def _helper(
    url: str,
    settings: ConnectionSettings,
    windows: Sequence[Window],
    counter: Synchronized[int],
    sender: Pipe,
    work: HelperWork[Any],
) -> None:
    """A helper process: take windows until none is left, send back each one's result."""
    # Ctrl-C reaches every process of the terminal's group: the parent stops its helpers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    index = _take(counter)
    if index >= len(windows):
        sender.close()  # nothing left by the time this process started: no connection
        return
    db = Database(url, connection=settings)
    try:
        with db.transaction() as conn:
            while index < len(windows):
                sender.send((index, work(conn, *windows[index])))
                index = _take(counter)
    except Exception as exc:  # sent to the parent, which raises it
        sender.send((-1, _sendable(exc)))
    finally:
        db.dispose()
        sender.close()


def _sendable(exc: Exception) -> Exception:
    """`exc` if it survives the trip to the parent (pickled and rebuilt), else a StorageError
    that says what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # any failure to rebuild it: send its text instead
        return StorageError(f"{type(exc).__name__}: {exc}")
    return exc
