"""`xunshi escalate`, `xunshi escalations …` and `xunshi scheduler run`."""

from __future__ import annotations

import math
import sys

import click

from xunshi.cli import render
from xunshi.cli.options import (
    Listing,
    actor_option,
    connection_options,
    instant,
    paging_options,
    whole_number,
)
from xunshi.cli.root import DaemonCommand, State, XunshiGroup, pass_state
from xunshi.config import MAX_SETTING
from xunshi.paging import after_key, parse_number_cursor
from xunshi.texts import check_number


@click.command(cls=DaemonCommand)
@click.option("--now", "now", metavar="TIME", help="Sweep as of TIME (not later than the clock).")
@pass_state
def escalate(state: State, now: str | None) -> None:
    """One sweep: raise every due escalation, then deliver the notifications."""
    services = state.services()
    result = services.escalations.sweep(instant(state, now, "--now"))
    delivery = services.escalations.deliver()
    # A channel that is down never fails the sweep (the escalations are committed and the
    # notifications wait in the outbox for the next pass), but it is said, once per channel.
    for missed in delivery.undelivered:
        click.echo(missed.warning(), err=True)
    raised = [r.id for r in result.raised]
    views = services.read.escalations.many(ids=raised) if raised else []
    tz = state.settings.tz
    render.emit(
        state,
        [v.to_json(tz) for v in views],
        lambda: render.escalations_table(views, tz) if views else "No escalation due.",
    )


@click.group(cls=XunshiGroup)
def escalations() -> None:
    """Escalations raised by the sweep."""


@escalations.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only those whose stage is still live.")
@click.option("--round", "round_code", help="Only this round.")
@click.option("--level", metavar="N", callback=whole_number, help="Only this level.")
@click.option(
    "--pending-decision",
    is_flag=True,
    help="Only proposals (约谈, 通报, 问责建议) waiting for the office to decide.",
)
@click.option("--include-void", is_flag=True, help="Those of void cases and items too.")
@paging_options(
    parse_number_cursor,
    "an escalation's number (escalations come oldest first: by when raised, then number)",
)
@pass_state
def escalations_list(
    state: State,
    open_only: bool,
    round_code: str | None,
    level: int | None,
    pending_decision: bool,
    include_void: bool,
    listing: Listing[int],
) -> None:
    """Escalations, oldest first (those of void cases and items left out unless asked for)."""
    views = after_key(
        state.services().read.escalations.many(
            open_only=open_only,
            round_code=round_code,
            level=level,
            pending_decision=pending_decision,
            include_void=include_void,
        ),
        lambda v: v.id,
        listing.page,
        "escalation",
    )
    tz = state.settings.tz
    render.emit_list(
        state,
        views,
        lambda v: v.to_json(tz),
        lambda shown: render.escalations_table(shown, tz) if shown else "No escalations.",
        jsonl=listing.jsonl,
    )


@escalations.command("ack")
@click.argument("escalation_id", metavar="ID")
@actor_option("Who acknowledges it")
@pass_state
def escalations_ack(state: State, escalation_id: str, actor: str) -> None:
    """Acknowledge an escalation (recorded in the case's history)."""
    number = check_number("escalation id", escalation_id, noun="a number")
    done = state.services().escalations.acknowledge(number, actor)
    render.emit(
        state,
        done.to_json(),
        lambda: f"Escalation {done.id} ({done.label}, level {done.level}) acknowledged by {actor}",
    )


@escalations.command("decide")
@click.argument("escalation_id", metavar="ID")
@click.option("--confirm", "verdict", flag_value="confirm", help="Confirm: notify its recipients.")
@click.option("--dismiss", "verdict", flag_value="dismiss", help="Dismiss: notify nobody.")
@click.option("--reason", required=True, help="Why (recorded in the history).")
@click.option(
    "--role", default="office", show_default=True, help="Acting role (only office may decide)."
)
@click.option("--at", "at", metavar="TIME", help="When it was decided (default: now).")
@actor_option("Who decides")
@pass_state
def escalations_decide(
    state: State,
    escalation_id: str,
    verdict: str | None,
    reason: str,
    role: str,
    at: str | None,
    actor: str,
) -> None:
    """Confirm or dismiss a proposal raised by a decision rung (约谈, 通报, 问责建议)."""
    if verdict is None:
        raise click.UsageError("give --confirm or --dismiss")
    number = check_number("escalation id", escalation_id, noun="a number")
    done = state.services().escalations.decide(
        number,
        confirm=verdict == "confirm",
        reason=reason,
        actor=actor,
        role=role,
        at=instant(state, at, "--at"),
    )
    verb = "confirmed" if done.decision == "confirmed" else "dismissed"
    notified = f"; notifying {', '.join(done.notified)}" if done.notified else ""
    render.emit(
        state,
        done.to_json(),
        lambda: (
            f"Escalation {done.id} ({done.label}, level {done.level} {done.instrument}) "
            f"{verb} by {actor}{notified}"
        ),
    )


def _a_number(_ctx: click.Context, param: click.Parameter, value: float) -> float:
    """The value, unless it is NaN (which every range lets through)."""
    if math.isnan(value):
        raise click.BadParameter("nan is not a number.", param=param)
    return value


@click.group(cls=XunshiGroup)
def scheduler() -> None:
    """The escalation scheduler daemon."""


@scheduler.command("run", cls=DaemonCommand)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1, max=MAX_SETTING),
    callback=_a_number,
    default=60.0,
    show_default=True,
    help="Seconds between sweeps.",
)
@connection_options
@pass_state
def scheduler_run(state: State, interval: float) -> None:
    """Sweep and deliver every INTERVAL seconds until SIGTERM or SIGINT."""
    # The daemon's modules (APScheduler, logging) are for this command only.
    import logging

    from xunshi.scheduler import BusinessTimeFormatter, run_scheduler
    from xunshi.stopping import stop_event

    stop = stop_event()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(BusinessTimeFormatter(state.settings.tz))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if stop.is_set():  # stopped while starting: nothing was claimed yet
        return
    run_scheduler(state.services(), interval, stop, debug=state.settings.debug)
