"""The root of the `xunshi` command: global options, the state every command gets, and the
one place that turns errors into `Error: …` lines.

`--db URL` and `--json` are accepted before or after the subcommand (`xunshi case list
--json` works): every command and group of the tree carries them (`XunshiCommand`,
`XunshiGroup`), and wherever they are given they set the one `State`.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import click

from xunshi import idempotency
from xunshi.config import ENVIRONMENT, Settings
from xunshi.display import one_line
from xunshi.errors import InvalidDefinition, XunshiError
from xunshi.idempotency import AlreadyDone, Request

if TYPE_CHECKING:
    from xunshi.bootstrap import Services

# `\b` keeps click from re-wrapping the list into one paragraph.
_EPILOG = "Environment:\n\n\b\n" + "\n".join(f"{k}  {v}" for k, v in ENVIRONMENT.items())
DB_HELP = "Database URL (default $XUNSHI_DB, else sqlite:///xunshi.db)."
JSON_HELP = "Print JSON for scripts."
REQUEST_HELP = (
    "This command's request id (default: a new one). Run a command again with the same id "
    "and it is not done twice: what it did is reported."
)
# Options that do not change what a command does: left out of the command a request names.
_OUTPUT_OPTIONS = {"--json": 0, "--db": 1, "--request-id": 1}


class Failed(click.ClickException):
    """A refused command or failed check: `Error: …` on stderr, exit 1."""

    exit_code = 1


@dataclass
class State:
    """What every command gets: settings, output mode and (on first use) the services."""

    settings: Settings
    as_json: bool
    db_option: str | None = None  # --db as given on the command line
    # The invocation as a request (`xunshi.idempotency`): its id, the command it names.
    request: Request = field(default_factory=lambda: Request(idempotency.new_request_id(), ""))
    _services: Services | None = field(default=None, repr=False)

    def use_db(self, url: str) -> None:
        """`--db URL` given after the subcommand (before anything was opened)."""
        self.db_option = url
        # What the command's own options set (--pool-size …) stays, whatever their order.
        before = self.settings
        self.settings = replace(
            Settings.from_env(db_url=url),
            pool_size=before.pool_size,
            statement_timeout=before.statement_timeout,
            lock_timeout=before.lock_timeout,
        )
        self._services = None

    def services(self, *, initialised: bool = True) -> Services:
        """The services; by default refusing a database not at this xunshi's schema."""
        if self._services is None:
            # Imported here: `xunshi --help` must not pay for the engine and SQLAlchemy.
            from xunshi.bootstrap import services

            self._services = services(self.settings)
            # Close the database's connections when the command ends (not at exit).
            click.get_current_context().find_root().call_on_close(self._services.close)
        if initialised:
            self._services.schema.require_current()
        return self._services


pass_state = click.make_pass_decorator(State)


def _global_options() -> list[click.Parameter]:
    """`--db` and `--json` for a command below the root."""

    def set_db(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value is not None:
            state = ctx.find_object(State)
            assert state is not None
            state.use_db(value)

    def set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            state = ctx.find_object(State)
            assert state is not None
            state.as_json = True

    def set_request_id(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
        if value is not None:
            state = ctx.find_object(State)
            assert state is not None
            state.request.id = idempotency.checked_request_id(value)

    return [
        click.Option(
            ["--db"], metavar="URL", expose_value=False, is_eager=True, callback=set_db,
            help=DB_HELP,
        ),
        click.Option(
            ["--json"], is_flag=True, expose_value=False, is_eager=True, callback=set_json,
            help=JSON_HELP,
        ),
        click.Option(
            ["--request-id"], metavar="ID", expose_value=False, is_eager=True,
            callback=set_request_id, help=REQUEST_HELP,
        ),
    ]  # fmt: skip


class XunshiCommand(click.Command):
    """A command that also takes the global `--db`, `--json` and `--request-id`, and runs
    as the invocation's request: its writes are recorded under the request id."""

    records_requests = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = {opt for param in self.params for opt in getattr(param, "opts", ())}
        self.params.extend(p for p in _global_options() if not set(p.opts) & names)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command as the invocation's request (or as none, for a daemon)."""
        state = ctx.find_object(State)
        request = state.request if state is not None and self.records_requests else None
        with idempotency.using(request):
            return super().invoke(ctx)


class DaemonCommand(XunshiCommand):
    """A command whose work is not one request (`serve`, `scheduler run`, `escalate`,
    `demo`): the desk's forms carry their own ids, and the sweep is safe to run again by
    itself (its claims are leases, each escalation unique)."""

    records_requests = False


class XunshiGroup(click.Group):
    """A group whose commands and subgroups take the global options too."""

    command_class = XunshiCommand

    def __init__(self, *args: Any, root: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not root:
            self.params.extend(_global_options())


XunshiGroup.group_class = XunshiGroup


class RootGroup(XunshiGroup):
    """The root: turns every XunshiError into one line, exit 1 (storage turns database
    errors into StorageError, so none escapes as a traceback)."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Check every argument is text, then parse the root's own options."""
        try:
            for arg in args:
                _check_argument(arg)
            command = _command_of(args)
            ctx = super().make_context(info_name, args, parent, **extra)
        except click.ClickException as exc:
            raise _in_one_line(exc) from None
        ctx.meta[_COMMAND] = command
        return ctx

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, translating errors."""
        try:
            return super().invoke(ctx)
        except AlreadyDone as exc:
            _report_done(ctx, exc)
            return None
        except InvalidDefinition as exc:
            for problem in exc.problems:
                click.echo(one_line(problem), err=True)
            _debug_traceback(ctx)
            raise Failed(one_line(exc.message)) from exc
        except XunshiError as exc:
            _debug_traceback(ctx)
            raise Failed(_error_text(exc)) from exc
        except click.ClickException as exc:
            raise _in_one_line(exc) from None
        except BrokenPipeError:
            raise
        except OSError as exc:
            _debug_traceback(ctx)
            where = f"{exc.filename}: " if exc.filename else ""
            raise Failed(one_line(f"{where}{exc.strerror or exc}")) from exc


_COMMAND = "xunshi.command"
_PLAIN = re.compile(r"[\w@%+=:,./-]+")


def _command_of(args: Sequence[str]) -> str:
    """What a request names: the command line, without the options that change only where
    or how it runs (`--db`, `--json`, `--request-id`)."""
    kept: list[str] = []
    skip = 0
    for arg in args:
        if skip:
            skip -= 1
            continue
        name = arg.split("=", 1)[0]
        if name in _OUTPUT_OPTIONS:
            skip = _OUTPUT_OPTIONS[name] if "=" not in arg else 0
            continue
        kept.append(arg)
    return " ".join(_quoted(arg) for arg in ["xunshi", *kept])


def _quoted(arg: str) -> str:
    """The argument as a shell would need it (Chinese text as it is)."""
    return arg if _PLAIN.fullmatch(arg) else shlex.quote(arg)


def _report_done(ctx: click.Context, done: AlreadyDone) -> None:
    """Report what the request did the first time (exit 0: the command has been done)."""
    from xunshi.cli import render  # the tables and texts: only when something is printed

    state = ctx.find_object(State)
    assert state is not None
    record = state.services().read.history.requested(done.request_id)
    tz = state.settings.tz
    render.emit(state, record.to_json(tz), lambda: render.request_text(record, tz))


def _error_text(exc: XunshiError) -> str:
    """The `Error: …` text: one line, quoted input escaped. A refusal that names several
    instances (a round event's, with `refusals`) adds one indented line for each."""
    refusals: tuple[str, ...] = tuple(getattr(exc, "refusals", ()))
    if not refusals:
        return one_line(exc.message)
    head = exc.message.split("\n", 1)[0]
    return "\n".join([one_line(head), *(f"  {one_line(line)}" for line in refusals)])


def _in_one_line(exc: click.ClickException) -> click.ClickException:
    """The error, its message on one line: click's usage errors and our own refusals quote
    what was typed, which may hold line breaks and control characters."""
    message = exc.format_message()
    if one_line(message) == message:
        return exc
    if isinstance(exc, click.UsageError):
        return click.UsageError(one_line(message), exc.ctx)
    return Failed(one_line(message))


def _check_argument(arg: str) -> None:
    """Refuse an argument no command could use: one with a NUL character (no file name, no
    database text may hold one), or bytes that are not UTF-8 (Python hands them over as
    surrogates, which no file name or database text can hold either)."""
    if "\x00" in arg:
        raise Failed(f"argument {arg!r} contains a NUL character")
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        # Show the bytes as typed where they are bytes (`caf\xe9`), else the escape.
        try:
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:
            shown = one_line(arg)
        raise Failed(
            f"argument '{one_line(shown)}' is not UTF-8 text (is the terminal's encoding UTF-8?)"
        ) from None


def _debug_traceback(ctx: click.Context) -> None:
    obj = ctx.find_object(State)
    if obj is not None and obj.settings.debug:
        import traceback  # only when asked for

        traceback.print_exc(file=sys.stderr)


@click.group(
    cls=RootGroup,
    root=True,
    epilog=_EPILOG,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--db", metavar="URL", help=DB_HELP)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.option("--request-id", metavar="ID", help=REQUEST_HELP)
@click.version_option(package_name="xunshi")
@click.pass_context
def cli(ctx: click.Context, db: str | None, as_json: bool, request_id: str | None) -> None:
    """xunshi: a workflow engine for inspection programmes (巡视)."""
    request = Request(
        idempotency.new_request_id()
        if request_id is None
        else idempotency.checked_request_id(request_id),
        ctx.meta.get(_COMMAND, "xunshi"),
    )
    ctx.obj = State(Settings.from_env(db_url=db), as_json, db, request=request)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point."""
    try:
        cli.main(args=argv, prog_name="xunshi")
    except BrokenPipeError:
        # The reader went away (`xunshi case list | head -1`): not the user's mistake.
        # Point stdout at /dev/null so that the interpreter's final flush stays quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
