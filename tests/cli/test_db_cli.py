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
    "Instances can be void (撤销): withdrawn, kept in history and audit.",
)
HISTORY = (
    f"修订  上一修订  说明{' ' * 71}已应用\n"
    f"0001            {TITLES[0]}   {{first}}\n"
    f"0002  0001      {TITLES[1]}     {{second}}\n"
    f"0003  0002      {TITLES[2]}  {{third}}\n"
    f"0005  0003      {TITLES[3]}        {{fifth}}\n"
)


def release_database(cli: Cli) -> None:
    """Put the database written by xunshi 0.1.0 (`xunshi demo`, schema v1) at the CLI's path."""
    with gzip.open(FIXTURE / "demo.db.gz") as packed, cli.path.open("wb") as out:
        shutil.copyfileobj(packed, out)


def test_current_of_a_database_that_does_not_exist(cli: Cli) -> None:
    assert cli.out("db", "current") == (
        f"{cli.url} has no schema (run xunshi init); this xunshi needs 0005\n"
    )
    assert cli.files() == []


def test_history_lists_the_revisions_and_what_the_database_has(cli: Cli) -> None:
    # No database yet: nothing to say applied or not.
    assert cli.out("db", "history") == "\n".join(
        line.rstrip()
        for line in HISTORY.format(first="", second="", third="", fifth="").split("\n")
    )
    assert cli.files() == []
    cli.run("init")
    applied = HISTORY.format(first="是", second="是", third="是", fifth="是")
    assert cli.out("db", "history") == applied
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
            "id": "0005",
            "down": "0003",
            "title": TITLES[3],
            "applied": True,
        },
    ]


def test_upgrade_creates_an_empty_schema_and_is_idempotent(cli: Cli) -> None:
    assert cli.out("db", "upgrade") == f"Upgraded {cli.url} from an empty database to 0005\n"
    assert cli.out("db", "upgrade") == f"{cli.url} is at 0005: up to date\n"
    assert cli.json("db", "current") == {
        "database": cli.url,
        "revision": "0005",
        "head": "0005",
        "current": True,
    }
    assert cli.out("db", "current") == "0005 (head)\n"


def test_the_release_database_is_refused_until_upgraded(cli: Cli) -> None:
    release_database(cli)
    before = cli.path.read_bytes()

    message = "database schema is at 0001, this xunshi needs 0005: run xunshi db upgrade"
    assert cli.fail("case", "list") == message
    assert cli.fail("audit", "verify") == message
    assert cli.path.read_bytes() == before
    assert cli.out("db", "current") == "0001; this xunshi needs 0005\n"
    pending = HISTORY.format(first="是", second="否", third="否", fifth="否")
    assert cli.out("db", "history") == pending

    assert cli.json("db", "upgrade") == {
        "database": cli.url,
        "from": "0001",
        "to": "0005",
        "changed": True,
    }
    seal = (FIXTURE / "seal.txt").read_text(encoding="utf-8").strip()
    assert cli.out("audit", "verify", "--seal", seal) == (
        "OK: 140 chains, 2468 events verified and match the seal\n"
    )
    cases = json.loads(gzip.decompress((FIXTURE / "cases.json.gz").read_bytes()))
    listed = cli.json("case", "list")
    # The release's keys keep their values; since 0005 a case also says it is not void.
    assert [{key: now[key] for key in old} for old, now in zip(cases, listed, strict=True)] == cases
    assert [set(now) - set(old) for old, now in zip(cases, listed, strict=True)] == [
        {"voided"}
    ] * len(cases)
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
