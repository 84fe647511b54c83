"""Benchmark: `audit verify` against a plain hashlib loop over the same rows, and its memory.

    python bench/verify.py [--events 200000] [--repeat 3] [--memory 20000,200000]
                           [--workers N] [--quick]

1. Seeding. xunshi creates the schema (`definitions.init`); the histories are then written
   straight through the storage layer (the bench only: `event` and `instance` rows inserted
   in bulk with SQLAlchemy Core). Each chain is a case-like history of 20 events — started,
   escalation reminders, milestones, transitions, the odd note with a reason — built as
   `Event`s, hashed with xunshi's own chain hash (`Event.sealed`), and its instance row is
   the projection that replaying them gives (`replay`), so `audit verify` finds it clean.
2. Throughput. `AuditService.verify()` (every check: chain, contiguity, replay ==
   projection, facts, tasks, extensions, outcomes) with `--workers` processes (default one
   per CPU, as `xunshi audit verify`) and with one process, against a plain loop with
   `sqlite3` in one process that reads the same rows in the same order and recomputes the
   same hashes (parse `data`, build the canonical record, sha256, check each link). One
   untimed verify first (statement caches); then runs alternate; medians shown, and the
   medians of the paired ratios.
3. Memory. For each size, a fresh process verifies a database of that many events (with
   `--workers` processes) and reports its peak RSS (`VmHWM`, else `resource.getrusage`: see
   `peak_rss_kib`) and the largest peak of the helper processes it spawned (their `VmHWM`,
   read while they run); neither may grow with the history.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings
from xunshi.storage import queries as q
from xunshi.storage.processes import available_cpus
from xunshi.workflow.audit import GENESIS_HASH, Event, replay
from xunshi.workflow.clock import ManualClock

START = datetime(2024, 9, 2, 1, 0, tzinfo=UTC)
ACTOR = "bench"
CHAIN = 20  # events per instance
STATES = ("preparation", "stationed", "feedback", "rectification", "closed")
ROLES = ("office", "group_leader", "unit")


def chain(instance_id: int) -> list[Event]:
    """One case-like history of `CHAIN` events, hashed."""
    events: list[Event] = []
    previous, at, state = GENESIS_HASH, START + timedelta(minutes=instance_id), STATES[0]
    for seq in range(1, CHAIN + 1):
        at += timedelta(hours=7, seconds=seq)
        trigger = from_state = to_state = reason = None
        role: str | None = ROLES[seq % 3]
        if seq == 1:
            kind, to_state, role = "started", state, "office"
            data: dict[str, Any] = {
                "definition": "regular",
                "definition_version": 1,
                "group_leader": f"第{instance_id % 9 + 1}巡视组组长 冯某",
                "unit_name": f"基准单位{instance_id}",
            }
        elif seq % 5 == 0:
            kind, trigger, from_state = "transition", f"step{seq}", state
            state = STATES[min(seq // 5, len(STATES) - 1)]
            to_state, data = state, {}
        elif seq % 5 == 2:
            kind, trigger, role, reason = "escalation", "level0", None, "到期提醒"
            data = {
                "due_on": (at + timedelta(days=5)).date().isoformat(),
                "escalation": seq,
                "instrument": "提醒",
                "level": 0,
                "notify": ["office"],
                "stage": state,
            }
        elif seq % 5 == 4:
            kind, reason, data = "note", f"第{seq}次备注：材料已补充", {}
        else:
            kind, data = "milestone", {"milestone": f"milestone_{seq}"}
        event = Event(
            instance_id,
            seq,
            kind,
            trigger,
            from_state,
            to_state,
            "基准用户",
            role,
            reason,
            data,
            at,
            at,
            previous,
        ).sealed()
        events.append(event)
        previous = event.hash
    return events


def seed(path: Path, events: int) -> int:
    """A database with about `events` events (whole chains); return how many."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    app = bootstrap(Settings(db_url=f"sqlite:///{path}", actor=ACTOR), ManualClock(START))
    app.services.definitions.init(ACTOR)
    chains = max(1, events // CHAIN)
    with app.db.transaction() as conn:
        for first in range(1, chains + 1, 1000):
            instance_rows, event_rows = [], []
            for instance_id in range(first, min(first + 1000, chains + 1)):
                history = chain(instance_id)
                p = replay(history)
                instance_rows.append(
                    {
                        "id": instance_id,
                        "subject": "case",
                        "definition_name": p.definition_name,
                        "definition_version": p.definition_version,
                        "state": p.state,
                        "entered_at": p.entered_at,
                        "version": p.version,
                        "milestones": json.dumps(p.milestones, separators=(",", ":")),
                        "suspended": p.suspended,
                        "suspended_at": None,
                        "due_on": None,
                        "provisional": False,
                        "last_occurred_at": p.last_occurred_at,
                        "head_hash": p.head_hash,
                        "stage_seq": p.stage_seq,
                        "voided": p.voided,
                    }
                )
                event_rows.extend(
                    {
                        "instance_id": e.instance_id,
                        "seq": e.seq,
                        "kind": e.kind,
                        "trigger": e.trigger,
                        "from_state": e.from_state,
                        "to_state": e.to_state,
                        "actor": e.actor,
                        "role": e.role,
                        "reason": e.reason,
                        "data": e.data_json(),
                        "occurred_at": e.occurred_at,
                        "recorded_at": e.recorded_at,
                        "prev_hash": e.prev_hash,
                        "hash": e.hash,
                    }
                    for e in history
                )
            conn.execute(q.instances.insert(), instance_rows)
            conn.execute(q.events.insert(), event_rows)
    app.db.dispose()
    return chains * CHAIN


def verify_xunshi(app: App, workers: int) -> tuple[float, int]:
    """Seconds for `audit verify` with `workers` processes, and how many events it verified."""
    started = time.perf_counter()
    report = app.services.audit.verify(workers=workers)
    elapsed = time.perf_counter() - started
    assert report.ok, report.problems[:3]
    return elapsed, report.events


def verify_plain(path: Path) -> tuple[float, int]:
    """Seconds for a plain loop over the same rows recomputing the same hashes."""
    started = time.perf_counter()
    db = sqlite3.connect(path)
    rows = db.execute(
        "SELECT instance_id, seq, kind, trigger, from_state, to_state, actor, role, reason, "
        "data, occurred_at, recorded_at, prev_hash, hash FROM event ORDER BY instance_id, seq"
    )
    count, previous_instance, previous_hash = 0, None, GENESIS_HASH
    for instance, seq, kind, trigger, frm, to, actor, role, reason, data, occ, rec, prev, h in rows:
        if instance != previous_instance:
            previous_instance, previous_hash = instance, GENESIS_HASH
        record = {
            "instance": instance,
            "seq": seq,
            "kind": kind,
            "trigger": trigger,
            "from": frm,
            "to": to,
            "actor": actor,
            "role": role,
            "reason": reason,
            "data": json.loads(data),
            "occurred_at": occ.replace(" ", "T") + "Z",
            "recorded_at": rec.replace(" ", "T") + "Z",
        }
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        computed = hashlib.sha256((prev + canonical).encode()).hexdigest()
        assert prev == previous_hash and computed == h, (instance, seq)
        previous_hash = h
        count += 1
    db.close()
    return time.perf_counter() - started, count


def peak_rss_kib() -> int:
    """This process's peak RSS in KiB: `VmHWM` where /proc has it, else `getrusage`.

    On Linux `ru_maxrss` keeps the parent's peak across fork and exec (the exec'd process
    starts with the high-water mark of the memory it replaced), so a child started by this
    bench after it verified 200,000 events would report the bench's peak, not its own;
    `VmHWM` belongs to the process's own memory.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    [line] = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1])


def helper_peaks(stop: threading.Event, peaks: dict[int, int]) -> None:
    """Until `stop`, note every 50 ms the peak RSS (`VmHWM`, KiB) of each child process of
    this one (found in /proc by their parent's id)."""
    me = str(os.getpid())
    while not stop.wait(0.05):
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # After the command's name in parentheses: state, then the parent's id.
                if stat.read_text().rsplit(")", 1)[1].split()[1] != me:
                    continue
                status = stat.with_name("status").read_text()
            except (OSError, IndexError):
                continue  # it has just ended
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    pid = int(stat.parent.name)
                    peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]))


def export_worker(path: Path) -> None:
    """`audit export` (JSON lines, to /dev/null) of the database in this fresh process;
    print how many events it wrote and its peak RSS (KiB)."""
    app = bootstrap(Settings(db_url=f"sqlite:///{path}", actor=ACTOR))
    with open(os.devnull, "w", encoding="utf-8") as out:
        events = app.services.audit.export(out, "jsonl", ZoneInfo("Asia/Shanghai"))
    print(json.dumps({"events": events, "peak_kib": peak_rss_kib()}))


def memory_worker(path: Path, workers: int) -> None:
    """Verify the database in this fresh process; print events, its peak RSS and its
    helpers' largest (KiB; 0: no helper ran, or there is no /proc to tell)."""
    app = bootstrap(Settings(db_url=f"sqlite:///{path}", actor=ACTOR))
    stop, peaks = threading.Event(), dict[int, int]()
    watcher = threading.Thread(target=helper_peaks, args=(stop, peaks), daemon=True)
    if Path("/proc/self/stat").exists():
        watcher.start()
    _, events = verify_xunshi(app, workers)
    stop.set()
    if watcher.is_alive():
        watcher.join()
    helper = max(peaks.values(), default=0)
    print(json.dumps({"events": events, "peak_kib": peak_rss_kib(), "helper_kib": helper}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory", default="20000,1000000", help="sizes for peak RSS")
    parser.add_argument(
        "--workers", type=int, default=available_cpus(), help="processes (default: CPUs)"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, one run")
    parser.add_argument("--memory-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--export-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_worker:
        memory_worker(args.memory_worker, args.workers)
        return
    if args.export_worker:
        export_worker(args.export_worker)
        return
    if args.quick:
        args.events, args.repeat, args.memory = 2000, 1, "1000,4000"

    work = Path(tempfile.mkdtemp(prefix="xunshi-verify-bench-"))
    path = work / "verify.db"
    started = time.perf_counter()
    events = seed(path, args.events)
    print(f"verify benchmark: {events:,} events in {events // CHAIN:,} chains, in {work}")
    print(f"  seeded in {time.perf_counter() - started:.1f} s; {args.workers} worker processes")
    app = bootstrap(Settings(db_url=f"sqlite:///{path}", actor=ACTOR))
    ours, alone, plain = [], [], []
    verify_xunshi(app, 1)  # untimed: the first run compiles its statements, reads the file
    for attempt in range(args.repeat):
        seconds, verified = verify_xunshi(app, args.workers)
        assert verified == events, (verified, events)
        ours.append(events / seconds)
        seconds, verified = verify_xunshi(app, 1)
        assert verified == events, (verified, events)
        alone.append(events / seconds)
        seconds, hashed = verify_plain(path)
        assert hashed == events, (hashed, events)
        plain.append(events / seconds)
        print(
            f"  run {attempt + 1}: audit verify {ours[-1]:,.0f} events/s "
            f"({alone[-1]:,.0f} in one process), plain hashlib loop {plain[-1]:,.0f} events/s"
        )
    app.db.dispose()

    memory = []
    for size in [int(s) for s in args.memory.split(",") if s]:
        sized = work / f"memory-{size}.db"
        seeded = seed(sized, size)
        command = [sys.executable, __file__, "--memory-worker", str(sized)]
        done = subprocess.run(
            [*command, "--workers", str(args.workers)],
            capture_output=True,
            text=True,
            check=True,
        )
        found = json.loads(done.stdout.strip().splitlines()[-1])
        assert found["events"] == seeded, (found, seeded)
        exported = subprocess.run(
            [sys.executable, __file__, "--export-worker", str(sized)],
            capture_output=True,
            text=True,
            check=True,
        )
        written = json.loads(exported.stdout.strip().splitlines()[-1])
        assert written["events"] == seeded, (written, seeded)
        memory.append(
            (
                seeded,
                found["peak_kib"] / 1024,
                found["helper_kib"] / 1024,
                written["peak_kib"] / 1024,
            )
        )
        sized.unlink()

    ours_median, plain_median = statistics.median(ours), statistics.median(plain)
    print()
    print("| measure | value |")
    print("|---|---|")
    print(f"| audit verify (median of {args.repeat}) | {ours_median:,.0f} events/s |")
    print(f"| audit verify, one process (median) | {statistics.median(alone):,.0f} events/s |")
    print(f"| plain hashlib loop, same rows (median) | {plain_median:,.0f} events/s |")
    for name, rates in (("verify", ours), ("one process", alone)):
        paired = sorted(o / p for o, p in zip(rates, plain, strict=True))
        runs = ", ".join(f"{r:.2f}" for r in paired)
        print(f"| ratio {name} / hashlib (median of the paired runs: {runs}) | ", end="")
        print(f"{statistics.median(paired):.2f} |")
    for size, peak, helper, _ in memory:
        print(f"| peak RSS verifying {size:,} events | {peak:.0f} MiB |")
        shown = f"{helper:.0f} MiB" if helper else "none ran (one window)"
        print(f"| largest helper process's peak RSS, {size:,} events | {shown} |")
    for size, _, _, exporting in memory:
        print(f"| peak RSS of `audit export` (JSON lines), {size:,} events | {exporting:.0f} MiB |")
    target = 100_000
    verdict = "met" if ours_median >= target else "missed"
    print(f"\ntarget {target:,} events/s {verdict}: {ours_median:,.0f} events/s")
    path.unlink()


if __name__ == "__main__":
    main()
