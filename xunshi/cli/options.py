"""Options and arguments several commands share, and turning what people type into values."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

import click

from xunshi.cli.root import Failed, State
from xunshi.config import MAX_SETTING
from xunshi.errors import BadInput
from xunshi.paging import Page, parse_limit
from xunshi.texts import check_number
from xunshi.timeparse import parse_date, parse_instant

F = TypeVar("F", bound=Callable[..., object])
K = TypeVar("K")


def whole_number(_ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """An option's whole number (a level, a version): ASCII digits, within the database's
    integers, else a usage error (click's `int` would take `１２`, and numbers of any size)."""
    if value is None:
        return None
    try:
        return check_number("value", value)
    except BadInput as exc:
        raise click.BadParameter(exc.message.removeprefix("value "), param=param) from None


def actor_option(what: str = "Who acts") -> Callable[[F], F]:
    """--actor, falling back to $XUNSHI_ACTOR, else the login name (every command the same)."""

    def fallback(ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
        if value is not None:
            return value
        state = ctx.find_object(State)
        assert state is not None
        return state.settings.actor

    return click.option(
        "--actor",
        callback=fallback,
        help=f"{what} (default $XUNSHI_ACTOR, else the login name).",
    )


def actor_options(fn: F) -> F:
    """--actor, --role, --at for commands that act on a case or an item."""
    return acting_options("The role acted in, e.g. group_leader.")(fn)


def acting_options(role_help: str) -> Callable[[F], F]:
    """--actor, --role (described by `role_help`), --at."""

    def decorate(fn: F) -> F:
        fn = click.option("--at", "at", metavar="TIME", help="When it happened (default now).")(fn)
        fn = click.option("--role", required=True, help=role_help)(fn)
        fn = actor_option()(fn)
        return fn

    return decorate


def instant(
    state: State, text: str | None, what: str = "--at", *, end_of_day: bool = False
) -> datetime | None:
    """An ISO 8601 time typed by a person (business time zone by default), or None."""
    if text is None:
        return None
    return parse_instant(text, state.settings.tz, what, end_of_day=end_of_day)


def day(text: str | None, what: str) -> date | None:
    """A date typed by a person, or None."""
    return None if text is None else parse_date(text, what)


def read_text(path: Path) -> str:
    """A UTF-8 text file, or one `Error:` line saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Failed(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise Failed(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise Failed(f"{path}: {exc.strerror}") from None


def export_options(
    formats: Sequence[str], *, out_required: bool, out_help: str
) -> Callable[[F], F]:
    """--format (default: from the file's extension), --out FILE or -, --force."""

    def decorate(fn: F) -> F:
        fn = click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")(fn)
        fn = click.option("--out", metavar="FILE", required=out_required, help=out_help)(fn)
        fn = click.option(
            "--format",
            "fmt",
            type=click.Choice(list(formats)),
            help="The format (default: the one FILE's extension names).",
        )(fn)
        return fn

    return decorate


def count_number(text: str, what: str) -> int:
    """A count typed by a person: ASCII digits only (not ０-９ or ²), at most 9 of them."""
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise Failed(f"{what} must be a whole number, not {text!r}")
    return int(text)


def _seconds(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """A timeout in seconds: positive and a number (every range lets NaN through)."""
    if value is not None and (math.isnan(value) or value <= 0):
        raise click.BadParameter("must be a positive number of seconds.", param=param)
    return value


def connection_options(fn: F) -> F:
    """--pool-size, --statement-timeout, --lock-timeout for a long-running process (`serve`,
    `scheduler run`): they override XUNSHI_POOL_SIZE, XUNSHI_STATEMENT_TIMEOUT and
    XUNSHI_LOCK_TIMEOUT before the database is opened."""

    def apply(ctx: click.Context, param: click.Parameter, value: float | None) -> None:
        if value is None:
            return
        state = ctx.find_object(State)
        assert state is not None
        settings = state.settings
        if param.name == "pool_size":
            state.settings = replace(settings, pool_size=int(value))
        elif param.name == "statement_timeout":
            state.settings = replace(settings, statement_timeout=value)
        else:
            state.settings = replace(settings, lock_timeout=value)

    options = (
        click.option(
            "--pool-size",
            type=click.IntRange(1, 1000),
            expose_value=False,
            callback=apply,
            help="Database connections to keep open (default $XUNSHI_POOL_SIZE, else 5).",
        ),
        click.option(
            "--statement-timeout",
            type=click.FloatRange(max=MAX_SETTING),
            expose_value=False,
            callback=lambda ctx, param, value: apply(ctx, param, _seconds(ctx, param, value)),
            metavar="SECONDS",
            help="PostgreSQL cancels a statement running longer (default "
            "$XUNSHI_STATEMENT_TIMEOUT, else the server's).",
        ),
        click.option(
            "--lock-timeout",
            type=click.FloatRange(max=MAX_SETTING),
            expose_value=False,
            callback=lambda ctx, param, value: apply(ctx, param, _seconds(ctx, param, value)),
            metavar="SECONDS",
            help="Give up waiting for a lock after this long (default $XUNSHI_LOCK_TIMEOUT, "
            "else the server's; SQLite 10).",
        ),
    )
    for option in reversed(options):
        fn = option(fn)
    return fn


@dataclass(frozen=True, slots=True)
class Listing(Generic[K]):
    """How a list command is to print: which page, and as JSON lines (`--jsonl`) or not."""

    page: Page[K]
    jsonl: bool = False


def paging_options(cursor: Callable[[str], K], key_help: str) -> Callable[[F], F]:
    """--limit N, --after KEY (`cursor` parses KEY; `key_help` says what it is and the
    list's order), --jsonl; the command gets them as one `listing` (a `Listing`)."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def command(
            *args: Any, limit: str | None, after: str | None, jsonl: bool, **kw: Any
        ) -> Any:
            page = Page(
                None if limit is None else parse_limit(limit),
                None if after is None else cursor(after),
            )
            return fn(*args, listing=Listing(page, jsonl), **kw)

        options = (
            click.option("--limit", metavar="N", help="At most N records (a positive number)."),
            click.option(
                "--after",
                metavar="KEY",
                help=f"Only the records after KEY, {key_help}; give the last KEY of one page "
                "to get the next.",
            ),
            click.option(
                "--jsonl",
                is_flag=True,
                help="One JSON object per line (each as an element of the --json array).",
            ),
        )
        decorated: Callable[..., Any] = command
        for option in reversed(options):
            decorated = option(decorated)
        return cast(F, decorated)

    return decorate
