"""`xunshi user …`: the people of the web desk, their roles, scopes and API tokens."""

from __future__ import annotations

import sys

import click

from xunshi.cli import render
from xunshi.cli.options import Listing, paging_options
from xunshi.cli.root import State, XunshiGroup, pass_state
from xunshi.display import table
from xunshi.errors import BadInput
from xunshi.paging import after_key, parse_code_cursor
from xunshi.read.users import UserView
from xunshi.services.users import ROLES


@click.group(cls=XunshiGroup)
def user() -> None:
    """People who sign in to the web desk (`xunshi serve`), each with one role."""


def _describe(user: UserView) -> str:
    scope = user.group_key or user.unit
    return f"{user.name} ({user.role}{'' if scope is None else ', ' + scope})"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        text = sys.stdin.readline()
        return text.removesuffix("\n").removesuffix("\r")
    try:
        entered: str = click.prompt(
            "Password", hide_input=True, confirmation_prompt=True, default="", show_default=False
        )
    except click.Abort:
        raise BadInput("no password was typed: type it twice, or give --password-stdin") from None
    return entered


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, metavar="ROLE", help=f"One of {', '.join(ROLES)}.")
@click.option("--group", metavar="ROUND/G", help="The group a group_leader leads.")
@click.option("--unit", metavar="U", help="The unit a unit_liaison or party_secretary acts for.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@pass_state
def user_add(
    state: State,
    name: str,
    role: str,
    group: str | None,
    unit: str | None,
    password_stdin: bool,
) -> None:
    """Add user NAME acting as ROLE (the password is asked for twice, hidden)."""
    services = state.services()
    password = _password(password_stdin)
    added = services.users.add(name, role, password, group=group, unit=unit)
    render.emit(state, added.to_json(state.settings.tz), lambda: f"Added user {_describe(added)}.")


@user.command("list")
@paging_options(parse_code_cursor, "a user's name (users come by name)")
@pass_state
def user_list(state: State, listing: Listing[str]) -> None:
    """Every user with their role and scope, by name."""
    users = after_key(state.services().read.users.many(), lambda u: u.name, listing.page, "user")
    tz = state.settings.tz
    render.emit_list(state, users, lambda u: u.to_json(tz), _users_table, jsonl=listing.jsonl)


def _users_table(users: list[UserView]) -> str:
    if not users:
        return "No users."
    return table(
        ["用户", "角色", "巡视组", "单位", "状态"],
        [
            [u.name, u.role, u.group_key or "", u.unit or "", "停用" if u.disabled else "启用"]
            for u in users
        ],
    )


@user.command("disable")
@click.argument("name")
@pass_state
def user_disable(state: State, name: str) -> None:
    """Disable user NAME: they cannot sign in, their sessions and tokens stop working."""
    disabled = state.services().users.disable(name)
    render.emit(
        state,
        disabled.to_json(state.settings.tz),
        lambda: f"Disabled user {disabled.name}.",
    )


@user.command("token")
@click.argument("name")
@pass_state
def user_token(state: State, name: str) -> None:
    """A new API token for NAME, printed once (send it as `Authorization: Bearer TOKEN`)."""
    made = state.services().users.new_token(name)
    render.emit(state, {"user": made.user.name, "token": made.token}, lambda: made.token)
