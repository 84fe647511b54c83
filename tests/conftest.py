"""Shared fixtures: every storage test runs on SQLite and, when configured, on PostgreSQL.

`XUNSHI_TEST_PG_URL` points at a PostgreSQL database; each test gets its own schema there
(via `search_path`), so tests never see each other's rows and subprocesses can share the URL.
Without the variable the PostgreSQL half skips with a visible reason; with it, an
unreachable server is a failure, not a skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from xunshi.bootstrap import App, bootstrap
from xunshi.config import Settings
from xunshi.workflow.clock import ManualClock

PG_URL = os.environ.get("XUNSHI_TEST_PG_URL", "")
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
# 2024-09-02 09:00 in Asia/Shanghai: a Monday, the sample round's start.
T0 = datetime(2024, 9, 2, 1, 0, tzinfo=UTC)


def _pg_admin_url() -> str:
    return PG_URL.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(scope="session")
def pg_available() -> bool:
    """Whether PostgreSQL tests can run; fails if the URL is set but the server is down."""
    if not PG_URL:
        return False
    import psycopg

    try:
        with psycopg.connect(_pg_admin_url(), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        pytest.fail(f"XUNSHI_TEST_PG_URL is set but PostgreSQL is unreachable: {exc}")
    return True


@pytest.fixture
def pg_schema_url(pg_available: bool) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    if not pg_available:
        pytest.skip("PostgreSQL tests skipped: set XUNSHI_TEST_PG_URL to run them")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'xunshi.db'}"
    url: str = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file URL (for tests about SQLite itself)."""
    return f"sqlite:///{tmp_path / 'xunshi.db'}"


@pytest.fixture
def clock() -> ManualClock:
    """A virtual clock at T0."""
    return ManualClock(T0)


@pytest.fixture
def app(db_url: str, clock: ManualClock) -> Iterator[App]:
    """An initialised application on a fresh database, on the virtual clock."""
    application = bootstrap(Settings(db_url=db_url, actor="tester"), clock=clock)
    application.services.definitions.init("tester")
    yield application
    application.db.dispose()
