"""The scheduler's jobs under failure: one log line per failure, a retry, no traceback (#8.5).

`scheduler run` used to log a full traceback whenever SQLite answered `database is locked`;
a daemon meets that in ordinary life. The log's times are in the business time zone (#8.15).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from xunshi import stopping
from xunshi.errors import StorageError
from xunshi.scheduler import BusinessTimeFormatter, _attempt

LOCKED = StorageError("database error: database is locked")


class Flaky:
    """A call that fails `failures` times with `error`, then answers 'done'."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "done"


def test_a_locked_database_is_one_line_per_failure_and_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    call = Flaky(2, LOCKED)

    with caplog.at_level(logging.INFO, logger="xunshi.scheduler"):
        result = _attempt("sweep", call, threading.Event(), 60.0, False, first_delay=0.01)

    assert (result, call.calls) == ("done", 3)
    assert [r.getMessage() for r in caplog.records] == [
        "sweep failed: database error: database is locked; trying again in 0.01s",
        "sweep failed: database error: database is locked; trying again in 0.02s",
    ]
    assert not any(r.exc_info for r in caplog.records)


def test_retries_stop_before_the_next_interval(caplog: pytest.LogCaptureFixture) -> None:
    call = Flaky(100, LOCKED)

    with caplog.at_level(logging.INFO, logger="xunshi.scheduler"):
        result = _attempt("delivery", call, threading.Event(), 0.05, False, first_delay=0.01)

    assert result is None
    assert call.calls == 4  # after 0.01, 0.02, 0.04 s; the next wait would reach the interval
    assert caplog.records[-1].getMessage() == (
        "delivery failed: database error: database is locked; the next delivery is in 0.05s"
    )
    assert not any(r.exc_info for r in caplog.records)


def test_an_unexpected_error_is_one_line_and_its_traceback_only_when_debugging(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="xunshi.scheduler"):
        assert _attempt("sweep", Flaky(1, KeyError("x")), threading.Event(), 60.0, False) is None
        assert _attempt("sweep", Flaky(1, KeyError("x")), threading.Event(), 60.0, True) is None

    quiet, loud = caplog.records
    assert quiet.getMessage() == "sweep failed: KeyError: 'x'; the next sweep is in 60s"
    assert not quiet.exc_info
    assert loud.exc_info


def test_a_stop_during_a_retry_ends_it_at_once() -> None:
    stop = threading.Event()
    stop.set()

    assert _attempt("sweep", Flaky(1, LOCKED), stop, 60.0, False) is None


def test_log_lines_carry_the_business_time_with_its_offset() -> None:
    record = logging.LogRecord("xunshi.scheduler", logging.INFO, __file__, 1, "hello", (), None)
    record.created = datetime(2025, 3, 2, 16, 0, tzinfo=UTC).timestamp()

    line = BusinessTimeFormatter(ZoneInfo("Asia/Shanghai")).format(record)

    assert line == "2025-03-03T00:00:00+08:00 INFO xunshi.scheduler: hello"


@pytest.mark.parametrize(
    ("args", "daemon"),
    [
        (["scheduler", "run"], True),
        (["--db", "sqlite:///x.db", "--json", "scheduler", "run", "--interval", "5"], True),
        (["scheduler", "--help"], False),
        (["--db", "scheduler", "run"], False),  # `scheduler` is the --db value here
        (["case", "list"], False),
        ([], False),
    ],
)
def test_only_scheduler_run_catches_signals_early(args: list[str], daemon: bool) -> None:
    assert stopping.is_daemon(args) is daemon
