"""Benchmark: the web desk's round overview and case page, in process and under load.

    python bench/web.py [--cases 2000] [--repeat 40] [--duration 60] [--clients 20] [--quick]

1. Two rounds: (a) the demo's 36-case round (`xunshi demo`'s simulation, seed 2025), and
   (b) a seeded, fictional round of `--cases` cases (2,000 by default) built through the
   services: the plan, then each case driven a seeded number of stages along its lifecycle's
   forward path (its required milestones, then the forward trigger), a virtual day apart.
   `--quick` builds (a) the fast way too, from the demo scenario's 36 units, and (b) small.
2. Server time. The desk's ASGI application in this process, through its test client,
   signed in as an office user: the round overview and a case page of each round, `--repeat`
   times each (after a warm-up); median and p90.
3. Load. `xunshi serve` (uvicorn) on loopback over each database in turn, `--clients`
   concurrent clients (threads, each its own signed-in session) for `--duration` seconds,
   each request the overview or a case page at random: p50/p99 latency and requests/s.

Prints a markdown table, with the targets (median server time under 100 ms on the 36-case
round, under 500 ms on the 2,000-case one) and whether each was met.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
from fastapi.testclient import TestClient

from xunshi.bootstrap import Services, services
from xunshi.config import Settings
from xunshi.definitions.schema import Definition
from xunshi.demo import run_demo
from xunshi.demo import scenario as s
from xunshi.errors import XunshiError
from xunshi.web.app import create_app
from xunshi.workflow.clock import ManualClock

BENCH_USER = "基准巡视办"  # an office user the benchmark adds (fictional)
PASSWORD = "bench-only password 2025"
ACTOR = "基准脚本"
SEEDED_ROUND = "2025-BW"
SEED = 2025
# Targets: median server time of a page, in seconds, by round size.
TARGETS = {36: 0.100, 2000: 0.500}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


# -- the rounds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Round:
    """A benchmark round: its database, its code, its units, what it is called here."""

    name: str
    url: str
    code: str
    units: tuple[str, ...]

    @property
    def target(self) -> float:
        """The median server time a page of a round this size must stay under."""
        size = len(self.units)
        return TARGETS[36] if size <= 36 else TARGETS[2000]


def demo_round(path: Path) -> Round:
    """The demo's 36-case round, as `xunshi demo` builds it."""
    url = f"sqlite:///{path}"
    app = run_demo(Settings(), url, echo=lambda _line: None)
    try:
        units = tuple(v.unit for v in app.read.cases.many(round_code=s.ROUND))
        _add_user(app)
    finally:
        app.close()
    return Round(f"demo round {s.ROUND}", url, s.ROUND, units)


def seeded_round(path: Path, cases: int, name: str) -> Round:
    """A fictional round of `cases` cases, seeded, built through the services.

    The units take the demo scenario's names and kinds in turn (numbered beyond the first
    36); each case goes a seeded number of stages along its lifecycle's forward path, one
    virtual day a step, the last step ending today.
    """
    rng = random.Random(SEED)
    url = f"sqlite:///{path}"
    plans = [rng.randint(0, 30) for _ in range(cases)]
    days = max(plans) + 1
    now = datetime.now(UTC).replace(microsecond=0)
    clock = ManualClock(now - timedelta(days=days))
    app = services(Settings(db_url=url, actor=ACTOR, durable=False), clock)
    try:
        app.definitions.init(ACTOR)
        app.cases.create_round(SEEDED_ROUND, "基准测试轮次（虚构）", clock.now().date())
        for code, leader in s.GROUPS.items():
            app.cases.add_group(SEEDED_ROUND, code, leader)
        keys = []
        for n in range(cases):
            unit = s.UNITS[n % len(s.UNITS)]
            code = unit.code if n < len(s.UNITS) else f"W{n:05d}"
            suffix = "" if n < len(s.UNITS) else f"（{n // len(s.UNITS)}）"
            app.cases.add_unit(code, unit.name + suffix, unit.kind)
            started = app.cases.start_case(
                round_code=SEEDED_ROUND,
                unit_code=code,
                group_code=unit.group,
                definition=s.DEFINITIONS[unit.kind],
                actor=ACTOR,
            )
            keys.append(str(started.key))
        paths = {name: forward_path(app, name) for name in set(s.DEFINITIONS.values())}
        views = {v.id: v for v in app.read.cases.many(round_code=SEEDED_ROUND)}
        steps = {
            view.id: paths[view.definition][: plans[n]]
            for n, view in enumerate(sorted(views.values(), key=lambda v: str(v.key)))
        }
        for day in range(days):
            clock.set(now - timedelta(days=days - day - 1, hours=1))
            for case_id, todo in steps.items():
                if day < len(todo):
                    step = todo[day]
                    try:
                        step(app, str(case_id))
                    except XunshiError:
                        todo[day + 1 :] = []  # a guard this path does not satisfy: stop here
        _add_user(app)
    finally:
        app.close()
    return Round(name, url, SEEDED_ROUND, tuple(k.split("/")[1] for k in keys))


Step = Callable[[Services, str], object]


def forward_path(app: Services, name: str) -> list[Step]:
    """The steps of a definition's forward path: in each stage its required milestones
    (by the first role that may record them), then the transition to the latest stage."""
    defn = app.read.catalog.definition(name).definition
    order = [st.name for st in defn.states]
    steps: list[Step] = []
    state = defn.initial
    while not defn.state(state).final:
        for milestone in defn.state(state).requires:
            declared = defn.state(state).milestone(milestone)
            count = 12 if declared is not None and declared.count else None  # 人次, 件
            steps.append(_milestone(milestone, _milestone_role(defn, state, milestone), count))
        forward = max(defn.transitions_from(state), key=lambda t: order.index(t.dest))
        steps.append(_fire(forward.trigger, forward.roles[0]))
        state = forward.dest
    return steps


def _milestone(name: str, role: str, count: int | None) -> Step:
    return lambda app, key: app.cases.record_milestone(
        key, name, actor=ACTOR, role=role, count=count
    )


def _fire(trigger: str, role: str) -> Step:
    return lambda app, key: app.cases.fire(key, trigger, actor=ACTOR, role=role)


def _milestone_role(defn: Definition, state: str, name: str) -> str:
    milestone = defn.state(state).milestone(name)
    if milestone is not None and milestone.roles:
        return milestone.roles[0]
    return defn.transitions_from(state)[0].roles[0]


def _add_user(app: Services) -> None:
    app.users.add(BENCH_USER, "office", PASSWORD, group=None, unit=None)


# -- signing in and timing ---------------------------------------------------------------------


def sign_in(client: TestClient | httpx2.Client) -> None:
    """Sign the client in as the benchmark's office user."""
    found = CSRF.search(client.get("/signin").text)
    assert found is not None, "no CSRF token on the sign-in page"
    response = client.post(
        "/signin", data={"name": BENCH_USER, "password": PASSWORD, "csrf": found.group(1)}
    )
    assert response.status_code == 303, response.text


def pages(bench: Round, rng: random.Random) -> Callable[[], str]:
    """A random page of the round: its overview or one of its cases, half and half."""
    overview = f"/rounds/{bench.code}"

    def pick() -> str:
        if rng.random() < 0.5:
            return overview
        return f"/cases/{bench.code}/{rng.choice(bench.units)}"

    return pick


def quantile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of the values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


@dataclass(frozen=True)
class Timing:
    """Server times of one page, in seconds."""

    page: str
    times: list[float]

    @property
    def median(self) -> float:
        """The median."""
        return statistics.median(self.times)

    @property
    def p90(self) -> float:
        """The 90th percentile."""
        return quantile(self.times, 0.9)


def server_times(bench: Round, repeat: int) -> list[Timing]:
    """Median and p90 server time of the overview and of a case page, in process."""
    app = create_app(Settings(db_url=bench.url, actor=ACTOR))
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client)
        middle = bench.units[len(bench.units) // 2]
        found = []
        for page in (f"/rounds/{bench.code}", f"/cases/{bench.code}/{middle}"):
            for _ in range(3):  # warm-up: templates, definitions, the statement cache
                assert client.get(page).status_code == 200
            times = []
            for _ in range(repeat):
                began = time.perf_counter()
                response = client.get(page)
                times.append(time.perf_counter() - began)
                assert response.status_code == 200, response.status_code
            found.append(Timing(page, times))
    return found


@dataclass(frozen=True)
class Load:
    """Latencies (seconds) of every request the clients made, and how long they ran."""

    latencies: list[float]
    seconds: float
    errors: int

    @property
    def rate(self) -> float:
        """Requests per second."""
        return len(self.latencies) / self.seconds


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serving(bench: Round) -> tuple[subprocess.Popen[bytes], str]:
    """`xunshi serve` over the round's database on a free loopback port, once it answers."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "xunshi", "--db", bench.url, "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx2.get(f"{base}/signin", timeout=1)
            return server, base
        except httpx2.TransportError:
            if server.poll() is not None:
                raise RuntimeError(f"xunshi serve exited with {server.returncode}") from None
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("xunshi serve did not answer within 30 s")


def load(bench: Round, clients: int, duration: float) -> Load:
    """`clients` signed-in clients requesting pages of the round for `duration` seconds."""
    server, base = serving(bench)
    try:
        sessions = []
        for _ in range(clients):
            client = httpx2.Client(base_url=base, follow_redirects=False, timeout=60)
            sign_in(client)
            sessions.append(client)
        latencies: list[list[float]] = [[] for _ in sessions]
        errors = [0] * clients
        start = threading.Barrier(clients + 1)
        stop = threading.Event()

        def work(n: int) -> None:
            pick = pages(bench, random.Random(SEED + n))
            start.wait()
            while not stop.is_set():
                began = time.perf_counter()
                try:
                    ok = sessions[n].get(pick()).status_code == 200
                except httpx2.HTTPError:  # a reset or a timeout: an error, and go on
                    ok = False
                latencies[n].append(time.perf_counter() - began)
                errors[n] += not ok

        threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        time.sleep(duration)
        stop.set()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - began
        for client in sessions:
            client.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return Load([t for times in latencies for t in times], seconds, sum(errors))


# -- the report -----------------------------------------------------------------------------


def ms(seconds: float) -> str:
    """`12.3 ms`."""
    return f"{seconds * 1000:,.1f} ms"


def report(results: list[tuple[Round, list[Timing], Load | None]], clients: int) -> str:
    """The markdown tables."""
    lines = [
        "| round | page | median | p90 | target (median) | met |",
        "|---|---|---|---|---|---|",
    ]
    for bench, timings, _load in results:
        for timing in timings:
            kind = "overview" if timing.page.startswith("/rounds/") else "case page"
            met = "yes" if timing.median < bench.target else "NO"
            lines.append(
                f"| {bench.name} ({len(bench.units):,} cases) | {kind} | {ms(timing.median)} "
                f"| {ms(timing.p90)} | < {ms(bench.target)} | {met} |"
            )
    lines += [
        "",
        f"| round | {clients} clients on loopback | requests | errors | p50 | p99 | requests/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for bench, _timings, found in results:
        if found is None:
            continue
        lines.append(
            f"| {bench.name} ({len(bench.units):,} cases) | overview and case pages, "
            f"{found.seconds:.0f} s | {len(found.latencies):,} | {found.errors} "
            f"| {ms(quantile(found.latencies, 0.5))} | {ms(quantile(found.latencies, 0.99))} "
            f"| {found.rate:,.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000, help="cases of the seeded round")
    parser.add_argument("--repeat", type=int, default=40, help="requests per page timed")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument(
        "--quick", action="store_true", help="small rounds, a few repetitions, 1 s of load"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.cases, args.repeat = min(args.cases, 100), min(args.repeat, 5)
        args.duration, args.clients = min(args.duration, 1.0), min(args.clients, 3)
    with tempfile.TemporaryDirectory(prefix="xunshi-bench-web-") as work:
        return run(args, Path(work))


def run(args: argparse.Namespace, work: Path) -> int:
    """Build the rounds in `work`, measure, print the tables and which targets were missed
    (the exit status stays 0: on a shared machine a busy moment is no failure; 1 only if a
    request failed)."""
    print(f"web desk benchmark in {work}", flush=True)
    began = time.perf_counter()
    if args.quick:
        rounds = [seeded_round(work / "small.db", len(s.UNITS), "seeded 36-unit round")]
    else:
        rounds = [demo_round(work / "demo.db")]
    rounds.append(seeded_round(work / "large.db", args.cases, "seeded round"))
    print(f"  built the rounds in {time.perf_counter() - began:.1f} s", flush=True)
    results: list[tuple[Round, list[Timing], Load | None]] = []
    for bench in rounds:
        timings = server_times(bench, args.repeat)
        print(f"  {bench.name}: server times measured", flush=True)
        found = load(bench, args.clients, args.duration) if args.duration > 0 else None
        print(f"  {bench.name}: load measured", flush=True)
        results.append((bench, timings, found))
    print()
    print(report(results, args.clients))
    load_1, load_5, _ = os.getloadavg()
    print(
        f"\n(load average during the run: {load_5:.1f} over 5 min, {load_1:.1f} at the end; "
        f"{os.cpu_count()} CPUs)"
    )
    missed = [
        f"{b.name} {t.page} ({ms(t.median)})"
        for b, timings, _ in results
        for t in timings
        if t.median >= b.target
    ]
    print("targets missed: " + "; ".join(missed) if missed else "targets met")
    return 1 if any(found is not None and found.errors for _b, _t, found in results) else 0


if __name__ == "__main__":
    sys.exit(main())
