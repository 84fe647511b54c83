"""`xunshi calendar …`: load a year, working-day arithmetic."""

from __future__ import annotations

from pathlib import Path

import click

from xunshi.cli import render
from xunshi.cli.options import actor_option, read_text
from xunshi.cli.root import State, XunshiGroup, pass_state
from xunshi.display import plural
from xunshi.errors import BadInput
from xunshi.timeparse import parse_date


@click.group(cls=XunshiGroup)
def calendar() -> None:
    """The working-day calendar."""


@calendar.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@actor_option("Who loads it")
@pass_state
def calendar_load(state: State, file: Path, actor: str) -> None:
    """Add or correct a year: holidays and make-up working days (YAML)."""
    services = state.services()
    loaded = services.calendar.load(read_text(file), file.name, actor)
    render.emit(
        state,
        loaded.to_json(),
        lambda: (
            f"Loaded {loaded.year}: {loaded.holidays} holidays, {loaded.workdays} make-up "
            f"working days; {plural(loaded.rescheduled, 'deadline')} recomputed"
        ),
    )


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
