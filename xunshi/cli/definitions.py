"""`xunshi definitions …`: list, show, validate, load, diagram."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from xunshi.cli import render
from xunshi.cli.options import Listing, actor_option, paging_options, read_text, whole_number
from xunshi.cli.root import Failed, State, XunshiGroup, pass_state
from xunshi.display import one_line
from xunshi.errors import InvalidDefinition
from xunshi.paging import after_key, parse_code_cursor


@click.group(cls=XunshiGroup)
def definitions() -> None:
    """Lifecycle definitions: list, show, validate, load, diagram."""


@definitions.command("list")
@paging_options(parse_code_cursor, "a definition's name (definitions come by name)")
@pass_state
def definitions_list(state: State, listing: Listing[str]) -> None:
    """Registered definitions, each in its latest version, by name."""
    from xunshi.read.catalog import version_json  # the JSON shape; needs SQLAlchemy

    latest = after_key(
        state.services().read.catalog.definitions(), lambda v: v.name, listing.page, "definition"
    )
    tz = state.settings.tz
    render.emit_list(
        state,
        latest,
        lambda v: version_json(v, tz),
        lambda shown: render.definition_versions(shown, tz),
        jsonl=listing.jsonl,
    )


@definitions.command("show")
@click.argument("name")
@click.option(
    "--version", metavar="N", callback=whole_number, help="A specific version (default: latest)."
)
@pass_state
def definitions_show(state: State, name: str, version: int | None) -> None:
    """States, milestones, transitions and ladder of a definition."""
    shown = state.services().read.catalog.definition(name, version)
    render.emit(
        state, shown.to_json(), lambda: render.definition_text(shown.definition, shown.version)
    )


@definitions.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@pass_state
def definitions_validate(state: State, files: tuple[Path, ...]) -> None:
    """Check definition files; every problem is printed as FILE:LINE:COL: message."""
    # Validation needs no database: the parser alone, imported only by this command.
    from xunshi.workflow.registry import parse

    # Per failing file: the lines to print and the one-line summary.
    failed: list[tuple[list[str], str]] = []
    results: list[dict[str, Any]] = []
    for path in files:
        try:
            defn = parse(read_text(path), str(path))
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
                click.echo(one_line(line), err=True)
        raise Failed(summary)
    if not state.as_json:
        for lines, summary in failed:
            for line in lines or [summary]:
                click.echo(one_line(line), err=True)
    raise Failed(f"{len(failed)} of {len(files)} files are not valid definitions")


@definitions.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@actor_option("Who loads it")
@click.option(
    "--replace-builtin",
    is_flag=True,
    help="Let a file named like a built-in (e.g. regular) become its new version.",
)
@pass_state
def definitions_load(state: State, file: Path, actor: str, replace_builtin: bool) -> None:
    """Register a definition file (a new version if its content changed)."""
    services = state.services()
    loaded = services.definitions.load(
        read_text(file), str(file), actor, replace_builtin=replace_builtin
    )
    r = loaded.registration
    render.emit(
        state,
        loaded.to_json(),
        lambda: (
            f"Loaded {r.name} v{r.version}" if r.created else f"{r.name} unchanged (v{r.version})"
        ),
    )


@definitions.command("diagram")
@click.argument("name")
@click.option(
    "--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True
)
@click.option(
    "--version", metavar="N", callback=whole_number, help="A specific version (default: latest)."
)
@pass_state
def definitions_diagram(state: State, name: str, fmt: str, version: int | None) -> None:
    """Print a Mermaid or Graphviz diagram of a definition."""
    from xunshi.definitions.diagram import to_dot, to_mermaid  # this command only

    shown = state.services().read.catalog.definition(name, version)
    text = to_mermaid(shown.definition) if fmt == "mermaid" else to_dot(shown.definition)
    render.emit(
        state,
        {"name": name, "version": shown.version, "format": fmt, "diagram": text},
        lambda: text.rstrip("\n"),
    )
