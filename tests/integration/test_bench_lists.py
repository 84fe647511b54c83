"""bench/lists.py in its quick mode (500 and 5,000 cases, one run each): `xunshi --json case
list` in a fresh process must print every case and keep its peak RSS flat, while the whole
list built at once (the way it printed before it streamed) grows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "lists.py"
RATIOS = re.compile(
    r"peak 5,000 / 500 cases: (?P<streamed>[\d.]+) \(streamed\), (?P<before>[\d.]+) \(before\)"
)


@pytest.mark.slow
def test_case_list_runs_in_flat_memory() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [
        [cell.strip() for cell in line.split("|")[1:-1]]
        for line in done.stdout.splitlines()
        if line.startswith("| ") and line[2].isdigit()
    ]
    assert [row[0] for row in rows] == ["500", "5,000"]
    peaks = [int(row[1].removesuffix(" MiB")) for row in rows]
    assert all(peak > 10 for peak in peaks), peaks
    assert peaks[1] < peaks[0] * 1.25, done.stdout
    found = RATIOS.search(done.stdout)
    assert found is not None, done.stdout
    assert float(found["streamed"]) < 1.25
    # the bench sees growth where there is some: the whole list at once grows with it
    assert float(found["before"]) > float(found["streamed"]), done.stdout
    assert "flat (< 1.25): yes" in done.stdout
