"""bench/verify.py in its quick mode (a few thousand events, one run), so that it cannot rot:
it seeds valid chains, verifies them clean with xunshi and with the plain hashlib loop, and
prints its table with both rates, their ratio and a peak RSS per size."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "verify.py"


@pytest.mark.slow
def test_the_verify_bench_runs_quick() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verify benchmark: 2,000 events in 100 chains" in done.stdout
    rows = {
        cells[1].strip(): cells[2].strip()
        for cells in (line.split("|") for line in done.stdout.splitlines())
        if len(cells) == 4 and cells[1].strip() not in ("measure", "---")
    }
    for name in ("audit verify (median of 1)", "plain hashlib loop, same rows (median)"):
        assert re.fullmatch(r"[\d,]+ events/s", rows[name]), rows
        assert int(rows[name].split()[0].replace(",", "")) > 0
    [ratio] = [value for name, value in rows.items() if name.startswith("ratio verify / hashlib")]
    assert float(ratio) > 0
    peaks = {name: value for name, value in rows.items() if name.startswith("peak RSS")}
    assert list(peaks) == [
        "peak RSS verifying 1,000 events",
        "peak RSS verifying 4,000 events",
        "peak RSS of `audit export` (JSON lines), 1,000 events",
        "peak RSS of `audit export` (JSON lines), 4,000 events",
    ]
    assert all(
        re.fullmatch(r"\d+ MiB", peak) and int(peak.split()[0]) > 10 for peak in peaks.values()
    )
    assert re.search(r"target 100,000 events/s (met|missed)", done.stdout)
