"""The database schema: whether it is what this xunshi needs."""

from __future__ import annotations

from xunshi.storage.db import Database


class SchemaService:
    """Checking the schema before work."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def database(self) -> str:
        """The database's URL with any password hidden."""
        return self.db.display_url

    def require_current(self) -> None:
        """Refuse a database that `init` has not prepared, or one at another schema."""
        self.db.require_schema()

    def initialised(self) -> bool:
        """Whether the database exists and has a schema."""
        return self.db.exists() and self.db.schema_version() is not None
