"""Schema migrations: move a database to a revision with Alembic, in one transaction.

The revisions are the scripts in `migrations/versions/`; `migrations.HEAD` names the newest
without importing Alembic. A database made before migrations (a `schema_info` row, no
`alembic_version`) stands at revision 0001: upgrading it stamps 0001 and carries on, in the
same transaction.

`current_revision` is plain SQL (`db.revision_in`), cheap enough for every command's schema
check; Alembic is imported only when a migration runs or the history is read.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import Connection, text

from xunshi import idempotency
from xunshi.errors import BadInput
from xunshi.storage.db import Database, revision_in, schema_mismatch
from xunshi.storage.migrations import HEAD, REVISIONS

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# One PostgreSQL advisory lock for schema changes ("xunshi" in ASCII): a second upgrader
# waits for the first to commit, then finds the schema already where it wanted it.
PG_LOCK_KEY = int.from_bytes(b"xunshi", "big")
# Alembic keeps `context` and `op` in module globals: two threads migrating at once (even
# different databases) would run each other's operations. One migration per process.
_ALEMBIC_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Revision:
    """One migration: its id, the revision it follows, the first line of its docstring."""

    id: str
    down: str | None
    title: str


def current_revision(db: Database) -> str | None:
    """The database's revision ("0001" if made before migrations; None if empty)."""
    return db.schema_version()


def upgrade(db: Database, target: str = "head") -> tuple[str | None, str]:
    """Bring the schema up to `target`; return the revisions before and after (idempotent)."""
    goal = HEAD if target == "head" else target
    _require_revision(goal)

    def work(conn: Connection) -> tuple[str | None, str]:
        before = _start(db, conn)
        if _position(before) > _position(goal):
            raise BadInput(f"database schema is at {before}, past {goal}: nothing to upgrade")
        if before != goal:  # up to date: `init` need not even import Alembic
            _alembic(conn, "upgrade", goal)
        return before, goal

    # Never under a request: the schema the request's row needs may be what is being made.
    with idempotency.using(None):
        return db.run(work, immediate=True)


def downgrade(db: Database, target: str) -> tuple[str | None, str | None]:
    """Take the schema back to `target` ("base": empty); return the revisions before and after."""
    goal = None if target == "base" else target
    if goal is not None:
        _require_revision(goal)

    def work(conn: Connection) -> tuple[str | None, str | None]:
        before = _start(db, conn)
        if goal is not None and _position(before) < _position(goal):
            raise BadInput(
                f"database schema is at {before or 'base'}, before {goal}: nothing to downgrade"
            )
        _alembic(conn, "downgrade", target)
        return before, goal

    with idempotency.using(None):  # as for upgrade
        return db.run(work, immediate=True)


def history() -> list[Revision]:
    """Every revision, oldest first."""
    from alembic.script import ScriptDirectory  # Alembic only when migrations are asked for

    scripts = ScriptDirectory.from_config(config())
    found = []
    for script in scripts.walk_revisions():  # newest first
        down = script.down_revision
        if not (down is None or isinstance(down, str)):
            raise ValueError(f"revision {script.revision} merges {down}: keep the history a line")
        title = (script.module.__doc__ or "").strip().splitlines()[0]
        found.append(Revision(script.revision, down, title))
    return found[::-1]


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration of xunshi's migrations (no alembic.ini), on `connection`."""
    from alembic.config import Config  # Alembic only when migrations are asked for

    settings = Config()
    settings.set_main_option("script_location", str(MIGRATIONS))
    settings.set_main_option("path_separator", "os")
    if connection is not None:
        settings.attributes["connection"] = connection  # env.py runs on it
    return settings


def _start(db: Database, conn: Connection) -> str | None:
    """Lock out other schema changes, then read the revision (stamping a legacy database)."""
    if not db.is_sqlite:  # SQLite is already locked: the transaction began IMMEDIATE
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
    before = revision_in(conn)
    if before is not None and before not in REVISIONS:
        raise schema_mismatch(before)
    if before is not None and not conn.dialect.has_table(conn, "alembic_version"):
        # Made before migrations: record the revision it stands at, then carry on as usual.
        _alembic(conn, "stamp", before)
    return before


def _alembic(conn: Connection, action: Literal["upgrade", "downgrade", "stamp"], to: str) -> None:
    from alembic import command  # Alembic only when migrations are asked for

    run = {"upgrade": command.upgrade, "downgrade": command.downgrade, "stamp": command.stamp}
    with _ALEMBIC_LOCK:
        run[action](config(conn), to)


def _require_revision(revision: str) -> None:
    if revision not in REVISIONS:
        raise BadInput(f"no schema revision {revision}; known: {', '.join(REVISIONS)}")


def _position(revision: str | None) -> int:
    return -1 if revision is None else REVISIONS.index(revision)
