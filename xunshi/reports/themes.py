"""Writing the thematic view (专题汇总) to files: CSV or XLSX."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from xunshi.read.themes import COLUMNS, Theme
from xunshi.reports.ledger import write_sheet


def write_themes(themes: Sequence[Theme], out: Path, fmt: str) -> None:
    """Export as CSV (UTF-8 with BOM) or XLSX."""
    rows = [t.row() for t in themes]
    if fmt == "xlsx":
        write_sheet("专题汇总", COLUMNS, rows, out, {"涉及单位": 60}, frozenset())
        return
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(list(row.values()) for row in rows)
