"""`xunshi ledger export` and `xunshi report …`: what the office hands on."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from xunshi.cli import render
from xunshi.cli.options import export_options
from xunshi.cli.root import Failed, State, XunshiGroup, pass_state
from xunshi.display import plural
from xunshi.keys import parse_reference
from xunshi.reports.output import STDOUT, choose_target, write_to

if TYPE_CHECKING:
    from xunshi.read.statistics import RoundStatistics
    from xunshi.read.theme_reports import ThemeReport

LEDGER_FORMATS = ("xlsx", "csv")
THEMES_FORMATS = ("csv", "xlsx")  # CSV first: what `--out -` prints
STATISTICS_FORMATS = ("csv", "md", "xlsx")
THEME_FORMATS = ("csv", "md", "xlsx")


@click.group(cls=XunshiGroup)
def ledger() -> None:
    """The rectification ledger (整改台账)."""


@ledger.command("export")
@click.option("--round", "round_code", required=True, help="The round.")
@click.option("--case", "case_ref", help="Only this case.")
@export_options(
    LEDGER_FORMATS,
    out_required=True,
    out_help="The file to write (.xlsx or .csv), or - for CSV on stdout.",
)
@pass_state
def ledger_export(
    state: State, round_code: str, case_ref: str | None, fmt: str | None, out: str, force: bool
) -> None:
    """Write the ledger: one row per task (an item without one: one row), the office's columns."""
    # The writers read through the read side (SQLAlchemy): this command only.
    from xunshi.reports.ledger import write_csv, write_xlsx

    target = choose_target(out, fmt, LEDGER_FORMATS, force=force)
    case = None if case_ref is None else parse_reference(case_ref, "case")
    found = state.services().read.ledger.of(round_code, case)
    write = write_xlsx if target.format == "xlsx" else write_csv
    write_to(target, lambda handle: write(found, handle), sys.stdout)
    if target.path is None:
        return
    render.emit(
        state,
        {"rows": len(found.rows), "out": target.name, "format": target.format},
        lambda: f"Wrote {plural(len(found.rows), 'row')} to {target.name}",
    )


@click.group(cls=XunshiGroup)
def report() -> None:
    """Reports across units."""


@report.command("themes")
@click.option("--round", "round_code", required=True, help="The round.")
@export_options(
    ("table", *THEMES_FORMATS),
    out_required=False,
    out_help="Write to FILE (.csv or .xlsx) instead of printing a table; - is CSV on stdout.",
)
@pass_state
def report_themes(
    state: State, round_code: str, fmt: str | None, out: str | None, force: bool
) -> None:
    """Per category: units, items, key and common problems, accepted, open, overdue."""
    if fmt == "table" and out not in (None, STDOUT):
        raise Failed("--format table prints a table; write a file as csv or xlsx")
    if fmt == "table" or (fmt is None and out is None):
        view = state.services().read.themes.of(round_code)
        render.emit(
            state,
            view.to_json(),
            lambda: render.themes_table(view.themes) if view.themes else "No items in this round.",
        )
        return
    # The writers read through the read side (SQLAlchemy): this command only.
    from xunshi.reports.themes import write_csv, write_xlsx

    target = choose_target(out or STDOUT, fmt, THEMES_FORMATS, force=force)
    view = state.services().read.themes.of(round_code)
    write = write_xlsx if target.format == "xlsx" else write_csv
    write_to(target, lambda handle: write(view, handle), sys.stdout)
    if target.path is None:
        return
    count = len(view.themes)
    render.emit(
        state,
        {"categories": count, "out": target.name},
        lambda: f"Wrote {plural(count, 'category', 'categories')} to {target.name}",
    )


@report.command("theme")
@click.argument("round_code", metavar="ROUND")
@click.argument("code")
@export_options(
    THEME_FORMATS,
    out_required=False,
    out_help="Write to FILE (.xlsx, .csv or .md) instead of printing it; - is CSV (or "
    "--format md) on stdout.",
)
@pass_state
def report_theme(
    state: State, round_code: str, code: str, fmt: str | None, out: str | None, force: bool
) -> None:
    """专题报告: the problem across units, the department, the measures, the totals."""
    if out is None:
        if fmt is not None or force:
            raise Failed("--format and --force go with --out FILE (or --out - for stdout)")
        shown = state.services().read.theme_reports.of(round_code, code)
        render.emit(state, shown.to_json(), lambda: render.theme_report_text(shown))
        return
    # The writers read through the read side (SQLAlchemy): this command only.
    from xunshi.reports.theme_report import write_csv, write_md, write_xlsx

    target = choose_target(out, fmt, THEME_FORMATS, force=force)
    report_ = state.services().read.theme_reports.of(round_code, code)
    writers: dict[str, Callable[[ThemeReport, Any], None]] = {
        "xlsx": write_xlsx,
        "csv": write_csv,
        "md": write_md,
    }
    write_to(target, lambda handle: writers[target.format](report_, handle), sys.stdout)
    if target.path is None:
        return
    count = len(report_.items)
    render.emit(
        state,
        {"items": count, "out": target.name, "format": target.format},
        lambda: f"Wrote theme {report_.code} ({plural(count, 'item')}) to {target.name}",
    )


@report.command("common")
@click.argument("round_code", metavar="ROUND")
@pass_state
def report_common(state: State, round_code: str) -> None:
    """共性问题 (computed): each category and tag found in at least N units of the round."""
    common = state.services().read.common.of(round_code)
    render.emit(state, common.to_json(), lambda: render.common_table(common))


@report.command("round")
@click.argument("round_code", metavar="ROUND")
@pass_state
def report_round(state: State, round_code: str) -> None:
    """A round at a glance: stages by kind, every case, escalations by level, what is overdue."""
    overview = state.services().read.overview.of(round_code)
    render.emit(state, overview.to_json(state.settings.tz), lambda: render.round_report(overview))


@report.command("statistics")
@click.argument("round_code", metavar="ROUND")
@export_options(
    ("table", *STATISTICS_FORMATS),
    out_required=False,
    out_help="Write to FILE (.xlsx, .csv or .md) instead of printing tables; - is stdout.",
)
@pass_state
def report_statistics(
    state: State, round_code: str, fmt: str | None, out: str | None, force: bool
) -> None:
    """The leading group's figures per unit, group and round: talks, letters, documents,
    problems by category, clues and their dispositions, rectification, evaluation grades."""
    if fmt == "table" and out not in (None, STDOUT):
        raise Failed("--format table prints tables; write a file as xlsx, csv or md")
    if fmt == "table" or (fmt is None and out is None):
        view = state.services().read.statistics.of(round_code)
        render.emit(state, view.to_json(), lambda: render.statistics_text(view))
        return
    # The writers read through the read side (SQLAlchemy): this command only.
    from xunshi.reports.statistics import write_csv, write_markdown, write_xlsx

    target = choose_target(out or STDOUT, fmt, STATISTICS_FORMATS, force=force)
    view = state.services().read.statistics.of(round_code)
    writers: dict[str, Callable[[RoundStatistics, Any], None]] = {
        "xlsx": write_xlsx,
        "csv": write_csv,
        "md": write_markdown,
    }
    write_to(target, lambda handle: writers[target.format](view, handle), sys.stdout)
    if target.path is None:
        return
    units = view.total.units
    render.emit(
        state,
        {"units": units, "out": target.name, "format": target.format},
        lambda: f"Wrote the statistics of {plural(units, 'unit')} to {target.name}",
    )
