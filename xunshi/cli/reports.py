"""`xunshi ledger export` and `xunshi report …`: what the office hands on."""

from __future__ import annotations

from pathlib import Path

import click

from xunshi.cli import render
from xunshi.cli.root import Failed, State, XunshiGroup, pass_state
from xunshi.display import plural
from xunshi.keys import parse_reference


@click.group(cls=XunshiGroup)
def ledger() -> None:
    """The rectification ledger (整改台账)."""


@ledger.command("export")
@click.option("--round", "round_code", required=True, help="The round.")
@click.option("--case", "case_ref", help="Only this case.")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="The file to write.")
@pass_state
def ledger_export(state: State, round_code: str, case_ref: str | None, fmt: str, out: Path) -> None:
    """Write the ledger: one row per task, the columns offices use."""
    # The writers read through the read side (SQLAlchemy): this command only.
    from xunshi.reports.ledger import write_csv, write_xlsx

    case = None if case_ref is None else parse_reference(case_ref, "case")
    found = state.services().read.ledger.of(round_code, case)
    if fmt == "xlsx":
        with out.open("wb") as binary:
            write_xlsx(found, binary)
    else:
        with out.open("w", encoding="utf-8-sig", newline="") as text:
            write_csv(found, text)
    render.emit(
        state,
        {"rows": len(found.rows), "out": str(out), "format": fmt},
        lambda: f"Wrote {plural(len(found.rows), 'row')} to {out}",
    )


@click.group(cls=XunshiGroup)
def report() -> None:
    """Reports across units."""


@report.command("themes")
@click.option("--round", "round_code", required=True, help="The round.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "xlsx"]), default="table")
@click.option("--out", type=click.Path(path_type=Path), help="File for csv/xlsx.")
@pass_state
def report_themes(state: State, round_code: str, fmt: str, out: Path | None) -> None:
    """Per category: units, items, key and common problems, accepted, open, overdue."""
    view = state.services().read.themes.of(round_code)
    themes = view.themes
    if fmt != "table":
        # The writers read through the read side (SQLAlchemy): this command only.
        from xunshi.reports.themes import write_csv, write_xlsx

        if out is None:
            raise Failed(f"--format {fmt} needs --out FILE")
        if fmt == "xlsx":
            with out.open("wb") as binary:
                write_xlsx(view, binary)
        else:
            with out.open("w", encoding="utf-8-sig", newline="") as text:
                write_csv(view, text)
        render.emit(
            state,
            {"categories": len(themes), "out": str(out)},
            lambda: f"Wrote {plural(len(themes), 'category', 'categories')} to {out}",
        )
        return
    render.emit(
        state,
        view.to_json(),
        lambda: render.themes_table(themes) if themes else "No items in this round.",
    )
