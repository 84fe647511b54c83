"""`xunshi round|group|unit|plan …`: what a round is made of."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from xunshi.cli import render
from xunshi.cli.options import (
    Listing,
    actor_option,
    actor_options,
    day,
    instant,
    paging_options,
)
from xunshi.cli.root import Failed, State, XunshiGroup, pass_state
from xunshi.display import plural
from xunshi.keys import parse_group
from xunshi.paging import after_key, parse_code_cursor, parse_number_cursor
from xunshi.services.commands import CaseFilter
from xunshi.timeparse import parse_date

if TYPE_CHECKING:
    from xunshi.read.catalog import GroupInfo, RoundInfo, UnitInfo


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
@paging_options(parse_code_cursor, "a round's code (rounds come in the order they were created)")
@pass_state
def round_list(state: State, listing: Listing[str]) -> None:
    """Every round, in the order they were created."""
    rounds = after_key(state.services().read.catalog.rounds(), _code, listing.page, "round")
    render.emit_list(state, rounds, lambda r: r.to_json(), render.rounds_table, jsonl=listing.jsonl)


@round_.command("show", short_help="The round's plan: batches, dates, groups, units.")
@click.argument("code", metavar="ROUND")
@pass_state
def round_show(state: State, code: str) -> None:
    """The round's plan: each batch with its move-in and leave dates, groups and units."""
    shown = state.services().read.rounds.plan(code)
    render.emit(state, shown.to_json(), lambda: render.round_plan(shown))


@round_.command("plan", short_help="Set a batch's planned move-in and leave dates.")
@click.argument("code", metavar="ROUND")
@click.option("--batch", required=True, help="The batch (批次), e.g. B1 or 第一批 (new: planned).")
@click.option("--move-in", "move_in", metavar="DATE", help="Planned move-in date (进驻日期).")
@click.option("--leave", metavar="DATE", help="Planned leave date (撤离日期).")
@actor_option("Who changes the plan")
@click.option("--at", "at", metavar="TIME", help="When the plan changed (default now).")
@click.option("--reason", help="Why (kept with the round event).")
@pass_state
def round_plan(
    state: State,
    code: str,
    batch: str,
    move_in: str | None,
    leave: str | None,
    actor: str,
    at: str | None,
    reason: str | None,
) -> None:
    """Set a batch's planned dates; stages due on them (due: plan.leave) move with them."""
    changed = state.services().rounds.plan(
        code,
        batch,
        move_in=day(move_in, "--move-in"),
        leave=day(leave, "--leave"),
        actor=actor,
        at=instant(state, at),
        reason=reason,
    )
    render.emit(state, changed.to_json(), lambda: render.plan_changed(changed))


def _round_event_command(verb: str, what: str, short: str, help_text: str) -> None:
    """`round event ROUND MILESTONE …` or `round fire ROUND TRIGGER …`."""

    @round_.command(verb, short_help=short, help=help_text)
    @click.argument("code", metavar="ROUND")
    @click.argument("name", metavar=what)
    @click.option("--batch", help="Only the cases of this batch.")
    @click.option("--group", "group_code", help="Only the cases of this group.")
    @click.option("--units", metavar="U1,U2", help="Only the cases of these units.")
    @actor_options
    @click.option("--reason", help="A note (kept in each case's history).")
    @pass_state
    def command(
        state: State,
        code: str,
        name: str,
        batch: str | None,
        group_code: str | None,
        units: str | None,
        actor: str,
        role: str,
        at: str | None,
        reason: str | None,
    ) -> None:
        rounds = state.services().rounds
        act = rounds.record if verb == "event" else rounds.fire
        done = act(
            code,
            name,
            cases=CaseFilter(batch, group_code, _codes(units)),
            actor=actor,
            role=role,
            at=instant(state, at),
            reason=reason,
        )
        tz = state.settings.tz
        render.emit(state, done.to_json(tz), lambda: render.round_event_done(done))


_round_event_command(
    "event",
    "MILESTONE",
    "Record a milestone on every matching case, or on none.",
    "Record MILESTONE on every matching case of the round (动员部署会, 中期会商, …), or, if "
    "any of them cannot take it, on none: the refusal names each case and why.",
)
_round_event_command(
    "fire",
    "TRIGGER",
    "Fire a trigger on every matching case, or on none.",
    "Fire TRIGGER on every matching case of the round, or, if any of them cannot take it, "
    "on none: the refusal names each case and why.",
)


@round_.command("events", short_help="Round-wide events and plan changes.")
@click.argument("code", metavar="ROUND")
@paging_options(parse_number_cursor, "a round event's number (they come by number: oldest first)")
@pass_state
def round_events(state: State, code: str, listing: Listing[int]) -> None:
    """The round's events: round-wide milestones and triggers, and changes of the plan,
    oldest first (by number)."""
    events = after_key(
        state.services().read.rounds.events(code), lambda e: e.id, listing.page, "round event"
    )
    tz = state.settings.tz
    render.emit_list(
        state,
        events,
        lambda e: e.to_json(tz),
        lambda shown: render.round_events_table(shown, tz),
        jsonl=listing.jsonl,
    )


def _codes(text: str | None) -> tuple[str, ...]:
    """`U01,U02` (or with a Chinese comma) as codes."""
    if text is None:
        return ()
    codes = tuple(part.strip() for part in re.split("[,，]", text) if part.strip())
    if not codes:
        raise Failed("--units names no unit")
    return codes


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
@paging_options(parse_code_cursor, "a group's code (groups come by code)")
@pass_state
def group_list(state: State, round_code: str, listing: Listing[str]) -> None:
    """The groups of a round, by code."""
    groups = after_key(
        state.services().read.catalog.groups(round_code), _code, listing.page, "group"
    )
    render.emit_list(state, groups, lambda g: g.to_json(), render.groups_table, jsonl=listing.jsonl)


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
@paging_options(parse_code_cursor, "a unit's code (units come by code)")
@pass_state
def unit_list(state: State, listing: Listing[str]) -> None:
    """Every unit, by code."""
    units = after_key(state.services().read.catalog.units(), _code, listing.page, "unit")
    render.emit_list(state, units, lambda u: u.to_json(), render.units_table, jsonl=listing.jsonl)


def _code(record: RoundInfo | GroupInfo | UnitInfo) -> str:
    """What `--after` names a round, a group or a unit by."""
    return record.code


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
    unit_name 单位名称, unit_category 单位类别 (optional), definition 巡视类型;
    optionally batch 批次, move_in 进驻日期, leave 撤离日期.
    """
    result = state.services().cases.import_plan(
        file, actor=actor, at=instant(state, at), encoding=encoding
    )
    batches = f", {plural(result.batches, 'new batch', 'new batches')}" if result.batches else ""
    render.emit(
        state,
        result.to_json(),
        lambda: (
            f"Imported {plural(len(result.cases), 'case')} "
            f"({plural(result.groups, 'new group')}, {plural(result.units, 'new unit')}"
            f"{batches})"
        ),
    )
