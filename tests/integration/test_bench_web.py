"""bench/web.py in its quick mode (small rounds, a second of load), so that it cannot rot:
it builds both rounds, times both pages of each in process, serves each with `xunshi serve`
to concurrent clients, and prints its tables with no failed request."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "web.py"


@pytest.mark.slow
def test_the_web_bench_runs_quick() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "targets met" in done.stdout or "targets missed: " in done.stdout
    rows = [line.split(" | ") for line in done.stdout.splitlines() if line.startswith("| seeded")]
    timed = [row for row in rows if row[1] in ("overview", "case page")]
    assert [(row[0], row[1]) for row in timed] == [
        ("| seeded 36-unit round (36 cases)", "overview"),
        ("| seeded 36-unit round (36 cases)", "case page"),
        ("| seeded round (100 cases)", "overview"),
        ("| seeded round (100 cases)", "case page"),
    ]
    for row in timed:
        assert row[2].endswith(" ms") and float(row[2].removesuffix(" ms")) > 0
    loaded = [row for row in rows if row[1].startswith("overview and case pages")]
    assert len(loaded) == 2
    for row in loaded:
        requests, errors = int(row[2].replace(",", "")), int(row[3])
        assert requests > 0 and errors == 0
