"""`xunshi db upgrade|current|history`, and the global options wherever they are given."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

from cli_harness import KEY, REPO, Cli, check_exit

FIXTURE = REPO / "tests" / "fixtures" / "v1"
TITLES = (
    "Baseline: the schema as xunshi 0.1.0 created it (schema_info version 1).",
    "Drop schema_info: the revision lives in Alembic's alembic_version now.",
    "Calendar loads keep their mode, ordinary days, titles and resulting year.",
    "Escalations record their instrument and recipient, and a decision rung's fate.",
    "问题线索: the clue table and its links to the problems (items) it gave rise to.",
)
HISTORY = (
    f"修订  上一修订  说明{' ' * 77}已应用\n"
    f"0001            {TITLES[0]}         {{first}}\n"
    f"0002  0001      {TITLES[1]}           {{second}}\n"
    f"0003  0002      {TITLES[2]}        {{third}}\n"
    f"0006  0003      {TITLES[3]}   {{fourth}}\n"
    f"0007  0006      {TITLES[4]}  {{fifth}}\n"
)


def release_database(cli: Cli) -> None:
    """Put the database written by xunshi 0.1.0 (`xunshi demo`, schema v1) at the CLI's path."""
    with gzip.open(FIXTURE / "demo.db.gz") as packed, cli.path.open("wb") as out:
        shutil.copyfileobj(packed, out)


def test_current_of_a_database_that_does_not_exist(cli: Cli) -> None:
    assert cli.out("db", "current") == (
        f"{cli.url} has no schema (run xunshi init); this xunshi needs 0007\n"
    )
    assert cli.files() == []


def test_history_lists_the_revisions_and_what_the_database_has(cli: Cli) -> None:
    # No database yet: nothing to say applied or not.
    assert cli.out("db", "history") == "\n".join(
        line.rstrip()
        for line in HISTORY.format(first="", second="", third="", fourth="", fifth="").split("\n")
    )
    assert cli.files() == []
    cli.run("init")
    assert cli.out("db", "history") == HISTORY.format(
        first="是", second="是", third="是", fourth="是", fifth="是"
    )
    assert cli.json("db", "history") == [
        {
            "id": "0001",
            "down": None,
            "title": TITLES[0],
            "applied": True,
        },
        {
            "id": "0002",
            "down": "0001",
            "title": TITLES[1],
            "applied": True,
        },
        {
            "id": "0003",
            "down": "0002",
            "title": TITLES[2],
            "applied": True,
        },
        {
            "id": "0006",
            "down": "0003",
            "title": TITLES[3],
            "applied": True,
        },
        {
            "id": "0007",
            "down": "0006",
            "title": TITLES[4],
            "applied": True,
        },
    ]


def test_upgrade_creates_an_empty_schema_and_is_idempotent(cli: Cli) -> None:
    assert cli.out("db", "upgrade") == f"Upgraded {cli.url} from an empty database to 0007\n"
    assert cli.out("db", "upgrade") == f"{cli.url} is at 0007: up to date\n"
    assert cli.json("db", "current") == {
        "database": cli.url,
        "revision": "0007",
        "head": "0007",
        "current": True,
    }
    assert cli.out("db", "current") == "0007 (head)\n"


def test_the_release_database_is_refused_until_upgraded(cli: Cli) -> None:
    release_database(cli)
    before = cli.path.read_bytes()

    message = "database schema is at 0001, this xunshi needs 0007: run xunshi db upgrade"
    assert cli.fail("case", "list") == message
    assert cli.fail("audit", "verify") == message
    assert cli.path.read_bytes() == before
    assert cli.out("db", "current") == "0001; this xunshi needs 0007\n"
    assert cli.out("db", "history") == HISTORY.format(
        first="是", second="否", third="否", fourth="否", fifth="否"
    )

    assert cli.json("db", "upgrade") == {
        "database": cli.url,
        "from": "0001",
        "to": "0007",
        "changed": True,
    }
    seal = (FIXTURE / "seal.txt").read_text(encoding="utf-8").strip()
    assert cli.out("audit", "verify", "--seal", seal) == (
        "OK: 140 chains, 2468 events verified and match the seal\n"
    )
    cases = json.loads(gzip.decompress((FIXTURE / "cases.json.gz").read_bytes()))
    # The release's keys and values, in its order; later versions may add keys (`counts`).
    listed = cli.json("case", "list")
    assert [
        {k: case[k] for k in released} for case, released in zip(listed, cases, strict=True)
    ] == cases


def test_global_options_after_the_subcommand(world: Cli, tmp_path: Path) -> None:
    before = world.out("--json", "case", "show", KEY)
    assert world.out("case", "show", KEY, "--json") == before
    assert world.out("case", "--json", "show", KEY) == before
    # --db after the subcommand chooses the database too.
    elsewhere = Cli(tmp_path / "elsewhere.db")
    result = check_exit(elsewhere.invoke(["case", "list", "--db", world.url, "--json"]), 0)
    assert json.loads(result.stdout)[0]["key"] == KEY
    assert elsewhere.files() == []
