"""Benchmark: claiming and firing due timers among many pending ones (SQLite file).

    python bench/sweep.py [--sizes 10000,1000000] [--due 1000]

For each size, a fresh SQLite database holds `--due` cases whose preparation reminder
(rung 0, three working days before the due date) is due now, plus pending timers that are
not due (fire_at years ahead) up to `size` pending timers in all. A fresh process then
claims the due timers with the sweep's one statement and fires them, each in its own
transaction (escalation, history event, outbox row, timer done). Claiming must take about
the same time at every size (the partial index on live timers; the query plan is printed),
firing should reach 1,000 escalations per second, and peak memory must not grow with the
number of pending timers.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings
from xunshi.storage import queries as q
from xunshi.workflow.clock import ManualClock

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2024, 9, 2, 9, 0, tzinfo=TZ)
# Preparation (15wd from 2024-09-02) is due 2024-09-24; its rung 0 (-3wd) fires at the
# start of 2024-09-19. At 10:00 that day exactly one rung per case is due.
NOW = datetime(2024, 9, 19, 10, 0, tzinfo=TZ)
ACTOR = "bench"


def build(path: Path, size: int, due: int) -> None:
    """`due` cases with one due timer each, padded with not-due pending timers to `size`."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    app = bootstrap(Settings(db_url=f"sqlite:///{path}", actor=ACTOR), ManualClock(START))
    app.services.definitions.init(ACTOR)
    app.services.cases.create_round("S1", "基准轮次", START.date())
    plan = path.with_suffix(".csv")
    with plan.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "round",
                "group",
                "group_leader",
                "unit_code",
                "unit_name",
                "unit_category",
                "definition",
            ]
        )
        for n in range(due):
            writer.writerow(["S1", "G1", "组长", f"U{n:05d}", f"单位{n}", "", "regular"])
    app.services.cases.import_plan(plan, actor=ACTOR)
    plan.unlink()
    app.db.dispose()
    pending = due  # one timer per stage entry: each case's preparation reminder, due now
    conn = sqlite3.connect(path)
    far = datetime(2031, 1, 1, tzinfo=UTC)
    rows = (
        (
            n % due + 1,
            1_000_000 + n,
            "preparation",
            0,
            0,
            "到期提醒",
            '["group_leader"]',
            1,
            "2031-01-01",
            (far + timedelta(minutes=n)).strftime("%Y-%m-%d %H:%M:%S.%f"),
            0,
            "pending",
            None,
            None,
            0,
            f"pad:{n}",
        )
        for n in range(max(size - pending, 0))
    )
    conn.executemany(
        "INSERT INTO timer (instance_id, stage_seq, stage, task_id, level, title, notify, "
        "generation, due_on, fire_at, provisional, status, locked_by, locked_until, attempts, "
        "dedup_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def measure(path: Path, due: int) -> dict[str, object]:
    """In a fresh process: claim and fire; times, plan and peak RSS."""
    clock = ManualClock(NOW)
    app = bootstrap(Settings(db_url=f"sqlite:///{path}", actor=ACTOR), clock)
    app.sweeper.lease.batch = due
    with app.db.transaction() as conn:
        pending = conn.execute(
            select(func.count()).select_from(q.timers).where(q.timers.c.status == "pending")
        ).scalar_one()
        plan = claim_plan(app)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    claimed = app.sweeper.claim(NOW)
    claim_seconds = time.perf_counter() - began
    began = time.perf_counter()
    raised = sum(1 for timer in claimed if not isinstance(app.sweeper.fire(timer, NOW), str))
    fire_seconds = time.perf_counter() - began
    return {
        "pending": pending,
        "claimed": len(claimed),
        "raised": raised,
        "claim_ms": claim_seconds * 1000,
        "fire_per_s": raised / fire_seconds,
        "rss_before_kib": rss_before,
        "rss_after_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "plan": plan,
    }


def claim_plan(app: App) -> list[str]:
    """SQLite's plan for the claim's inner query."""
    t = q.timers
    due = (
        select(t.c.id)
        .where(q.LIVE_TIMER, t.c.fire_at <= NOW)
        .order_by(t.c.fire_at, t.c.level, t.c.id)
        .limit(1000)
    )
    compiled = due.compile(dialect=app.db.engine.dialect, compile_kwargs={"literal_binds": True})
    with app.db.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
    return [str(row[-1]) for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.due)))
        return
    work = Path(tempfile.mkdtemp(prefix="xunshi-sweep-"))
    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        db = work / f"sweep{size}.db"
        began = time.perf_counter()
        build(db, size, args.due)
        print(f"built {size:,} pending timers in {time.perf_counter() - began:.0f} s", flush=True)
        out = subprocess.run(
            [sys.executable, __file__, "--measure", str(db), "--due", str(args.due)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    print()
    print("claim query plan:", " / ".join(results[-1]["plan"]))
    print()
    print("| pending timers | due | claim (one statement) | firing | peak RSS |")
    print("|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['pending']:,} | {r['claimed']:,} | {r['claim_ms']:.1f} ms | "
            f"{r['fire_per_s']:,.0f} escalations/s | {r['rss_after_kib'] / 1024:.1f} MiB |"
        )
    claims = [r["claim_ms"] for r in results]
    print()
    print(
        f"claim time ratio largest/smallest: {max(claims) / min(claims):.2f} "
        f"(median {statistics.median(claims):.1f} ms)"
    )


if __name__ == "__main__":
    main()
