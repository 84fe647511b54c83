"""Benchmark: fire full lifecycles through xunshi vs a raw sqlite3 baseline.

    python bench/fire.py [--cases 2000] [--repeat 3] [--memory 2000,20000] [--quick]

1. Throughput. Two identical SQLite files with N `regular` cases in preparation. xunshi
   (`app.services.cases.record_milestone` / `fire`, by case id) drives every case through its
   whole lifecycle; the baseline does the same reads and writes per event with the
   `sqlite3` module: resolve the case, read the instance, append the hash-chained event,
   update the row with its version check and, on a stage change, supersede the old timers,
   resolve open escalations and insert the new stage's timers — one transaction per event,
   same pragmas (WAL, synchronous=FULL). Both use xunshi's calendar and hashing code, so the
   ratio measures what the engine adds over the driver. Runs alternate; medians are shown.
2. Memory. For each size, a fresh process builds a database of that many cases, then fires
   the first stage (two milestones and a transition) on every case; its peak RSS is shown.
   It must not grow with the number of cases.
3. Start-up. Median wall time of `xunshi --help`, and of `xunshi case show` on the largest
   database.
"""

from __future__ import annotations

import argparse
import csv
import functools
import gc
import hashlib
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings
from xunshi.definitions.loader import builtin_definitions
from xunshi.definitions.schema import Definition
from xunshi.workflow.calendar import calendar_for
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.deadlines import due_date, is_provisional, rule_fires_at

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2024, 9, 2, 9, 0, tzinfo=TZ)
ROUND = "B1"
ACTOR = "bench"


# -- setup ------------------------------------------------------------------------------


def build(path: Path, cases: int) -> tuple[App, ManualClock]:
    """A database with `cases` regular cases in preparation, created through xunshi."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    clock = ManualClock(START)
    app = bootstrap(Settings(db_url=f"sqlite:///{path}", actor=ACTOR), clock)
    app.services.definitions.init(ACTOR)
    app.services.cases.create_round(ROUND, "基准轮次", START.date())
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
        for n in range(cases):
            group = n % 8 + 1
            writer.writerow(
                [ROUND, f"G{group}", f"组长{group}", f"U{n:05d}", f"单位{n}", "", "regular"]
            )
    app.services.cases.import_plan(plan, actor=ACTOR)
    plan.unlink()
    return app, clock


@dataclass(frozen=True)
class Step:
    """One event of the lifecycle: a milestone (with its count, if counted), the 整改评估
    a guarded trigger needs, or a trigger; by role."""

    kind: str
    name: str
    role: str
    count: int | None = None


def lifecycle(defn: Definition) -> list[Step]:
    """Every event of the forward path: required milestones (and the evaluation, where
    the forward trigger is guarded by it), then the forward trigger."""
    order = [s.name for s in defn.states]
    steps: list[Step] = []
    state = defn.initial
    while not defn.state(state).final:
        forward = max(defn.transitions_from(state), key=lambda t: order.index(t.dest))
        for milestone in forward.required(defn.state(state)):
            found = defn.state(state).milestone(milestone)
            count = 12 if found is not None and found.count else None
            role = _milestone_role(defn, state, milestone)
            steps.append(Step("milestone", milestone, role, count))
        if "evaluated" in forward.guards and defn.evaluation is not None:
            steps.append(Step("evaluate", "", defn.evaluation.roles[0]))
        steps.append(Step("fire", forward.trigger, forward.roles[0]))
        state = forward.dest
    return steps


def _milestone_role(defn: Definition, state: str, name: str) -> str:
    milestone = defn.state(state).milestone(name)
    if milestone is not None and milestone.roles:
        return milestone.roles[0]
    return defn.transitions_from(state)[0].roles[0]


# -- xunshi -----------------------------------------------------------------------------


def run_xunshi(app: App, clock: ManualClock, ids: list[int], steps: list[Step]) -> float:
    """Seconds to drive every case through `steps` with xunshi's services."""
    inspection = app.services.cases
    gc.collect()
    began = time.perf_counter()
    for day, step in enumerate(steps):
        clock.set(START + timedelta(days=day + 1))
        for case_id in ids:
            key = str(case_id)
            if step.kind == "milestone":
                inspection.record_milestone(
                    key, step.name, actor=ACTOR, role=step.role, count=step.count
                )
            elif step.kind == "evaluate":
                evaluate(app, key, step.role)
            else:
                inspection.fire(key, step.name, actor=ACTOR, role=step.role)
    return time.perf_counter() - began


def evaluate(app: App, key: str, role: str) -> None:
    """A passing 整改评估 of the case (full marks on every dimension)."""
    defn = _regular()
    assert defn.evaluation is not None
    app.services.cases.evaluate(
        key,
        score=100,
        grade=defn.evaluation.grades[0][0],
        dimensions=dict(defn.evaluation.dimensions),
        actor=ACTOR,
        role=role,
    )


@functools.cache
def _regular() -> Definition:
    """The built-in `regular` definition (parsed once)."""
    return {d.name: d for d in builtin_definitions()}["regular"]


# -- raw sqlite3 baseline -----------------------------------------------------------------


class Raw:
    """The same reads and writes per event, with the sqlite3 module and hand-written SQL."""

    def __init__(self, path: Path, defn: Definition) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=10)
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",
            "busy_timeout=10000",
            "foreign_keys=ON",
        ):
            self.conn.execute(f"PRAGMA {pragma}")
        self.defn = defn
        self.cal = calendar_for("cn")

    def run(self, ids: list[int], steps: list[Step]) -> float:
        """Seconds to drive every case through `steps`."""
        gc.collect()
        began = time.perf_counter()
        for day, step in enumerate(steps):
            now = (START + timedelta(days=day + 1)).astimezone(UTC)
            for case_id in ids:
                self.event(case_id, step, now)
        return time.perf_counter() - began

    def event(self, case_id: int, step: Step, now: datetime) -> None:
        c = self.conn
        c.execute("BEGIN")
        c.execute(
            "SELECT inspection_case.id, inspection_round.code, unit.code FROM inspection_case "
            "JOIN inspection_round ON inspection_round.id = inspection_case.round_id "
            "JOIN unit ON unit.id = inspection_case.unit_id WHERE inspection_case.id = ?",
            (case_id,),
        ).fetchone()
        row = c.execute(
            "SELECT id, state, version, milestones, head_hash, stage_seq, entered_at, due_on, "
            "provisional FROM instance WHERE id = ?",
            (case_id,),
        ).fetchone()
        _, state, version, milestones_json, head_hash, stage_seq, entered_at, due_on, prov = row
        milestones = json.loads(milestones_json)
        seq = version + 1
        stamp = _sqlite_time(now)
        if step.kind in ("milestone", "evaluate"):
            kind, trigger, source, dest, data = (
                "milestone",
                None,
                None,
                None,
                {"milestone": step.name} if step.kind == "milestone" else {"grade": "好"},
            )
            milestones[step.name] = _iso(now)
            new_state, new_entered, new_stage_seq = state, entered_at, stage_seq
        else:
            transition = next(
                t for t in self.defn.transitions_from(state) if t.trigger == step.name
            )
            kind, trigger, source, dest, data = "transition", step.name, state, transition.dest, {}
            milestones = {}
            new_state, new_entered, new_stage_seq = transition.dest, stamp, seq
            due = self.defn.state(transition.dest).due
            entered_on = now.astimezone(TZ).date()
            try:
                due_d = None if due is None else due_date(entered_on, due, self.cal)
            except Exception:  # due on a plan date or after a milestone: not a plain span
                due_d = None
            if due_d is None:
                due_on, prov = None, False
            else:
                due_on, prov = due_d.isoformat(), is_provisional(entered_on, due_d, self.cal)
        canonical = json.dumps(
            {
                "instance": case_id,
                "seq": seq,
                "kind": kind,
                "trigger": trigger,
                "from": source,
                "to": dest,
                "actor": ACTOR,
                "role": step.role,
                "reason": None,
                "data": data,
                "occurred_at": _iso(now),
                "recorded_at": _iso(now),
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        digest = hashlib.sha256((head_hash + canonical).encode()).hexdigest()
        milestones_text = json.dumps(
            milestones, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        if kind == "milestone":
            updated = c.execute(
                "UPDATE instance SET version = ?, milestones = ?, last_occurred_at = ?, "
                "head_hash = ? WHERE id = ? AND version = ?",
                (seq, milestones_text, stamp, digest, case_id, version),
            ).rowcount
        else:
            updated = c.execute(
                "UPDATE instance SET state = ?, entered_at = ?, version = ?, milestones = ?, "
                "suspended = ?, suspended_at = ?, due_on = ?, provisional = ?, "
                "last_occurred_at = ?, head_hash = ?, definition_version = ?, stage_seq = ? "
                "WHERE id = ? AND version = ?",
                (
                    new_state,
                    new_entered,
                    seq,
                    milestones_text,
                    0,
                    None,
                    due_on,
                    prov,
                    stamp,
                    digest,
                    1,
                    new_stage_seq,
                    case_id,
                    version,
                ),
            ).rowcount
        assert updated == 1
        c.execute(
            'INSERT INTO event (instance_id, seq, kind, "trigger", from_state, to_state, actor, '
            "role, reason, data, occurred_at, recorded_at, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                case_id,
                seq,
                kind,
                trigger,
                source,
                dest,
                ACTOR,
                step.role,
                None,
                json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
                stamp,
                stamp,
                head_hash,
                digest,
            ),
        )
        if kind == "transition":
            c.execute(
                "UPDATE timer SET status = 'superseded' "
                "WHERE instance_id = ? AND timer.status IN ('pending', 'claimed') "
                "AND task_id = 0",
                (case_id,),
            )
            if due_on is not None:
                self._timers(case_id, seq, new_state, date.fromisoformat(due_on), bool(prov))
        c.execute("COMMIT")

    def _timers(self, case_id: int, seq: int, state: str, due_on: date, prov: bool) -> None:
        """The stage's one timer: its first rung (the sweep moves it on rung by rung)."""
        ladder = self.defn.ladder(state)
        if not ladder:
            return
        rule = ladder[0]
        fire_at = rule_fires_at(due_on, rule.at, self.cal, TZ)
        fire_on = fire_at.date()
        self.conn.execute(
            "INSERT INTO timer (instance_id, stage_seq, stage, task_id, level, title, notify, "
            "generation, due_on, fire_at, provisional, status, locked_by, locked_until, attempts, "
            "dedup_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                case_id,
                seq,
                state,
                0,
                rule.level,
                rule.title,
                json.dumps(list(rule.notify), separators=(",", ":"), ensure_ascii=False),
                1,
                due_on.isoformat(),
                _sqlite_time(fire_at),
                prov or self.cal.provisional(min(due_on, fire_on), max(due_on, fire_on)),
                "pending",
                None,
                None,
                0,
                f"{case_id}:{seq}:0:{rule.level}:1",
            ),
        )


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _sqlite_time(instant: datetime) -> str:
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


# -- memory and start-up ----------------------------------------------------------------


def memory_worker(path: Path, cases: int) -> None:
    """Fire the first stage on each of `cases` built cases; print peak RSS (KiB) as JSON."""
    clock = ManualClock(START)
    app = bootstrap(Settings(db_url=f"sqlite:///{path}", actor=ACTOR), clock)
    with app.db.transaction() as conn:
        defn = app.registry.definition(conn, "regular", 1)
    steps = lifecycle(defn)[:3]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds = run_xunshi(app, clock, list(range(1, cases + 1)), steps)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "cases": cases,
                "events": cases * len(steps),
                "seconds": seconds,
                "rss_before_kib": before,
                "rss_after_kib": after,
            }
        )
    )


def wall(argv: list[str], runs: int) -> float:
    """Median wall time of a command, as an installation runs it (bytecode cached)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(argv, check=True, capture_output=True, env=env)  # writes the bytecode
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory", default="2000,20000")
    parser.add_argument("--runs", type=int, default=10, help="runs per start-up timing")
    parser.add_argument("--quick", action="store_true", help="small sizes, one run")
    parser.add_argument("--memory-worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        build(args.db, args.build)[0].db.dispose()
        return
    if args.memory_worker:
        memory_worker(args.db, args.memory_worker)
        return
    if args.quick:
        args.cases, args.repeat, args.memory, args.runs = 200, 1, "200,2000", 3

    work = Path(tempfile.mkdtemp(prefix="xunshi-bench-"))
    print(f"fire benchmark: {args.cases} cases, {args.repeat} alternating runs, in {work}")
    ours, raw, events = [], [], 0
    for attempt in range(args.repeat):
        app, clock = build(work / "xunshi.db", args.cases)
        with app.db.transaction() as conn:
            defn = app.registry.definition(conn, "regular", 1)
        steps = lifecycle(defn)
        ids = list(range(1, args.cases + 1))
        events = len(ids) * len(steps)
        ours.append(events / run_xunshi(app, clock, ids, steps))
        report = app.services.audit.verify()
        assert report.ok and report.events == events + len(ids), report
        app.db.dispose()
        build(work / "raw.db", args.cases)[0].db.dispose()
        raw.append(events / Raw(work / "raw.db", defn).run(ids, steps))
        print(
            f"  run {attempt + 1}: xunshi {ours[-1]:,.0f} events/s, "
            f"raw sqlite3 {raw[-1]:,.0f} events/s"
        )

    memory = []
    sizes = [int(s) for s in args.memory.split(",") if s]
    for size in sizes:
        db = str(work / f"mem{size}.db")
        subprocess.run([sys.executable, __file__, "--build", str(size), "--db", db], check=True)
        out = subprocess.run(
            [sys.executable, __file__, "--memory-worker", str(size), "--db", db],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        memory.append(json.loads(out.strip().splitlines()[-1]))

    xunshi_bin = str(Path(sys.executable).with_name("xunshi"))
    help_time = wall([xunshi_bin, "--help"], args.runs)
    show_db = work / f"mem{max(sizes)}.db" if sizes else work / "xunshi.db"
    show_time = wall(
        [xunshi_bin, "--db", f"sqlite:///{show_db}", "case", "show", f"{ROUND}/U00042"], args.runs
    )

    print()
    print("| measure | value |")
    print("|---|---|")
    print(f"| events per lifecycle ({len(steps)} steps) × cases | {events:,} |")
    print(f"| xunshi, events/s (median of {args.repeat}) | {statistics.median(ours):,.0f} |")
    print(f"| raw sqlite3 baseline, events/s (median) | {statistics.median(raw):,.0f} |")
    ratios = [o / r for o, r in zip(ours, raw, strict=True)]
    print(
        f"| ratio xunshi / baseline (median of the {args.repeat} paired runs: "
        f"{', '.join(f'{x:.0%}' for x in ratios)}) | {statistics.median(ratios):.0%} |"
    )
    for m in memory:
        print(
            f"| peak RSS firing {m['events']:,} events on {m['cases']:,} cases | "
            f"{m['rss_after_kib'] / 1024:.1f} MiB "
            f"(before firing {m['rss_before_kib'] / 1024:.1f} MiB) |"
        )
    print(f"| `xunshi --help`, median of {args.runs} | {help_time * 1000:.0f} ms |")
    print(
        f"| `xunshi case show` on {max(sizes) if sizes else args.cases:,} cases, median | "
        f"{show_time * 1000:.0f} ms |"
    )


if __name__ == "__main__":
    main()
