"""`xunshi init` and `xunshi demo`."""

from __future__ import annotations

import click

from xunshi.cli import render
from xunshi.cli.root import Failed, State, XunshiCommand, pass_state
from xunshi.display import plural


@click.command(cls=XunshiCommand)
@click.option("--actor", help="Who initialises (default $XUNSHI_ACTOR or login name).")
@pass_state
def init(state: State, actor: str | None) -> None:
    """Create the schema and register the built-in definitions (idempotent)."""
    result = state.services(initialised=False).definitions.init(actor or state.settings.actor)

    def human() -> str:
        lines = [
            f"Initialised {result.database}"
            if result.schema_created
            else f"{result.database} is up to date"
        ]
        for r in result.registrations:
            lines.append(f"  {r.name} v{r.version}" + (" (new)" if r.created else ""))
        return "\n".join(lines)

    render.emit(state, result.to_json(), human)


@click.command(cls=XunshiCommand)
@pass_state
def demo(state: State) -> None:
    """Run a sample round on a virtual clock and print its report.

    `--db URL` (before or after `demo`) chooses where; by default a fresh xunshi-demo.db.
    """
    from xunshi.demo import ROUND, run_demo  # the simulation: this command only

    # XUNSHI_DB does not choose the demo's database, so that the demo never writes into
    # the database people work in; only --db given on the command line does.
    services = run_demo(state.settings, state.db_option, echo=click.echo)
    try:
        click.echo(render.round_report(services.read.overview.of(ROUND)))
        themes = services.read.themes.of(ROUND)
        click.echo("")
        click.echo("专题汇总 thematic view (problems by category across units):")
        click.echo(render.themes_table(themes) if themes else "No problems listed yet.")
        report = services.audit.verify()
        click.echo("")
        if not report.ok:
            for problem in report.problems:
                click.echo(f"audit verify: {problem}", err=True)
            raise Failed(f"audit verify failed with {plural(len(report.problems), 'problem')}")
        click.echo(f"audit verify: OK, {report.chains} chains, {report.events} events")
    finally:
        services.close()
