"""`xunshi case …`: start, list and show cases; fire, milestones, suspension, history."""

from __future__ import annotations

import click

from xunshi.cli import render
from xunshi.cli.lifecycle import add_lifecycle_commands
from xunshi.cli.options import Listing, acting_options, actor_option, instant, paging_options
from xunshi.cli.root import State, XunshiGroup, pass_state
from xunshi.errors import BadInput
from xunshi.keys import InstanceKey, parse_reference
from xunshi.paging import parse_key_cursor
from xunshi.texts import check_number


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
@paging_options(
    lambda text: parse_key_cursor(text, "case"),
    "a case's key ROUND/UNIT, e.g. 2025-R1/U07 (cases come by round code, then unit code)",
)
@pass_state
def case_list(
    state: State,
    round_code: str | None,
    stage: str | None,
    overdue: bool,
    include_void: bool,
    listing: Listing[InstanceKey],
) -> None:
    """Cases with their stage and due date (void ones left out unless asked for), by round
    code, then unit code."""
    views = state.services().read.cases.stream(
        round_code=round_code,
        state=stage,
        overdue=overdue,
        include_void=include_void,
        page=listing.page,
    )
    tz = state.settings.tz
    render.emit_list(
        state,
        views,
        lambda v: v.to_json(tz),
        lambda shown: render.cases_table(shown, tz),
        jsonl=listing.jsonl,
    )


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


@case.command("evaluate")
@click.argument("name", metavar="CASE")
@click.option("--score", required=True, help="The total score (0–100, by deduction).")
@click.option("--grade", required=True, help="The grade the score earns, e.g. 好, 较好, 一般, 差.")
@click.option(
    "--dimension",
    "dimensions",
    multiple=True,
    metavar="NAME=SCORE",
    help="One dimension's score, e.g. 组织领导=18 (every declared dimension, once).",
)
@click.option("--reason", help="Why (needed to correct an earlier evaluation).")
@acting_options("The role evaluating (office).")
@pass_state
def case_evaluate(
    state: State,
    name: str,
    score: str,
    grade: str,
    dimensions: tuple[str, ...],
    reason: str | None,
    actor: str,
    role: str,
    at: str | None,
) -> None:
    """整改评估: score and grade a case's rectification (a poor grade sends it back)."""
    done = state.services().cases.evaluate(
        parse_reference(name, "case"),
        score=check_number("--score", score, maximum=100),
        grade=grade.strip(),
        dimensions=_dimension_scores(dimensions),
        actor=actor,
        role=role,
        reason=reason,
        at=instant(state, at),
    )
    render.emit(state, done.to_json(state.settings.tz), lambda: render.evaluated_text(done))


def _dimension_scores(given: tuple[str, ...]) -> dict[str, int]:
    """`NAME=SCORE` pairs, each dimension once."""
    scores: dict[str, int] = {}
    for pair in given:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise BadInput(f"--dimension {pair!r} is not NAME=SCORE (e.g. 组织领导=18)")
        if name in scores:
            raise BadInput(f"--dimension {name} is given twice")
        scores[name] = check_number(f"--dimension {name}", value, maximum=100)
    return scores


add_lifecycle_commands(case, "case")
