"""bench/run_all.py writes RESULTS.md and bench/readme.py puts its tables into the README:
only between the markers, the same every time, never from failed or quick runs."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


run_all = _load("run_all")
readme = _load("readme")

TABLES = {
    "fire": "| measure | value |\n|---|---|\n| xunshi, events/s (median of 3) | 2,279 |",
    "sweep": "claim query plan: SEARCH timer\n\n| pending timers | due |\n|---|---|"
    "\n| 10,000 | 1,000 |",
    "import": "| import | median | runs |\n|---|---|---|\n| 1,000 items | 2.20 s | 2.2 |",
    "verify": "| measure | value |\n|---|---|\n| audit verify (median of 3) | 65,567 events/s |"
    "\n\ntarget 100,000 events/s missed: 65,567 events/s",
    "web": "| round | page | median |\n|---|---|---|\n| demo (36 cases) | overview | 30.0 ms |",
    "lists": "| cases | peak RSS |\n|---|---|\n| 20,000 | 54 MiB |",
    "load": "| measure | value |\n|---|---|\n| xunshi, events/s (8 writers) | 165 |",
}


def _outcome(name: str, status: int | None = 0, stderr: str = "") -> object:
    bench = next(b for b in run_all.BENCHES if b.name == name)
    stdout = f"{name} benchmark in /tmp/x\n  run 1: fine\n\n{TABLES.get(name, '')}\n"
    argv = bench.argv(False, run_all.DEFAULT_PG_URL)
    return run_all.Outcome(bench, argv, status, 12.0, stdout if status is not None else "", stderr)


def _results(*outcomes: object, quick: bool = False) -> str:
    described = [("CPU", "Some CPU, 2 CPUs"), ("git commit", "abc1234 A commit")]
    began = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    text: str = run_all.report(list(outcomes), described, began=began, quick=quick)
    return text


ALL = ("fire", "sweep", "import", "verify", "web", "lists", "load")
README = (
    "# xunshi\n\nIntro.\n\n## Performance\n\n"
    f"{readme.START}\nHand-written figures.\n{readme.END}\n\n"
    "How the fire path stays close to the driver.\n\n## Later\n\nMore.\n"
)


def _generated(results: str) -> str:
    text: str = readme.replace(README, readme.block(readme.parse(results)))
    return text


def test_only_the_marked_block_is_replaced() -> None:
    new = _generated(_results(*map(_outcome, ALL)))
    before, _, rest = README.partition(readme.START)
    _, _, after = rest.partition(readme.END)
    assert new.startswith(before + readme.START + "\n")
    assert new.endswith(readme.END + after)
    assert "Hand-written figures." not in new
    inside = new[len(before) : len(new) - len(after)]
    for table in TABLES.values():
        assert table in inside  # verbatim
    assert "run 1: fine" not in inside  # the progress log stays in RESULTS.md
    assert "`python bench/fire.py` — a full lifecycle" in inside
    assert "PostgreSQL under load and faults: 8 writer processes" in inside


def test_generating_twice_changes_nothing_more() -> None:
    results = _results(*map(_outcome, ALL))
    once = _generated(results)
    twice = readme.replace(once, readme.block(readme.parse(results)))
    assert twice == once


def test_a_failed_bench_refuses_and_names_it() -> None:
    outcomes = [_outcome(n) for n in ALL if n != "web"]
    outcomes.append(_outcome("web", status=1, stderr="Traceback\nValueError: boom\n"))
    results = _results(*outcomes)
    assert "Status: failed: exit status 1 after 12 s." in results
    assert "ValueError: boom" in results
    with pytest.raises(readme.Refused, match=r"bench failed: web \(failed: exit status 1"):
        _generated(results)


def test_quick_figures_and_missing_benches_refuse() -> None:
    with pytest.raises(readme.Refused, match="quick-size figures"):
        _generated(_results(*map(_outcome, ALL), quick=True))
    with pytest.raises(readme.Refused, match="no results for verify, import"):
        _generated(_results(_outcome("fire"), _outcome("sweep"), _outcome("web")))


def test_markers_must_be_there_once() -> None:
    block = readme.block(readme.parse(_results(*map(_outcome, ALL))))
    with pytest.raises(readme.Refused, match="expected one"):
        readme.replace("# no markers\n", block)
    with pytest.raises(readme.Refused, match="comes before"):
        readme.replace(f"{readme.END}\n{readme.START}\n", block)


def test_the_readme_has_its_markers_under_performance() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert text.count(readme.START) == text.count(readme.END) == 1
    performance = text.index("## Performance")
    assert performance < text.index(readme.START) < text.index(readme.END)


def test_every_bench_but_load_has_its_prose() -> None:
    assert set(readme.PROSE) == {b.name for b in run_all.BENCHES if not b.optional}


def test_a_bench_past_its_timeout_is_stopped_and_reported(tmp_path: Path) -> None:
    script = tmp_path / "slow.py"
    script.write_text("import time\nprint('working', flush=True)\ntime.sleep(60)\n")
    outcome = run_all.run_bench(run_all.Bench("slow", str(script)), False, "", timeout=1.0)
    assert outcome.timed_out and not outcome.ok
    assert outcome.stdout == "working\n"
    assert "(timeout)" in "\n".join(run_all.section(outcome))


def test_a_failing_bench_keeps_its_status_and_the_end_of_its_stderr(tmp_path: Path) -> None:
    script = tmp_path / "broken.py"
    script.write_text("import sys\nprint('| a |')\nsys.exit('no database')\n")
    outcome = run_all.run_bench(run_all.Bench("broken", str(script)), False, "", timeout=30)
    assert (outcome.status, outcome.ok, outcome.stderr) == (1, False, "no database\n")
    text = "\n".join(run_all.section(outcome))
    assert "Status: failed: exit status 1 after" in text
    assert "| a |\n" in text and "no database" in text
