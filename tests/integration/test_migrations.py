"""Migrations on every backend: head equals the models, 0001 equals the release, upgrades of a
real database made by the release keep every answer and every hash, refusals write nothing.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner, Result
from sqlalchemy import Boolean, Connection, Date, DateTime, MetaData, inspect, text
from sqlalchemy.exc import DBAPIError

from xunshi.bootstrap import bootstrap
from xunshi.cli import cli
from xunshi.config import ENVIRONMENT, Settings
from xunshi.errors import BadInput, StorageError
from xunshi.storage import models, tables
from xunshi.storage.db import Database
from xunshi.storage.migrate import current_revision, downgrade, upgrade
from xunshi.storage.migrations import HEAD, REVISIONS
from xunshi.workflow.registry import Registry
from xunshi.workflow.schedule import Schedule

T = TypeVar("T")
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "v1"
# Every XUNSHI_* variable unset but the actor, so that the caller's environment never leaks in.
ENV: dict[str, str | None] = {name: None for name in ENVIRONMENT} | {"XUNSHI_ACTOR": "tester"}
OLDER = f"database schema is at 0001, this xunshi needs {HEAD}: run xunshi db upgrade"
NEWER = f"database schema is at 9999, this xunshi needs {HEAD}: upgrade xunshi"
LIVE_WHERE = {
    "sqlite": "status IN ('pending', 'claimed')",
    "postgresql": "((status)::text = ANY ((ARRAY['pending'::character varying, "
    "'claimed'::character varying])::text[]))",
}


# -- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A Database on a fresh, empty database of each backend."""
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def release_file(tmp_path: Path) -> Path:
    """The SQLite database written by xunshi 0.1.0 (before migrations), unpacked."""
    path = tmp_path / "demo.db"
    with gzip.open(FIXTURE / "demo.db.gz") as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return path


def fixture_text(name: str) -> str:
    """One of the fixture's gzipped text files."""
    return gzip.decompress((FIXTURE / name).read_bytes()).decode("utf-8")


def run_cli(url: str, *args: str) -> Result:
    """`xunshi --db URL ARGS…` in-process (the CLI closes its connections when done)."""
    return CliRunner(env=ENV).invoke(cli, ["--db", url, *args])


def schema_differences(db: Database) -> list[Any]:
    """What Alembic's autogenerate finds between the database and the models."""
    with db.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), models.metadata))


def structure(conn: Connection) -> dict[str, Any]:
    """Tables, columns, keys, unique constraints and indexes, the same way on every backend."""
    insp = inspect(conn)
    found = {}
    for name in sorted(set(insp.get_table_names()) - {"alembic_version"}):
        found[name] = {
            "columns": [(c["name"], c["nullable"]) for c in insp.get_columns(name)],
            "primary key": insp.get_pk_constraint(name)["constrained_columns"],
            "foreign keys": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"], *fk["referred_columns"])
                for fk in insp.get_foreign_keys(name)
            ),
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(name)),
            "indexes": reflected_indexes(conn, name),
        }
    return found


def reflected_indexes(conn: Connection, table: str) -> set[tuple[str, tuple[str, ...], bool]]:
    """(name, columns, unique) of a table's own indexes (not those behind a UNIQUE)."""
    return {
        (str(i["name"]), tuple(str(c) for c in i["column_names"]), bool(i["unique"]))
        for i in inspect(conn).get_indexes(table)
        if "duplicates_constraint" not in i
    }


def snapshot(db: Database) -> dict[str, list[str]]:
    """Every table's rows and indexes: what "nothing was written" compares."""
    with db.connect() as conn:
        insp = inspect(conn)
        found = {}
        for name in insp.get_table_names():
            found[name] = sorted(repr(row) for row in conn.execute(text(f'SELECT * FROM "{name}"')))
            found[f"{name} indexes"] = sorted(str(i["name"]) for i in insp.get_indexes(name))
        return found


def sqlite_dump(path: Path) -> list[str]:
    """The SQLite file's schema and rows as SQL text."""
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def make_legacy(db: Database) -> None:
    """Make the database look like one the release made: 0001's schema, no alembic_version."""
    upgrade(db, "0001")
    with db.transaction() as conn:
        conn.execute(text("DROP TABLE alembic_version"))


def released_keys(old: Any, new: Any) -> Any:
    """`new` with only the keys `old` has, at every depth (an item's tasks gained `outcome`)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return {key: released_keys(old[key], new[key]) for key in old if key in new}
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [released_keys(o, n) for o, n in zip(old, new, strict=True)]
    return new


def assert_release_answers(url: str) -> None:
    """The upgraded database answers what the release answered, hashes and seal included."""
    app = bootstrap(Settings(db_url=url, actor="tester"))
    try:
        report = app.services.audit.verify()
        assert report.ok, report.problems
        assert (report.chains, report.events) == (140, 2468)
        sealed = app.services.audit.verify(seal=(FIXTURE / "seal.txt").read_text(encoding="utf-8"))
        assert sealed.ok, sealed.problems
    finally:
        app.db.dispose()

    for command, name in (("case", "cases"), ("item", "items"), ("escalations", "escalations")):
        result = run_cli(url, "--json", command, "list")
        assert result.exit_code == 0, result.output
        # The fixture keeps the JSON indented by one: the release's keys keep their order and
        # values (a later version may add keys: `deliveries` of an escalation, for one).
        expected = fixture_text(f"{name}.json.gz")
        released = json.loads(expected)
        now = json.loads(result.stdout)
        assert len(now) == len(released), command
        pairs = zip(released, now, strict=True)
        # An item's common_problem is computed since 0011 (its category and a tag in three
        # units): the release's typed flags stay in the histories, not in the answer.
        gone = {"common_problem"} if name == "items" else set()
        kept = [
            {k: v for k, v in released_keys(old, new).items() if k not in gone}
            for old, new in pairs
        ]
        printed = json.dumps(kept, ensure_ascii=False, indent=1)
        if gone:
            released = [{k: v for k, v in old.items() if k not in gone} for old in released]
            expected = json.dumps(released, ensure_ascii=False, indent=1)
        assert printed == expected, command

    result = run_cli(url, "audit", "export", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    hashes = [[r["instance"], r["seq"], r["hash"]] for r in records]
    assert hashes == json.loads(fixture_text("event_hashes.json.gz"))

    # And it takes new rows: ids continue after the copied ones.
    result = run_cli(
        url, "round", "create", "2099-R1", "--title", "新一轮", "--start", "2099-01-05"
    )
    assert result.exit_code == 0, result.output

    # Its cases are in no batch of a plan (0004), which can now be made.
    shown = json.loads(run_cli(url, "--json", "round", "show", "2024-R2").stdout)
    assert (shown["batches"], len(shown["unbatched"]["units"])) == ([], 36)
    result = run_cli(url, "round", "plan", "2024-R2", "--batch", "B1", "--leave", "2025-02-28")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Batch B1 of round 2024-R2: planned: 撤离日期 2025-02-28")


def copy_release_rows(path: Path, db: Database) -> None:
    """Copy every row of the release's SQLite file into a PostgreSQL schema at 0001."""
    source = sqlite3.connect(path)
    try:
        with db.transaction() as conn:
            tables = MetaData()
            tables.reflect(conn)
            for table in tables.sorted_tables:
                if table.name in ("alembic_version", "schema_info"):  # 0001 wrote them already
                    continue
                columns = ", ".join(f'"{c.name}"' for c in table.columns)
                rows = [
                    {
                        c.name: from_sqlite(c.type, value)
                        for c, value in zip(table.columns, row, strict=True)
                    }
                    for row in source.execute(f"SELECT {columns} FROM {table.name}")
                ]
                if rows:
                    conn.execute(table.insert(), rows)
                if "id" in table.c:
                    move_sequence(conn, table.name)
    finally:
        source.close()


def move_sequence(conn: Connection, table: str) -> None:
    """Explicit ids leave a serial's sequence behind: move it past the largest id."""
    sequence = conn.execute(text(f"SELECT pg_get_serial_sequence('{table}', 'id')")).scalar()
    if sequence is not None:
        following = f"(SELECT coalesce(max(id), 0) + 1 FROM {table})"
        conn.execute(text(f"SELECT setval(:sequence, {following}, false)"), {"sequence": sequence})


def from_sqlite(kind: Any, value: Any) -> Any:
    """A value as the release stored it on SQLite, as PostgreSQL's column takes it."""
    if value is None:
        return None
    if isinstance(kind, DateTime):  # fixed-width UTC text
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if isinstance(kind, Boolean):
        return bool(value)
    return value


# -- head equals the models, 0001 equals the release -----------------------------------------


def test_migrations_from_empty_equal_the_models(db: Database) -> None:
    assert upgrade(db) == (None, HEAD)

    assert schema_differences(db) == []


# What 0003 adds to calendar_year, as autogenerate names it when it is missing.
CALENDAR_COLUMNS_0003 = [
    ("add_column", "calendar_year", name)
    for name in ("mode", "ordinary", "titles", "year_holidays", "year_workdays")
]


# What 0004 creates (the round plan), as autogenerate names it when it is missing.
PLAN_TABLES_0004 = [
    ("add_table", "batch_case"),
    ("add_table", "round_batch"),
    ("add_table", "round_event"),
    ("add_index", "ix_batch_case_batch_id"),
    ("add_index", "ix_round_event_round"),
]


def difference_names(db: Database) -> list[tuple[str, ...]]:
    """Each difference autogenerate finds, by kind and the table (and column) it concerns."""
    names: list[tuple[str, ...]] = []
    for diff in schema_differences(db):
        if diff[0] in ("remove_table", "add_table", "add_index"):
            names.append((diff[0], diff[1].name))
        elif diff[0] == "add_column":
            names.append((diff[0], diff[2], diff[3].name))
        else:
            names.append((str(diff[0]),))
    return sorted(names)


# What 0006 adds to escalation.
ESCALATION_COLUMNS_0006 = [
    ("add_column", "escalation", name)
    for name in (
        "instrument",
        "recipient",
        "decision",
        "decided_at",
        "decided_by",
        "decision_reason",
    )
]
# What 0005 adds to instance.
INSTANCE_COLUMNS_0005 = [("add_column", "instance", "voided")]
# What 0007 adds: the clue tables and their indexes.
CLUE_TABLES_0007 = [
    ("add_table", "clue"),
    ("add_table", "clue_item"),
    ("add_index", "ix_clue_case_id"),
    ("add_index", "ix_clue_item_item"),
]
# What 0011 adds: tags, themes and their indexes (and it drops the typed common-problem flag).
TAG_THEME_TABLES_0011 = [
    ("add_table", "tag"),
    ("add_table", "item_tag"),
    ("add_index", "ix_item_tag_tag"),
    ("add_table", "theme"),
    ("add_table", "theme_tag"),
    ("add_table", "theme_category"),
    ("add_table", "theme_item"),
    ("add_index", "ix_theme_item_item"),
    ("add_table", "theme_measure"),
    ("add_index", "ix_theme_measure_theme_id"),
    ("remove_column",),  # rectification_item.common_problem
]
# Each revision after 0002 and the columns (and tables) it adds, oldest first.
ADDED_COLUMNS = [
    ("0003", CALENDAR_COLUMNS_0003),
    ("0004", PLAN_TABLES_0004),
    ("0005", INSTANCE_COLUMNS_0005),
    ("0006", ESCALATION_COLUMNS_0006),
    ("0007", CLUE_TABLES_0007),
    ("0008", [("add_table", "case_follows"), ("add_index", "ix_case_follows_earlier_case_id")]),
    ("0009", [("add_table", "task_extensions"), ("add_index", "ix_task_extensions_task_id")]),
    (
        "0010",
        [
            ("add_table", "rectification_outcome"),
            ("add_table", "item_recurs_from"),
            ("add_index", "ix_item_recurs_from_earlier_item_id"),
        ],
    ),
    ("0011", TAG_THEME_TABLES_0011),
    (
        "0012",
        [
            ("add_table", "web_user"),
            ("add_table", "api_token"),
            ("add_index", "ix_api_token_user_id"),
            ("add_table", "web_secret"),
        ],
    ),
    (
        "0013",
        [
            ("add_table", "command_request"),
            ("add_column", "event", "request_id"),
            ("add_index", "ix_event_request_id"),
        ],
    ),
]


def added_after(revision: str) -> list[tuple[str, ...]]:
    """The columns the revisions after `revision` add."""
    later = REVISIONS[REVISIONS.index(revision) + 1 :]
    return [name for rev, names in ADDED_COLUMNS if rev in later for name in names]


def test_autogenerate_sees_what_each_revision_changes(db: Database) -> None:
    # The comparison above can fail: at 0001 it finds the table that 0002 drops and the
    # columns the later revisions add; at each later revision the columns still to come.
    upgrade(db, "0001")
    assert difference_names(db) == sorted([("remove_table", "schema_info"), *added_after("0001")])

    for revision in REVISIONS[1:-1]:
        upgrade(db, revision)
        assert difference_names(db) == sorted(added_after(revision)), revision


def test_0005_makes_every_stored_instance_live_and_its_downgrade_drops_the_column(
    db: Database, db_url: str
) -> None:
    upgrade(db, "0003")
    with db.transaction() as conn:
        conn.execute(
            text(
                "INSERT INTO instance (subject, definition_name, definition_version, state,"
                " entered_at, version, milestones, suspended, provisional, last_occurred_at,"
                " head_hash, stage_seq) VALUES ('case', 'regular', 1, 'preparation',"
                " :at, 0, '{}', false, false, :at, :hash, 1)"
            ),
            {"at": datetime(2024, 9, 2, 1, 0, tzinfo=UTC), "hash": "0" * 64},
        )

    assert upgrade(db, "0005") == ("0003", "0005")
    with db.connect() as conn:
        assert conn.execute(text("SELECT voided FROM instance")).scalars().all() == [False]
    assert difference_names(db) == sorted(added_after("0005"))

    assert downgrade(db, "0003") == ("0005", "0003")
    with db.connect() as conn:
        columns = [c["name"] for c in inspect(conn).get_columns("instance")]
    assert "voided" not in columns
    assert difference_names(db) == sorted(added_after("0003"))


def store_0002_load(db: Database, year: int, holidays: list[str]) -> None:
    """A calendar load as xunshi stored it at 0002 (it replaced the whole year)."""
    c = tables.calendar_year
    with db.transaction() as conn:
        conn.execute(
            c.insert().values(
                calendar="cn",
                year=year,
                holidays=json.dumps(holidays),
                workdays="[]",
                digest="0" * 64,
                source_name=f"cal{year}.yaml",
                source=f"year: {year}",
                loaded_by="tester",
                loaded_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
            )
        )


def test_0003_keeps_what_the_loads_before_it_did(db: Database) -> None:
    # Before 0003 a load replaced its year wholesale: the stored loads become replace
    # loads, so the calendar (and every deadline on it) is the same after the upgrade.
    upgrade(db, "0002")
    store_0002_load(db, 2025, ["2025-10-09"])
    store_0002_load(db, 2027, ["2027-01-01"])

    assert upgrade(db) == ("0002", HEAD)

    with db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT year, mode, holidays, ordinary, titles, year_holidays, year_workdays"
                " FROM calendar_year ORDER BY id"
            )
        ).all()
        cal = Schedule(ZoneInfo("Asia/Shanghai"), Registry()).calendar(conn, "cn")
    assert [tuple(row) for row in rows] == [
        (2025, "replace", '["2025-10-09"]', "[]", "{}", '["2025-10-09"]', "[]"),
        (2027, "replace", '["2027-01-01"]', "[]", "{}", '["2027-01-01"]', "[]"),
    ]
    assert cal.is_working_day(date(2025, 10, 1))  # replaced then, replaced now
    assert not cal.is_working_day(date(2025, 10, 9))
    assert not cal.is_working_day(date(2027, 1, 1))
    assert schema_differences(db) == []


def test_downgrading_0003_gives_each_load_the_year_it_left(db: Database, db_url: str) -> None:
    upgrade(db)
    app = bootstrap(Settings(db_url=db_url, actor="tester"))
    try:
        calendar = app.services.calendar
        calendar.load("year: 2025\nholidays: [2025-10-09]\nworkdays: []\n", "a.yaml", "甲")
        calendar.load("year: 2027\nholidays: [2027-01-01]\nworkdays: []\n", "b.yaml", "甲")
        calendar.reset(2027, "乙")
        calendar.load("year: 2028\nholidays: [2028-01-03]\nworkdays: []\n", "c.yaml", "甲")
        before = app.services.read.catalog.calendar()
    finally:
        app.db.dispose()

    assert downgrade(db, "0002") == (HEAD, "0002")

    with db.connect() as conn:
        rows = conn.execute(text("SELECT year, holidays FROM calendar_year ORDER BY id")).all()
    # 0002 reads a year as its latest load, wholesale: 2025 keeps 国庆 and adds 10-09; the
    # reset left 2027 without data, which 0002 can only say by having no load of it.
    assert [row.year for row in rows] == [2025, 2028]
    holidays_2025 = json.loads(rows[0].holidays)
    assert {"2025-10-01", "2025-10-08", "2025-10-09", "2025-01-28"} <= set(holidays_2025)
    assert len(holidays_2025) == 29

    assert upgrade(db) == ("0002", HEAD)
    app = bootstrap(Settings(db_url=db_url, actor="tester"))
    try:
        after = app.services.read.catalog.calendar()
    finally:
        app.db.dispose()
    for year in (2025, 2027, 2028):
        start = date(year, 1, 1)
        days = [start + timedelta(days=k) for k in range(366)]
        assert [after.is_working_day(d) for d in days] == [
            before.is_working_day(d) for d in days
        ], year
        assert after.has_data(year) == before.has_data(year)


def test_0004_adds_the_plan_beside_the_cases_a_database_has(db: Database, db_url: str) -> None:
    # Cases started before 0004 are in no batch and keep running; downgrading drops the plan
    # and the round events, never a case or an event of a case.
    upgrade(db)
    app = bootstrap(Settings(db_url=db_url, actor="tester"))
    try:
        app.services.definitions.init("tester")
        cases = app.services.cases
        cases.create_round("2025-R1", "2025年第一轮巡视", date(2025, 3, 3))
        cases.add_group("2025-R1", "G1", "组长甲")
        for unit in ("U01", "U02"):
            cases.add_unit(unit, f"单位{unit}")
            cases.start_case(
                round_code="2025-R1",
                unit_code=unit,
                group_code="G1",
                definition="regular",
                actor="巡视办",
            )
        events_before = app.services.audit.verify().events
    finally:
        app.db.dispose()

    assert downgrade(db, "0003") == (HEAD, "0003")
    with db.connect() as conn:
        assert not {"round_batch", "batch_case", "round_event"} & set(
            inspect(conn).get_table_names()
        )
    assert upgrade(db) == ("0003", HEAD)
    assert schema_differences(db) == []

    app = bootstrap(Settings(db_url=db_url, actor="tester"))
    try:
        shown = app.services.read.rounds.plan("2025-R1")
        assert shown.batches == ()
        assert shown.unbatched is not None and shown.unbatched.units == ("U01", "U02")
        done = app.services.rounds.record(
            "2025-R1", "briefings_received", actor="巡视办", role="office"
        )
        assert len(done.changes) == 2
        changed = app.services.rounds.plan(
            "2025-R1", "B1", move_in=date(2025, 3, 10), actor="巡视办"
        )
        assert (changed.created, changed.rescheduled) == (True, ())
        report = app.services.audit.verify()
        assert report.ok and report.events == events_before + 2
    finally:
        app.db.dispose()


def test_head_has_every_model_index_with_its_predicate(db: Database) -> None:
    upgrade(db)
    dialect = db.engine.dialect.name

    with db.connect() as conn:
        for table in models.metadata.sorted_tables:
            declared = {
                (str(i.name), tuple(c.name for c in i.columns), bool(i.unique))
                for i in table.indexes
            }
            assert reflected_indexes(conn, table.name) == declared, table.name
        options = {i["name"]: i["dialect_options"] for i in inspect(conn).get_indexes("timer")}

    assert str(options["ix_timer_live"][f"{dialect}_where"]) == LIVE_WHERE[dialect]
    assert f"{dialect}_where" not in options["ix_timer_instance"]


def test_revision_0001_is_what_the_release_created(sqlite_url: str, release_file: Path) -> None:
    db = Database(sqlite_url)
    try:
        upgrade(db, "0001")
    finally:
        db.dispose()

    def master(path: Path) -> set[tuple[str, str, str | None]]:
        conn = sqlite3.connect(path)
        try:
            rows = conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
        finally:
            conn.close()
        return {row for row in rows if "alembic_version" not in row[1]}

    made = Path(sqlite_url.removeprefix("sqlite:///"))
    assert master(made) == master(release_file)  # the same CREATE statements, to the byte
    conn = sqlite3.connect(made)
    try:
        assert conn.execute("SELECT key, value FROM schema_info").fetchall() == [
            ("schema_version", "1")
        ]
    finally:
        conn.close()


def test_revision_0001_has_the_release_structure(db: Database, release_file: Path) -> None:
    upgrade(db, "0001")
    release = Database(f"sqlite:///{release_file}")
    try:
        with release.connect() as conn:
            expected = structure(conn)
    finally:
        release.dispose()

    with db.connect() as conn:
        assert structure(conn) == expected


def test_downgrade_to_0001_and_back(db: Database) -> None:
    upgrade(db)

    assert downgrade(db, "0001") == (HEAD, "0001")
    assert current_revision(db) == "0001"
    with db.connect() as conn:
        assert conn.execute(text("SELECT key, value FROM schema_info")).all() == [
            ("schema_version", "1")
        ]

    assert upgrade(db) == ("0001", HEAD)
    assert schema_differences(db) == []

    assert downgrade(db, "base") == (HEAD, None)
    assert current_revision(db) is None
    with db.connect() as conn:
        assert inspect(conn).get_table_names() == ["alembic_version"]


def test_upgrade_is_idempotent(db: Database) -> None:
    upgrade(db)
    before = snapshot(db)

    assert upgrade(db) == (HEAD, HEAD)
    assert snapshot(db) == before


# -- databases made by the release ------------------------------------------------------------


def test_the_release_database_upgrades_on_sqlite(release_file: Path) -> None:
    url = f"sqlite:///{release_file}"
    db = Database(url)
    try:
        assert current_revision(db) == "0001"
        assert upgrade(db) == ("0001", HEAD)
        assert current_revision(db) == HEAD
        assert schema_differences(db) == []
    finally:
        db.dispose()

    assert_release_answers(url)


@pytest.mark.postgres
def test_the_release_database_upgrades_on_postgres(pg_schema_url: str, release_file: Path) -> None:
    db = Database(pg_schema_url)
    try:
        upgrade(db, "0001")
        copy_release_rows(release_file, db)
        assert upgrade(db) == ("0001", HEAD)
        assert schema_differences(db) == []
    finally:
        db.dispose()

    assert_release_answers(pg_schema_url)


def test_a_legacy_database_is_stamped_then_upgraded(db: Database) -> None:
    make_legacy(db)
    assert current_revision(db) == "0001"
    with pytest.raises(StorageError) as refused:
        db.require_schema()
    assert refused.value.message == OLDER

    assert upgrade(db) == ("0001", HEAD)

    assert current_revision(db) == HEAD
    with db.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [(HEAD,)]
    assert schema_differences(db) == []
    db.require_schema()


def test_init_upgrades_the_release_database(release_file: Path) -> None:
    app = bootstrap(Settings(db_url=f"sqlite:///{release_file}", actor="tester"))
    try:
        assert app.services.definitions.init("tester").schema_created
        assert not app.services.definitions.init("tester").schema_created
        assert current_revision(app.db) == HEAD
    finally:
        app.db.dispose()


# -- refusals ---------------------------------------------------------------------------------


def test_an_older_schema_is_refused(db: Database) -> None:
    upgrade(db, "0001")

    with pytest.raises(StorageError) as refused:
        db.require_schema()
    assert refused.value.message == OLDER


def test_a_newer_schema_is_refused_and_not_touched(db: Database) -> None:
    upgrade(db)
    with db.transaction() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    before = snapshot(db)

    with pytest.raises(StorageError) as refused:
        db.require_schema()
    assert refused.value.message == NEWER
    with pytest.raises(StorageError) as refused:
        upgrade(db)
    assert refused.value.message == NEWER
    assert snapshot(db) == before


def test_the_cli_refuses_an_older_schema_and_writes_nothing(sqlite_url: str) -> None:
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    db = Database(sqlite_url)
    try:
        upgrade(db, "0001")
    finally:
        db.dispose()
    before = (path.read_bytes(), sqlite_dump(path))

    result = run_cli(sqlite_url, "case", "list")

    assert result.exit_code == 1
    assert result.stderr == f"Error: {OLDER}\n"
    assert (path.read_bytes(), sqlite_dump(path)) == before


def test_the_cli_refuses_a_newer_schema(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        upgrade(db)
        with db.transaction() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        db.dispose()
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    before = sqlite_dump(path)

    for args in (("case", "list"), ("init",)):
        result = run_cli(sqlite_url, *args)
        assert result.exit_code == 1, args
        assert result.stderr == f"Error: {NEWER}\n", args
    assert sqlite_dump(path) == before


def test_unknown_or_backward_targets_are_refused(db: Database) -> None:
    with pytest.raises(BadInput) as refused:
        upgrade(db, "9998")
    assert refused.value.message == f"no schema revision 9998; known: {', '.join(REVISIONS)}"

    upgrade(db)
    with pytest.raises(BadInput) as refused:
        upgrade(db, "0001")
    assert refused.value.message == f"database schema is at {HEAD}, past 0001: nothing to upgrade"
    assert current_revision(db) == HEAD


def test_a_failed_upgrade_writes_nothing(db: Database) -> None:
    # A legacy database where something outside xunshi depends on schema_info: 0002 cannot
    # drop it. The stamp (alembic_version created, 0001 recorded) must roll back with it.
    make_legacy(db)
    with db.transaction() as conn:
        conn.execute(text("CREATE TABLE note (key VARCHAR(64) REFERENCES schema_info (key))"))
        conn.execute(text("INSERT INTO note VALUES ('schema_version')"))
    before = snapshot(db)

    with pytest.raises(StorageError) as caught:
        upgrade(db)
    assert caught.value.message.startswith("database error: ")
    assert isinstance(caught.value.__cause__, DBAPIError)

    assert snapshot(db) == before
    assert "alembic_version" not in before
    assert current_revision(db) == "0001"


# -- several upgraders at once ----------------------------------------------------------------


def upgrade_and_close(url: str) -> tuple[str | None, str]:
    """Upgrade the database at `url` with a Database of its own."""
    db = Database(url)
    try:
        return upgrade(db)
    finally:
        db.dispose()


def run_at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run each call in its own thread, released together; their results in call order."""
    start = threading.Barrier(len(calls))
    results: list[T | BaseException] = [RuntimeError("still running")] * len(calls)

    def run(n: int) -> None:
        start.wait()
        try:
            results[n] = calls[n]()
        except BaseException as exc:
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)  # a lost lock can deadlock: fail instead of hanging
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    return [r for r in results if not isinstance(r, BaseException)]


def test_concurrent_upgrades_of_an_empty_database(db_url: str) -> None:
    upgraders = 4
    results = run_at_once([lambda: upgrade_and_close(db_url)] * upgraders)

    assert sorted(results, key=repr) == [(HEAD, HEAD)] * (upgraders - 1) + [(None, HEAD)]
    db = Database(db_url)
    try:
        with db.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [(HEAD,)]
        assert schema_differences(db) == []
    finally:
        db.dispose()


def test_opening_a_new_sqlite_database_waits_while_another_writes(tmp_path: Path) -> None:
    # A new file is not in WAL mode yet; switching needs the file to itself, and SQLite says
    # "database is locked" at once rather than wait. Upgraders started together on a new
    # database failed so (test_concurrent_upgrades_of_an_empty_database, now and then).
    path = tmp_path / "new.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1)")
    modes: list[str] = []

    def open_it() -> None:
        db = Database(f"sqlite:///{path}")
        try:
            with db.connect() as conn:
                modes.append(conn.exec_driver_sql("PRAGMA journal_mode").scalar_one())
        finally:
            db.dispose()

    opener = threading.Thread(target=open_it)
    opener.start()
    opener.join(timeout=0.3)
    assert opener.is_alive()  # waiting for the writer, not failed
    writer.execute("COMMIT")
    writer.close()
    opener.join(timeout=10)
    assert modes == ["wal"]


def test_threads_upgrading_different_databases(tmp_path: Path) -> None:
    # Alembic keeps its `op` and `context` in module globals; upgrades in one process must
    # not run each other's operations on the wrong database.
    urls = [f"sqlite:///{tmp_path / f'db{n}.db'}" for n in range(4)]
    results = run_at_once([lambda url=url: upgrade_and_close(url) for url in urls])

    assert results == [(None, HEAD)] * len(urls)
    for url in urls:
        db = Database(url)
        try:
            assert schema_differences(db) == []
        finally:
            db.dispose()
