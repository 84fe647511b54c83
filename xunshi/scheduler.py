"""`xunshi scheduler run`: APScheduler 3 wiring only — interval jobs that call the sweep.

MemoryJobStore only (the jobs are recreated at every start; the durable state is the timer
table). Both jobs run once at start (catch-up after downtime) and then every `interval`
seconds, coalesced, never overlapping themselves. SIGTERM or SIGINT stops the process
cleanly: the sweep finishes the timer in hand, gives back what it claimed but did not fire,
and the scheduler waits for the running jobs before returning.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from types import FrameType
from typing import TypeVar
from zoneinfo import ZoneInfo

from xunshi.bootstrap import Services
from xunshi.errors import XunshiError
from xunshi.stopping import stop_signals

T = TypeVar("T")

log = logging.getLogger("xunshi.scheduler")


class BusinessTimeFormatter(logging.Formatter):
    """Log lines stamped in the business time zone with its offset (`…T09:00:00+08:00`)."""

    def __init__(self, tz: ZoneInfo) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.tz = tz

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The record's instant in the business zone, ISO 8601 to the second."""
        return datetime.fromtimestamp(record.created, self.tz).isoformat(timespec="seconds")


def run_scheduler(
    services: Services,
    interval: float,
    stop: threading.Event | None = None,
    *,
    debug: bool = False,
) -> None:
    """Run the sweep and the outbox delivery every `interval` seconds until stopped."""
    # APScheduler only in the daemon itself (tests import this module without it).
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    stop = stop or threading.Event()
    _install_signal_handlers(stop)
    if stop.is_set():
        return
    scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=2)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=services.settings.tz,
    )
    first = services.now()
    jobs = (services, stop, interval, debug)
    scheduler.add_job(
        _sweep, "interval", args=jobs, seconds=interval, next_run_time=first, id="sweep"
    )
    scheduler.add_job(
        _deliver,
        "interval",
        args=jobs,
        seconds=interval,
        next_run_time=first,
        id="deliver",
    )
    worker = services.escalations.worker
    log.info(
        "scheduler %s started on %s: sweep and delivery every %gs",
        worker,
        services.schema.database,
        interval,
    )
    scheduler.start()
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
        log.info("scheduler %s stopped", worker)


def _install_signal_handlers(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return

    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    for signum in stop_signals():
        signal.signal(signum, handle)


def _attempt(
    what: str,
    call: Callable[[], T],
    stop: threading.Event,
    interval: float,
    debug: bool,
    first_delay: float = 1.0,
) -> T | None:
    """`call()`, retried soon (1 s, doubling) while the database refuses; one line a failure.

    A refusal from the database (`database is locked`, a lost connection) is expected in a
    daemon's life and is logged as one warning, then retried while the retry comes before
    the next interval would; anything else is logged as one error line (its traceback only
    with XUNSHI_DEBUG) and left to the next interval.
    """
    delay = first_delay
    while True:
        try:
            return call()
        except XunshiError as exc:
            if stop.is_set():
                return None
            if delay >= interval:
                log.warning("%s failed: %s; the next %s is in %gs", what, exc, what, interval)
                return None
            log.warning("%s failed: %s; trying again in %gs", what, exc, delay)
            if stop.wait(delay):
                return None
            delay *= 2
        except Exception as exc:
            log.error(
                "%s failed: %s: %s; the next %s is in %gs",
                what,
                type(exc).__name__,
                exc,
                what,
                interval,
                exc_info=debug,
            )
            return None


def _sweep(services: Services, stop: threading.Event, interval: float, debug: bool) -> None:
    result = _attempt(
        "sweep", lambda: services.escalations.sweep(stop=stop.is_set), stop, interval, debug
    )
    if result is None:
        return
    log.info(
        "sweep: claimed %d, raised %d, stale %d, lost %d, released %d",
        result.claimed,
        len(result.raised),
        result.stale,
        result.lost,
        result.released,
    )
    for escalation in result.raised:
        log.info(
            "raised escalation %d: %s %s level %d %s",
            escalation.id,
            escalation.label,
            escalation.stage,
            escalation.level,
            escalation.title,
        )


def _deliver(services: Services, stop: threading.Event, interval: float, debug: bool) -> None:
    result = _attempt(
        "delivery", lambda: services.escalations.deliver(stop=stop.is_set), stop, interval, debug
    )
    if result is None:
        return
    if result.delivered or result.retrying or result.failed:
        log.info(
            "delivery: %d delivered, %d to retry, %d given up",
            result.delivered,
            result.retrying,
            result.failed,
        )
    for missed in result.undelivered:
        log.warning("%s", missed.describe())
