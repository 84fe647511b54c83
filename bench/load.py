"""Benchmark: PostgreSQL under load and faults — many writers, two schedulers, killed
processes and terminated connections, then checks that nothing was lost or done twice.

    python bench/load.py [--pg-url URL] [--cases 10000] [--writers 8] [--quick] [--seed 1]

1. Setup. A fresh schema in the PostgreSQL database of `--pg-url` (default
   $XUNSHI_BENCH_PG_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/test), with
   `--cases` regular cases of one round; a tenth of them started 60 days ago, so that their
   preparation stage is overdue and the schedulers escalate them while the writers work.
   The tables are then analyzed, as autovacuum would have done by the time work starts.
2. Load. `--writers` processes (default 8) each take their share of the cases and drive
   every case through its whole lifecycle through xunshi's services: each stage's
   milestones and its forward trigger, and in 集中整改 a problem (item) with a measure
   (task), done, submitted, accepted by the three parties and 销号, then 整改评估 and the
   close; a small random pause (up to 2 ms) after each command. Every command runs under a
   request id of its own; one that meets a conflict (a scheduler escalated the case
   meanwhile) is run again, as a person would. Two `xunshi scheduler run --interval 1`
   processes sweep and deliver notifications to a webhook receiver in this process, which
   counts deliveries by `Idempotency-Key`.
3. Faults. Midway one scheduler is killed with SIGKILL and started again; five times a
   writer's database connection is terminated with `pg_terminate_backend`.
4. Checks. Every history contiguous and `audit verify` passing; every escalation recorded
   once (one row and one history event per rung); every notification delivered, and
   exactly once per key — a key delivered twice is allowed only if the killed scheduler held
   it at the moment it was killed (a delivery whose answer was lost: at least once, never
   more) and is reported; no timer or notification left claimed past its lease; every
   command that reported success is in the history exactly once (its request id on one
   event), and none that failed left anything.
5. Baseline. The same workload (same cases, commands, order, pauses, 8 processes) through
   plain psycopg: per command one transaction that locks the instance row, appends the
   hash-chained event, updates the row, keeps the timers (a stage change supersedes the old
   stage's and arms the new one's first rung), writes the item and task rows, and stores the
   request id. No schedulers run beside it. Throughput and latency are compared.

Prints a markdown table; exits 1 if a check fails. `--quick` (300 cases) is what the test
suite runs (`tests/integration/test_bench_load.py`).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import psycopg

from xunshi import idempotency
from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings
from xunshi.definitions.loader import builtin_definitions
from xunshi.definitions.schema import Definition
from xunshi.errors import Conflict, XunshiError
from xunshi.idempotency import AlreadyDone, Request
from xunshi.services.commands import ItemFacts, TaskFacts
from xunshi.workflow.calendar import calendar_for
from xunshi.workflow.clock import ManualClock
from xunshi.workflow.deadlines import due_date, is_provisional, rule_fires_at

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TZ = ZoneInfo("Asia/Shanghai")
ROUND = "L1"
GROUPS = 8
ACTOR = "bench"
PAUSE = 0.002  # the longest random pause after a command, seconds
CONFLICT_RETRIES = 5
TERMINATIONS = 5
LEASE = 5  # seconds: timers' and notifications' leases of the schedulers
CATEGORIES = "categories:\n  党的建设:\n    - 政治建设\n"
CATEGORY = "党的建设/政治建设"
ITEM = "P1"


# -- the workload ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    """One command of a case's lifecycle, as both runs perform it."""

    kind: str  # milestone, fire, evaluate, item_add, task_add, task_done, item_milestone, item_fire
    name: str = ""
    role: str = ""
    count: int | None = None


@functools.cache
def case_definition() -> Definition:
    """The built-in `regular` definition (parsed once: the YAML takes a second)."""
    return {d.name: d for d in builtin_definitions()}["regular"]


def lifecycle(defn: Definition) -> list[tuple[str, Command]]:
    """(stage, command) for a whole case: each stage's required milestones, its forward
    trigger (the evaluation first where the trigger needs one), and the problem's life in
    the first stage that takes problems."""
    order = [s.name for s in defn.states]
    commands: list[tuple[str, Command]] = []
    state, items_done = defn.initial, False
    while not defn.state(state).final:
        stage = defn.state(state)
        move = max(defn.transitions_from(state), key=lambda t: order.index(t.dest))
        role = move.roles[0] if move.roles else "office"
        if not items_done and stage.has_tag("items_open"):
            commands += [(state, c) for c in ITEM_LIFE]
            items_done = True
        for name in move.required(stage):
            milestone = stage.milestone(name)
            assert milestone is not None
            who = milestone.roles[0] if milestone.roles else role
            commands.append(
                (state, Command("milestone", name, who, 12 if milestone.count else None))
            )
        if "evaluated" in move.guards and defn.evaluation is not None:
            commands.append((state, Command("evaluate", "", defn.evaluation.roles[0])))
        commands.append((state, Command("fire", move.trigger, role)))
        state = move.dest
    return commands


# A problem from being found to 销号: a measure, done, submitted, three-party acceptance.
ITEM_LIFE = (
    Command("item_add", ITEM, "office"),
    Command("item_fire", "plan", "unit_liaison"),
    Command("task_add", "", "unit_liaison"),
    Command("item_fire", "begin", "unit_liaison"),
    Command("task_done", "", "unit_liaison"),
    Command("item_fire", "submit", "unit_liaison"),
    Command("item_milestone", "secretary_signed", "party_secretary"),
    Command("item_milestone", "office_accepted", "office"),
    Command("item_milestone", "discipline_accepted", "discipline_group"),
    Command("item_fire", "accept", "office"),
)


def unit_of(n: int) -> str:
    """The code of the n-th unit."""
    return f"U{n:05d}"


def shares(cases: int, writers: int) -> list[list[int]]:
    """Which case numbers each writer drives (every writer's cases from all groups)."""
    return [list(range(w, cases, writers)) for w in range(writers)]


# -- setup ----------------------------------------------------------------------------


@contextmanager
def fresh_schema(admin_url: str, url: str) -> Iterator[str]:
    """A new schema for one run; the xunshi URL whose search_path is it. Dropped after."""
    name = f"load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options={quote(f'-csearch_path={name}')}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def build(url: str, cases: int, now: datetime) -> None:
    """The round, its groups, units and cases (a tenth started 60 days ago), categories."""
    clock = ManualClock(now - timedelta(days=60))
    app = bootstrap(Settings(db_url=url, actor=ACTOR), clock)
    try:
        app.services.definitions.init(ACTOR)
        start = (now - timedelta(days=60)).astimezone(TZ).date()
        app.services.cases.create_round(ROUND, "负载测试轮次", start)
        app.services.items.load_categories(CATEGORIES, "bench")
        with tempfile.TemporaryDirectory() as folder:
            for overdue in (True, False):
                plan = Path(folder) / f"plan-{overdue}.csv"
                rows = [n for n in range(cases) if (n % 10 == 0) == overdue]
                lines = ["round,group,group_leader,unit_code,unit_name,unit_category,definition"]
                lines += [
                    f"{ROUND},G{n % GROUPS + 1},组长{n % GROUPS + 1},{unit_of(n)},单位{n},,regular"
                    for n in rows
                ]
                plan.write_text("\n".join(lines) + "\n", encoding="utf-8")
                if not overdue:
                    clock.set(now)
                app.services.cases.import_plan(plan, actor=ACTOR, at=clock.now())
    finally:
        app.db.dispose()
    analyze(url)


def analyze(url: str) -> None:
    """Gather the new tables' statistics, as autovacuum does within a minute of a bulk load:
    without them PostgreSQL plans every lookup as if the tables were empty (sequential scans
    of 10,000 cases), which no database in use does."""
    with psycopg.connect(url.replace("+psycopg", "", 1), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchall()
        for (table,) in tables:
            conn.execute(f'ANALYZE "{table}"')


# -- xunshi writers -------------------------------------------------------------------


@dataclass
class Tally:
    """What one writer did: per command its request id, outcome and latency."""

    ok: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    conflicts: int = 0
    cases: int = 0


def perform(app: App, n: int, command: Command, today: date) -> None:
    """Run one command of case n through the services."""
    key = f"{ROUND}/{unit_of(n)}"
    item = f"{key}/{ITEM}"
    s = app.services
    actor = f"{command.role}-{n}"
    if command.kind == "milestone":
        s.cases.record_milestone(
            key, command.name, actor=actor, role=command.role, count=command.count
        )
    elif command.kind == "fire":
        s.cases.fire(key, command.name, actor=actor, role=command.role)
    elif command.kind == "evaluate":
        defn = case_definition().evaluation
        assert defn is not None
        s.cases.evaluate(
            key,
            score=100,
            grade=defn.grades[0][0],
            dimensions=dict(defn.dimensions),
            actor=actor,
            role=command.role,
        )
    elif command.kind == "item_add":
        s.items.add_item(key, item_facts(), actor=actor)
    elif command.kind == "task_add":
        s.items.add_task(item, task_facts(today), actor=actor, role=command.role)
    elif command.kind == "task_done":
        s.items.complete_task(f"{item}#1", evidence="制度文件", actor=actor, role=command.role)
    elif command.kind == "item_milestone":
        s.items.record_milestone(item, command.name, actor=actor, role=command.role)
    else:
        s.items.fire(item, command.name, actor=actor, role=command.role)


def item_facts() -> ItemFacts:
    """The problem every case finds."""
    return ItemFacts(
        code=ITEM,
        title="落实主体责任不到位",
        category=CATEGORY,
        manifestations="会议研究不及时",
        root_cause="责任意识不强",
    )


def task_facts(today: date) -> TaskFacts:
    """Its measure, due in a month."""
    return TaskFacts(
        measure="建立健全议事规则",
        responsible_leader="副局长",
        lead_department="办公室",
        responsible_person="科长",
        due_on=today + timedelta(days=30),
    )


def xunshi_writer(
    url: str, numbers: list[int], seed: int, until: float, out: str, progress: Any
) -> None:
    """Drive the cases `numbers` through their lifecycles, starting none after `until`
    (wall time); write the tally as JSON."""
    app = bootstrap(Settings(db_url=url, actor=ACTOR))
    rng = random.Random(seed)
    tally = Tally()
    today = datetime.now(TZ).date()
    plan = lifecycle(case_definition())
    try:
        for n in numbers:
            if time.time() > until:
                break
            tally.cases += 1
            for _stage, command in plan:
                if not run_one(app, n, command, today, tally):
                    break  # refused: this case goes no further (reported)
                time.sleep(rng.uniform(0, PAUSE))
            with progress.get_lock():
                progress.value += 1
    finally:
        app.db.dispose()
    Path(out).write_text(json.dumps(tally.__dict__), encoding="utf-8")


def run_one(app: App, n: int, command: Command, today: date, tally: Tally) -> bool:
    """One command under a request id of its own, run again after a conflict (nothing was
    written); whether it succeeded."""
    request_id = uuid.uuid4().hex
    label = f"{command.kind} {command.name} {unit_of(n)}"
    began = time.perf_counter()
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            with idempotency.using(Request(request_id, label)):
                perform(app, n, command, today)
        except AlreadyDone:
            pass  # an earlier attempt had committed: done
        except Conflict:
            tally.conflicts += 1
            if attempt < CONFLICT_RETRIES:
                continue
            tally.failed.append((request_id, f"{label}: conflict {CONFLICT_RETRIES + 1} times"))
            return False
        except XunshiError as exc:
            tally.failed.append((request_id, f"{label}: {exc.message}"))
            return False
        tally.latencies.append(time.perf_counter() - began)
        tally.ok.append(request_id)
        return True
    return False


# -- the raw psycopg baseline ---------------------------------------------------------


class Raw:
    """The same writes per command with psycopg and hand-written SQL."""

    def __init__(self, url: str, defn: Definition) -> None:
        self.conn = psycopg.connect(url.replace("+psycopg", "", 1))
        self.defn = defn
        self.item_states = {"plan": "planned", "begin": "rectifying", "submit": "submitted"}
        self.cal = calendar_for("cn")
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT c.id, u.code FROM inspection_case c JOIN unit u ON u.id = c.unit_id"
            )
            self.case_ids = {code: case_id for case_id, code in cur.fetchall()}
            cur.execute("SELECT id FROM category")
            self.category = cur.fetchone()[0]  # type: ignore[index]
        self.conn.commit()
        self.items: dict[int, int] = {}

    def perform(self, n: int, command: Command, request_id: str) -> None:
        """One command, one transaction."""
        case_id = self.case_ids[unit_of(n)]
        now = datetime.now(UTC)
        with self.conn.cursor() as cur:
            kind = command.kind
            if kind in ("milestone", "evaluate"):
                data = {"milestone": command.name} if kind == "milestone" else {"grade": "好"}
                self.event(cur, case_id, "milestone", None, None, command, data, now, request_id)
            elif kind == "fire":
                self.event(
                    cur, case_id, "transition", command.name, "", command, {}, now, request_id
                )
            elif kind == "item_add":
                self.items[n] = self.add_item(cur, case_id, command, now, request_id)
            elif kind == "task_add":
                item_id = self.items[n]
                cur.execute(
                    "INSERT INTO rectification_task (item_id, number, measure, responsible_leader, "
                    "lead_department, cooperating_departments, responsible_person, due_on, "
                    "long_term, status, progress, evidence) VALUES "
                    "(%s, 1, %s, %s, %s, '', %s, %s, false, 'open', '', '')",
                    (
                        item_id,
                        "建立健全议事规则",
                        "副局长",
                        "办公室",
                        "科长",
                        now.date() + timedelta(30),
                    ),
                )
                self.event(cur, item_id, "task", "add", None, command, {"task": 1}, now, request_id)
            elif kind == "task_done":
                item_id = self.items[n]
                cur.execute(
                    "UPDATE rectification_task SET status = 'done', evidence = %s, "
                    "completed_on = %s WHERE item_id = %s AND number = 1",
                    ("制度文件", now.date(), item_id),
                )
                self.event(
                    cur, item_id, "task", "done", None, command, {"task": 1}, now, request_id
                )
            elif kind == "item_milestone":
                data = {"milestone": command.name}
                self.event(
                    cur, self.items[n], "milestone", None, None, command, data, now, request_id
                )
            else:
                dest = self.item_states.get(command.name, "closed")
                self.event(
                    cur,
                    self.items[n],
                    "transition",
                    command.name,
                    dest,
                    command,
                    {},
                    now,
                    request_id,
                )
            cur.execute(
                "INSERT INTO command_request (request_id, step, command) VALUES (%s, 1, %s)",
                (request_id, f"{kind} {command.name}"),
            )
        self.conn.commit()

    def add_item(self, cur: Any, case_id: int, command: Command, now: datetime, rid: str) -> int:
        """The item's instance, its row and its first event."""
        cur.execute(
            "INSERT INTO instance (subject, definition_name, definition_version, state, "
            "entered_at, version, milestones, suspended, provisional, last_occurred_at, "
            "head_hash, stage_seq, voided) VALUES ('item', 'rectification', 1, 'identified', "
            "%s, 0, '{}', false, false, %s, %s, 1, false) RETURNING id",
            (now, now, "0" * 64),
        )
        item_id = int(cur.fetchone()[0])
        cur.execute(
            "INSERT INTO rectification_item (id, case_id, code, title, manifestations, "
            "category_id, key_problem, fix_now, root_cause, source, created_at) VALUES "
            "(%s, %s, %s, %s, %s, %s, false, false, %s, 'inspection', %s)",
            (item_id, case_id, ITEM, "落实主体责任不到位", "会议研究不及时", self.category,
             "责任意识不强", now),
        )  # fmt: skip
        self.event(cur, item_id, "started", None, "identified", command, {}, now, rid)
        return item_id

    def event(
        self,
        cur: Any,
        instance_id: int,
        kind: str,
        trigger: str | None,
        dest: str | None,
        command: Command,
        data: dict[str, Any],
        now: datetime,
        request_id: str,
    ) -> None:
        """Lock the row, append the hash-chained event, update the row; on a case's stage
        change, supersede its timers and arm the new stage's first rung."""
        cur.execute(
            "SELECT state, version, milestones, head_hash, subject FROM instance "
            "WHERE id = %s FOR UPDATE",
            (instance_id,),
        )
        state, version, milestones_text, head_hash, subject = cur.fetchone()
        if kind == "transition" and subject == "case":
            move = next(t for t in self.defn.transitions_from(state) if t.trigger == trigger)
            dest = move.dest
        seq = version + 1
        record = {
            "instance": instance_id, "seq": seq, "kind": kind, "trigger": trigger,
            "from": state if dest else None, "to": dest, "actor": command.role,
            "role": command.role, "reason": None, "data": data,
            "occurred_at": now.isoformat(), "recorded_at": now.isoformat(),
        }  # fmt: skip
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256((head_hash + canonical).encode()).hexdigest()
        milestones = json.loads(milestones_text)
        if kind == "milestone":
            milestones[command.name] = now.isoformat()
        if dest and kind == "transition":
            milestones = {}
        text = json.dumps(milestones, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if dest:
            cur.execute(
                "UPDATE instance SET state = %s, entered_at = %s, version = %s, "
                "milestones = %s, last_occurred_at = %s, head_hash = %s, stage_seq = %s "
                "WHERE id = %s AND version = %s",
                (dest, now, seq, text, now, digest, seq, instance_id, version),
            )
        else:
            cur.execute(
                "UPDATE instance SET version = %s, milestones = %s, last_occurred_at = %s, "
                "head_hash = %s WHERE id = %s AND version = %s",
                (seq, text, now, digest, instance_id, version),
            )
        cur.execute(
            'INSERT INTO event (instance_id, seq, kind, "trigger", from_state, to_state, actor, '
            "role, reason, data, occurred_at, recorded_at, prev_hash, hash, request_id) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, NULL, %s, %s, %s, %s, %s, %s)",
            (instance_id, seq, kind, trigger, state if dest else None, dest, command.role,
             command.role, json.dumps(data, sort_keys=True, separators=(",", ":"),
             ensure_ascii=False), now, now, head_hash, digest, request_id),
        )  # fmt: skip
        if dest and subject == "case":
            cur.execute(
                "UPDATE timer SET status = 'superseded' WHERE instance_id = %s "
                "AND status IN ('pending', 'claimed') AND task_id = 0",
                (instance_id,),
            )
            self.arm(cur, instance_id, seq, dest, now)

    def arm(self, cur: Any, instance_id: int, seq: int, state: str, now: datetime) -> None:
        """The new stage's first rung, as xunshi arms it."""
        due = self.defn.state(state).due
        ladder = self.defn.ladder(state)
        if due is None or not ladder or not isinstance(due, str | timedelta):
            return
        entered = now.astimezone(TZ).date()
        try:
            due_on = due_date(entered, due, self.cal)
        except Exception:  # a due date relative to a milestone: the sweep's, not ours
            return
        rule = ladder[0]
        fire_at = rule_fires_at(due_on, rule.at, self.cal, TZ)
        cur.execute(
            "INSERT INTO timer (instance_id, stage_seq, stage, task_id, level, title, notify, "
            "generation, due_on, fire_at, provisional, status, attempts, dedup_key) VALUES "
            "(%s, %s, %s, 0, %s, %s, %s, 1, %s, %s, %s, 'pending', 0, %s)",
            (instance_id, seq, state, rule.level, rule.title, json.dumps(list(rule.notify)),
             due_on, fire_at, is_provisional(entered, due_on, self.cal),
             f"{instance_id}:{seq}:0:{rule.level}:1"),
        )  # fmt: skip


def raw_writer(
    url: str, numbers: list[int], seed: int, until: float, out: str, progress: Any
) -> None:
    """The baseline's writer: the same commands, order and pauses."""
    raw = Raw(url, case_definition())
    rng = random.Random(seed)
    tally = Tally()
    plan = lifecycle(case_definition())
    for n in numbers:
        if time.time() > until:
            break
        tally.cases += 1
        for _stage, command in plan:
            began = time.perf_counter()
            request_id = uuid.uuid4().hex
            raw.perform(n, command, request_id)
            tally.latencies.append(time.perf_counter() - began)
            tally.ok.append(request_id)
            time.sleep(rng.uniform(0, PAUSE))
        with progress.get_lock():
            progress.value += 1
    raw.conn.close()
    Path(out).write_text(json.dumps(tally.__dict__), encoding="utf-8")


# -- the webhook receiver -------------------------------------------------------------


class Receiver:
    """A local webhook endpoint counting deliveries by Idempotency-Key."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                key = self.headers.get("Idempotency-Key", "")
                with receiver.lock:
                    receiver.counts[key] += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop listening."""
        self.server.shutdown()


# -- schedulers and faults ------------------------------------------------------------


def scheduler_env(url: str, receiver: Receiver) -> dict[str, str]:
    """The environment of a `scheduler run` process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XUNSHI_")}
    env.update(
        XUNSHI_DB=url,
        XUNSHI_WEBHOOK_URL=receiver.url,
        XUNSHI_WEBHOOK_BACKOFF="0.5",
        XUNSHI_LEASE=str(LEASE),
        XUNSHI_DELIVERY_LEASE=str(LEASE),
        XUNSHI_ACTOR="scheduler",
    )
    return env


def start_scheduler(url: str, receiver: Receiver, log: Path) -> subprocess.Popen[bytes]:
    """`xunshi scheduler run --interval 1`, its log to `log`."""
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "xunshi", "scheduler", "run", "--interval", "1"],
        env=scheduler_env(url, receiver),
        stdout=handle,
        stderr=subprocess.STDOUT,
    )


def held_by(admin_url: str, schema: str, pid: int) -> tuple[set[str], int]:
    """The webhook keys and the number of timers a scheduler process had claimed."""
    worker = f"%:{pid}"
    with psycopg.connect(admin_url) as conn:
        conn.execute(f'SET search_path = "{schema}"')
        keys = {
            row[0]
            for row in conn.execute(
                "SELECT idempotency_key FROM outbox WHERE locked_by LIKE %s AND status = 'pending'",
                (worker,),
            )
        }
        timers = conn.execute(
            "SELECT count(*) FROM timer WHERE locked_by LIKE %s AND status = 'claimed'", (worker,)
        ).fetchone()
    return keys, int(timers[0]) if timers else 0


def terminate_a_writer(admin_url: str, rng: random.Random) -> bool:
    """End one writer's backend (any of them, idle or mid-transaction); whether one was."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'load-writer-%%'"
            )
        ]
        if not pids:
            return False
        conn.execute("SELECT pg_terminate_backend(%s)", (rng.choice(pids),))
    return True


# -- running --------------------------------------------------------------------------


@dataclass
class Phase:
    """What a run of the writers measured."""

    seconds: float
    commands: int
    latencies: list[float]
    ok: list[str]
    failed: list[tuple[str, str]]
    conflicts: int
    cases: int

    def rate(self) -> float:
        """Commands (one event each) per second."""
        return self.commands / self.seconds

    def percentile(self, p: float) -> float:
        """The p-th percentile latency, milliseconds."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def run_writers(
    target: Callable[..., None],
    url: str,
    work: tuple[int, int, float],
    seed: int,
    folder: Path,
    during: Callable[[Any, Callable[[], bool]], None] = lambda _progress, _running: None,
) -> Phase:
    """Start the writers (`target`) on `work` (cases, writers, seconds after which no case
    is started), call `during` while they run, collect their tallies."""
    cases, writers, seconds = work
    until = time.time() + seconds
    ctx = multiprocessing.get_context("spawn")
    progress = ctx.Value("i", 0)
    outs = [folder / f"{target.__name__}-{w}.json" for w in range(writers)]
    processes = [
        ctx.Process(
            target=target,
            args=(
                f"{url}&application_name=load-writer-{w}",
                numbers,
                seed * 1000 + w,
                until,
                str(outs[w]),
                progress,
            ),
        )
        for w, numbers in enumerate(shares(cases, writers))
    ]
    began = time.perf_counter()
    for process in processes:
        process.start()
    during(progress, lambda: any(p.is_alive() for p in processes))
    for process in processes:
        process.join()
    seconds = time.perf_counter() - began
    if any(p.exitcode != 0 for p in processes):
        raise SystemExit(f"a writer failed: exit codes {[p.exitcode for p in processes]}")
    tallies = [json.loads(out.read_text(encoding="utf-8")) for out in outs]
    return Phase(
        seconds,
        sum(len(t["ok"]) for t in tallies),
        [x for t in tallies for x in t["latencies"]],
        [x for t in tallies for x in t["ok"]],
        [tuple(x) for t in tallies for x in t["failed"]],
        sum(t["conflicts"] for t in tallies),
        sum(t["cases"] for t in tallies),
    )


@dataclass
class Faults:
    """What was done to the system while it ran."""

    killed_keys: set[str] = field(default_factory=set)
    killed_timers: int = 0
    terminated: int = 0


def chaos(
    admin_url: str,
    schema: str,
    work: tuple[int, int, float],
    schedulers: list[subprocess.Popen[bytes]],
    restart: Callable[[], subprocess.Popen[bytes]],
    faults: Faults,
    seed: int,
) -> Callable[[Any, Callable[[], bool]], None]:
    """While the writers run: terminate a writer's connection at each sixth of the run, and
    at half of it kill the first scheduler with SIGKILL and start it again (how far the run
    is: the share of cases done or of the time allowed, whichever is further)."""
    rng = random.Random(seed)
    cases, _writers, seconds = work

    def during(progress: Any, running: Callable[[], bool]) -> None:
        began = time.monotonic()
        marks = [(k + 1) / (TERMINATIONS + 1) for k in range(TERMINATIONS)]
        killed = False
        while running():
            done = max(progress.value / cases, (time.monotonic() - began) / seconds)
            if marks and done >= marks[0]:
                marks.pop(0)
                faults.terminated += terminate_a_writer(admin_url, rng)
            if not killed and done >= 0.5:
                victim = schedulers[0]
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                faults.killed_keys, faults.killed_timers = held_by(admin_url, schema, victim.pid)
                schedulers[0] = restart()
                killed = True
            time.sleep(0.05)

    return during


def quiesce(admin_url: str, schema: str, limit: float) -> bool:
    """Wait until no due timer or notification is waiting; whether that happened in time."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with psycopg.connect(admin_url) as conn:
            conn.execute(f'SET search_path = "{schema}"')
            waiting = conn.execute(
                "SELECT (SELECT count(*) FROM timer WHERE status IN ('pending', 'claimed') "
                "AND fire_at <= now()) + (SELECT count(*) FROM outbox WHERE status = 'pending')"
            ).fetchone()
        if waiting is not None and waiting[0] == 0:
            return True
        time.sleep(0.5)
    return False


# -- checks ---------------------------------------------------------------------------


def check(
    url: str, admin_url: str, schema: str, phase: Phase, receiver: Receiver, faults: Faults
) -> list[tuple[str, bool, str]]:
    """Every check: (what, passed, detail)."""
    found: list[tuple[str, bool, str]] = []
    app = bootstrap(Settings(db_url=url, actor=ACTOR))
    try:
        report = app.services.audit.verify()
        detail = f"{report.events:,} events in {report.chains:,} chains"
        detail += f", {len(report.problems)} problems"
        found.append(("every history contiguous, `audit verify` passes", report.ok, detail))
    finally:
        app.db.dispose()
    with psycopg.connect(admin_url) as conn:
        conn.execute(f'SET search_path = "{schema}"')
        one = conn.execute

        escalations = one("SELECT count(*) FROM escalation").fetchone()[0]  # type: ignore[index]
        events = one("SELECT count(*) FROM event WHERE kind = 'escalation'").fetchone()[0]  # type: ignore[index]
        twice = one(
            "SELECT count(*) FROM (SELECT data::jsonb ->> 'escalation' FROM event "
            "WHERE kind = 'escalation' GROUP BY 1 HAVING count(*) > 1) AS d"
        ).fetchone()[0]  # type: ignore[index]
        overdue = one(
            "SELECT count(*) FROM timer WHERE status IN ('pending', 'claimed') AND fire_at <= now()"
        ).fetchone()[0]  # type: ignore[index]
        found.append(
            ("every due rung escalated exactly once",
             escalations == events and twice == 0 and overdue == 0 and escalations > 0,
             f"{escalations:,} escalations, {events:,} escalation events, {twice} twice, "
             f"{overdue} due rungs left"),
        )  # fmt: skip

        keys = {
            row[0] for row in one("SELECT idempotency_key FROM outbox WHERE channel = 'webhook'")
        }
        undelivered = one(
            "SELECT count(*) FROM outbox WHERE channel = 'webhook' AND status <> 'delivered'"
        ).fetchone()[0]  # type: ignore[index]
        counts = receiver.counts
        missing = keys - set(counts)
        extra = set(counts) - keys
        repeated = {k for k, c in counts.items() if c > 1}
        unexplained = repeated - faults.killed_keys
        found.append(
            ("every notification delivered exactly once per key",
             bool(keys) and not missing and not extra and not unexplained and undelivered == 0,
             f"{len(keys):,} keys, {sum(counts.values()):,} deliveries, {len(missing)} missing, "
             f"{len(repeated)} delivered twice (held by the killed scheduler: "
             f"{len(repeated & faults.killed_keys)})"),
        )  # fmt: skip

        stuck = one(
            "SELECT (SELECT count(*) FROM timer WHERE status = 'claimed' "
            "AND locked_until < now()) + (SELECT count(*) FROM outbox WHERE status = 'pending' "
            "AND locked_until IS NOT NULL AND locked_until < now())"
        ).fetchone()[0]  # type: ignore[index]
        found.append(
            ("no timer or notification claimed past its lease", stuck == 0, f"{stuck} left")
        )

        written: Counter[str] = Counter(
            {row[0]: row[1] for row in one(
                "SELECT request_id, count(*) FROM event WHERE request_id IS NOT NULL GROUP BY 1"
            )}
        )  # fmt: skip
        rows: Counter[str] = Counter(
            {
                row[0]: row[1]
                for row in one("SELECT request_id, count(*) FROM command_request GROUP BY 1")
            }
        )
        not_once = [r for r in phase.ok if written.get(r) != 1 or rows.get(r) != 1]
        left = [r for r, _ in phase.failed if written.get(r) or rows.get(r)]
        found.append(
            ("every command that succeeded is in the history exactly once",
             not not_once and not left,
             f"{len(phase.ok):,} succeeded, {len(not_once)} not exactly once; "
             f"{len(phase.failed)} failed, {len(left)} of them left writes"),
        )  # fmt: skip
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default=os.environ.get("XUNSHI_BENCH_PG_URL", DEFAULT_URL))
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--seconds", type=float, default=300, help="start no case after this many seconds"
    )
    parser.add_argument("--quick", action="store_true", help="120 cases (the test suite's size)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the psycopg baseline")
    args = parser.parse_args()
    cases = 120 if args.quick else args.cases
    admin_url = args.pg_url.replace("+psycopg", "", 1)
    per_case = len(lifecycle(case_definition()))
    print(
        f"load benchmark: {cases:,} cases × {per_case} commands, {args.writers} writers, "
        "2 schedulers, PostgreSQL",
        flush=True,
    )
    work = (cases, args.writers, args.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        log = folder / "schedulers.log"
        with fresh_schema(admin_url, args.pg_url) as url:
            schema = url.rsplit("search_path%3D", 1)[1]
            now = datetime.now(UTC)
            began = time.perf_counter()
            build(url, cases, now)
            print(f"  built {cases:,} cases in {time.perf_counter() - began:.0f} s", flush=True)
            receiver = Receiver()
            schedulers = [start_scheduler(url, receiver, log) for _ in range(2)]
            faults = Faults()
            during = chaos(
                admin_url, schema, work, schedulers,
                lambda: start_scheduler(url, receiver, log), faults, args.seed,
            )  # fmt: skip
            try:
                phase = run_writers(xunshi_writer, url, work, args.seed, folder, during)
                print(
                    f"  writers done in {phase.seconds:.0f} s ({phase.cases:,} cases)", flush=True
                )
                settled = quiesce(admin_url, schema, limit=60 + 2 * LEASE)
            finally:
                for process in schedulers:
                    process.send_signal(signal.SIGTERM)
                for process in schedulers:
                    process.wait(timeout=60)
            results = check(url, admin_url, schema, phase, receiver, faults)
            results.append(
                ("the schedulers caught up", settled, "no due timer or notification waiting")
            )
            receiver.close()
        baseline = None
        if not args.no_baseline:
            with fresh_schema(admin_url, args.pg_url) as url:
                build(url, cases, now)
                baseline = run_writers(raw_writer, url, work, args.seed, folder)
                print(
                    f"  baseline done in {baseline.seconds:.0f} s ({baseline.cases:,} cases)",
                    flush=True,
                )
        report(phase, baseline, faults, results, args.writers)
        if not all(passed for _, passed, _ in results):
            print("\nthe schedulers' log, last lines:\n" + log_tail(log), file=sys.stderr)
            raise SystemExit(1)


def log_tail(log: Path) -> str:
    """The last lines of the schedulers' log."""
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:])


def report(
    phase: Phase,
    baseline: Phase | None,
    faults: Faults,
    results: list[tuple[str, bool, str]],
    writers: int,
) -> None:
    """The tables."""

    def latency(run: Phase) -> str:
        return f"{run.percentile(50):.1f} / {run.percentile(99):.1f} ms"

    rows = [
        ("cases driven (whole lifecycles)", f"{phase.cases:,}"),
        ("commands (one event each)", f"{phase.commands:,}"),
        (f"xunshi, events/s ({writers} writers, 2 schedulers, faults)", f"{phase.rate():,.0f}"),
        ("xunshi, command latency p50 / p99", latency(phase)),
        ("conflicts with the schedulers, run again", f"{phase.conflicts:,}"),
    ]
    if baseline is not None:
        rows += [
            (f"raw psycopg baseline, events/s ({writers} writers)", f"{baseline.rate():,.0f}"),
            ("raw psycopg, command latency p50 / p99", latency(baseline)),
            ("ratio xunshi / baseline (target ≥ 60%)", f"{phase.rate() / baseline.rate():.0%}"),
        ]
    rows.append(
        (
            "faults",
            f"1 scheduler SIGKILLed and restarted (it held {len(faults.killed_keys)} "
            f"notifications, {faults.killed_timers} timers); {faults.terminated} writer "
            "connections terminated",
        )
    )
    print()
    print("| measure | value |")
    print("|---|---|")
    for what, value in rows:
        print(f"| {what} | {value} |")
    print()
    print("| check | result | detail |")
    print("|---|---|---|")
    for what, passed, detail in results:
        print(f"| {what} | {'pass' if passed else 'FAIL'} | {detail} |")


if __name__ == "__main__":
    main()
