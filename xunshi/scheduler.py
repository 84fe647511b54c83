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
from types import FrameType

from xunshi.bootstrap import Services

log = logging.getLogger("xunshi.scheduler")


def run_scheduler(services: Services, interval: float, stop: threading.Event | None = None) -> None:
    """Run the sweep and the outbox delivery every `interval` seconds until stopped."""
    # APScheduler only in the daemon itself (tests import this module without it).
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    stop = stop or threading.Event()
    _install_signal_handlers(stop)
    scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=2)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=services.settings.tz,
    )
    first = services.now()
    scheduler.add_job(
        _sweep, "interval", args=(services, stop), seconds=interval, next_run_time=first, id="sweep"
    )
    scheduler.add_job(
        _deliver,
        "interval",
        args=(services, stop),
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

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def _sweep(services: Services, stop: threading.Event) -> None:
    try:
        result = services.escalations.sweep(stop=stop.is_set)
    except Exception:
        log.exception("sweep failed; the next one will try again")
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


def _deliver(services: Services, stop: threading.Event) -> None:
    try:
        result = services.escalations.deliver(stop=stop.is_set)
    except Exception:
        log.exception("delivery failed; the next pass will try again")
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
