"""`xunshi case …`: start, list and show cases; fire, milestones, suspension, history."""

from __future__ import annotations

import click

from xunshi.cli import render
from xunshi.cli.lifecycle import add_lifecycle_commands
from xunshi.cli.options import actor_option, instant
from xunshi.cli.root import State, XunshiGroup, pass_state
from xunshi.keys import parse_reference


@click.group(cls=XunshiGroup)
def case() -> None:
    """Cases: one unit's inspection in a round. CASE is the id or ROUND/UNIT."""


@case.command("start")
@click.option("--round", "round_code", required=True, help="Round code.")
@click.option("--unit", "unit_code", required=True, help="Unit code.")
@click.option("--group", "group_code", required=True, help="Group code.")
@click.option("--definition", required=True, help="Definition name, e.g. regular.")
@click.option("--batch", help="The round plan's batch (批次) the case belongs to.")
@click.option(
    "--follows",
    metavar="CASE",
    help="The unit's earlier case this one re-inspects (回头看), e.g. 2024-R1/U01.",
)
@actor_option("Who starts it")
@click.option("--at", "at", metavar="TIME", help="When it starts (default now).")
@pass_state
def case_start(
    state: State,
    round_code: str,
    unit_code: str,
    group_code: str,
    definition: str,
    batch: str | None,
    follows: str | None,
    actor: str,
    at: str | None,
) -> None:
    """Start a unit's inspection."""
    services = state.services()
    started = services.cases.start_case(
        round_code=round_code,
        unit_code=unit_code,
        group_code=group_code,
        definition=definition,
        actor=actor,
        at=instant(state, at),
        batch=batch,
        follows=None if follows is None else parse_reference(follows, "case"),
    )
    view = services.read.cases.one(started.key)
    tz = state.settings.tz
    render.emit(state, view.to_json(tz), lambda: render.case_text(view, tz))


@case.command("list")
@click.option("--round", "round_code", help="Only this round.")
@click.option("--state", "stage", help="Only cases in this state, e.g. onsite.")
@click.option("--overdue", is_flag=True, help="Only cases past their stage's due date.")
@click.option("--include-void", is_flag=True, help="Void cases too (marked 已撤销).")
@pass_state
def case_list(
    state: State, round_code: str | None, stage: str | None, overdue: bool, include_void: bool
) -> None:
    """Cases with their stage and due date (void ones left out unless asked for)."""
    views = state.services().read.cases.many(
        round_code=round_code, state=stage, overdue=overdue, include_void=include_void
    )
    tz = state.settings.tz
    render.emit(state, [v.to_json(tz) for v in views], lambda: render.cases_table(views, tz))


@case.command("show")
@click.argument("name", metavar="CASE")
@click.option("--as-of", "as_of", metavar="TIME", help="The case as its history says it was then.")
@pass_state
def case_show(state: State, name: str, as_of: str | None) -> None:
    """One case: stage, due date, milestones, what can happen next."""
    cases = state.services().read.cases
    ref = parse_reference(name, "case")
    moment = instant(state, as_of, "--as-of", end_of_day=True)
    view = cases.one(ref) if moment is None else cases.as_of(ref, moment)
    tz = state.settings.tz
    render.emit(state, view.to_json(tz), lambda: render.case_text(view, tz, moment))


add_lifecycle_commands(case, "case")
