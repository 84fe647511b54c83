"""`xunshi clue …` and `xunshi clues import`: 问题线索, from registration to their conclusion.

Reading a clue takes the role asking (`--role`): only the office and the clue's receiving
body see it; anyone else is refused, and their lists are empty.
"""

from __future__ import annotations

from pathlib import Path

import click

from xunshi.cli import render
from xunshi.cli.lifecycle import void_command
from xunshi.cli.options import Listing, actor_option, actor_options, instant, paging_options
from xunshi.cli.root import Failed, State, XunshiGroup, pass_state
from xunshi.display import plural
from xunshi.keys import InstanceKey, parse_reference
from xunshi.paging import after_key, parse_key_cursor
from xunshi.services.commands import ClueFire, Handover
from xunshi.workflow.clues import DISPOSITIONS, OTHER_RECEIVER, RECEIVERS

_ASKING = (
    "The role asking; only office and the clue's receiving body (discipline_group, "
    "organization_dept) may see a clue."
)


@click.group(cls=XunshiGroup)
def clue() -> None:
    """问题线索 (clues about individuals). CLUE is the id or ROUND/UNIT:CODE, e.g. 2025-R1/U01:C01.

    Only the office and the body a clue was handed over to see it: show, list and history
    take the --role asking.
    """


@clue.command("add")
@click.argument("case_ref", metavar="CASE")
@click.option("--code", required=True, help="The clue's code within the case, e.g. C01.")
@click.option(
    "--summary",
    required=True,
    help="线索摘要: one line, at most 200 characters, naming the person by role only "
    "(某处处长), never by name or number.",
)
@click.option("--definition", default="clue", show_default=True)
@actor_options
@pass_state
def clue_add(
    state: State,
    case_ref: str,
    code: str,
    summary: str,
    definition: str,
    actor: str,
    role: str,
    at: str | None,
) -> None:
    """Register a clue of a case (登记), as office or group_leader."""
    added = state.services().clues.add_clue(
        parse_reference(case_ref, "case"),
        code=code,
        summary=summary,
        actor=actor,
        role=role,
        at=instant(state, at),
        definition=definition,
    )
    render.emit(state, added.to_json(), lambda: f"{added.key.label} registered (#{added.id})")


@clue.command("list")
@click.option("--role", required=True, help=_ASKING)
@click.option("--include-void", is_flag=True, help="Void (撤销) clues too.")
@click.option("--round", "round_code", help="Only this round.")
@click.option("--case", "case_ref", help="Only this case.")
@click.option("--state", "stage", help="Only clues in this state, e.g. handed_over.")
@click.option("--overdue", is_flag=True, help="Only clues past their disposition deadline.")
@paging_options(
    lambda text: parse_key_cursor(text, "clue"),
    "a clue's key ROUND/UNIT:CODE, e.g. 2025-R1/U07:C01 (clues come by round code, unit code, "
    "then clue code)",
)
@pass_state
def clue_list(
    state: State,
    role: str,
    round_code: str | None,
    case_ref: str | None,
    stage: str | None,
    overdue: bool,
    include_void: bool,
    listing: Listing[InstanceKey],
) -> None:
    """The clues the role may see, with where each went and its deadline, by key."""
    views = after_key(
        state.services().read.clues.many(
            role=role,
            case=None if case_ref is None else parse_reference(case_ref, "case"),
            round_code=round_code,
            state=stage,
            overdue=overdue,
            include_void=include_void,
        ),
        lambda v: v.key,
        listing.page,
        "clue",
    )
    tz = state.settings.tz
    render.emit_list(state, views, lambda v: v.to_json(tz), render.clues_table, jsonl=listing.jsonl)


@clue.command("show")
@click.argument("clue_ref", metavar="CLUE")
@click.option("--role", required=True, help=_ASKING)
@pass_state
def clue_show(state: State, clue_ref: str, role: str) -> None:
    """One clue: its summary, where it went, its disposition and deadline."""
    view = state.services().read.clues.one(parse_reference(clue_ref, "clue"), role=role)
    render.emit(
        state, view.to_json(state.settings.tz), lambda: render.clue_text(view, state.settings.tz)
    )


@clue.command("fire")
@click.argument("clue_ref", metavar="CLUE")
@click.argument("trigger", metavar="TRIGGER")
@click.option(
    "--to",
    "to_role",
    type=click.Choice(list(RECEIVERS)),
    help="Hand over to this receiving body (hand_over).",
)
@click.option("--to-other", metavar="NAME", help="Hand over to another receiver, named.")
@click.option(
    "--disposition",
    type=click.Choice(list(DISPOSITIONS)),
    help="The receiver's disposition (dispose).",
)
@click.option("--outcome", help="The outcome, one line (conclude).")
@click.option("--reason", help="Why (kept in the history).")
@actor_options
@pass_state
def clue_fire(
    state: State,
    clue_ref: str,
    trigger: str,
    to_role: str | None,
    to_other: str | None,
    disposition: str | None,
    outcome: str | None,
    reason: str | None,
    actor: str,
    role: str,
    at: str | None,
) -> None:
    """Move a clue along TRIGGER: hand_over (--to or --to-other), dispose (--disposition),
    conclude (--outcome), withdraw."""
    if to_role is not None and to_other is not None:
        raise Failed("give --to or --to-other, not both")
    handover = None
    if to_role is not None:
        handover = Handover(to_role)
    elif to_other is not None:
        handover = Handover(OTHER_RECEIVER, to_other)
    change = state.services().clues.fire(
        parse_reference(clue_ref, "clue"),
        trigger,
        actor=actor,
        role=role,
        reason=reason,
        at=instant(state, at),
        records=ClueFire(handover, disposition, outcome),
    )
    render.emit(state, change.to_json(state.settings.tz), lambda: render.moved_text(change))


@clue.command("history")
@click.argument("clue_ref", metavar="CLUE")
@click.option("--role", required=True, help=_ASKING)
@pass_state
def clue_history(state: State, clue_ref: str, role: str) -> None:
    """Every event of a clue, oldest first."""
    found = state.services().read.clues.history(parse_reference(clue_ref, "clue"), role=role)
    tz = state.settings.tz
    render.emit(state, found.to_json(tz), lambda: render.history_table(found, tz))


@clue.command("link")
@click.argument("clue_ref", metavar="CLUE")
@click.argument("item_ref", metavar="ITEM")
@actor_options
@pass_state
def clue_link(
    state: State, clue_ref: str, item_ref: str, actor: str, role: str, at: str | None
) -> None:
    """Link a clue to a problem (ITEM) of its case that it gave rise to."""
    change = state.services().clues.link(
        parse_reference(clue_ref, "clue"),
        parse_reference(item_ref, "item"),
        actor=actor,
        role=role,
        at=instant(state, at),
    )
    render.emit(state, change.to_json(state.settings.tz), lambda: render.linked_text(change))


@clue.command("unlink")
@click.argument("clue_ref", metavar="CLUE")
@click.argument("item_ref", metavar="ITEM")
@click.option("--reason", required=True, help="Why the link was a mistake (kept in the history).")
@actor_options
@pass_state
def clue_unlink(
    state: State,
    clue_ref: str,
    item_ref: str,
    reason: str,
    actor: str,
    role: str,
    at: str | None,
) -> None:
    """Undo a link made by mistake."""
    change = state.services().clues.unlink(
        parse_reference(clue_ref, "clue"),
        parse_reference(item_ref, "item"),
        actor=actor,
        role=role,
        reason=reason,
        at=instant(state, at),
    )
    render.emit(state, change.to_json(state.settings.tz), lambda: render.linked_text(change))


@click.group(cls=XunshiGroup)
def clues() -> None:
    """Clues in bulk."""


@clues.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@actor_option("Who imports")
@click.option("--role", default="office", show_default=True, help="office or group_leader.")
@click.option("--at", "at", metavar="TIME", help="When, for rows without dates (default now).")
@click.option(
    "--encoding",
    metavar="NAME",
    help="A CSV's text encoding, e.g. gb18030 (default: UTF-8, else GB18030 detected).",
)
@pass_state
def clues_import(
    state: State, file: Path, actor: str, role: str, at: str | None, encoding: str | None
) -> None:
    """Register clues (one row each) from FILE.csv or FILE.xlsx, handing over those with a
    receiver (移交对象); every row is checked first."""
    result = state.services().clues.import_clues(
        file, actor=actor, role=role, at=instant(state, at), encoding=encoding
    )
    render.emit(
        state,
        result.to_json(),
        lambda: f"Imported {plural(result.clues, 'clue')} ({result.handed_over} handed over)",
    )


# `clue void`: withdraw a clue recorded by mistake, as cases and items are.
void_command(clue, "clue")
