"""Benchmark: the peak memory of `xunshi --json case list` must not grow with the cases.

    python bench/lists.py [--sizes 2000,20000] [--repeat 3] [--quick]

1. Seeding. xunshi creates the schema (`definitions.init`), one round, eight groups and
   one case started through the service; the other cases are that case cloned straight
   into the tables (the bench only: `unit`, `instance`, `inspection_case` and `event` rows
   inserted in bulk with SQLAlchemy Core), so a database of 20,000 cases takes seconds.
2. For each size, `xunshi --json case list` runs in a fresh process (`python bench/lists.py
   --worker …`, which calls the CLI's `main` and reports its own peak RSS, `VmHWM`: on
   Linux `getrusage` in an exec'd child carries the parent's peak) with its output going to
   a file that the bench then parses (every case there, once). The baseline, in the same
   run and the same way, is `--limit 1` on the same database (what any command costs),
   and `before`: the whole list built and dumped at once, as `case list --json` printed it
   before it streamed (`CaseQueries.many` and one `json.dumps`).
3. The check: the peak at the largest size is below the smallest size's × 1.25 (`flat`).
   Medians of `--repeat` runs; the machine is shared, so read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings
from xunshi.storage import queries as q
from xunshi.workflow.clock import ManualClock

START = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
ROUND = "2025-R1"
ACTOR = "bench"
GROUPS = 8
GROWTH = 1.25  # the largest size's peak may be at most this many times the smallest's


def seed(path: Path, cases: int) -> None:
    """A database with `cases` regular cases of round 2025-R1, all in their first stage."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    app = bootstrap(Settings(db_url=f"sqlite:///{path}", actor=ACTOR), ManualClock(START))
    services = app.services
    services.definitions.init(ACTOR)
    services.cases.create_round(ROUND, "基准轮次", date(2025, 3, 3))
    for g in range(1, GROUPS + 1):
        services.cases.add_group(ROUND, f"G{g}", f"组长{g}")
    services.cases.add_unit("U00000", "单位0")
    services.cases.start_case(
        round_code=ROUND, unit_code="U00000", group_code="G1", definition="regular", actor=ACTOR
    )
    _clone(app, cases)
    app.db.dispose()


def _clone(app: App, cases: int) -> None:
    """Cases 2 … `cases`: copies of the first one, each with its own unit and instance."""
    i, c, u, e, g = q.instances, q.cases, q.units, q.events, q.groups
    with app.db.transaction() as conn:
        [case] = conn.execute(select(c)).mappings().all()
        instance = dict(conn.execute(select(i).where(i.c.id == case["id"])).mappings().one())
        events = [
            dict(row)
            for row in conn.execute(select(e).where(e.c.instance_id == case["id"])).mappings()
        ]
        groups = list(conn.execute(select(g.c.id).order_by(g.c.code)).scalars())
        next_id = conn.execute(select(func.max(i.c.id))).scalar_one() + 1
        next_unit = conn.execute(select(func.max(u.c.id))).scalar_one() + 1
    for start in range(1, cases, 5000):
        numbers = range(start, min(cases, start + 5000))
        with app.db.transaction() as conn:
            conn.execute(
                insert(u),
                [
                    {"id": next_unit + n, "code": f"U{n:05d}", "name": f"单位{n}", "category": ""}
                    for n in numbers
                ],
            )
            conn.execute(insert(i), [{**instance, "id": next_id + n} for n in numbers])
            conn.execute(
                insert(c),
                [
                    {
                        "id": next_id + n,
                        "round_id": case["round_id"],
                        "unit_id": next_unit + n,
                        "group_id": groups[n % len(groups)],
                    }
                    for n in numbers
                ],
            )
            conn.execute(
                insert(e),
                [{**event, "instance_id": next_id + n} for n in numbers for event in events],
            )


def peak_rss_kib() -> int:
    """This process's own peak RSS in KiB (`VmHWM`; see bench/verify.py on `getrusage`)."""
    status = Path("/proc/self/status").read_text()
    [line] = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1])


def worker(path: Path, mode: str) -> None:
    """Print the case list of the database at `path` to stdout (`mode`: `stream`, the CLI's
    `--json case list`; `first`, with `--limit 1`; `before`, the whole list at once), then
    this process's peak RSS (KiB) on stderr as JSON."""
    # Imported here: the seeding side of the bench never needs the CLI.
    from xunshi.cli import main as cli_main

    url = f"sqlite:///{path}"
    if mode == "before":
        app = bootstrap(Settings(db_url=url, actor=ACTOR))
        tz = app.settings.tz
        views = app.services.read.cases.many()
        sys.stdout.write(json.dumps([v.to_json(tz) for v in views], ensure_ascii=False, indent=2))
        sys.stdout.write("\n")
    else:
        extra = ["--limit", "1"] if mode == "first" else []
        try:
            cli_main(["--db", url, "--json", "case", "list", *extra])
        except SystemExit as exc:
            if exc.code:
                raise
    sys.stdout.flush()
    print(json.dumps({"peak_kib": peak_rss_kib()}), file=sys.stderr)


def measure(path: Path, mode: str, out: Path) -> tuple[int, float]:
    """Run a worker in a fresh process: its peak RSS (KiB) and wall time (s)."""
    began = time.perf_counter()
    with out.open("w", encoding="utf-8") as handle:
        done = subprocess.run(
            [sys.executable, __file__, "--worker", str(path), "--mode", mode],
            stdout=handle,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            env={k: v for k, v in os.environ.items() if not k.startswith("XUNSHI_")},
        )
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"worker {mode} failed:\n{done.stderr}")
    return int(json.loads(done.stderr.strip().splitlines()[-1])["peak_kib"]), took


def check_output(out: Path, cases: int) -> None:
    """The printed list holds every case once, in key order."""
    listed = json.loads(out.read_text(encoding="utf-8"))
    keys = [case["key"] for case in listed]
    assert len(keys) == cases and keys == sorted(set(keys)), (len(keys), cases)


def mib(kib: float) -> str:
    """KiB as whole MiB."""
    return f"{kib / 1024:.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000", help="Case counts, comma-separated.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs per measure (median).")
    parser.add_argument("--quick", action="store_true", help="500 and 5,000 cases, one run.")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="stream", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker, args.mode)
        return
    sizes = [500, 5000] if args.quick else [int(n) for n in args.sizes.split(",")]
    repeat = 1 if args.quick else args.repeat
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"cases-{size}.db"
            out = Path(folder) / "out.json"
            began = time.perf_counter()
            seed(path, size)
            seeded = time.perf_counter() - began
            runs: dict[str, list[tuple[int, float]]] = {"stream": [], "first": [], "before": []}
            for _ in range(repeat):
                for mode, found in runs.items():
                    found.append(measure(path, mode, out))
                    if mode != "first":
                        check_output(out, size)
            peak = {m: statistics.median(p for p, _ in r) for m, r in runs.items()}
            wall = {m: statistics.median(t for _, t in r) for m, r in runs.items()}
            rows.append((size, peak, wall, seeded))
    print(f"case list benchmark: `xunshi --json case list`, medians of {repeat} run(s)\n")
    print(
        "| cases | peak RSS | time | peak, --limit 1 | peak, whole list (before) | time, before |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for size, peak, wall, _ in rows:
        print(
            f"| {size:,} | {mib(peak['stream'])} | {wall['stream']:.2f} s "
            f"| {mib(peak['first'])} | {mib(peak['before'])} | {wall['before']:.2f} s |"
        )
    small, large = rows[0], rows[-1]
    ratio = large[1]["stream"] / small[1]["stream"]
    before = large[1]["before"] / small[1]["before"]
    flat = ratio < GROWTH
    print(
        f"\npeak {large[0]:,} / {small[0]:,} cases: {ratio:.2f} (streamed), {before:.2f} "
        f"(before); flat (< {GROWTH}): {'yes' if flat else 'no'}"
    )
    print(f"seeding {large[0]:,} cases took {large[3]:.1f} s")
    if not flat:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
