"""The database schema: whether it is what this xunshi needs, and moving it there.

Migrations are Alembic's (`xunshi/storage/migrations/`); the check before every command
reads the revision with plain SQL and never imports Alembic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xunshi.storage.db import Database
from xunshi.storage.migrations import HEAD


@dataclass(frozen=True, slots=True)
class SchemaState:
    """Where the database's schema stands, and where this xunshi needs it."""

    database: str
    revision: str | None  # None: an empty database
    head: str

    @property
    def current(self) -> bool:
        """Whether the schema is the one this xunshi needs."""
        return self.revision == self.head

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "database": self.database,
            "revision": self.revision,
            "head": self.head,
            "current": self.current,
        }


@dataclass(frozen=True, slots=True)
class Upgraded:
    """An upgrade: the revisions before and after."""

    database: str
    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        """Whether any migration ran."""
        return self.before != self.after

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "database": self.database,
            "from": self.before,
            "to": self.after,
            "changed": self.changed,
        }


@dataclass(frozen=True, slots=True)
class RevisionInfo:
    """One migration, and whether the database has it."""

    id: str
    down: str | None
    title: str
    applied: bool | None  # None: the database was not asked

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {"id": self.id, "down": self.down, "title": self.title, "applied": self.applied}


class SchemaService:
    """Checking and upgrading the schema."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def database(self) -> str:
        """The database's URL with any password hidden."""
        return self.db.display_url

    def require_current(self) -> None:
        """Refuse a database that `init` has not prepared, or one at another revision."""
        self.db.require_schema()

    def initialised(self) -> bool:
        """Whether the database exists and has a schema."""
        return self.db.exists() and self.db.schema_version() is not None

    def state(self) -> SchemaState:
        """The database's revision and the one this xunshi needs."""
        revision = self.db.schema_version() if self.db.exists() else None
        return SchemaState(self.database, revision, HEAD)

    def upgrade(self) -> Upgraded:
        """Bring the schema to this xunshi's revision, in one transaction (idempotent)."""
        from xunshi.storage.migrate import upgrade  # Alembic: only when migrating

        before, after = upgrade(self.db)
        return Upgraded(self.database, before, after)

    def history(self) -> list[RevisionInfo]:
        """Every migration, oldest first, marked applied or not when the database exists."""
        from xunshi.storage.migrate import history  # Alembic's script directory

        revisions = history()
        current = self.db.schema_version() if self.db.exists() else None
        ids = [r.id for r in revisions]
        reached = ids.index(current) if current in ids else -1
        return [
            RevisionInfo(r.id, r.down, r.title, n <= reached if self.db.exists() else None)
            for n, r in enumerate(revisions)
        ]
