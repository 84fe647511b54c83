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
    from xunshi.reports.ledger import write_csv, write_xlsx  # openpyxl: this command only

    case = None if case_ref is None else parse_reference(case_ref, "case")
    found = state.services().read.ledger.of(round_code, case)
    (write_xlsx if fmt == "xlsx" else write_csv)(found.rows, out)
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
    themes = state.services().read.themes.of(round_code)
    if fmt != "table":
        from xunshi.reports.themes import write_themes  # openpyxl: this command only

        if out is None:
            raise Failed(f"--format {fmt} needs --out FILE")
        write_themes(themes, out, fmt)
        render.emit(
            state,
            {"categories": len(themes), "out": str(out)},
            lambda: f"Wrote {plural(len(themes), 'category', 'categories')} to {out}",
        )
        return
    render.emit(
        state,
        [t.to_json() for t in themes],
        lambda: render.themes_table(themes) if themes else "No items in this round.",
    )
