"""The CLI fuzz test (issue #8): any arguments to any command, on a populated database.

Every command of the click tree (walked from the root, so a new command is fuzzed as soon as
it is registered) gets argument lists drawn from its own parameters — their options, flags,
choices and arguments, given or left out, in any order, some without their value — with
values that exist in the world (codes, keys, numbers, triggers, milestones, roles, dates,
times, files) mixed with hostile ones (see `fuzz_world.HOSTILE`). Each example runs on a
fresh copy of the database, through click's CliRunner, with a fixed environment, `--db`
fixed to the copy and every output file inside the test's folder. Whatever the input:

- the exit code is 0, 1 or 2, and nothing escapes but click's own exit (no traceback);
- exit 1 is exactly one line `Error: …` on stderr (a definition's `FILE:LINE:COL: …`
  problems may come before it);
- exit 1 or 2 leaves the database exactly as it was (every row of every table).

The normal suite draws a fixed set of examples (about a minute in all). For a deep run, set
`XUNSHI_FUZZ_EXAMPLES` to the number of examples per command; those runs draw new examples
each time (`XUNSHI_FUZZ_SEED` repeats one).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
import uvicorn
from cli_harness import ENV, Cli, _describe
from click.testing import CliRunner, Result
from fuzz_world import (
    CASES,
    CATEGORIES,
    DATES,
    DEFINITION_NAMES,
    DEFINITION_TITLES,
    DRAWN_FILES,
    ENCODINGS,
    GROUPS,
    INSTANTS,
    ITEMS,
    MILESTONES,
    NAMES,
    ROLES,
    ROUNDS,
    SEALS,
    SHIPPED,
    STATES,
    TASKS,
    TRIGGERS,
    UNITS,
    YEARS,
    build_fuzz_world,
    dump,
    hostile,
    mixed,
    raw_file,
    seal_of,
)
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from xunshi import scheduler, stopping
from xunshi.cli import cli as root
from xunshi.display import one_line

DEEP = int(os.environ.get("XUNSHI_FUZZ_EXAMPLES", "0"))
settings.register_profile(
    "xunshi-fuzz",
    max_examples=DEEP or 70,
    deadline=None,
    derandomize=not DEEP,  # the normal suite: the same examples on every run
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FUZZ = settings(settings.get_profile("xunshi-fuzz"))
# A few commands have more to explore (many options, files, keys): they get more examples.
WEIGHT = {
    ("item", "add"): 3,
    ("task", "add"): 3,
    ("task", "update"): 3,
    ("item", "update"): 2,
    ("case", "fire"): 2,
    ("case", "milestone"): 2,
    ("item", "fire"): 2,
    ("plan", "import"): 3,
    ("items", "import"): 3,
    ("calendar", "load"): 3,
    ("definitions", "load"): 3,
    ("categories", "load"): 2,
    ("calendar", "workdays"): 2,
    ("case", "show"): 2,
}
# Commands that read definition files: their exit 1 may print, before the `Error:` line, one
# line per problem (`FILE:LINE:COL: …`) or per file that could not be read (`FILE: …`).
PROBLEM_LINES = {("definitions", "validate"), ("definitions", "load")}


# -- the click tree ----------------------------------------------------------------------------


def _walk(group: click.Group, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    yield path
    for name in sorted(group.commands):
        command = group.commands[name]
        if isinstance(command, click.Group):
            yield from _walk(command, (*path, name))
        else:
            yield (*path, name)


COMMANDS = list(_walk(root, ()))


def command_at(path: tuple[str, ...]) -> click.Command:
    """The command (or group) at `path` of the tree."""
    command: click.Command = root
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def invoked(args: list[str]) -> tuple[str, ...]:
    """The path of the command `args` name (a group's fuzzed words may name a command)."""
    words = [arg for arg in args if not arg.startswith("-")]
    command: click.Command = root
    path: tuple[str, ...] = ()
    for word in words:
        if not isinstance(command, click.Group) or word not in command.commands:
            break
        command = command.commands[word]
        path = (*path, word)
    return path


# -- values for each parameter -------------------------------------------------------------------

TEXTS = ["整改说明", "巡视组临时召回", "已起草", "新规则文件", "a reason"]
OPTION_VALUES: dict[str, list[str]] = {
    "actor": NAMES,
    "leader": NAMES,
    "person": NAMES,
    "owner": NAMES,
    "department": [*NAMES, "机关党委"],
    "cooperating": [*NAMES, "财务处"],
    "role": ROLES,
    "at": INSTANTS,
    "now": INSTANTS,
    "as_of": INSTANTS,
    "reason": TEXTS,
    "measure": TEXTS,
    "manifestations": TEXTS,
    "root_cause": TEXTS,
    "progress": TEXTS,
    "evidence": TEXTS,
    "title": ["2026年第一轮巡视", "公务接待超标准", *TEXTS],
    "name": ["示例市统计局", "示例市财政局"],
    "round_code": ROUNDS,
    "unit_code": UNITS,
    "group_code": GROUPS,
    "definition": [*DEFINITION_NAMES, *DEFINITION_TITLES],
    "stage": STATES,
    "case_ref": CASES,
    "code": ["P04", "P01", "p01", "P.4_a-b"],
    "category": [*CATEGORIES, "市直机关"],
    "due": DATES,
    "start": DATES,
    "encoding": ENCODINGS,
    "version": ["1", "2", "0", "-1", "3"],
    "level": ["0", "1", "2", "-1", "5"],
    "interval": ["0.1", "60", "0", "-1", "0.05", "nan", "inf", "1e15"],
    "pool_size": ["1", "5", "0", "-1", "1001"],
    "statement_timeout": ["30", "0.5", "0", "-1", "nan", "inf"],
    "lock_timeout": ["2", "0.25", "0", "-3", "nan", "1e15"],
    "seal": SEALS,
    "group": GROUPS,
    "unit": UNITS,
    "to": ["office@example.org", "a@b", "not an address", "组长@示例.中国"],
    "rules": ["合同管理办法", "《采购管理规定》", "《》", "内控制度"],
    "accountable": ["0", "3", "-1", "10001", "两人"],
    "funds": ["12.5", "0", "0.05", "-1", "1.234", "1e3", "99999999"],
    "recurs_from": ITEMS,
}
ARGUMENT_VALUES: dict[str, list[str]] = {
    "CASE": CASES,
    "ITEM": ITEMS,
    "TASK": TASKS,
    "TRIGGER": TRIGGERS,
    "ROUND": ROUNDS,
    "YEAR": YEARS,
    "FROM": DATES,
    "N": ["5", "-5", "0", "1", "250", "-250", "100000"],
    "ID": ["1", "2", "3", "99", "#1"],
    "CHANNEL": ["wecom", "dingtalk", "feishu", "email", "wechat", "log"],
}
THEMES = ["T01", "t01", "T09"]  # the fuzz world's theme, in another case, and none
CODES = {
    "round": ["2026-R1", *ROUNDS],
    "group": ["G3", *GROUPS],
    "unit": ["U05", *UNITS],
    "theme": THEMES,
    "report": THEMES,
}
OUT_NAMES = [
    "ledger.xlsx", "ledger.csv", "events.jsonl", "events.json", "events.csv", "themes.csv",
    "themes.xlsx", "report.txt", "existing.csv", "existing.xlsx", "LEDGER.XLSX", "noext",
    "deadlines.ics",
]  # fmt: skip


@dataclass
class Draw:
    """One example: the argument list and the files to create before running it."""

    args: list[str]
    files: dict[str, bytes] = field(default_factory=dict)


def _file_argument(draw: st.DrawFn, path: tuple[str, ...], files: dict[str, bytes]) -> str:
    """`in/NAME`: a shipped example, a file drawn for this command, raw bytes, or no file."""
    kind = {
        ("plan", "import"): "plan",
        ("items", "import"): "items",
        ("categories", "load"): "categories",
        ("calendar", "load"): "calendar",
        ("definitions", "load"): "definition",
        ("definitions", "validate"): "definition",
    }.get(path)
    # Hypothesis shrinks towards 0: the usual cases come first, the odd ones last.
    choice = draw(st.integers(0, 9))
    if choice < 4 and kind is not None:
        name, content = draw(DRAWN_FILES[kind]())
    elif choice < 7:
        return f"in/{draw(st.sampled_from(sorted(SHIPPED)))}"
    elif choice < 9:
        name, content = draw(raw_file())
    else:
        return draw(st.sampled_from(["in/missing.csv", "in", "in/", "in/dir.yaml", "in/\x00"]))
    files[name] = content
    return f"in/{name}"


def _out_argument(draw: st.DrawFn) -> str:
    """`-`, or a file in `out/` (some exist already; one folder does not)."""
    choice = draw(st.integers(0, 9))
    if choice < 7:
        return f"out/{draw(st.sampled_from(OUT_NAMES))}"
    if choice == 7:
        return "-"
    if choice == 8:
        fragment = draw(hostile).replace("/", "_")
        return f"out/{fragment}{draw(st.sampled_from(['', '.csv', '.xlsx', '.jsonl']))}"
    return draw(st.sampled_from(["out/missing/ledger.csv", "out", "out/", "out/existing"]))


def _value(
    draw: st.DrawFn, path: tuple[str, ...], param: click.Parameter, files: dict[str, bytes]
) -> str:
    """A value for one parameter: what the world has, or something hostile."""
    name = param.name or ""
    if isinstance(param.type, click.Path):
        return _file_argument(draw, path, files)
    if name == "out":
        return _out_argument(draw)
    if isinstance(param.type, click.Choice):
        return draw(mixed([str(c) for c in param.type.choices]))
    if isinstance(param, click.Argument):
        metavar = (param.metavar or name).upper()
        if metavar == "NAME":  # a milestone, or a definition's name
            pool = MILESTONES if path[-1] == "milestone" else DEFINITION_NAMES
            return draw(mixed(pool))
        if metavar == "CODE":
            return draw(mixed(CODES[path[0]]))
        if metavar in ARGUMENT_VALUES:
            return draw(mixed(ARGUMENT_VALUES[metavar]))
    elif name in OPTION_VALUES:
        return draw(mixed(OPTION_VALUES[name]))
    return draw(mixed(ROUNDS, CASES, NAMES, DATES))


@st.composite
def arguments(draw: st.DrawFn, path: tuple[str, ...]) -> Draw:
    """An argument list for the command at `path`, `--db` excepted."""
    command = command_at(path)
    files: dict[str, bytes] = {}
    if isinstance(command, click.Group):
        words = [*sorted(command.commands), "", "--help", "nope"]
        tokens = draw(st.lists(st.one_of(st.sampled_from(words), hostile), max_size=3))
        return Draw([*path, *tokens], files)
    chunks: list[list[str]] = []  # options, each with its value
    positional: list[str] = []
    for param in command.params:
        if param.name in ("db", "help"):
            continue
        if isinstance(param, click.Argument):
            count = 1 if param.nargs == 1 else draw(st.integers(1, 3))
            if draw(st.integers(0, 9)) == 9:
                count -= 1  # one missing
            positional += [_value(draw, path, param, files) for _ in range(count)]
            continue
        assert isinstance(param, click.Option)
        needed = param.required and draw(st.integers(0, 9)) < 9
        if not (needed or draw(st.booleans())):
            continue
        if param.is_flag:
            names = [*param.opts, *param.secondary_opts]
            chunks.append([draw(st.sampled_from(names))])
        else:
            chunks.append([param.opts[0], _value(draw, path, param, files)])
    chunks = draw(st.permutations(chunks))
    # Positional arguments keep their order among themselves, options go anywhere around them.
    tokens: list[str] = []
    places = sorted(draw(st.lists(st.integers(0, len(chunks)), min_size=len(positional),
                                  max_size=len(positional))))  # fmt: skip
    for index, chunk in enumerate(chunks):
        while places and places[0] == index:
            places.pop(0)
            tokens.append(positional.pop(0))
        tokens += chunk
    tokens += positional
    trouble = draw(st.integers(0, 19))  # 0 to 14: none
    if trouble == 15:
        tokens.append(draw(hostile))  # an argument too many (or an option not known)
    elif trouble == 16:
        tokens.append("--bogus")
    elif trouble == 17:
        tokens.insert(draw(st.integers(0, len(tokens))), "--help")
    elif trouble >= 18:
        options = [o for p in command.params if isinstance(p, click.Option) for o in p.opts]
        options = [o for o in options if o not in ("--db", "--help")]
        if options:
            tokens.append(draw(st.sampled_from(options)))  # an option without its value
    prefix = ["--json"] if draw(st.integers(0, 3)) == 3 else []
    suffix = ["--json"] if draw(st.integers(0, 5)) == 5 else []
    return Draw([*prefix, *path, *tokens, *suffix], files)


# -- running one example -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_template(tmp_path_factory: pytest.TempPathFactory, _templates: dict[str, Path]) -> Path:
    """The fuzz world, built once (from the `rectifying` world) and folded into one file."""
    folder = tmp_path_factory.mktemp("fuzz")
    world = Cli(folder / "fuzz.db")
    shutil.copyfile(_templates["rectifying"], world.path)
    build_fuzz_world(world)
    SEALS.append(seal_of(world))
    world.sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return world.path


@dataclass
class Sandbox:
    """A test's folder: the database copy, `in/` (files to read), `out/` and `notify/` (files
    written)."""

    folder: Path
    template: Path

    @property
    def db(self) -> Path:
        """The copy of the world every example runs on."""
        return self.folder / "fuzz.db"

    def reset(self, files: dict[str, bytes]) -> None:
        """A fresh copy of the world, the example's input files, an `out/` as at the start."""
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.db}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.template, self.db)
        for name in ("in", "out", "notify"):
            shutil.rmtree(self.folder / name, ignore_errors=True)
            (self.folder / name).mkdir()
        for name, source in SHIPPED.items():
            shutil.copyfile(source, self.folder / "in" / name)
        (self.folder / "in" / "dir.yaml").mkdir()
        for name, content in files.items():
            (self.folder / "in" / name).write_bytes(content)
        (self.folder / "out" / "existing.csv").write_text("old\n", encoding="utf-8")
        (self.folder / "out" / "existing.xlsx").write_bytes(b"old")
        (self.folder / "out" / "existing").mkdir()

    def run(self, args: list[str], env: dict[str, str | None] | None = None) -> Result:
        """`xunshi --db <copy> ARGS` in-process, with the harness's fixed environment."""
        runner = CliRunner(env={**ENV, **(env or {})})
        return runner.invoke(root, ["--db", f"sqlite:///{self.db}", *args], prog_name="xunshi")


class StopAtOnce(threading.Event):
    """A stop request that comes as soon as the scheduler waits for one: `scheduler run`
    starts (its interval goes to APScheduler), sweeps at most once, and stops."""

    def wait(self, timeout: float | None = None) -> bool:
        """Stop now."""
        self.set()
        return True


@pytest.fixture
def sandbox(tmp_path: Path, fuzz_template: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """The test's folder as the current one; `scheduler run` stopped as soon as it runs,
    without touching the test process's signal handlers; `serve` builds its application and
    returns instead of serving until stopped."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(uvicorn, "run", lambda _app, **_options: None)
    monkeypatch.setattr(stopping, "stop_event", StopAtOnce)
    monkeypatch.setattr(scheduler, "_install_signal_handlers", lambda _stop: None)
    return Sandbox(tmp_path, fuzz_template)


def check_survived(
    result: Result,
    before: dict[str, list[str]],
    sandbox: Sandbox,
    args: list[str],
) -> None:
    """The properties every run must have, whatever its input."""
    described = _describe(result)
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, f"uncaught exception{described}"
    assert result.exit_code in (0, 1, 2), f"exit {result.exit_code}{described}"
    assert "Traceback" not in result.stderr, described
    assert "Traceback" not in result.stdout, described
    if result.exit_code == 0:
        return
    lines = result.stderr.splitlines()
    if result.exit_code == 1:
        # A round event's refusal names each case that refused on an indented line of its own.
        if invoked(args) in (("round", "event"), ("round", "fire")):
            while len(lines) > 1 and lines[-1].startswith("  case "):
                lines.pop()
        assert lines and lines[-1].startswith("Error: "), described
        assert result.stderr.endswith("\n"), described
        earlier = lines[:-1]
        if invoked(args) in PROBLEM_LINES:
            files = tuple(f"{one_line(str(Path(arg)))}:" for arg in args if arg[:1] != "-")
            earlier = [line for line in earlier if not (files and line.startswith(files))]
        assert not earlier, f"exit 1 with more than one `Error:` line{described}"
    else:
        # A usage error ends in one `Error:` line; a group without its command shows its help.
        errors = [line for line in lines if line.startswith("Error: ")]
        if errors or not result.stderr.startswith("Usage: "):
            assert errors == lines[-1:], f"a usage error not in one line{described}"
    assert dump(sandbox.db) == before, f"exit {result.exit_code} changed the database{described}"


@pytest.mark.slow
@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "xunshi")
def test_any_arguments(path: tuple[str, ...], sandbox: Sandbox) -> None:
    """Whatever the arguments: exit 0, 1 or 2, one `Error:` line, data unchanged on failure."""
    before = dump(sandbox.template)

    @settings(FUZZ, max_examples=FUZZ.max_examples * WEIGHT.get(path, 1))
    @given(draw=arguments(path))
    def fuzz(draw: Draw) -> None:
        sandbox.reset(draw.files)
        check_survived(sandbox.run(draw.args), before, sandbox, draw.args)

    if DEEP and "XUNSHI_FUZZ_SEED" in os.environ:
        fuzz = seed(int(os.environ["XUNSHI_FUZZ_SEED"]))(fuzz)
    fuzz()


# -- the environment ---------------------------------------------------------------------------

ZONES = ["UTC", "Asia/Shanghai", "America/New_York", "Etc/GMT+12", "Pacific/Kiritimati", "Nowhere"]
# Never a URL a POST could go to, never a mail server: no test reaches the network.
NOT_URLS = ["ftp://example.org/hook", "http://", "https://exa mple.org", "http://[::1", "hook"]
not_a_url = st.one_of(
    st.sampled_from(NOT_URLS),
    hostile.filter(lambda v: not v.strip().lower().startswith(("http:", "https:"))),
)
NUMBERS = ["1", "0.5", "60", "0", "-1", "nan", "inf", "1e309", "1e10", "１２", "1_0", "2.5"]
ENVIRONMENT_VALUES: dict[str, st.SearchStrategy[str]] = {
    "XUNSHI_TZ": mixed(ZONES),
    "XUNSHI_ACTOR": mixed(NAMES),
    "XUNSHI_NOTIFY_FILE": st.builds(
        lambda name: f"notify/{name.replace('/', '_')}", st.one_of(st.just("n.jsonl"), hostile)
    ),
    "XUNSHI_WEBHOOK_URL": not_a_url,
    "XUNSHI_WECOM_URL": not_a_url,
    "XUNSHI_DINGTALK_URL": not_a_url,
    "XUNSHI_FEISHU_URL": not_a_url,
    "XUNSHI_DESK_URL": not_a_url,
    "XUNSHI_DINGTALK_SECRET": hostile,
    "XUNSHI_FEISHU_SECRET": hostile,
    # A host name with a space in it: refused, so that no mail server is ever asked.
    "XUNSHI_SMTP_HOST": st.builds(lambda v: f"smtp {v}", hostile),
    "XUNSHI_SMTP_PORT": mixed(["25", "465", "65536", "0"]),
    "XUNSHI_SMTP_SECURITY": mixed(["starttls", "ssl", "none"]),
    "XUNSHI_SMTP_USER": mixed(NAMES),
    "XUNSHI_SMTP_PASSWORD": hostile,
    "XUNSHI_SMTP_FROM": mixed(["office@example.org", "巡视办 <office@example.org>"]),
    "XUNSHI_SMTP_CAFILE": st.builds(lambda v: f"notify/{v.replace('/', '_')}", hostile),
    "XUNSHI_ROUTES": st.builds(
        lambda v: f"notify/{v.replace('/', '_')}", st.one_of(st.just("routes.yaml"), hostile)
    ),
    "XUNSHI_WEBHOOK_ATTEMPTS": mixed(NUMBERS),
    "XUNSHI_WEBHOOK_BACKOFF": mixed(NUMBERS),
    "XUNSHI_WEBHOOK_TIMEOUT": mixed(NUMBERS),
    "XUNSHI_LEASE": mixed(NUMBERS),
}
# Commands that read the settings they concern: the clock's zone, who acts, the notifications.
ENVIRONMENT_COMMANDS = [
    ("escalate",),
    ("case", "show", "2024-R1/U01", "--as-of", "2024-09-10"),
    ("case", "milestone", "2024-R1/U01", "three_lists", "--role", "office", "--at", "2024-09-10"),
    ("escalations", "ack", "2"),
    ("audit", "seal"),
    ("calendar", "workdays", "2024-09-27", "5"),
    ("item", "list", "--overdue"),
    ("notify", "test", "wecom"),
    ("notify", "test", "email", "--to", "office@example.org"),
]


def _possible_in_environment(value: str) -> bool:
    """Whether a process could get `value` from its environment: bytes without NUL (bytes
    that are not UTF-8 come as surrogate escapes)."""
    try:
        return b"\0" not in os.fsencode(value)
    except UnicodeEncodeError:
        return False


@st.composite
def environments(draw: st.DrawFn) -> dict[str, str | None]:
    """Some of the settings, each drawn (never XUNSHI_DEBUG: it asks for tracebacks)."""
    names = draw(st.lists(st.sampled_from(sorted(ENVIRONMENT_VALUES)), min_size=1, max_size=3))
    values = {name: ENVIRONMENT_VALUES[name].filter(_possible_in_environment) for name in names}
    return {name: draw(value) for name, value in values.items()}


@pytest.mark.slow
def test_any_environment(sandbox: Sandbox) -> None:
    """Whatever the XUNSHI_* settings: exit 0, 1 or 2, one `Error:` line, data unchanged."""
    before = dump(sandbox.template)

    @settings(FUZZ, max_examples=FUZZ.max_examples * 8)
    @given(args=st.sampled_from(ENVIRONMENT_COMMANDS), env=environments())
    def fuzz(args: tuple[str, ...], env: dict[str, str | None]) -> None:
        sandbox.reset({})
        check_survived(sandbox.run(list(args), env), before, sandbox, list(args))

    fuzz()
