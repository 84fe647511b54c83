"""bench/load.py at its reduced size (`--quick`: 120 cases, 8 writers, 2 schedulers, a
scheduler killed and restarted, writers' connections terminated) passes its own checks on
PostgreSQL: histories verify, escalations and notifications once each, nothing left
claimed, every successful command in the history exactly once. The baseline is left out
here (the figures are `make bench`'s); the checks are what must hold."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "load.py"
CHECKS = (
    "every history contiguous, `audit verify` passes",
    "every due rung escalated exactly once",
    "every notification delivered exactly once per key",
    "no timer or notification claimed past its lease",
    "every command that succeeded is in the history exactly once",
    "the schedulers caught up",
)


@pytest.mark.postgres
def test_the_load_bench_passes_its_checks_at_reduced_size(pg_available: bool) -> None:
    if not pg_available:
        pytest.skip("PostgreSQL tests skipped: set XUNSHI_TEST_PG_URL to run them")
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNSHI_")}
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--no-baseline",
         "--pg-url", os.environ["XUNSHI_TEST_PG_URL"]],
        capture_output=True, text=True, timeout=900, check=False, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    results = {
        cells[1].strip(): cells[2].strip()
        for cells in (line.split("|") for line in done.stdout.splitlines())
        if len(cells) == 5 and cells[2].strip() in ("pass", "FAIL")
    }
    assert results == dict.fromkeys(CHECKS, "pass"), done.stdout
    assert "| cases driven (whole lifecycles) | 120 |" in done.stdout
    assert "5 writer connections terminated" in done.stdout
