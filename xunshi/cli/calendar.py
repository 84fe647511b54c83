"""`xunshi calendar …`: load or reset a year, show its days and their sources, count days,
export a round's deadlines as an iCalendar file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from xunshi.cli import render
from xunshi.cli.options import actor_option, export_options, read_text
from xunshi.cli.root import State, XunshiGroup, pass_state
from xunshi.display import plural
from xunshi.errors import BadInput
from xunshi.reports.output import choose_target, write_to
from xunshi.timeparse import parse_date

ICS_FORMATS = ("ics",)


@click.group(cls=XunshiGroup)
def calendar() -> None:
    """The working-day calendar."""


@calendar.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--merge",
    is_flag=True,
    help="The file's days override those days; every other day stays (the default).",
)
@click.option(
    "--replace",
    is_flag=True,
    help="The file is the whole year: built-in holidays it does not list are dropped.",
)
@actor_option("Who loads it")
@pass_state
def calendar_load(state: State, file: Path, merge: bool, replace: bool, actor: str) -> None:
    """Load a year's holidays and make-up days (YAML).

    A year the built-in data covers is merged unless --replace is given.
    """
    if merge and replace:
        raise click.UsageError("--merge and --replace cannot be used together")
    services = state.services()
    changed = services.calendar.load(
        read_text(file),
        file.name,
        actor,
        mode="replace" if replace else "merge",
    )
    render.emit(state, changed.to_json(), lambda: render.calendar_changed(changed))


@calendar.command("reset")
@click.argument("year", metavar="YEAR")
@actor_option("Who resets it")
@pass_state
def calendar_reset(state: State, year: str, actor: str) -> None:
    """Return YEAR to the built-in data (recorded like a load)."""
    number = parse_year(year)
    services = state.services()
    changed = services.calendar.reset(number, actor)
    render.emit(state, changed.to_json(), lambda: render.calendar_changed(changed))


@calendar.command("show")
@click.argument("year", metavar="YEAR")
@pass_state
def calendar_show(state: State, year: str) -> None:
    """Show YEAR's holidays and make-up days, and their sources.

    Then every load of the year: when, who, which file, how.
    """
    number = parse_year(year)
    services = state.services(initialised=False)
    # With an initialised database, the loads count too; without one, the built-in data.
    shown = services.read.catalog.calendar_year(number, initialised=services.schema.initialised())
    render.emit(state, shown.to_json(), lambda: render.calendar_year(shown, state.settings.tz))


@calendar.command("workdays", context_settings={"ignore_unknown_options": True})
@click.argument("start", metavar="FROM")
@click.argument("count", metavar="N")
@pass_state
def calendar_workdays(state: State, start: str, count: str) -> None:
    """The N-th working day after FROM (before it if N is negative)."""
    day = parse_date(start, "FROM")
    try:
        n = int(count)
    except ValueError:
        raise BadInput(f"N {count!r} is not a whole number") from None
    services = state.services(initialised=False)
    # With an initialised database, the years users loaded count too.
    found = services.read.catalog.workdays(day, n, initialised=services.schema.initialised())
    render.emit(
        state,
        found.to_json(),
        lambda: (
            found.result.isoformat()
            + ("  (暂定 provisional: no calendar data)" if found.provisional else "")
        ),
    )


@calendar.command("export")
@click.option("--round", "round_code", required=True, help="The round.")
@click.option("--group", "group_code", help="Only this group's cases, their problems and tasks.")
@click.option("--unit", "unit_code", help="Only this unit's case, its problems and tasks.")
@export_options(
    ICS_FORMATS, out_required=True, out_help="The file to write (.ics), or - for stdout."
)
@pass_state
def calendar_export(
    state: State,
    round_code: str,
    group_code: str | None,
    unit_code: str | None,
    fmt: str | None,
    out: str,
    force: bool,
) -> None:
    """Write a round's open deadlines to an .ics file.

    One all-day event per deadline: every case's and problem's current stage with a due
    date, and every open task. A deadline keeps its UID in every export, so importing the
    file again updates its event.
    """
    # The writer imports icalendar: this command only.
    from xunshi.reports.ics import write_ics

    target = choose_target(out, fmt, ICS_FORMATS, force=force)
    found = state.services().read.deadlines.of(round_code, group=group_code, unit=unit_code)
    tz = state.settings.tz
    write_to(target, lambda handle: write_ics(found, tz, handle), sys.stdout)
    if target.path is None:
        return
    count = len(found.deadlines)
    render.emit(
        state,
        {"deadlines": count, "out": target.name, "format": target.format},
        lambda: f"Wrote {plural(count, 'deadline')} to {target.name}",
    )


def parse_year(text: str) -> int:
    """A year as typed (`2025`), or one `Error:` line."""
    raw = text.strip()
    if not (raw.isascii() and raw.isdigit()):
        raise BadInput(f"YEAR {text!r} is not a year (e.g. 2025)")
    return int(raw)
