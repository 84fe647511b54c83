"""`xunshi audit …`: verify, seal and export the hash-chained history."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

import click

from xunshi.cli import render
from xunshi.cli.options import actor_option, export_options, whole_number
from xunshi.cli.progress import progress_line
from xunshi.cli.root import Failed, State, XunshiGroup, pass_state
from xunshi.display import plural
from xunshi.reports.output import STDOUT, choose_target, write_to

F = TypeVar("F", bound=Callable[..., object])


@click.group("audit", cls=XunshiGroup)
def audit_group() -> None:
    """The hash-chained history: verify, seal, export."""


def workers_option(fn: F) -> F:
    """--workers: how many processes verify at once."""
    return click.option(
        "--workers",
        metavar="N",
        callback=_workers,
        help="Processes that verify at once, sharing the instances (default: one per CPU).",
    )(fn)


def _workers(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    workers = whole_number(ctx, param, value)
    if workers == 0:
        raise click.BadParameter("must be at least 1", param=param)
    return workers


@audit_group.command("verify")
@click.option(
    "--seal", "seal", metavar="DIGEST", help="Also check the heads recorded by this seal."
)
@workers_option
@pass_state
def audit_verify(state: State, seal: str | None, workers: int | None) -> None:
    """Recompute every chain and replay every instance; name each broken event."""
    progress = progress_line("verified", quiet=state.as_json)
    try:
        report = state.services().audit.verify(seal, progress, workers)
    finally:
        if progress is not None:
            progress.finish()
    if state.as_json:
        render.emit(state, report.to_json(), str)
    elif report.ok:
        click.echo(render.verified_text(report, sealed=seal is not None))
    else:
        for problem in report.problems:
            click.echo(str(problem), err=True)
    if not report.ok:
        raise Failed(
            f"audit failed: {plural(len(report.problems), 'problem')} in "
            f"{plural(len({p.instance for p in report.problems}), 'chain')}"
        )


@audit_group.command("seal")
@actor_option("Who seals")
@workers_option
@pass_state
def audit_seal(state: State, actor: str, workers: int | None) -> None:
    """Store and print a digest over every chain head (keep it somewhere else)."""
    sealed = state.services().audit.seal(actor, workers)
    render.emit(state, sealed.to_json(state.settings.tz), lambda: sealed.digest)


@audit_group.command("export")
@export_options(
    ("jsonl", "csv"),
    out_required=False,
    out_help="Write to FILE (.jsonl, .json or .csv) instead of stdout; - is stdout.",
)
@pass_state
def audit_export(state: State, fmt: str | None, out: str | None, force: bool) -> None:
    """Every event with its hashes, for archiving or outside checking (JSON lines by default)."""
    target = choose_target(out or STDOUT, fmt, ("jsonl", "csv"), force=force)
    audit, tz = state.services().audit, state.settings.tz
    # A progress line only when the events go to a file (not mixed with them on a terminal).
    progress = progress_line("exported", quiet=state.as_json or target.path is None)
    try:
        count = write_to(
            target, lambda handle: audit.export(handle, target.format, tz, progress), sys.stdout
        )
    finally:
        if progress is not None:
            progress.finish()
    if target.path is not None and not state.as_json:
        click.echo(f"Exported {count} events to {target.name}", err=True)
