"""`xunshi calendar`, `--json` everywhere, `demo`, and failures nobody planned (DESIGN §7, §8)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cli_harness import BUILTIN, KEY, ROUND, SAMPLE_PLAN, Cli, check_exit

from xunshi.bootstrap import services
from xunshi.config import Settings
from xunshi.services.users import ROLES as DESK_ROLES

# -- calendar --------------------------------------------------------------------------------------


def test_workdays_forward(cli: Cli) -> None:
    # 2024-09-29 (a Sunday) is a make-up working day; 10-01..07 are the National Day holiday.
    assert cli.out("calendar", "workdays", "2024-09-27", "5") == "2024-10-10\n"


def test_workdays_backward(cli: Cli) -> None:
    assert cli.out("calendar", "workdays", "2024-10-10", "-5") == "2024-09-27\n"


def test_workdays_backward_after_double_dash(cli: Cli) -> None:
    assert cli.out("calendar", "workdays", "--", "2024-10-10", "-5") == "2024-09-27\n"


def test_workdays_zero(cli: Cli) -> None:
    assert cli.out("calendar", "workdays", "2024-09-27", "0") == "2024-09-27\n"


def test_workdays_in_a_year_without_calendar_data(cli: Cli) -> None:
    assert cli.out("calendar", "workdays", "2027-03-01", "5") == (
        "2027-03-08  (暂定 provisional: no calendar data)\n"
    )


def test_workdays_json(cli: Cli) -> None:
    assert cli.json("calendar", "workdays", "2024-09-27", "5") == {
        "from": "2024-09-27",
        "n": 5,
        "date": "2024-10-10",
        "provisional": False,
    }
    assert cli.json("calendar", "workdays", "2027-03-01", "5")["provisional"] is True


@pytest.mark.parametrize(
    ("start", "count", "message"),
    [
        ("2024-09-27", "x", "N 'x' is not a whole number"),
        ("2024-09-27", "1.5", "N '1.5' is not a whole number"),
        ("2024-02-30", "1", "FROM '2024-02-30' is not a date (YYYY-MM-DD)"),
        ("27/09/2024", "1", "FROM '27/09/2024' is not a date (YYYY-MM-DD)"),
    ],
)
def test_workdays_bad_input(cli: Cli, start: str, count: str, message: str) -> None:
    assert cli.fail("calendar", "workdays", start, count) == message


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("2024-02-29", "99999999"), "2024-02-29 + 99999999 working days"),
        (("9999-12-31", "1"), "9999-12-31"),
        (("2024-02-29", "--", "-99999999"), "2024-02-29 - 99999999 working days"),
        (("0001-01-01", "-1"), "0001-01-01"),
    ],
)
def test_workdays_outside_the_calendar_is_one_line(
    cli: Cli, args: tuple[str, ...], message: str
) -> None:
    # Issue #8: these were tracebacks (OverflowError, ValueError: year 0 is out of range).
    assert cli.fail("calendar", "workdays", *args) == (
        f"{message} is outside the calendar (years 1900–2200)"
    )
    assert cli.out("calendar", "workdays", "2024-02-29", "1") == "2024-03-01\n"


def test_workdays_needs_two_arguments(cli: Cli) -> None:
    assert cli.usage("calendar", "workdays", "2024-09-27") == "Error: Missing argument 'N'."


# -- --json everywhere ----------------------------------------------------------------------------


def test_json_parses_for_every_command_that_has_it(cli: Cli, tmp_path: Path) -> None:
    plan = tmp_path / "plan.csv"
    plan.write_text(
        "round,group,group_leader,unit_code,unit_name,unit_category,definition\n"
        f"{ROUND},G2,李四,U03,示例市教育局,市直机关,regular\n",
        encoding="utf-8",
    )
    regular = ("--definition", "regular", "--at", "2024-09-02T09:00")
    office = ("--actor", "张三", "--role", "office")
    commands: list[tuple[str, ...]] = [
        ("init",),
        ("definitions", "list"),
        ("definitions", "show", "regular"),
        ("definitions", "validate", str(BUILTIN / "regular.yaml")),
        ("definitions", "load", str(BUILTIN / "regular.yaml")),
        ("definitions", "diagram", "regular", "--format", "dot"),
        ("round", "create", ROUND, "--title", "2024年第一轮巡视", "--start", "2024-09-02"),
        ("round", "list"),
        ("group", "add", ROUND, "G1", "--leader", "张三"),
        ("group", "list", ROUND),
        ("unit", "add", "U01", "--name", "示例市财政局"),
        ("unit", "list"),
        ("plan", "import", str(plan), "--at", "2024-09-02T09:00"),
        ("case", "start", "--round", ROUND, "--unit", "U01", "--group", "G1", *regular),
        ("case", "list"),
        ("case", "list", "--round", ROUND, "--state", "preparation", "--overdue"),
        ("case", "show", KEY),
        ("case", "show", KEY, "--as-of", "2024-09-03"),
        ("case", "milestone", KEY, "briefings_received", *office, "--at", "2024-09-03T09:00"),
        ("case", "milestone", KEY, "training_done", *office),
        ("case", "fire", KEY, "move_in", "--actor", "张三", "--role", "group_leader"),
        ("case", "history", KEY),
        ("audit", "verify"),
        ("audit", "seal"),
        ("calendar", "workdays", "2024-09-27", "5"),
    ]
    for command in commands:
        result = cli.run("--json", *command)
        assert result.stderr == "", command
        json.loads(result.stdout)


# -- demo ------------------------------------------------------------------------------------------


def test_demo(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"

    result = cli.run("demo", "--db", url)

    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        f"Demo database: {url}",
        "[ 0] 集团党组2023年第二轮巡视 (2023-R2): 2 个单位整改完成（回头看的前一轮）",
        "集团党组2025年第一轮巡视 (2025-R1): 36 个单位，8 个巡视组，2 批",
    ]
    # A line a simulated week, then the round's report.
    weeks = [line for line in lines if re.match(r"\[\s*\d+/56\] \d{4}-\d\d-\d\d  ", line)]
    assert len(weeks) == 56
    assert weeks[0].startswith("[ 1/56] 2025-03-07  巡前准备 36；")
    start = lines.index("集团党组2025年第一轮巡视 (2025-R1) as of 2026-03-31")
    summary = lines[start + 2 : lines.index("", start + 2)]
    assert summary[-1].split() == ["合计", "5", "5", "2", "22", "2", "36"]
    assert re.search(r"超期案件 overdue cases: [1-9]", result.stdout)
    assert re.search(r"待决定 proposals: [1-9]", result.stdout)
    assert "专题汇总 thematic view (problems by category across units):" in lines
    assert "集团党组2025年第一轮巡视 (2025-R1) 巡视工作统计 as of 2026-03-31" in lines
    invitation = lines.index("在网页工作台查看 Open the demo round in the web desk:")
    assert re.fullmatch(r"audit verify: OK, \d+ chains, \d+ events", lines[invitation - 2])
    assert lines[invitation + 1] == f"  xunshi serve --db {url}"
    # A desk user per role, their passwords printed; each of them can sign in.
    printed = [line.split() for line in lines[invitation + 5 :]]
    assert sorted(row[2] for row in printed) == sorted(DESK_ROLES)
    desk = services(Settings(db_url=url))
    try:
        for name, password, role, *_scope in printed:
            assert desk.users.sign_in(name, password).role == role
    finally:
        desk.close()

    db = Cli(tmp_path / "demo.db")
    # Two batches of 18 units, eight groups.
    plan = db.out("round", "show", "2025-R1").splitlines()
    batches = [line.split() for line in plan if line.startswith("第")]
    assert [(b[0], len(b[-18:])) for b in batches] == [("第一批", 18), ("第二批", 18)]
    assert [group["code"] for group in db.json("group", "list", "2025-R1")] == [
        f"G{n}" for n in range(1, 9)
    ]
    # Two 回头看 following their units' cases of 2023-R2, which were completed.
    for unit in ("U21", "U27"):
        shown = db.json("case", "show", f"2025-R1/{unit}")
        assert shown["follows"] == f"2023-R2/{unit}"
        assert db.json("case", "show", f"2023-R2/{unit}")["state"] == "closed"
    # Exactly one 差, which sent its case back (二次整改) before it was evaluated again.
    grades = db.sql("SELECT data FROM event WHERE kind = 'evaluated'")
    poor = [data for (data,) in grades if json.loads(data)["grade"] == "差"]
    assert len(poor) == 1
    history = db.out("case", "history", "2025-R1/U09")
    assert "整改评估为差" in history
    assert "rerectify → 集中整改" in history
    assert history.index("整改评估 差") < history.index("整改评估 一般")

    # The statistics count what the lists hold.
    total = db.json("report", "statistics", "2025-R1")["rows"][-1]
    items = db.json("item", "list", "--round", "2025-R1")
    assert (total["units"], total["problems"]) == (36, len(items))
    assert total["accepted"] == sum(
        1 for item in items if item["state"] in ("accepted", "archived")
    )

    assert db.fail("demo", "--db", url) == f"the demo needs an empty database; {url} has data"
    assert db.out("audit", "verify").startswith("OK: ")

    # The same seed, the same story: the report and the ledger are the same.
    other = f"sqlite:///{tmp_path / 'again.db'}"
    again = cli.run("demo", "--db", other)
    told = again.stdout.splitlines()
    assert (
        told[1:]
        == [
            f"  xunshi serve --db {other}" if n == invitation + 1 else line
            for n, line in enumerate(lines)
        ][1:]
    )
    ledger = db.out("ledger", "export", "--round", "2025-R1", "--out", "-")
    assert Cli(tmp_path / "again.db").out(
        "ledger", "export", "--round", "2025-R1", "--out", "-"
    ) == (ledger)


def test_the_demo_tells_the_same_story_on_postgresql(
    cli: Cli, tmp_path: Path, pg_schema_url: str
) -> None:
    # The same seed on the other backend: the same report, statistics and thematic reports,
    # and its audit verifies (the demo's last line).
    on_sqlite = cli.run("demo", "--db", f"sqlite:///{tmp_path / 'demo.db'}", "--seed", "7")
    on_postgres = cli.run("demo", "--db", pg_schema_url, "--seed", "7")
    assert on_postgres.stderr == ""
    shown, expected = on_postgres.stdout.splitlines(), on_sqlite.stdout.splitlines()
    serve_line = expected.index(f"  xunshi serve --db sqlite:///{tmp_path / 'demo.db'}")
    assert shown[1:serve_line] == expected[1:serve_line]
    assert shown[serve_line] == f"  xunshi serve --db {pg_schema_url}"
    assert shown[serve_line + 1 :] == expected[serve_line + 1 :]
    assert re.fullmatch(r"audit verify: OK, \d+ chains, \d+ events", shown[serve_line - 3])


# -- failures nobody planned for -------------------------------------------------------------------


def db_fail(cli: Cli, url: str, *args: str) -> str:
    """The one-line error of `xunshi --db URL ARGS`."""
    result = check_exit(cli.invoke(["--db", url, *args]), 1)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0].removeprefix("Error: ")


@pytest.mark.parametrize("args", [("init",), ("case", "list")], ids=["init", "case-list"])
def test_unsupported_database(cli: Cli, args: tuple[str, ...]) -> None:
    assert db_fail(cli, "mysql://u@localhost/xunshi", *args) == (
        "unsupported database mysql://u@localhost/xunshi: use sqlite:/// or postgresql"
    )


@pytest.mark.parametrize("url", ["xunshi.db", "://nothing", "postgresql://u@127.0.0.1:port/db"])
def test_malformed_database_url(cli: Cli, url: str) -> None:
    assert db_fail(cli, url, "case", "list") == (
        f"bad database URL {url!r}: use sqlite:///FILE or postgresql+psycopg://…"
    )


def test_unknown_database_driver(cli: Cli) -> None:
    assert "nodriver" in db_fail(cli, "postgresql+nodriver://u@127.0.0.1:1/db", "init")


@pytest.mark.parametrize("args", [("init",), ("case", "list")], ids=["init", "case-list"])
def test_postgresql_that_does_not_answer(cli: Cli, args: tuple[str, ...]) -> None:
    message = db_fail(cli, "postgresql+psycopg://xunshi:s3cret@127.0.0.1:1/xunshi", *args)

    assert message.startswith(
        "cannot open database postgresql+psycopg://xunshi:***@127.0.0.1:1/xunshi: "
    )
    assert "s3cret" not in message


def test_sqlite_file_in_a_folder_that_does_not_exist(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nope' / 'x.db'}"

    assert db_fail(cli, url, "init") == f"cannot open database {url}: unable to open database file"
    assert db_fail(cli, url, "case", "list") == f"no database at {url}; run `xunshi init` first"


def test_a_file_that_is_not_a_database(cli: Cli) -> None:
    cli.path.write_text("巡视 notes, not a database\n", encoding="utf-8")

    message = cli.fail("case", "list")

    assert "file is not a database" in message
    assert cli.url in message  # which file?


def test_in_memory_sqlite_is_refused(cli: Cli) -> None:
    # `--db sqlite://` "initialises" a database that vanishes with the process; every later
    # command then says it is not initialised. Refuse it up front.
    message = db_fail(cli, "sqlite://", "init")

    assert "sqlite://" in message


def test_debug_shows_the_traceback(world: Cli) -> None:
    result = world.invoke(["--db", world.url, "case", "show", "99"], env={"XUNSHI_DEBUG": "1"})

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert result.stderr.endswith("\nError: case #99 does not exist\n")


def test_a_closed_pipe_is_not_an_error(world: Cli) -> None:
    # `xunshi case list | head -1`: the reader goes away; that is not the user's mistake.
    read, write = os.pipe()
    os.close(read)
    command = [sys.executable, "-m", "xunshi", "--db", world.url, "case", "list"]
    try:
        done = subprocess.run(
            command,
            stdout=write,
            stderr=subprocess.PIPE,
            env={**os.environ, "XUNSHI_ACTOR": "tester"},
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)

    assert done.stderr.decode() == ""


def test_module_entry_point(cli: Cli) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "xunshi", "calendar", "workdays", "2024-09-27", "5"],
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert (done.returncode, done.stdout, done.stderr) == (0, b"2024-10-10\n", b"")


def test_sample_plan_is_shipped() -> None:
    assert SAMPLE_PLAN.read_text(encoding="utf-8").count("\n") == 37
