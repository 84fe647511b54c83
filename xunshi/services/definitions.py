"""Lifecycle definitions: `init` (schema and built-ins), validating and loading files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from xunshi.definitions.schema import Definition
from xunshi.services.schema import SchemaService
from xunshi.storage.db import Database
from xunshi.texts import check_actor
from xunshi.workflow.clock import Clock
from xunshi.workflow.registry import BUILTIN, Registration, Registry, parse


@dataclass(frozen=True, slots=True)
class InitResult:
    """What `init` did."""

    database: str
    schema_created: bool
    registrations: tuple[Registration, ...]

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "database": self.database,
            "schema_created": self.schema_created,
            "definitions": [
                {"name": r.name, "version": r.version, "created": r.created, "kept": r.kept}
                for r in self.registrations
            ],
        }


@dataclass(frozen=True, slots=True)
class Loaded:
    """A definition file loaded: which version, whether it was new, its digest."""

    registration: Registration
    digest: str

    def to_json(self) -> dict[str, Any]:
        """The `--json` shape."""
        return {
            "name": self.registration.name,
            "version": self.registration.version,
            "created": self.registration.created,
            "digest": self.digest,
        }


class DefinitionService:
    """Registering definitions (the built-ins at `init`, files people write)."""

    def __init__(
        self, db: Database, registry: Registry, clock: Clock, schema: SchemaService
    ) -> None:
        self.db = db
        self.registry = registry
        self.clock = clock
        self.schema = schema

    def init(self, actor: str) -> InitResult:
        """Upgrade the schema to this xunshi's revision, then register the built-ins.

        Idempotent. The upgrade is its own transaction; so is the registration.
        """
        from xunshi.definitions.loader import builtin_sources  # the YAML reader: init only

        actor = check_actor(actor)

        sources = [(name, text, parse(text, name)) for name, text in builtin_sources()]
        upgraded = self.schema.upgrade()

        def work(conn: Connection) -> InitResult:
            now = self.clock.now()
            registrations = tuple(
                self.registry.register(
                    conn,
                    definition,
                    source=text,
                    source_name=f"{BUILTIN}{name}",
                    loaded_by=actor,
                    now=now,
                    builtin=True,
                )
                for name, text, definition in sources
            )
            return InitResult(self.db.display_url, upgraded.changed, registrations)

        return self.db.run(work, immediate=True)

    def validate(self, text: str, source: str) -> Definition:
        """The definition in `text`, or InvalidDefinition with every problem."""
        return parse(text, source)

    def load(
        self, text: str, source_name: str, actor: str, *, replace_builtin: bool = False
    ) -> Loaded:
        """Register a definition file (a new version if its content changed).

        A file named like a built-in is refused unless `replace_builtin`: new cases of that
        kind would quietly run on it.
        """
        actor = check_actor(actor)
        definition = parse(text, source_name)
        registration = self.db.run(
            lambda conn: self.registry.register(
                conn,
                definition,
                source=text,
                source_name=source_name,
                loaded_by=actor,
                now=self.clock.now(),
                replace_builtin=replace_builtin,
            ),
            immediate=True,
        )
        return Loaded(registration, definition.digest)
