"""`xunshi init`, `xunshi db …` (the schema) and `xunshi demo`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from xunshi.cli import render
from xunshi.cli.options import actor_option
from xunshi.cli.root import DaemonCommand, Failed, State, XunshiCommand, XunshiGroup, pass_state
from xunshi.display import plural, table
from xunshi.texts import ROLE_TITLES

if TYPE_CHECKING:
    from xunshi.demo.scenario import DeskUser


@click.command(cls=XunshiCommand)
@actor_option("Who initialises")
@pass_state
def init(state: State, actor: str) -> None:
    """Create the schema and register the built-in definitions (idempotent)."""
    result = state.services(initialised=False).definitions.init(actor)

    def human() -> str:
        lines = [
            f"Initialised {result.database}"
            if result.schema_created
            else f"{result.database} is up to date"
        ]
        for r in result.registrations:
            note = " (new)" if r.created else ""
            if r.kept:
                note = " (the office's own version; the built-in is not put back)"
            lines.append(f"  {r.name} v{r.version}{note}")
        return "\n".join(lines)

    render.emit(state, result.to_json(), human)


@click.command(cls=DaemonCommand)
@click.option(
    "--seed",
    type=int,
    default=2025,
    show_default=True,
    help="Seed of the simulation: the same seed gives the same database and report.",
)
@pass_state
def demo(state: State, seed: int) -> None:
    """Run a fictional energy group's party-group round on a virtual clock; print its report.

    `--db URL` (before or after `demo`) chooses where; by default a fresh xunshi-demo.db.
    """
    # The simulation: this command only.
    from xunshi.demo import DEMO_DB, DESK_USERS, ROUND, run_demo

    # XUNSHI_DB does not choose the demo's database, so that the demo never writes into
    # the database people work in; only --db given on the command line does.
    services = run_demo(state.settings, state.db_option, echo=click.echo, seed=seed)
    try:
        # The round's report, as `xunshi report round ROUND` prints it.
        click.echo("")
        click.echo(render.round_report(services.read.overview.of(ROUND)))
        themes = services.read.themes.of(ROUND).themes
        click.echo("")
        click.echo("专题汇总 thematic view (problems by category across units):")
        click.echo(render.themes_table(themes) if themes else "No problems listed yet.")
        # The leading group's statistics, as `xunshi report statistics ROUND` prints them.
        click.echo("")
        click.echo(render.statistics_text(services.read.statistics.of(ROUND)))
        # The thematic reports, as `xunshi report theme ROUND CODE` prints each.
        for theme in services.read.theme_reports.many(ROUND):
            click.echo("")
            click.echo(render.theme_report_text(theme))
        report = services.audit.verify()
        click.echo("")
        if not report.ok:
            for problem in report.problems:
                click.echo(f"audit verify: {problem}", err=True)
            raise Failed(f"audit verify failed with {plural(len(report.problems), 'problem')}")
        click.echo(f"audit verify: OK, {report.chains} chains, {report.events} events")
        click.echo("")
        click.echo(_desk_invitation(state.db_option or DEMO_DB, ROUND, DESK_USERS))
    finally:
        services.close()


def _desk_invitation(db_url: str, round_code: str, users: Sequence[DeskUser]) -> str:
    """How to open the demo round in the web desk, and the demo's users per role."""
    rows = [
        (p.name, p.password, p.role, f"{ROLE_TITLES[p.role]} {p.group or p.unit or ''}".strip())
        for p in users
    ]
    return "\n".join(
        (
            "在网页工作台查看 Open the demo round in the web desk:",
            f"  xunshi serve --db {db_url}",
            f"  then http://127.0.0.1:8000/rounds/{round_code} and sign in as one of these demo"
            " users (their passwords are for the demo only):",
            "",
            table(("name", "password", "role", ""), rows),
        )
    )


@click.group(cls=XunshiGroup)
def db() -> None:
    """The database schema: upgrade, current revision, history of revisions."""


@db.command("upgrade")
@pass_state
def db_upgrade(state: State) -> None:
    """Bring the schema to this xunshi's revision (in one transaction; `init` does it too)."""
    done = state.services(initialised=False).schema.upgrade()
    render.emit(
        state,
        done.to_json(),
        lambda: (
            f"Upgraded {done.database} from {done.before or 'an empty database'} to {done.after}"
            if done.changed
            else f"{done.database} is at {done.after}: up to date"
        ),
    )


@db.command("current")
@pass_state
def db_current(state: State) -> None:
    """The schema revision of the database, and the one this xunshi needs."""
    found = state.services(initialised=False).schema.state()

    def human() -> str:
        if found.revision is None:
            return (
                f"{found.database} has no schema (run xunshi init); this xunshi needs {found.head}"
            )
        if found.current:
            return f"{found.revision} (head)"
        return f"{found.revision}; this xunshi needs {found.head}"

    render.emit(state, found.to_json(), human)


@db.command("history")
@pass_state
def db_history(state: State) -> None:
    """Every schema revision, oldest first, and which the database has."""
    revisions = state.services(initialised=False).schema.history()
    render.emit(state, [r.to_json() for r in revisions], lambda: render.revisions_table(revisions))
