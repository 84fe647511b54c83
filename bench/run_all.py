"""Run every benchmark in bench/ and write bench/RESULTS.md.

    python bench/run_all.py [--only fire,sweep,...] [--quick] [--timeout 3600]
                            [--output bench/RESULTS.md]

Each bench runs as its own process, one after the other (they would disturb each other's
timings otherwise); its output is shown as it comes and kept. RESULTS.md then holds the
date, a description of the machine (CPU, memory, OS, Python, SQLite, the PostgreSQL server,
the git commit, the load average before and after) and one section per bench: its command
line, how it ended, the lines it printed while working, and its tables verbatim (each bench
prints its medians and its ratios to a baseline run in the same process run).

`--quick` gives each bench its small sizes (`--quick` where the bench has it, else small
explicit sizes shown in its command line); `make bench` runs the full sizes. `load.py` (the
PostgreSQL load bench) runs when it exists, against `--pg-url`, by default
$XUNSHI_BENCH_PG_URL. A bench that fails or runs past `--timeout` is reported in RESULTS.md
with its exit status and the last lines of its stderr, the others still run, and this
script exits 1 at the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DEFAULT_OUTPUT = BENCH_DIR / "RESULTS.md"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_URL_VARIABLE = "XUNSHI_BENCH_PG_URL"
STDERR_TAIL = 20  # lines of a failed bench's stderr kept in RESULTS.md
GRACE = 10.0  # seconds between SIGTERM and SIGKILL when a bench runs past its timeout


@dataclass(frozen=True)
class Bench:
    """One benchmark script and the arguments of its full and quick runs."""

    name: str
    script: str
    full: tuple[str, ...] = ()
    quick: tuple[str, ...] = ("--quick",)
    needs_pg: bool = False
    optional: bool = False  # skipped, saying so, when the script is not there

    def argv(self, quick: bool, pg_url: str) -> list[str]:
        """The command line that runs this bench."""
        args = [*(self.quick if quick else self.full)]
        if self.needs_pg:
            args += ["--pg-url", pg_url]
        return [sys.executable, str(BENCH_DIR / self.script), *args]


BENCHES = (
    Bench("fire", "fire.py"),
    Bench("sweep", "sweep.py", quick=("--sizes", "1000,10000", "--due", "200")),
    Bench("import", "import_items.py", quick=("--items", "200", "--repeat", "1")),
    Bench("verify", "verify.py"),
    Bench("web", "web.py"),
    Bench("lists", "lists.py"),
    Bench("load", "load.py", needs_pg=True),
)
NAMES = tuple(b.name for b in BENCHES)


@dataclass(frozen=True)
class Outcome:
    """How one bench ended and what it printed."""

    bench: Bench
    argv: list[str]
    status: int | None  # None: not run (its script is missing)
    seconds: float
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """Whether the bench ran to the end with exit status 0 (a skipped one is not ok)."""
        return self.status == 0 and not self.timed_out


# -- running --------------------------------------------------------------------------------


def run_bench(bench: Bench, quick: bool, pg_url: str, timeout: float) -> Outcome:
    """Run one bench in its own process group, echoing its output; kill it past `timeout`."""
    argv = bench.argv(quick, pg_url)
    if not (BENCH_DIR / bench.script).exists():
        return Outcome(bench, argv, None, 0.0, "", "")
    print(f"\n== {bench.name}: {shown(argv)}", flush=True)
    lines: list[str] = []
    timed_out = False
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as errors,
        subprocess.Popen(
            argv,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            start_new_session=True,  # its children (servers, workers) are killed with it
        ) as process,
    ):
        began = time.perf_counter()
        assert process.stdout is not None
        reader = threading.Thread(target=_echo, args=(process.stdout, lines), daemon=True)
        reader.start()
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            status = _kill(process)
        reader.join()
        seconds = time.perf_counter() - began
        errors.seek(0)
        stderr = errors.read()
    return Outcome(bench, argv, status, seconds, "".join(lines), stderr, timed_out)


def _echo(stream: IO[str], lines: list[str]) -> None:
    """Keep each line the bench prints and show it as it comes."""
    for line in stream:
        lines.append(line)
        sys.stdout.write(line)
        sys.stdout.flush()


def _kill(process: subprocess.Popen[str]) -> int:
    """Stop a bench's whole process group: SIGTERM, then SIGKILL after a grace period."""
    for signum, wait in ((signal.SIGTERM, GRACE), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            break
        try:
            return process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return process.wait()


def shown(argv: Sequence[str]) -> str:
    """A command line as a person would type it from the repository (`python bench/…`)."""
    words = ["python", *argv[1:]]
    return " ".join(str(Path(w).relative_to(REPO)) if w.startswith(str(REPO)) else w for w in words)


# -- the machine ----------------------------------------------------------------------------


def machine(pg_url: str) -> list[tuple[str, str]]:
    """What the benches ran on, as (what, value) pairs."""
    return [
        ("CPU", cpu()),
        ("memory", memory()),
        ("OS", os_name()),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("SQLite", sqlite3.sqlite_version),
        ("PostgreSQL server", postgres_version(pg_url)),
        ("git commit", commit()),
    ]


def cpu() -> str:
    """The CPU model from /proc/cpuinfo and how many CPUs this process may use."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    count = usable or os.cpu_count() or 0
    return f"{model}, {count} CPUs"


def memory() -> str:
    """MemTotal from /proc/meminfo, in GiB."""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def os_name() -> str:
    """The distribution's name (/etc/os-release) and the kernel."""
    name = platform.system()
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                name = line.partition("=")[2].strip().strip('"')
    except OSError:
        pass
    return f"{name}, kernel {platform.release()}"


def postgres_version(url: str) -> str:
    """The server version at `url`, or why it could not be read."""
    # SQLAlchemy only here: the runner itself needs nothing of xunshi's.
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            return str(conn.exec_driver_sql("SHOW server_version").scalar_one())
    except (SQLAlchemyError, ImportError) as exc:
        return f"not reachable at {engine.url.render_as_string(hide_password=True)} ({exc})"
    finally:
        engine.dispose()


def commit() -> str:
    """The checked-out commit, and whether tracked files differ from it."""
    try:
        head = _git("log", "-1", "--format=%h %s")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" (with uncommitted changes)" if dirty else "")


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=REPO, capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip()


def load_average() -> str:
    """The 1- and 5-minute load averages."""
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min)"


# -- the report -----------------------------------------------------------------------------


def split_output(stdout: str) -> tuple[list[str], list[str]]:
    """A bench's output as (log, results): the progress lines it prints while working, up to
    its first blank line or table, and the rest (its tables and notes), verbatim."""
    lines = stdout.rstrip().splitlines()
    for index, line in enumerate(lines):
        if not line.strip() or line.startswith("|"):
            return lines[:index], _trim(lines[index:])
    return lines, []


def _trim(lines: list[str]) -> list[str]:
    """Without leading and trailing blank lines."""
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def section(outcome: Outcome) -> list[str]:
    """One bench's part of RESULTS.md."""
    lines = [f"## {outcome.bench.name}", "", f"Command: `{shown(outcome.argv)}`", ""]
    if outcome.status is None:
        return [*lines, f"Status: not run ({outcome.bench.script} is not in bench/).", ""]
    if outcome.timed_out:
        status = f"failed: stopped after {outcome.seconds:.0f} s (timeout), exit status "
        status += f"{outcome.status}"
    elif outcome.status != 0:
        status = f"failed: exit status {outcome.status} after {outcome.seconds:.0f} s"
    else:
        status = f"ok, {outcome.seconds:.0f} s"
    lines += [f"Status: {status}.", ""]
    log, results = split_output(outcome.stdout)
    if log:
        lines += ["Log:", "", "```text", *log, "```", ""]
    if results:
        lines += [*results, ""]
    if not outcome.ok:
        tail = outcome.stderr.rstrip().splitlines()[-STDERR_TAIL:]
        lines += [f"Last lines of stderr ({len(tail)}):", "", "```text", *tail, "```", ""]
    return lines


def report(
    outcomes: Sequence[Outcome],
    described: Sequence[tuple[str, str]],
    *,
    began: datetime,
    quick: bool,
) -> str:
    """The whole RESULTS.md."""
    sizes = (
        "quick (small sizes: not figures to quote)"
        if quick
        else "full (each bench's default sizes)"
    )
    lines = [
        "# Benchmark results",
        "",
        "Written by `bench/run_all.py` (`make bench`); the README's performance section is",
        "generated from this file by `bench/readme.py`. Medians, and ratios against a baseline",
        "run in the same process run: the machine may be shared, so compare ratios, not times.",
        "",
        "| | |",
        "|---|---|",
        f"| date | {began.isoformat(timespec='seconds')} |",
        f"| sizes | {sizes} |",
        *[f"| {what} | {value} |" for what, value in described],
        "",
    ]
    for outcome in outcomes:
        lines += section(outcome)
    return "\n".join(lines).rstrip() + "\n"


# -- the command ----------------------------------------------------------------------------


def chosen(only: str | None) -> list[Bench]:
    """The benches `--only` names (all of them without it), in their usual order."""
    if not only:
        return list(BENCHES)
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        raise SystemExit(f"Error: unknown bench {', '.join(unknown)} (known: {', '.join(NAMES)})")
    return [b for b in BENCHES if b.name in names]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", metavar="NAME,...", help=f"some of: {', '.join(NAMES)}")
    parser.add_argument("--quick", action="store_true", help="each bench's small sizes")
    parser.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds each bench may run (3600)"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="RESULTS.md")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(PG_URL_VARIABLE) or DEFAULT_PG_URL,
        help=f"PostgreSQL for the load bench (default ${PG_URL_VARIABLE}, else {DEFAULT_PG_URL})",
    )
    args = parser.parse_args(argv)
    benches = chosen(args.only)
    began = datetime.now().astimezone()
    described = machine(args.pg_url)  # the commit as it was when the benches started
    before = load_average()
    outcomes = [run_bench(b, args.quick, args.pg_url, args.timeout) for b in benches]
    described.append(("load average", f"{before} before, {load_average()} after"))
    args.output.write_text(
        report(outcomes, described, began=began, quick=args.quick), encoding="utf-8"
    )
    failed = [o.bench.name for o in outcomes if o.status is not None and not o.ok]
    skipped = [o.bench.name for o in outcomes if o.status is None]
    print(f"\nwrote {args.output}" + (f" (not run: {', '.join(skipped)})" if skipped else ""))
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
