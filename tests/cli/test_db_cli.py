"""`xunshi db upgrade|current|history`, and the global options wherever they are given."""

from __future__ import annotations

import gzip
import json
import shutil
import unicodedata
from pathlib import Path

from cli_harness import KEY, REPO, Cli, check_exit

FIXTURE = REPO / "tests" / "fixtures" / "v1"
# Every revision as `db history` lists it: id, the one before, title. A new migration is a
# new line here; the table's widths and the JSON follow from it.
SHOWN = (
    ("0001", None, "Baseline: the schema as xunshi 0.1.0 created it (schema_info version 1)."),
    ("0002", "0001", "Drop schema_info: the revision lives in Alembic's alembic_version now."),
    ("0003", "0002", "Calendar loads keep their mode, ordinary days, titles and resulting year."),
    ("0004", "0003", "Round plans: batches with planned dates, and round-wide events."),
    ("0005", "0004", "Instances can be void (撤销): withdrawn, kept in history and audit."),
    (
        "0006",
        "0005",
        "Escalations record their instrument and recipient, and a decision rung's fate.",
    ),
    (
        "0007",
        "0006",
        "问题线索: the clue table and its links to the problems (items) it gave rise to.",
    ),
    ("0008", "0007", "A case may follow an earlier case of its unit (回头看)."),
    ("0009", "0008", "Extension requests (延期申请) of tasks and the office's decisions."),
    ("0010", "0009", "Outcomes of rectification (整改成果) and problems found again (屡改屡犯)."),
    ("0011", "0010", "Business-domain tags, thematic reports (专题) and computed common problems."),
    (
        "0012",
        "0011",
        "People of the web desk: users, their API tokens, the cookie key.",
    ),
    ("0013", "0012", "Request ids: each write transaction of a command kept with its writes."),
)
HEAD = SHOWN[-1][0]
TITLES = tuple(title for _, _, title in SHOWN)


def _cells(text: str) -> int:
    """How many columns `text` takes in a table (a Chinese character two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


_WIDTH = max(_cells(title) for title in TITLES)


def history_text(*applied: str) -> str:
    """`db history` with each revision's 已应用 cell (是, 否 or empty)."""
    lines = [f"修订  上一修订  说明{' ' * (_WIDTH - 2)}已应用"]
    for (rev, down, title), cell in zip(SHOWN, applied, strict=True):
        padded = title + " " * (_WIDTH - _cells(title))
        lines.append(f"{rev}  {down or '    '}      {padded}  {cell}".rstrip())
    return "\n".join(lines) + "\n"


def history_json(applied: bool) -> list[dict[str, object]]:
    """`db history --json`, every revision applied or none."""
    return [
        {"id": rev, "down": down, "title": title, "applied": applied} for rev, down, title in SHOWN
    ]


def release_database(cli: Cli) -> None:
    """Put the database written by xunshi 0.1.0 (`xunshi demo`, schema v1) at the CLI's path."""
    with gzip.open(FIXTURE / "demo.db.gz") as packed, cli.path.open("wb") as out:
        shutil.copyfileobj(packed, out)


def test_current_of_a_database_that_does_not_exist(cli: Cli) -> None:
    assert cli.out("db", "current") == (
        f"{cli.url} has no schema (run xunshi init); this xunshi needs {HEAD}\n"
    )
    assert cli.files() == []


def test_history_lists_the_revisions_and_what_the_database_has(cli: Cli) -> None:
    # No database yet: nothing to say applied or not.
    assert cli.out("db", "history") == "\n".join(
        line.rstrip() for line in history_text(*[""] * len(SHOWN)).split("\n")
    )
    assert cli.files() == []
    cli.run("init")
    assert cli.out("db", "history") == history_text(*["是"] * len(SHOWN))
    assert cli.json("db", "history") == history_json(applied=True)


def test_upgrade_creates_an_empty_schema_and_is_idempotent(cli: Cli) -> None:
    assert cli.out("db", "upgrade") == f"Upgraded {cli.url} from an empty database to {HEAD}\n"
    assert cli.out("db", "upgrade") == f"{cli.url} is at {HEAD}: up to date\n"
    assert cli.json("db", "current") == {
        "database": cli.url,
        "revision": HEAD,
        "head": HEAD,
        "current": True,
    }
    assert cli.out("db", "current") == f"{HEAD} (head)\n"


def test_the_release_database_is_refused_until_upgraded(cli: Cli) -> None:
    release_database(cli)
    before = cli.path.read_bytes()

    message = f"database schema is at 0001, this xunshi needs {HEAD}: run xunshi db upgrade"
    assert cli.fail("case", "list") == message
    assert cli.fail("audit", "verify") == message
    assert cli.path.read_bytes() == before
    assert cli.out("db", "current") == f"0001; this xunshi needs {HEAD}\n"
    assert cli.out("db", "history") == history_text("是", *["否"] * (len(SHOWN) - 1))

    assert cli.json("db", "upgrade") == {
        "database": cli.url,
        "from": "0001",
        "to": HEAD,
        "changed": True,
    }
    seal = (FIXTURE / "seal.txt").read_text(encoding="utf-8").strip()
    assert cli.out("audit", "verify", "--seal", seal) == (
        "OK: 140 chains, 2468 events verified and match the seal\n"
    )
    cases = json.loads(gzip.decompress((FIXTURE / "cases.json.gz").read_bytes()))
    # The release's keys and values, in its order; later versions may add keys
    # (`counts`, `voided`); none of the release's cases is void.
    listed = cli.json("case", "list")
    assert [
        {k: case[k] for k in released} for case, released in zip(listed, cases, strict=True)
    ] == cases
    assert {now["voided"] for now in listed} == {None}


def test_global_options_after_the_subcommand(world: Cli, tmp_path: Path) -> None:
    before = world.out("--json", "case", "show", KEY)
    assert world.out("case", "show", KEY, "--json") == before
    assert world.out("case", "--json", "show", KEY) == before
    # --db after the subcommand chooses the database too.
    elsewhere = Cli(tmp_path / "elsewhere.db")
    result = check_exit(elsewhere.invoke(["case", "list", "--db", world.url, "--json"]), 0)
    assert json.loads(result.stdout)[0]["key"] == KEY
    assert elsewhere.files() == []
