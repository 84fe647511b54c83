"""The `xunshi` command: parse, call a service, print (tables for people, --json for scripts).

Heavy modules (SQLAlchemy, the engine) are imported inside the commands so that `--help`
stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from xunshi.config import ENVIRONMENT, Settings
from xunshi.display import plural
from xunshi.errors import XunshiError

if TYPE_CHECKING:
    from xunshi.bootstrap import App
    from xunshi.workflow.audit import Event
    from xunshi.workflow.engine import InstanceRef, Outcome
    from xunshi.workflow.views import CaseView

F = TypeVar("F", bound=Callable[..., Any])

# `\b` keeps click from re-wrapping the list into one paragraph.
_EPILOG = "Environment:\n\n\b\n" + "\n".join(f"{k}  {v}" for k, v in ENVIRONMENT.items())


class Failed(click.ClickException):
    """A refused command or failed check: `Error: …` on stderr, exit 1."""

    exit_code = 1


class XunshiGroup(click.Group):
    """The root group: turns every XunshiError (and database error) into one line, exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, translating errors."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            return super().invoke(ctx)
        except XunshiError as exc:
            _debug_traceback(ctx)
            raise Failed(exc.message) from exc
        except SQLAlchemyError as exc:
            _debug_traceback(ctx)
            raise Failed(f"database error: {_first_line(exc)}") from exc
        except BrokenPipeError:
            raise
        except OSError as exc:
            _debug_traceback(ctx)
            where = f"{exc.filename}: " if exc.filename else ""
            raise Failed(f"{where}{exc.strerror or exc}") from exc


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _debug_traceback(ctx: click.Context) -> None:
    obj = ctx.find_object(State)
    if obj is not None and obj.settings.debug:
        import traceback

        traceback.print_exc(file=sys.stderr)


@dataclass
class State:
    """What every command gets: settings, output mode and (lazily) the application."""

    settings: Settings
    as_json: bool
    db_option: str | None = None  # --db as given on the command line
    _app: App | None = field(default=None, repr=False)

    def app(self, *, initialised: bool = True) -> App:
        """The application; by default refusing a database that `init` has not prepared."""
        if self._app is None:
            from xunshi.bootstrap import bootstrap

            self._app = bootstrap(self.settings)
        if initialised:
            self._app.db.require_schema()
        return self._app

    def emit(self, data: Any, human: Callable[[], str]) -> None:
        """Print `data` as JSON with --json, else the human text."""
        if self.as_json:
            click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            text = human()
            if text:
                click.echo(text)


pass_state = click.make_pass_decorator(State)


@click.group(
    cls=XunshiGroup, epilog=_EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--db", metavar="URL", help="Database URL (default $XUNSHI_DB, else sqlite:///xunshi.db)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.version_option(package_name="xunshi")
@click.pass_context
def cli(ctx: click.Context, db: str | None, as_json: bool) -> None:
    """xunshi: a workflow engine for inspection programmes (巡视)."""
    ctx.obj = State(Settings.from_env(db_url=db), as_json, db)


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


# -- init -----------------------------------------------------------------------------


@cli.command()
@click.option("--actor", help="Who initialises (default $XUNSHI_ACTOR or login name).")
@pass_state
def init(state: State, actor: str | None) -> None:
    """Create the schema and register the built-in definitions (idempotent)."""
    app = state.app(initialised=False)
    result = app.init(actor or state.settings.actor)
    data = {
        "database": app.db.display_url,
        "schema_created": result.schema_created,
        "definitions": [
            {"name": r.name, "version": r.version, "created": r.created}
            for r in result.registrations
        ],
    }

    def human() -> str:
        lines = [
            f"Initialised {app.db.display_url}"
            if result.schema_created
            else f"{app.db.display_url} is up to date"
        ]
        for r in result.registrations:
            lines.append(f"  {r.name} v{r.version}" + (" (new)" if r.created else ""))
        return "\n".join(lines)

    state.emit(data, human)


# -- definitions ------------------------------------------------------------------------


@cli.group()
def definitions() -> None:
    """Lifecycle definitions: list, show, validate, load, diagram."""


@definitions.command("list")
@pass_state
def definitions_list(state: State) -> None:
    """Registered definitions and their versions."""
    from xunshi.display import table

    app = state.app()
    with app.db.transaction() as conn:
        versions = app.registry.versions(conn)
    latest: dict[str, Any] = {}
    for v in versions:
        latest[v.name] = v
    data = [
        {
            "name": v.name,
            "title": v.title,
            "subject": v.subject,
            "version": v.version,
            "digest": v.digest,
            "loaded_at": v.loaded_at.astimezone(app.settings.tz).isoformat(),
            "loaded_by": v.loaded_by,
        }
        for v in latest.values()
    ]
    state.emit(
        data,
        lambda: table(
            ["名称", "标题", "对象", "版本", "载入时间", "载入人"],
            [
                [
                    v.name,
                    v.title,
                    v.subject,
                    v.version,
                    app.engine.business_time(v.loaded_at),
                    v.loaded_by,
                ]
                for v in latest.values()
            ],
        ),
    )


@definitions.command("show")
@click.argument("name")
@click.option("--version", "version", type=int, help="A specific version (default: latest).")
@pass_state
def definitions_show(state: State, name: str, version: int | None) -> None:
    """States, milestones, transitions and ladder of a definition."""
    from xunshi.display import table

    app = state.app()
    with app.db.transaction() as conn:
        if version is None:
            version = app.registry.latest_version(conn, name)
        defn = app.registry.definition(conn, name, version)
    data = {"version": version, "digest": defn.digest, **defn.to_dict()}

    def human() -> str:
        lines = [
            f"{defn.name} v{version}  {defn.title}  ({defn.subject}, calendar {defn.calendar})",
            "",
        ]
        lines.append(
            table(
                ["阶段", "名称", "期限", "里程碑 (* 必需)"],
                [
                    [
                        s.title,
                        s.name + (" (final)" if s.final else ""),
                        "" if s.due is None else str(s.due),
                        ", ".join(
                            f"{'*' if m.name in s.requires else ''}{m.name} {m.title}"
                            for m in s.milestones
                        ),
                    ]
                    for s in defn.states
                ],
            )
        )
        lines.append("")
        lines.append(
            table(
                ["触发", "从", "到", "角色", "条件"],
                [
                    [t.trigger, t.source, t.dest, ", ".join(t.roles) or "any", ", ".join(t.guards)]
                    for t in defn.transitions
                ],
            )
        )
        ladders = [("", defn.escalation)] + [
            (f"{s.title} ({s.name})", s.escalation) for s in defn.states if s.escalation is not None
        ]
        for stage, ladder in ladders:
            lines.append("")
            if stage:
                lines.append(f"{stage} 阶段督办:")
            lines.append(
                table(
                    ["级别", "时点", "名称", "通知"],
                    [
                        [
                            r.level,
                            str(r.at),
                            r.title,
                            ", ".join(defn.role_title(n) for n in r.notify),
                        ]
                        for r in ladder
                    ],
                )
            )
        return "\n".join(lines)

    state.emit(data, human)


@definitions.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@pass_state
def definitions_validate(state: State, files: tuple[Path, ...]) -> None:
    """Check definition files; every problem is printed as FILE:LINE:COL: message."""
    from xunshi.errors import InvalidDefinition
    from xunshi.workflow.registry import parse

    # Per failing file: the lines to print and the one-line summary.
    failed: list[tuple[list[str], str]] = []
    results = []
    for path in files:
        try:
            defn = parse(_read_text(path), str(path))
        except Failed as unreadable:
            failed.append(([], unreadable.message))
            results.append({"file": str(path), "ok": False, "problems": [unreadable.message]})
            continue
        except InvalidDefinition as invalid:
            failed.append((invalid.problems, invalid.message))
            results.append({"file": str(path), "ok": False, "problems": invalid.problems})
            continue
        results.append(
            {
                "file": str(path),
                "ok": True,
                "name": defn.name,
                "states": len(defn.states),
                "transitions": len(defn.transitions),
            }
        )
    if state.as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for result in results:
            if result["ok"]:
                click.echo(
                    f"{result['file']}: ok ({result['name']}, {result['states']} states, "
                    f"{result['transitions']} transitions)"
                )
    if not failed:
        return
    if len(failed) == 1:
        lines, summary = failed[0]
        if not state.as_json:
            for line in lines:
                click.echo(line, err=True)
        raise Failed(summary)
    if not state.as_json:
        for lines, summary in failed:
            for line in lines or [summary]:
                click.echo(line, err=True)
    raise Failed(f"{len(failed)} of {len(files)} files are not valid definitions")


@definitions.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--actor", help="Who loads it (default $XUNSHI_ACTOR or login name).")
@pass_state
def definitions_load(state: State, file: Path, actor: str | None) -> None:
    """Register a definition file (a new version if its content changed)."""
    from xunshi.errors import InvalidDefinition
    from xunshi.workflow.registry import parse

    app = state.app()
    text = _read_text(file)
    try:
        defn = parse(text, str(file))
    except InvalidDefinition as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise
    registration = app.db.run(
        lambda conn: app.registry.register(
            conn,
            defn,
            source=text,
            source_name=str(file),
            loaded_by=actor or state.settings.actor,
            now=app.now(),
        ),
        immediate=True,
    )
    data = {
        "name": registration.name,
        "version": registration.version,
        "created": registration.created,
        "digest": defn.digest,
    }
    state.emit(
        data,
        lambda: (
            f"Loaded {registration.name} v{registration.version}"
            if registration.created
            else f"{registration.name} unchanged (v{registration.version})"
        ),
    )


@definitions.command("diagram")
@click.argument("name")
@click.option(
    "--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True
)
@click.option("--version", "version", type=int, help="A specific version (default: latest).")
@pass_state
def definitions_diagram(state: State, name: str, fmt: str, version: int | None) -> None:
    """Print a Mermaid or Graphviz diagram of a definition."""
    from xunshi.definitions.diagram import to_dot, to_mermaid

    app = state.app()
    with app.db.transaction() as conn:
        if version is None:
            version = app.registry.latest_version(conn, name)
        defn = app.registry.definition(conn, name, version)
    text = to_mermaid(defn) if fmt == "mermaid" else to_dot(defn)
    state.emit(
        {"name": name, "version": version, "format": fmt, "diagram": text},
        lambda: text.rstrip("\n"),
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Failed(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise Failed(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise Failed(f"{path}: {exc.strerror}") from None


# -- rounds, groups, units, plans ---------------------------------------------------------


@cli.group("round")
def round_() -> None:
    """Inspection rounds (轮次)."""


@round_.command("create")
@click.argument("code")
@click.option("--title", required=True, help="Title, e.g. 2024年第一轮巡视.")
@click.option("--start", "start", required=True, metavar="DATE", help="Start date (YYYY-MM-DD).")
@pass_state
def round_create(state: State, code: str, title: str, start: str) -> None:
    """Create a round."""
    from xunshi.timeparse import parse_date

    start_on = parse_date(start, "start date")
    created = state.app().inspection.create_round(code, title, start_on)
    state.emit(
        {
            "id": created.id,
            "code": created.code,
            "title": created.title,
            "start_on": created.start_on.isoformat(),
        },
        lambda: f"Round {created.code} {created.title} starts {created.start_on}",
    )


@round_.command("list")
@pass_state
def round_list(state: State) -> None:
    """Every round."""
    from xunshi.display import table

    rounds = state.app().inspection.rounds()
    state.emit(
        [
            {"id": r.id, "code": r.code, "title": r.title, "start_on": r.start_on.isoformat()}
            for r in rounds
        ],
        lambda: (
            table(["轮次", "标题", "开始"], [[r.code, r.title, r.start_on] for r in rounds])
            if rounds
            else "No rounds."
        ),
    )


@cli.group()
def group() -> None:
    """Inspection groups (巡视组)."""


@group.command("add")
@click.argument("round_code", metavar="ROUND")
@click.argument("code")
@click.option("--leader", required=True, help="The group leader (组长).")
@pass_state
def group_add(state: State, round_code: str, code: str, leader: str) -> None:
    """Add a group to a round."""
    added = state.app().inspection.add_group(round_code, code, leader)
    state.emit(
        {"id": added.id, "round": added.round, "code": added.code, "leader": added.leader},
        lambda: f"Group {added.code} of round {added.round}, led by {added.leader}",
    )


@group.command("list")
@click.argument("round_code", metavar="ROUND")
@pass_state
def group_list(state: State, round_code: str) -> None:
    """The groups of a round."""
    from xunshi.display import table

    groups = state.app().inspection.groups(round_code)
    state.emit(
        [{"id": g.id, "round": g.round, "code": g.code, "leader": g.leader} for g in groups],
        lambda: (
            table(["巡视组", "组长"], [[g.code, g.leader] for g in groups])
            if groups
            else "No groups."
        ),
    )


@cli.group()
def unit() -> None:
    """Units that are inspected (被巡视单位)."""


@unit.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The unit's name.")
@click.option("--category", default="", help="A category, e.g. 市直机关.")
@pass_state
def unit_add(state: State, code: str, name: str, category: str) -> None:
    """Register a unit."""
    added = state.app().inspection.add_unit(code, name, category)
    state.emit(
        {"id": added.id, "code": added.code, "name": added.name, "category": added.category},
        lambda: f"Unit {added.code} {added.name}",
    )


@unit.command("list")
@pass_state
def unit_list(state: State) -> None:
    """Every unit."""
    from xunshi.display import table

    units = state.app().inspection.units()
    state.emit(
        [{"id": u.id, "code": u.code, "name": u.name, "category": u.category} for u in units],
        lambda: (
            table(["单位", "名称", "类别"], [[u.code, u.name, u.category] for u in units])
            if units
            else "No units."
        ),
    )


@cli.group()
def plan() -> None:
    """Round plans (groups, units and cases from a sheet)."""


@plan.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--actor", help="Who imports (default $XUNSHI_ACTOR or login name).")
@click.option("--at", "at", metavar="TIME", help="When the cases start (default now).")
@pass_state
def plan_import(state: State, file: Path, actor: str | None, at: str | None) -> None:
    """Import a plan sheet (FILE.csv or FILE.xlsx).

    Columns: round, group, group_leader, unit_code, unit_name, unit_category, definition.
    """
    app = state.app()
    result = app.inspection.import_plan(
        file, actor=actor or state.settings.actor, at=_instant(state, at)
    )
    state.emit(
        {
            "cases": [{"id": r.id, "key": r.label.removeprefix("case ")} for r in result.cases],
            "groups_created": result.groups,
            "units_created": result.units,
        },
        lambda: (
            f"Imported {plural(len(result.cases), 'case')} "
            f"({plural(result.groups, 'new group')}, {plural(result.units, 'new unit')})"
        ),
    )


def _instant(
    state: State, text: str | None, what: str = "--at", *, end_of_day: bool = False
) -> Any:
    if text is None:
        return None
    from xunshi.timeparse import parse_instant

    return parse_instant(text, state.settings.tz, what, end_of_day=end_of_day)


# -- cases ------------------------------------------------------------------------------


@cli.group()
def case() -> None:
    """Cases: one unit's inspection in a round. CASE is the id or ROUND/UNIT."""


def actor_options(fn: F) -> F:
    """--actor, --role, --at for commands that act on a case."""
    fn = click.option("--at", "at", metavar="TIME", help="When it happened (default now).")(fn)
    fn = click.option("--role", required=True, help="The role acted in, e.g. group_leader.")(fn)
    fn = click.option("--actor", required=True, help="Who acts.")(fn)
    return fn


@case.command("start")
@click.option("--round", "round_code", required=True, help="Round code.")
@click.option("--unit", "unit_code", required=True, help="Unit code.")
@click.option("--group", "group_code", required=True, help="Group code.")
@click.option("--definition", required=True, help="Definition name, e.g. regular.")
@click.option("--actor", help="Who starts it (default $XUNSHI_ACTOR or login name).")
@click.option("--at", "at", metavar="TIME", help="When it starts (default now).")
@pass_state
def case_start(
    state: State,
    round_code: str,
    unit_code: str,
    group_code: str,
    definition: str,
    actor: str | None,
    at: str | None,
) -> None:
    """Start a unit's inspection."""
    app = state.app()
    ref = app.inspection.start_case(
        round_code=round_code,
        unit_code=unit_code,
        group_code=group_code,
        definition=definition,
        actor=actor or state.settings.actor,
        at=_instant(state, at),
    )
    _show_case(state, app, ref.label.removeprefix("case "))


@case.command("list")
@click.option("--round", "round_code", help="Only this round.")
@click.option("--state", "stage", help="Only cases in this state, e.g. onsite.")
@click.option("--overdue", is_flag=True, help="Only cases past their stage's due date.")
@pass_state
def case_list(state: State, round_code: str | None, stage: str | None, overdue: bool) -> None:
    """Cases with their stage and due date."""
    from xunshi.display import table

    app = state.app()
    with app.db.transaction() as conn:
        if round_code is not None:
            app.inspection.round_id(conn, round_code)
        views = app.views.many(conn, round_code=round_code, state=stage, overdue=overdue)
    tz = app.settings.tz
    state.emit(
        [v.to_json(tz) for v in views],
        lambda: (
            table(
                ["编号", "案件", "单位", "类型", "阶段", "进入", "期限", "剩余"],
                [
                    [
                        v.id,
                        v.key,
                        v.unit_name,
                        v.definition_title,
                        v.state_title,
                        v.entered_at.astimezone(tz).date(),
                        _due_text(v),
                        _left_text(v),
                    ]
                    for v in views
                ],
            )
            if views
            else "No cases."
        ),
    )


@case.command("show")
@click.argument("case_ref", metavar="CASE")
@click.option("--as-of", "as_of", metavar="TIME", help="The case as its history says it was then.")
@pass_state
def case_show(state: State, case_ref: str, as_of: str | None) -> None:
    """One case: stage, due date, milestones, what can happen next."""
    app = state.app()
    _show_case(state, app, case_ref, _instant(state, as_of, "--as-of", end_of_day=True))


def _show_case(state: State, app: App, case_ref: str, as_of: Any = None) -> None:
    with app.db.transaction() as conn:
        ref = app.inspection.resolve(conn, case_ref)
        view = app.views.one(conn, ref) if as_of is None else app.views.as_of(conn, ref, as_of)
    state.emit(view.to_json(app.settings.tz), lambda: _case_text(app, view, as_of))


def _case_text(app: App, view: CaseView, as_of: Any) -> str:
    tz = app.settings.tz
    when = f"  (as of {app.engine.business_time(as_of)})" if as_of is not None else ""
    lines = [
        f"案件    {view.key}  #{view.id}{when}",
        f"单位    {view.unit} {view.unit_name}",
        f"巡视组  {view.group}  组长 {view.group_leader}",
        f"类型    {view.definition_title} ({view.definition} v{view.definition_version})",
        f"阶段    {view.state_title} ({view.state})"
        + ("  暂停中 suspended" if view.suspended else "")
        + f"  since {app.engine.business_time(view.entered_at)}",
    ]
    if view.due_on is not None:
        lines.append(f"期限    {_due_text(view)}  {_left_text(view)}")
    if view.milestones:
        lines.append("里程碑")
        for m in view.milestones:
            mark = "✓" if m.recorded_at else "·"
            need = " (必需)" if m.required else ""
            at = (
                f"  {m.recorded_at.astimezone(tz).strftime('%Y-%m-%d %H:%M')}"
                if m.recorded_at
                else ""
            )
            lines.append(f"  {mark} {m.title} {m.name}{need}{at}")
    if not view.final and view.triggers:
        lines.append(f"可执行  {', '.join(view.triggers)}")
    lines.append(f"版本    {view.version}")
    return "\n".join(lines)


def _due_text(view: CaseView) -> str:
    if view.due_on is None:
        return ""
    return view.due_on.isoformat() + (" (暂定)" if view.provisional else "")


def _left_text(view: CaseView) -> str:
    if view.days_left is None or view.final:
        return ""
    if view.suspended:
        return "暂停"
    if view.overdue:
        return f"超期 {-view.days_left} 天"
    return f"还有 {view.days_left} 天"


@case.command("fire")
@click.argument("case_ref", metavar="CASE")
@click.argument("trigger")
@actor_options
@click.option("--reason", help="Why (kept in the history).")
@pass_state
def case_fire(
    state: State,
    case_ref: str,
    trigger: str,
    actor: str,
    role: str,
    at: str | None,
    reason: str | None,
) -> None:
    """Move a case along TRIGGER, e.g. leave_site."""
    app = state.app()
    ref, outcome = app.inspection.fire(
        case_ref, trigger, actor=actor, role=role, reason=reason, at=_instant(state, at)
    )
    show_moved(state, app, ref, outcome)


def show_moved(state: State, app: App, ref: InstanceRef, outcome: Outcome) -> None:
    """Print what a fired trigger did: `case R/U: 现场巡视 → 沟通, due …`."""
    defn = outcome.definition
    before = defn.state(outcome.event.from_state or "").title
    after = defn.state(outcome.instance.state).title
    due = outcome.instance.due_on
    state.emit(
        _event_json(app, outcome.event),
        lambda: f"{ref.label}: {before} → {after}" + (f", due {due.isoformat()}" if due else ""),
    )


def show_recorded(state: State, app: App, ref: InstanceRef, outcome: Outcome) -> None:
    """Print what a recorded milestone was: `case R/U: 中期会商 (midterm_consultation) …`."""
    name = str(outcome.event.data["milestone"])
    milestone = outcome.definition.state(outcome.instance.state).milestone(name)
    title = milestone.title if milestone else name
    state.emit(_event_json(app, outcome.event), lambda: f"{ref.label}: {title} ({name}) recorded")


@case.command("milestone")
@click.argument("case_ref", metavar="CASE")
@click.argument("name")
@actor_options
@click.option("--reason", help="A note (kept in the history).")
@pass_state
def case_milestone(
    state: State,
    case_ref: str,
    name: str,
    actor: str,
    role: str,
    at: str | None,
    reason: str | None,
) -> None:
    """Record milestone NAME of the case's current stage."""
    app = state.app()
    ref, outcome = app.inspection.record_milestone(
        case_ref, name, actor=actor, role=role, reason=reason, at=_instant(state, at)
    )
    show_recorded(state, app, ref, outcome)


@case.command("suspend")
@click.argument("case_ref", metavar="CASE")
@actor_options
@click.option("--reason", required=True, help="Why the clock stops (kept in the history).")
@pass_state
def case_suspend(
    state: State, case_ref: str, actor: str, role: str, at: str | None, reason: str
) -> None:
    """Stop the stage's clock (e.g. the group is recalled)."""
    app = state.app()
    ref, outcome = app.inspection.suspend(
        case_ref, actor=actor, role=role, reason=reason, at=_instant(state, at)
    )
    state.emit(_event_json(app, outcome.event), lambda: f"{ref.label}: suspended")


@case.command("resume")
@click.argument("case_ref", metavar="CASE")
@actor_options
@click.option("--reason", help="A note (kept in the history).")
@pass_state
def case_resume(
    state: State, case_ref: str, actor: str, role: str, at: str | None, reason: str | None
) -> None:
    """Restart the stage's clock; the due date moves by the working days suspended."""
    app = state.app()
    ref, outcome = app.inspection.resume(
        case_ref, actor=actor, role=role, reason=reason, at=_instant(state, at)
    )
    due = outcome.instance.due_on
    state.emit(
        _event_json(app, outcome.event),
        lambda: f"{ref.label}: resumed" + (f", due {due.isoformat()}" if due else ""),
    )


@case.command("history")
@click.argument("case_ref", metavar="CASE")
@pass_state
def case_history(state: State, case_ref: str) -> None:
    """Every event of a case, oldest first."""
    app = state.app()
    _, events = app.inspection.history(case_ref)
    print_history(state, app, events)


def print_history(state: State, app: App, events: list[Event]) -> None:
    """A history as a table (or JSON)."""
    from xunshi.display import table

    with app.db.transaction() as conn:
        titles = _state_titles(app, conn, events)

    def what(e: Event) -> str:
        if e.kind in ("started", "transition"):
            into = titles.get(e.to_state or "", e.to_state or "")
            return f"{e.trigger or 'start'} → {into}"
        if e.kind == "milestone":
            return str(e.data.get("milestone", ""))
        if e.kind == "task":
            return f"{e.trigger} #{e.data.get('task', '')}"
        return e.trigger or ""

    state.emit(
        [_event_json(app, e) for e in events],
        lambda: table(
            ["序号", "时间", "事件", "内容", "人员", "角色", "理由"],
            [
                [
                    e.seq,
                    app.engine.business_time(e.occurred_at),
                    e.kind,
                    what(e),
                    e.actor,
                    e.role or "",
                    e.reason or "",
                ]
                for e in events
            ],
        ),
    )


def _state_titles(app: App, conn: Any, events: list[Event]) -> dict[str, str]:
    if not events:
        return {}
    first = events[0].data
    defn = app.registry.definition(conn, str(first["definition"]), int(first["definition_version"]))
    return {s.name: s.title for s in defn.states}


def _event_json(app: App, event: Event) -> dict[str, Any]:
    tz = app.settings.tz
    return {
        "seq": event.seq,
        "kind": event.kind,
        "trigger": event.trigger,
        "from": event.from_state,
        "to": event.to_state,
        "actor": event.actor,
        "role": event.role,
        "reason": event.reason,
        "data": dict(event.data),
        "occurred_at": event.occurred_at.astimezone(tz).isoformat(),
        "recorded_at": event.recorded_at.astimezone(tz).isoformat(),
        "hash": event.hash,
    }


# -- escalation -------------------------------------------------------------------------


@cli.command()
@click.option("--now", "now", metavar="TIME", help="Sweep as of TIME (not later than the clock).")
@pass_state
def escalate(state: State, now: str | None) -> None:
    """One sweep: raise every due escalation, then deliver the notifications."""
    from xunshi.workflow.escalation import list_escalations

    app = state.app()
    result = app.sweeper.sweep(_instant(state, now, "--now"))
    app.deliverer.deliver()
    raised = result.raised or []
    with app.db.transaction() as conn:
        views = list_escalations(conn, app.engine, ids=[r.id for r in raised]) if raised else []
    state.emit(
        [v.to_json(app.settings.tz) for v in views],
        lambda: _escalation_table(app, views) if views else "No escalation due.",
    )


@cli.group()
def escalations() -> None:
    """Escalations raised by the sweep."""


@escalations.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only those whose stage is still live.")
@click.option("--round", "round_code", help="Only this round.")
@click.option("--level", type=int, help="Only this level.")
@pass_state
def escalations_list(
    state: State, open_only: bool, round_code: str | None, level: int | None
) -> None:
    """Escalations, oldest first."""
    from xunshi.workflow.escalation import list_escalations

    app = state.app()
    with app.db.transaction() as conn:
        if round_code is not None:
            app.inspection.round_id(conn, round_code)
        views = list_escalations(
            conn, app.engine, open_only=open_only, round_code=round_code, level=level
        )
    state.emit(
        [v.to_json(app.settings.tz) for v in views],
        lambda: _escalation_table(app, views) if views else "No escalations.",
    )


@escalations.command("ack")
@click.argument("escalation_id", metavar="ID")
@click.option("--actor", required=True, help="Who acknowledges it.")
@pass_state
def escalations_ack(state: State, escalation_id: str, actor: str) -> None:
    """Acknowledge an escalation (recorded in the case's history)."""
    from xunshi.errors import BadInput
    from xunshi.workflow.escalation import acknowledge
    from xunshi.workflow.labels import instance_label

    if not escalation_id.isdigit():
        raise BadInput(f"escalation id {escalation_id!r} is not a number")
    app = state.app()
    label, level = acknowledge(app.db, app.engine, instance_label, int(escalation_id), actor)
    state.emit(
        {"id": int(escalation_id), "case": label.removeprefix("case "), "acked_by": actor},
        lambda: f"Escalation {escalation_id} ({label}, level {level}) acknowledged by {actor}",
    )


def _escalation_table(app: App, views: list[Any]) -> str:
    from xunshi.display import table

    return table(
        ["编号", "案件", "阶段", "级别", "名称", "通知", "期限", "发出", "状态"],
        [
            [
                v.id,
                v.case,
                v.stage_title,
                v.level,
                v.title,
                ", ".join(n for n in v.notify),
                v.due_on.isoformat() + (" (暂定)" if v.provisional else ""),
                app.engine.business_time(v.raised_at),
                "已解除" if not v.open else ("已确认" if v.acked_at else "待处理"),
            ]
            for v in views
        ],
    )


@cli.group()
def scheduler() -> None:
    """The escalation scheduler daemon."""


@scheduler.command("run")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds between sweeps.",
)
@pass_state
def scheduler_run(state: State, interval: float) -> None:
    """Sweep and deliver every INTERVAL seconds until SIGTERM or SIGINT."""
    import logging

    from xunshi.scheduler import run_scheduler

    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    run_scheduler(state.app(), interval)


# -- audit ------------------------------------------------------------------------------


@cli.group("audit")
def audit_group() -> None:
    """The hash-chained history: verify, seal, export."""


@audit_group.command("verify")
@click.option(
    "--seal", "seal", metavar="DIGEST", help="Also check the heads recorded by this seal."
)
@pass_state
def audit_verify(state: State, seal: str | None) -> None:
    """Recompute every chain and replay every instance; name each broken event."""
    report = state.app().auditor.verify(seal)
    data = {
        "ok": report.ok,
        "chains": report.chains,
        "events": report.events,
        "problems": [
            {"instance": p.instance, "label": p.label, "seq": p.seq, "reason": p.reason}
            for p in report.problems
        ],
    }
    if state.as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif report.ok:
        sealed = " and match the seal" if seal else ""
        click.echo(
            f"OK: {plural(report.chains, 'chain')}, {plural(report.events, 'event')} "
            f"verified{sealed}"
        )
    else:
        for problem in report.problems:
            click.echo(str(problem), err=True)
    if not report.ok:
        raise Failed(
            f"audit failed: {plural(len(report.problems), 'problem')} in "
            f"{plural(len({p.instance for p in report.problems}), 'chain')}"
        )


@audit_group.command("seal")
@click.option("--actor", help="Who seals (default $XUNSHI_ACTOR or login name).")
@pass_state
def audit_seal(state: State, actor: str | None) -> None:
    """Store and print a digest over every chain head (keep it somewhere else)."""
    sealed = state.app().auditor.seal(actor or state.settings.actor)
    state.emit(
        {
            "digest": sealed.digest,
            "chains": sealed.chains,
            "events": sealed.events,
            "created_at": sealed.created_at,
        },
        lambda: sealed.digest,
    )


@audit_group.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option("--out", type=click.Path(path_type=Path), help="Write to a file instead of stdout.")
@pass_state
def audit_export(state: State, fmt: str, out: Path | None) -> None:
    """Every event with its hashes, for archiving or outside checking."""
    auditor = state.app().auditor
    if out is None:
        auditor.export(sys.stdout, fmt)
        return
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    with out.open("w", encoding=encoding, newline="") as handle:
        count = auditor.export(handle, fmt)
    if not state.as_json:
        click.echo(f"Exported {count} events to {out}", err=True)


# -- calendar ---------------------------------------------------------------------------


@cli.group()
def calendar() -> None:
    """The working-day calendar."""


@calendar.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--actor", help="Who loads it (default $XUNSHI_ACTOR or login name).")
@pass_state
def calendar_load(state: State, file: Path, actor: str | None) -> None:
    """Add or correct a year: holidays and make-up working days (YAML)."""
    app = state.app()
    loaded = app.load_calendar(_read_text(file), file.name, actor or state.settings.actor)
    state.emit(
        {
            "year": loaded.year,
            "holidays": loaded.holidays,
            "workdays": loaded.workdays,
            "rescheduled": loaded.rescheduled,
        },
        lambda: (
            f"Loaded {loaded.year}: {loaded.holidays} holidays, {loaded.workdays} make-up "
            f"working days; {plural(loaded.rescheduled, 'deadline')} recomputed"
        ),
    )


@calendar.command("workdays", context_settings={"ignore_unknown_options": True})
@click.argument("start", metavar="FROM")
@click.argument("count", metavar="N")
@pass_state
def calendar_workdays(state: State, start: str, count: str) -> None:
    """The N-th working day after FROM (before it if N is negative)."""
    from xunshi.errors import BadInput
    from xunshi.timeparse import parse_date
    from xunshi.workflow.calendar import calendar_for

    day = parse_date(start, "FROM")
    try:
        n = int(count)
    except ValueError:
        raise BadInput(f"N {count!r} is not a whole number") from None
    app = state.app(initialised=False)
    # With an initialised database, the years users loaded count too.
    initialised = app.db.exists() and app.db.schema_version() is not None
    cal = app.calendar() if initialised else calendar_for("cn")
    result = cal.add_working_days(day, n)
    provisional = cal.provisional(min(day, result), max(day, result))
    state.emit(
        {"from": day.isoformat(), "n": n, "date": result.isoformat(), "provisional": provisional},
        lambda: (
            result.isoformat() + ("  (暂定 provisional: no calendar data)" if provisional else "")
        ),
    )


# -- demo -------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--db", "demo_db", metavar="URL", help="Where to run it (default a fresh xunshi-demo.db)."
)
@pass_state
def demo(state: State, demo_db: str | None) -> None:
    """Run a sample round on a virtual clock and print its report."""
    from xunshi.demo import run_demo

    # `xunshi --db URL demo` and `xunshi demo --db URL` both choose the database; XUNSHI_DB
    # does not, so that the demo never writes into the database people work in.
    run_demo(state.settings, demo_db or state.db_option, echo=click.echo)


# The rectification commands (item, task, items, categories, ledger, report) live in their
# own module and register themselves on `cli`.
from xunshi import cli_rectification  # noqa: E402, F401
