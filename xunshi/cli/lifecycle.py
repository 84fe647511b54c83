"""The commands cases and items share — fire, milestone, suspend, resume, void, history — once.

`add_lifecycle_commands(group, kind)` puts them on the `case` and the `item` group; they
differ only in how their argument names the instance (`ROUND/UNIT`, `ROUND/UNIT/ITEM`).
The `clue` group has its own fire and history (what a step records; who may see a clue)
and shares the rest through `_service`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import click

from xunshi.cli import render
from xunshi.cli.options import acting_options, actor_options, count_number, instant
from xunshi.cli.root import State, pass_state
from xunshi.keys import Kind, parse_reference

if TYPE_CHECKING:
    from xunshi.services.lifecycle import Lifecycle
    from xunshi.services.results import Change

_ARTICLE = {"case": "a case", "item": "an item", "clue": "a clue (问题线索)"}
_TRIGGER_EXAMPLE = {"case": "leave_site", "item": "submit or accept"}
_MILESTONE_EXAMPLE = {"case": "", "item": " (e.g. office_accepted)"}
# Only the definition's suspend_roles may stop or restart a clock; --help reads no database,
# so it names the rule and the built-ins' choice rather than the roles of every definition.
_CLOCK_ROLE_HELP = (
    "The role you act in; {verb} needs one of the definition's suspend_roles "
    "(built-in definitions: office)."
)


def add_lifecycle_commands(group: click.Group, kind: Literal["case", "item"]) -> None:
    """Register fire, milestone, suspend, resume, void and history on `group` for `kind`."""
    _named(
        group,
        kind,
        "fire",
        "TRIGGER",
        "Why (kept in the history).",
        f"Move {_ARTICLE[kind]} along TRIGGER, e.g. {_TRIGGER_EXAMPLE[kind]}.",
        lambda service: service.fire,
        render.moved_text,
    )
    _named(
        group,
        kind,
        "milestone",
        "NAME",
        "A note (kept in the history).",
        f"Record milestone NAME{_MILESTONE_EXAMPLE[kind]} of the {kind}'s current stage.",
        lambda service: service.record_milestone,
        render.recorded_text,
        counted=True,
    )
    _clock(group, kind, "suspend", "Stop the stage's clock (e.g. the group is recalled).")
    _clock(
        group,
        kind,
        "resume",
        "Restart the stage's clock; the due date moves by the working days suspended.",
    )
    void_command(group, kind)

    @group.command("history")
    @click.argument("name", metavar=kind.upper())
    @pass_state
    def history(state: State, name: str) -> None:
        found = state.services().read.history.of(parse_reference(name, kind), kind)
        tz = state.settings.tz
        render.emit(state, found.to_json(tz), lambda: render.history_table(found, tz))

    history.help = (
        "Every event of a case, oldest first."
        if kind == "case"
        else "Every event of an item (its tasks' changes included), oldest first."
    )


def _named(
    group: click.Group,
    kind: Kind,
    verb: str,
    what: str,
    reason_help: str,
    help_text: str,
    method: Callable[[Lifecycle], Callable[..., Change]],
    text: Callable[[Change], str],
    *,
    counted: bool = False,
) -> None:
    """`fire KIND TRIGGER` or `milestone KIND NAME`: one argument more than the instance.

    A milestone takes `--count N` too: the number a counted milestone is recorded with.
    """

    def command(
        state: State,
        name: str,
        what: str,
        actor: str,
        role: str,
        at: str | None,
        reason: str | None,
        count: str | None = None,
    ) -> None:
        extra = {} if count is None else {"count": count_number(count, "--count")}
        change = method(_service(state, kind))(
            parse_reference(name, kind),
            what,
            actor=actor,
            role=role,
            reason=reason,
            at=instant(state, at),
            **extra,
        )
        render.emit(state, change.to_json(state.settings.tz), lambda: text(change))

    decorated = pass_state(command)
    if counted:
        decorated = click.option(
            "--count",
            metavar="N",
            help="The number a counted milestone is recorded with (talks held, letters, …).",
        )(decorated)
    decorated = click.option("--reason", help=reason_help)(decorated)
    decorated = actor_options(decorated)
    decorated = click.argument("what", metavar=what)(decorated)
    decorated = click.argument("name", metavar=kind.upper())(decorated)
    group.command(verb, help=help_text)(decorated)


def _clock(group: click.Group, kind: Kind, verb: str, help_text: str) -> None:
    """`suspend` (a reason required) or `resume` (a reason optional)."""
    reason_help = (
        "Why the clock stops (kept in the history)."
        if verb == "suspend"
        else "A note (kept in the history)."
    )

    @group.command(verb, help=help_text)
    @click.argument("name", metavar=kind.upper())
    @acting_options(_CLOCK_ROLE_HELP.format(verb="suspending" if verb == "suspend" else "resuming"))
    @click.option("--reason", required=verb == "suspend", help=reason_help)
    @pass_state
    def command(
        state: State, name: str, actor: str, role: str, at: str | None, reason: str | None
    ) -> None:
        service = _service(state, kind)
        act: Callable[..., Change] = service.suspend if verb == "suspend" else service.resume
        change = act(
            parse_reference(name, kind),
            actor=actor,
            role=role,
            reason=reason,
            at=instant(state, at),
        )
        due = render.due_text(change.instance.due_on, change.instance.provisional)
        line = f"{change.key.label}: {'suspended' if verb == 'suspend' else 'resumed'}"
        if verb == "resume" and due:
            line += f", due {due}"
        render.emit(state, change.to_json(state.settings.tz), lambda: line)


def void_command(group: click.Group, kind: Kind) -> None:
    """`void`: withdraw a mistaken record (a case with its problems when asked); a clue's
    group registers it too."""

    @group.command(
        "void",
        help=(
            f"Withdraw {_ARTICLE[kind]} recorded by mistake (撤销): it stays in the history and "
            "the audit, takes no more commands, escalates nothing and leaves the lists."
        ),
    )
    @click.argument("name", metavar=kind.upper())
    @acting_options("The role you act in; voiding needs office (巡视办).")
    @click.option("--reason", required=True, help="Why it is withdrawn (kept in the history).")
    @pass_state
    def command(
        state: State,
        name: str,
        actor: str,
        role: str,
        at: str | None,
        reason: str,
        with_items: bool = False,
    ) -> None:
        voided = _service(state, kind).void(
            parse_reference(name, kind),
            actor=actor,
            role=role,
            reason=reason,
            at=instant(state, at),
            with_dependents=with_items,
        )
        render.emit(state, voided.to_json(state.settings.tz), lambda: render.voided_text(voided))

    if kind == "case":
        click.option(
            "--with-items",
            is_flag=True,
            help="Void the case's problems with it (else a case with problems is refused).",
        )(command)


def _service(state: State, kind: Kind) -> Lifecycle:
    services = state.services()
    if kind == "clue":
        return services.clues
    return services.cases if kind == "case" else services.items
