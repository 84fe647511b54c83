"""`xunshi escalate`, `xunshi escalations …` and `xunshi scheduler run`."""

from __future__ import annotations

import sys

import click

from xunshi.cli import render
from xunshi.cli.options import actor_option, instant
from xunshi.cli.root import State, XunshiCommand, XunshiGroup, pass_state
from xunshi.errors import BadInput


@click.command(cls=XunshiCommand)
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
@click.option("--level", type=int, help="Only this level.")
@click.option("--include-void", is_flag=True, help="Those of void cases and items too.")
@pass_state
def escalations_list(
    state: State, open_only: bool, round_code: str | None, level: int | None, include_void: bool
) -> None:
    """Escalations, oldest first (those of void cases and items left out unless asked for)."""
    views = state.services().read.escalations.many(
        open_only=open_only, round_code=round_code, level=level, include_void=include_void
    )
    tz = state.settings.tz
    render.emit(
        state,
        [v.to_json(tz) for v in views],
        lambda: render.escalations_table(views, tz) if views else "No escalations.",
    )


@escalations.command("ack")
@click.argument("escalation_id", metavar="ID")
@actor_option("Who acknowledges it")
@pass_state
def escalations_ack(state: State, escalation_id: str, actor: str) -> None:
    """Acknowledge an escalation (recorded in the case's history)."""
    if not escalation_id.isdigit():
        raise BadInput(f"escalation id {escalation_id!r} is not a number")
    done = state.services().escalations.acknowledge(int(escalation_id), actor)
    render.emit(
        state,
        done.to_json(),
        lambda: f"Escalation {done.id} ({done.label}, level {done.level}) acknowledged by {actor}",
    )


@click.group(cls=XunshiGroup)
def scheduler() -> None:
    """The escalation scheduler daemon."""


@scheduler.command("run")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds between sweeps.",
)
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
