"""How a process holds its connections: the pool size, PostgreSQL's statement and lock
timeouts and SQLite's busy timeout, from XUNSHI_* variables or the long-running commands'
options; a statement or a lock wait past its limit fails its command with one line."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from xunshi.config import Settings
from xunshi.errors import BadInput, StorageError
from xunshi.storage.db import DEFAULT_POOL_SIZE, ConnectionSettings, Database


def test_the_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"XUNSHI_POOL_SIZE": "3", "XUNSHI_STATEMENT_TIMEOUT": "2.5", "XUNSHI_LOCK_TIMEOUT": "1"}
    )
    assert (settings.pool_size, settings.statement_timeout, settings.lock_timeout) == (3, 2.5, 1)
    default = Settings.from_env({})
    assert (default.pool_size, default.statement_timeout, default.lock_timeout) == (
        DEFAULT_POOL_SIZE,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("XUNSHI_POOL_SIZE", "many", "XUNSHI_POOL_SIZE='many' is not a number"),
        ("XUNSHI_POOL_SIZE", "2.5", "XUNSHI_POOL_SIZE='2.5' is not a number"),
        ("XUNSHI_STATEMENT_TIMEOUT", "0", "XUNSHI_STATEMENT_TIMEOUT must be a positive number"),
        ("XUNSHI_LOCK_TIMEOUT", "-1", "XUNSHI_LOCK_TIMEOUT must be a positive number"),
    ],
)
def test_a_bad_setting_is_one_line(name: str, raw: str, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        Settings.from_env({name: raw})
    assert caught.value.message.startswith(message)


def test_the_pool_keeps_the_configured_number_of_connections(db_url: str) -> None:
    db = Database(db_url, connection=ConnectionSettings(pool_size=3))
    try:
        assert db.engine.pool.size() == 3  # type: ignore[attr-defined]
    finally:
        db.dispose()


def test_sqlite_waits_for_a_lock_as_long_as_the_lock_timeout(sqlite_url: str) -> None:
    db = Database(sqlite_url, connection=ConnectionSettings(lock_timeout=0.25))
    try:
        with db.transaction() as conn:
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 250
    finally:
        db.dispose()
    plain = Database(sqlite_url)
    try:
        with plain.transaction() as conn:
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
    finally:
        plain.dispose()


@pytest.mark.postgres
def test_postgresql_cancels_a_statement_past_its_timeout(pg_schema_url: str) -> None:
    db = Database(pg_schema_url, connection=ConnectionSettings(statement_timeout=0.2))
    try:
        with pytest.raises(StorageError) as caught, db.transaction() as conn:
            conn.execute(text("SELECT pg_sleep(3)"))
        assert caught.value.message == (
            "database error: canceling statement due to statement timeout"
        )
        # The URL's own options (here its search_path) are kept beside the timeouts.
        with db.transaction() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "200ms"
            path = conn.execute(text("SHOW search_path")).scalar()
            assert path is not None and path.startswith("t_")
    finally:
        db.dispose()


@pytest.mark.postgres
def test_postgresql_gives_up_waiting_for_a_lock(pg_schema_url: str) -> None:
    db = Database(pg_schema_url, connection=ConnectionSettings(lock_timeout=0.2))
    try:
        with db.transaction() as conn:
            conn.execute(text("CREATE TABLE held (id int PRIMARY KEY)"))
            conn.execute(text("INSERT INTO held VALUES (1)"))
        holder = db.engine.connect()
        holder.execute(text("SELECT * FROM held WHERE id = 1 FOR UPDATE"))  # held open
        try:
            with pytest.raises(StorageError) as caught, db.transaction() as conn:
                conn.execute(text("UPDATE held SET id = 2 WHERE id = 1"))
            assert caught.value.message == (
                "database error: canceling statement due to lock timeout"
            )
        finally:
            holder.rollback()
            holder.close()
        with db.transaction() as conn:  # nothing was written
            assert conn.execute(text("SELECT id FROM held")).scalar() == 1
    finally:
        db.dispose()
