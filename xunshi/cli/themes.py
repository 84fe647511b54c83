"""`xunshi theme …`: thematic reports (专题) of a round, kept by the office."""

from __future__ import annotations

import click

from xunshi.cli import render
from xunshi.cli.options import Listing, actor_options, count_number, instant, paging_options
from xunshi.cli.root import State, XunshiGroup, pass_state
from xunshi.paging import after_key, parse_code_cursor
from xunshi.services.themes import MEASURE_STATUSES, ThemeChanged, ThemeSpec


@click.group(cls=XunshiGroup)
def theme() -> None:
    """Thematic reports (专题): a problem across units, answered for as a class."""


def _emit(state: State, changed: ThemeChanged) -> None:
    render.emit(
        state,
        changed.to_json(),
        lambda: f"{changed.summary} (round event {changed.round_event})",
    )


@theme.command("add")
@click.argument("round_code", metavar="ROUND")
@click.argument("code")
@click.option("--title", required=True, help="The theme, e.g. 承包商管理.")
@click.option("--department", required=True, help="The department answering for it (牵头部门).")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Take in items with this tag.")
@click.option(
    "--category",
    "categories",
    multiple=True,
    metavar="L1/L2",
    help="Take in items in this category.",
)
@click.option("--item", "items", multiple=True, metavar="ITEM", help="Take in this item.")
@click.option(
    "--measure",
    "measures",
    multiple=True,
    metavar="TEXT",
    help="A mechanism measure (建章立制, 长效机制), numbered 1, 2, … in order; starts 未开始.",
)
@actor_options
@pass_state
def theme_add(
    state: State,
    round_code: str,
    code: str,
    title: str,
    department: str,
    tags: tuple[str, ...],
    categories: tuple[str, ...],
    items: tuple[str, ...],
    measures: tuple[str, ...],
    actor: str,
    role: str,
    at: str | None,
) -> None:
    """Define theme CODE of ROUND: its department, what it takes in, its measures."""
    spec = ThemeSpec(code, title, department, tags, categories, items, measures)
    changed = state.services().themes.add(
        round_code, spec, actor=actor, role=role, at=instant(state, at)
    )
    _emit(state, changed)


@theme.command("list")
@click.argument("round_code", metavar="ROUND")
@paging_options(parse_code_cursor, "a theme's code (themes come by code)")
@pass_state
def theme_list(state: State, round_code: str, listing: Listing[str]) -> None:
    """The round's themes with their figures, by code."""
    reports = after_key(
        state.services().read.theme_reports.many(round_code),
        lambda r: r.code,
        listing.page,
        "theme",
    )
    render.emit_list(
        state, reports, lambda r: r.to_json(), render.themes_list_table, jsonl=listing.jsonl
    )


@theme.command("show")
@click.argument("round_code", metavar="ROUND")
@click.argument("code")
@pass_state
def theme_show(state: State, round_code: str, code: str) -> None:
    """One theme: its department, what it takes in, its items, totals and measures."""
    report = state.services().read.theme_reports.of(round_code, code)
    render.emit(state, report.to_json(), lambda: render.theme_report_text(report))


def _link_command(name: str, verb: str) -> None:
    @theme.command(name)
    @click.argument("round_code", metavar="ROUND")
    @click.argument("code")
    @click.option("--item", "item_ref", required=True, metavar="ITEM", help="The item.")
    @actor_options
    @pass_state
    def command(
        state: State,
        round_code: str,
        code: str,
        item_ref: str,
        actor: str,
        role: str,
        at: str | None,
    ) -> None:
        service = state.services().themes
        do = service.link if name == "link" else service.unlink
        _emit(state, do(round_code, code, item_ref, actor=actor, role=role, at=instant(state, at)))

    command.__doc__ = verb


_link_command("link", "Take ITEM into theme CODE by hand (office only).")
_link_command("unlink", "Take back an ITEM that `theme link` took in (office only).")


@theme.command("measure")
@click.argument("round_code", metavar="ROUND")
@click.argument("code")
@click.argument("number", metavar="N")
@click.option(
    "--status",
    required=True,
    type=click.Choice(MEASURE_STATUSES),
    help="未开始, 推进中 or 已完成.",
)
@actor_options
@pass_state
def theme_measure(
    state: State,
    round_code: str,
    code: str,
    number: str,
    status: str,
    actor: str,
    role: str,
    at: str | None,
) -> None:
    """Set the status of measure N of theme CODE (office only)."""
    changed = state.services().themes.measure(
        round_code,
        code,
        count_number(number, "N"),
        status,
        actor=actor,
        role=role,
        at=instant(state, at),
    )
    _emit(state, changed)
