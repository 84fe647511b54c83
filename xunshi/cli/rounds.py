"""`xunshi round|group|unit|plan …`: what a round is made of."""

from __future__ import annotations

from pathlib import Path

import click

from xunshi.cli import render
from xunshi.cli.options import actor_option, instant
from xunshi.cli.root import State, XunshiGroup, pass_state
from xunshi.display import plural
from xunshi.keys import parse_group
from xunshi.timeparse import parse_date


@click.group("round", cls=XunshiGroup)
def round_() -> None:
    """Inspection rounds (轮次)."""


@round_.command("create")
@click.argument("code")
@click.option("--title", required=True, help="Title, e.g. 2024年第一轮巡视.")
@click.option("--start", "start", required=True, metavar="DATE", help="Start date (YYYY-MM-DD).")
@pass_state
def round_create(state: State, code: str, title: str, start: str) -> None:
    """Create a round."""
    start_on = parse_date(start, "start date")
    created = state.services().cases.create_round(code, title, start_on)
    render.emit(
        state,
        created.to_json(),
        lambda: f"Round {created.code} {created.title} starts {created.start_on}",
    )


@round_.command("list")
@pass_state
def round_list(state: State) -> None:
    """Every round."""
    rounds = state.services().read.catalog.rounds()
    render.emit(state, [r.to_json() for r in rounds], lambda: render.rounds_table(rounds))


@click.group(cls=XunshiGroup)
def group() -> None:
    """Inspection groups (巡视组)."""


@group.command("add")
@click.argument("round_code", metavar="ROUND")
@click.argument("code")
@click.option("--leader", required=True, help="The group leader (组长).")
@pass_state
def group_add(state: State, round_code: str, code: str, leader: str) -> None:
    """Add a group to a round."""
    added = state.services().cases.add_group(round_code, code, leader)
    render.emit(
        state,
        added.to_json(),
        lambda: f"Group {added.code} of round {added.round}, led by {added.leader}",
    )


@group.command("leader")
@click.argument("name", metavar="ROUND/GROUP")
@click.argument("leader", metavar="NEW_LEADER")
@click.option("--reason", required=True, help="Why the leader changes (kept in the history).")
@actor_option()
@click.option("--at", "at", metavar="TIME", help="When it happened (default now).")
@pass_state
def group_leader(
    state: State, name: str, leader: str, reason: str, actor: str, at: str | None
) -> None:
    """Give a group its new leader (组长); each of its cases records the change."""
    round_code, group_code = parse_group(name)
    changed = state.services().cases.change_group_leader(
        round_code, group_code, leader, reason=reason, actor=actor, at=instant(state, at)
    )
    render.emit(state, changed.to_json(), lambda: render.corrected_text(changed))


@group.command("list")
@click.argument("round_code", metavar="ROUND")
@pass_state
def group_list(state: State, round_code: str) -> None:
    """The groups of a round."""
    groups = state.services().read.catalog.groups(round_code)
    render.emit(state, [g.to_json() for g in groups], lambda: render.groups_table(groups))


@click.group(cls=XunshiGroup)
def unit() -> None:
    """Units that are inspected (被巡视单位)."""


@unit.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The unit's name.")
@click.option("--category", default="", help="A category, e.g. 市直机关.")
@pass_state
def unit_add(state: State, code: str, name: str, category: str) -> None:
    """Register a unit."""
    added = state.services().cases.add_unit(code, name, category)
    render.emit(state, added.to_json(), lambda: f"Unit {added.code} {added.name}")


@unit.command("rename")
@click.argument("code", metavar="UNIT")
@click.argument("name", metavar="NEW_NAME")
@click.option("--reason", required=True, help="Why the name changes (kept in the history).")
@actor_option()
@click.option("--at", "at", metavar="TIME", help="When it happened (default now).")
@pass_state
def unit_rename(
    state: State, code: str, name: str, reason: str, actor: str, at: str | None
) -> None:
    """Give a unit its new name; each of its cases records the change."""
    renamed = state.services().cases.rename_unit(
        code, name, reason=reason, actor=actor, at=instant(state, at)
    )
    render.emit(state, renamed.to_json(), lambda: render.corrected_text(renamed))


@unit.command("list")
@pass_state
def unit_list(state: State) -> None:
    """Every unit."""
    units = state.services().read.catalog.units()
    render.emit(state, [u.to_json() for u in units], lambda: render.units_table(units))


@click.group(cls=XunshiGroup)
def plan() -> None:
    """Round plans (groups, units and cases from a sheet)."""


@plan.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@actor_option("Who imports")
@click.option("--at", "at", metavar="TIME", help="When the cases start (default now).")
@click.option(
    "--encoding",
    metavar="NAME",
    help="A CSV's text encoding, e.g. gb18030 (default: UTF-8, else GB18030 detected).",
)
@pass_state
def plan_import(state: State, file: Path, actor: str, at: str | None, encoding: str | None) -> None:
    """Import a plan sheet (FILE.csv or FILE.xlsx).

    Columns: round 轮次, group 巡视组, group_leader 组长, unit_code 单位代码,
    unit_name 单位名称, unit_category 单位类别 (optional), definition 巡视类型.
    """
    result = state.services().cases.import_plan(
        file, actor=actor, at=instant(state, at), encoding=encoding
    )
    render.emit(
        state,
        result.to_json(),
        lambda: (
            f"Imported {plural(len(result.cases), 'case')} "
            f"({plural(result.groups, 'new group')}, {plural(result.units, 'new unit')})"
        ),
    )
